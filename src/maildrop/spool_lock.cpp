#include "popper/spool_lock.h"

#include "popper/log.h"

#include <chrono>
#include <climits>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace popper {

namespace {

using Clock = std::chrono::steady_clock;

// How often a waiting login polls a lock held by someone else.
constexpr auto kLockPollInterval = std::chrono::milliseconds(100);

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0)
        return "localhost";
    return buf;
}

// Our dotlocks hold "<pid> <host>\n" so a lock left by a killed session on
// this host can be recognised and broken at once.
std::string dotlock_content() {
    return std::to_string(::getpid()) + " " + host_name() + "\n";
}

bool owner_is_dead_on_this_host(const std::string& lock_path) {
    auto fd = open_file(lock_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!fd)
        return false;
    char buf[300] = {};
    auto got = read_some(fd->get(), buf, sizeof buf - 1, lock_path);
    if (!got || *got == 0)
        return false;
    std::string text(buf, *got);
    auto space = text.find(' ');
    if (space == std::string::npos || text.back() != '\n')
        return false;
    std::string host = text.substr(space + 1, text.size() - space - 2);
    if (host != host_name())
        return false;
    char* end = nullptr;
    long pid = std::strtol(text.c_str(), &end, 10);
    if (end != text.c_str() + space || pid <= 0 || pid > INT_MAX)
        return false;
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// Breaks the dotlock when its owner is gone or it has not changed for
// `stale_s` seconds (procmail and Postfix never hold one that long).
bool break_if_stale(const std::string& lock_path, unsigned stale_s) {
    struct stat st {};
    if (::lstat(lock_path.c_str(), &st) != 0)
        return errno == ENOENT;
    time_t age = ::time(nullptr) - st.st_mtime;
    bool dead = owner_is_dead_on_this_host(lock_path);
    if (!dead && age < static_cast<time_t>(stale_s))
        return false;
    if (::unlink(lock_path.c_str()) != 0 && errno != ENOENT) {
        log_warning("cannot break stale dotlock " + lock_path + ": " + std::strerror(errno));
        return false;
    }
    log_warning("broke stale dotlock " + lock_path +
                (dead ? " (owner process gone)" : " (age " + std::to_string(age) + " s)"));
    return true;
}

// NFS-safe: O_EXCL is not atomic over NFSv2, link(2) is; the link count of
// the unique file tells whether our link won even if link's reply was lost.
Result<bool> try_dotlock(const std::string& lock_path) {
    static std::mt19937_64 rng{std::random_device{}()};
    std::string unique = dirname_of(lock_path) + "/.popperd-lk." + std::to_string(::getpid()) +
                         "." + std::to_string(rng() & 0xffffffffu);
    auto fd = open_file(unique, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    if (!fd)
        return fd.error();
    struct UniqueRemover {
        const std::string& path;
        ~UniqueRemover() { ::unlink(path.c_str()); }
    } remover{unique};
    if (auto w = write_all(fd->get(), dotlock_content(), unique); !w)
        return w.error();
    (void)!::link(unique.c_str(), lock_path.c_str());
    auto st = stat_fd(fd->get(), unique);
    if (!st)
        return st.error();
    return st->st_nlink == 2;
}

Result<bool> try_kernel_lock(int fd, LockMethod method, const std::string& path) {
    if (method == LockMethod::fcntl) {
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (::fcntl(fd, F_SETLK, &fl) == 0)
            return true;
        if (errno == EACCES || errno == EAGAIN || errno == EINTR)
            return false;
        return Error::from_errno("fcntl lock", path);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
        return true;
    if (errno == EWOULDBLOCK || errno == EINTR)
        return false;
    return Error::from_errno("flock", path);
}

} // namespace

SpoolLock::SpoolLock(SpoolLock&& other) noexcept
    : dotlock_path_(std::exchange(other.dotlock_path_, {})),
      locked_fd_(std::exchange(other.locked_fd_, -1)),
      fcntl_held_(std::exchange(other.fcntl_held_, false)),
      flock_held_(std::exchange(other.flock_held_, false)) {}

SpoolLock& SpoolLock::operator=(SpoolLock&& other) noexcept {
    if (this != &other) {
        release();
        dotlock_path_ = std::exchange(other.dotlock_path_, {});
        locked_fd_ = std::exchange(other.locked_fd_, -1);
        fcntl_held_ = std::exchange(other.fcntl_held_, false);
        flock_held_ = std::exchange(other.flock_held_, false);
    }
    return *this;
}

SpoolLock::~SpoolLock() {
    release();
}

void SpoolLock::release() {
    if (fcntl_held_) {
        struct flock fl {};
        fl.l_type = F_UNLCK;
        fl.l_whence = SEEK_SET;
        ::fcntl(locked_fd_, F_SETLK, &fl);
        fcntl_held_ = false;
    }
    if (flock_held_) {
        ::flock(locked_fd_, LOCK_UN);
        flock_held_ = false;
    }
    if (!dotlock_path_.empty()) {
        if (::unlink(dotlock_path_.c_str()) != 0 && errno != ENOENT)
            log_error("unlink " + dotlock_path_ + ": " + std::strerror(errno));
        dotlock_path_.clear();
    }
    locked_fd_ = -1;
}

Result<SpoolLock> SpoolLock::acquire(const std::string& spool_path, int spool_fd,
                                     const LockSettings& settings) {
    SpoolLock lock;
    lock.locked_fd_ = spool_fd;
    const auto deadline = Clock::now() + std::chrono::seconds(settings.timeout_s);
    // Dotlock first, as Postfix, procmail and Exim do, so that a deliverer
    // which opens the spool only after its dotlock never writes to an inode
    // we are about to replace.
    for (LockMethod method : settings.methods) {
        if (method == LockMethod::dotlock) {
            std::string lock_path = spool_path + ".lock";
            for (;;) {
                auto got = try_dotlock(lock_path);
                if (!got)
                    return got.error();
                if (*got) {
                    lock.dotlock_path_ = lock_path;
                    break;
                }
                if (break_if_stale(lock_path, settings.dotlock_stale_s))
                    continue;
                if (Clock::now() >= deadline)
                    return Error::in_use("dotlock", lock_path, "held by another process");
                std::this_thread::sleep_for(kLockPollInterval);
            }
        }
    }
    for (LockMethod method : settings.methods) {
        if (method == LockMethod::dotlock || spool_fd < 0)
            continue;
        for (;;) {
            auto got = try_kernel_lock(spool_fd, method, spool_path);
            if (!got)
                return got.error();
            if (*got) {
                (method == LockMethod::fcntl ? lock.fcntl_held_ : lock.flock_held_) = true;
                break;
            }
            if (Clock::now() >= deadline) {
                return Error::in_use(method == LockMethod::fcntl ? "fcntl lock" : "flock",
                                     spool_path, "held by another process");
            }
            std::this_thread::sleep_for(kLockPollInterval);
        }
    }
    return lock;
}

Result<UniqueFd> take_session_lock(const std::string& path) {
    auto fd = open_file(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (!fd)
        return fd.error();
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd->get(), F_SETLK, &fl) != 0) {
        if (errno == EACCES || errno == EAGAIN)
            return Error::in_use("session lock", path, "another POP session is active");
        return Error::from_errno("fcntl lock", path);
    }
    return std::move(*fd);
}

std::optional<pid_t> session_lock_holder(const std::string& path) {
    // Read-only, no O_CREAT: asking changes nothing. (Closing this
    // descriptor drops no lock: this process holds none on the file.)
    auto fd = open_file(path, O_RDONLY | O_NOFOLLOW);
    if (!fd)
        return std::nullopt;
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd->get(), F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK || fl.l_pid <= 0)
        return std::nullopt;
    return fl.l_pid;
}

} // namespace popper
