#include "support/mail_host.h"

#include "support/wait_until.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <crypt.h>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace popper::test {

namespace {

// nobody:nogroup on Debian: the daemon refuses to serve a mailbox as root.
constexpr uid_t kRootTestUid = 65534;
constexpr gid_t kRootTestGid = 65534;
// SHA-512 crypt at its minimum cost: about a millisecond per login.
constexpr const char* kHashSetting = "$6$rounds=1000$popperdtest$";

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

std::string make_temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/popperd-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
        fail("mkdtemp", pattern);
    return pattern;
}

std::string hash_password(std::string_view password) {
    auto data = std::make_unique<struct crypt_data>();
    const char* hash = ::crypt_r(std::string(password).c_str(), kHashSetting, data.get());
    if (hash == nullptr || hash[0] == '*')
        throw std::runtime_error("crypt_r failed");
    return hash;
}

void write_all_fd(int fd, std::string_view bytes, const std::string& path) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("write", path);
        bytes.remove_prefix(static_cast<size_t>(n));
    }
}

} // namespace

std::optional<std::string> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return std::nullopt;
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return text;
}

void write_file(const std::string& path, std::string_view bytes, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        fail("open", path);
    write_all_fd(fd, bytes, path);
    ::close(fd);
}

bool path_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

MailHost::MailHost()
    : dir_(make_temp_dir()), uid_(::geteuid() == 0 ? kRootTestUid : ::getuid()),
      gid_(::geteuid() == 0 ? kRootTestGid : ::getgid()) {
    // Sessions run as the mailbox owner and must reach spool/ and drop/.
    if (::chmod(dir_.c_str(), 0755) != 0)
        fail("chmod", dir_);
    for (const auto& sub : {spool_dir(), drop_dir()}) {
        if (::mkdir(sub.c_str(), 0755) != 0)
            fail("mkdir", sub);
        give_to_mail_owner(sub);
    }
    config_ = {
        {"listen", "127.0.0.1:0"}, {"users_file", users_file()},  {"spool_dir", spool_dir()},
        {"drop_dir", drop_dir()},  {"pidfile", pidfile_path()},   {"log", "stderr"},
        {"log_level", "debug"},    {"auth_failure_delay", "0ms"}, {"lock_timeout", "2s"},
    };
    // ctest runs the listener and protocol suites a second time with pooled
    // pre-login processes (tests/CMakeLists.txt).
    if (const char* pooled = std::getenv("POPPER_TEST_PREAUTH_PROCESS_CONNECTIONS"))
        config_.emplace_back("preauth_process_connections", pooled);
    write_config();
    write_users();
}

MailHost::~MailHost() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string MailHost::spool_path(std::string_view user) const {
    return spool_dir() + "/" + std::string(user);
}

std::string MailHost::drop_path(std::string_view user) const {
    return drop_dir() + "/" + std::string(user) + ".pop";
}

void MailHost::give_to_mail_owner(const std::string& path) const {
    if (::geteuid() != 0)
        return;
    if (::lchown(path.c_str(), uid_, gid_) != 0)
        fail("chown", path);
}

void MailHost::add_user(std::string_view name, std::string_view password) {
    add_users_line(std::string(name) + ":" + hash_password(password) + ":" + std::to_string(uid_) +
                   ":" + std::to_string(gid_) + ":Test User:/nonexistent:");
}

void MailHost::add_disabled_user(std::string_view name, std::string_view password) {
    add_users_line(std::string(name) + ":!" + hash_password(password) + ":" + std::to_string(uid_) +
                   ":" + std::to_string(gid_) + ":Test User:/nonexistent:");
}

void MailHost::add_users_line(std::string_view line) {
    users_lines_.emplace_back(line);
    write_users();
}

void MailHost::write_spool(std::string_view user, std::string_view bytes) const {
    const std::string path = spool_path(user);
    write_file(path, bytes, 0600);
    give_to_mail_owner(path);
}

std::string MailHost::read_spool(std::string_view user) const {
    auto text = read_file(spool_path(user));
    if (!text) {
        ADD_FAILURE() << "spool " << spool_path(user) << " is missing";
        return {};
    }
    return *text;
}

void MailHost::deliver(std::string_view user, std::string_view bytes) const {
    HeldSpoolLock lock(*this, user);
    if (::lseek(lock.spool_fd(), 0, SEEK_END) < 0)
        fail("lseek", spool_path(user));
    write_all_fd(lock.spool_fd(), bytes, spool_path(user));
    if (::fsync(lock.spool_fd()) != 0)
        fail("fsync", spool_path(user));
}

void MailHost::set_config(std::string_view key, std::string_view value) {
    bool replaced = false;
    for (auto it = config_.begin(); it != config_.end();) {
        if (it->first != key) {
            ++it;
        } else if (!replaced) {
            it->second = value;
            replaced = true;
            ++it;
        } else {
            it = config_.erase(it);
        }
    }
    if (!replaced)
        config_.emplace_back(key, value);
    write_config();
}

void MailHost::add_config(std::string_view key, std::string_view value) {
    config_.emplace_back(key, value);
    write_config();
}

void MailHost::remove_config(std::string_view key) {
    std::erase_if(config_, [&](const auto& entry) { return entry.first == key; });
    write_config();
}

void MailHost::write_config_text(std::string_view text) const {
    write_file(config_path(), text, 0644);
}

std::string MailHost::config_text() const {
    std::string text = "# written by the popperd test fixture MailHost\n";
    for (const auto& [key, value] : config_)
        text += key + " = " + value + "\n";
    return text;
}

void MailHost::write_config() const {
    write_config_text(config_text());
}

void MailHost::write_users() const {
    std::string text = "# name:hash:uid:gid:gecos:home:mailbox\n";
    for (const auto& line : users_lines_)
        text += line + "\n";
    write_file(users_file(), text, 0600);
}

HeldSpoolLock::HeldSpoolLock(const MailHost& host, std::string_view user) {
    const std::string spool = host.spool_path(user);
    const std::string dotlock = spool + ".lock";
    bool created = wait_until([&] {
        int fd = ::open(dotlock.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            return false;
        std::string owner = std::to_string(::getpid()) + " test\n";
        write_all_fd(fd, owner, dotlock);
        ::close(fd);
        return true;
    });
    if (!created)
        throw std::runtime_error("dotlock " + dotlock + " stayed taken");
    dotlock_path_ = dotlock;

    bool existed = path_exists(spool);
    spool_fd_ = ::open(spool.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (spool_fd_ < 0)
        fail("open", spool);
    if (!existed)
        host.give_to_mail_owner(spool);
    bool locked = wait_until([&] {
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        return ::fcntl(spool_fd_, F_SETLK, &fl) == 0;
    });
    if (!locked)
        throw std::runtime_error("fcntl lock on " + spool + " stayed taken");
}

HeldSpoolLock::~HeldSpoolLock() {
    if (spool_fd_ >= 0)
        ::close(spool_fd_); // releases the fcntl lock
    if (!dotlock_path_.empty())
        ::unlink(dotlock_path_.c_str());
}

} // namespace popper::test
