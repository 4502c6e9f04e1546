// The lookups behind enter_preauth_sandbox and become_user, and the memory
// of their answers that remember_account_ids fills (popper/privileges.h).
#include "popper/account_ids.h"

#include "popper/io.h"
#include "popper/log.h"
#include "popper/privileges.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace popper {

namespace account_ids {

namespace {

// getpwnam_r/getgrnam_r buffer: start at the usual size, grow for huge
// groups, give up well before memory matters.
constexpr size_t kBufferStart = 16 * 1024;
constexpr size_t kBufferMax = 1024 * 1024;

// What remember_account_ids learnt; used while the names still match.
struct Remembered {
    std::string user;
    std::string group;
    Account preauth;
    std::optional<gid_t> mail_gid;
};
std::optional<Remembered> remembered;

Result<Account> look_up_preauth_account(const std::string& user) {
    for (const std::string& name : {user, std::string("nobody")}) {
        struct passwd pw {
        }, *found = nullptr;
        std::vector<char> buf(kBufferStart);
        if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found) {
            if (pw.pw_uid == 0)
                return Error::because("unprivileged_user", name, "is root");
            return Account{pw.pw_uid, pw.pw_gid, name != user};
        }
    }
    return Error::because("unprivileged_user", user, "neither it nor nobody exists");
}

Result<std::optional<gid_t>> look_up_group_id(const std::string& group, const std::string& user) {
    if (group.empty())
        return std::optional<gid_t>{};
    std::vector<char> buffer(kBufferStart);
    for (;;) {
        struct group entry {};
        struct group* found = nullptr;
        const int rc = ::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < kBufferMax) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (found != nullptr)
            return std::optional<gid_t>{entry.gr_gid};
        // getgrnam_r(3): 0, ENOENT, ESRCH, EBADF and EPERM all mean "not found".
        if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
            return std::optional<gid_t>{};
        return Error::from_errno("getgrnam " + group + " for", user, rc);
    }
}

// The child's answer, as one pipe write (well under PIPE_BUF: atomic).
struct Answer {
    int status = 0; // 0 ok, 1 preauth lookup failed, 2 group lookup failed
    Account preauth;
    bool has_mail_gid = false;
    gid_t mail_gid = 0;
    char message[240] = {};
};

} // namespace

Result<Account> preauth_account(const std::string& user) {
    if (remembered && remembered->user == user)
        return remembered->preauth;
    auto account = look_up_preauth_account(user);
    if (account && account->is_fallback)
        log_warning("unprivileged_user " + user + " does not exist; using nobody");
    return account;
}

Result<std::optional<gid_t>> group_id(const std::string& group, const std::string& user) {
    if (remembered && remembered->group == group)
        return remembered->mail_gid;
    return look_up_group_id(group, user);
}

} // namespace account_ids

Status remember_account_ids(const std::string& unprivileged_user, const std::string& mail_group) {
    using namespace account_ids;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return Error::from_errno("pipe", "account lookup");
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    const pid_t child = ::fork();
    if (child < 0)
        return Error::from_errno("fork", "account lookup");
    if (child == 0) {
        Answer answer;
        auto say = [&answer](int status, const Error& e) {
            answer.status = status;
            std::strncpy(answer.message, e.message().c_str(), sizeof answer.message - 1);
        };
        if (auto account = look_up_preauth_account(unprivileged_user); !account) {
            say(1, account.error());
        } else if (auto gid = look_up_group_id(mail_group, "mail_privileged_group"); !gid) {
            say(2, gid.error());
        } else {
            answer.preauth = *account;
            answer.has_mail_gid = gid->has_value();
            answer.mail_gid = gid->value_or(0);
        }
        ssize_t n = ::write(write_end.get(), &answer, sizeof answer);
        ::_exit(n == static_cast<ssize_t>(sizeof answer) ? 0 : 1);
    }
    write_end.reset();
    Answer answer;
    auto got = read_some(read_end.get(), reinterpret_cast<char*>(&answer), sizeof answer,
                         "account lookup");
    int wstatus = 0;
    while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (!got)
        return got.error();
    if (*got != sizeof answer)
        return Error::because("look up", unprivileged_user, "the lookup process failed");
    if (answer.status != 0)
        return Error::because("look up", "accounts", answer.message);
    if (answer.preauth.is_fallback)
        log_warning("unprivileged_user " + unprivileged_user + " does not exist; using nobody");
    std::optional<gid_t> mail_gid;
    if (answer.has_mail_gid)
        mail_gid = answer.mail_gid;
    remembered = Remembered{unprivileged_user, mail_group, answer.preauth, mail_gid};
    return {};
}

} // namespace popper
