#include "popper/preauth_sandbox.h"
#include "popper/privileges.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <grp.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace popper {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// Exit codes a child reports; the parent turns them back into words.
enum ChildResult : int {
    kOk = 0,
    kBecomeFailed,
    kBecomeSucceeded,
    kWrongUids,
    kWrongGids,
    kWrongGroups,
    kRegainedRoot,
    kWrongError,
    kSetupFailed,
};

const char* describe(int code) {
    switch (code) {
    case kOk:
        return "ok";
    case kBecomeFailed:
        return "become_user failed";
    case kBecomeSucceeded:
        return "become_user succeeded but should have failed";
    case kWrongUids:
        return "real/effective/saved uid not as requested";
    case kWrongGids:
        return "real/effective/saved gid not as requested";
    case kWrongGroups:
        return "supplementary groups not as requested";
    case kRegainedRoot:
        return "setuid(0) succeeded after the drop";
    case kWrongError:
        return "error did not name the call, user or errno";
    case kSetupFailed:
        return "test setup in the child failed";
    default:
        return "child crashed or unknown code";
    }
}

// Runs `body` in a forked child, so this process keeps its privileges, and
// returns the child's exit code (or 100 + signal).
int in_child(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        ::_exit(body());
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

#define EXPECT_CHILD_OK(code)                                                                      \
    do {                                                                                           \
        const int child_code_ = (code);                                                            \
        EXPECT_EQ(child_code_, kOk) << describe(child_code_);                                      \
    } while (0)

bool ids_are(uid_t uid, gid_t gid) {
    uid_t r = 0, e = 0, s = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    return ::getresuid(&r, &e, &s) == 0 && ::getresgid(&rg, &eg, &sg) == 0 && r == uid &&
           e == uid && s == uid && rg == gid && eg == gid && sg == gid;
}

std::vector<gid_t> sorted_groups() {
    std::vector<gid_t> groups(static_cast<size_t>(std::max(::getgroups(0, nullptr), 0)));
    const int n = ::getgroups(static_cast<int>(groups.size()), groups.data());
    groups.resize(static_cast<size_t>(std::max(n, 0)));
    std::sort(groups.begin(), groups.end());
    return groups;
}

// Drops as the daemon does, then checks every id, the groups, and that root is gone.
int drop_and_check(const std::string& mail_group, std::vector<gid_t> expected_groups) {
    auto dropped = become_user(kNobody, kNogroup, mail_group, "nobody");
    if (!dropped)
        return kBecomeFailed;
    uid_t r = 0, e = 0, s = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    if (::getresuid(&r, &e, &s) != 0 || r != kNobody || e != kNobody || s != kNobody)
        return kWrongUids;
    if (::getresgid(&rg, &eg, &sg) != 0 || rg != kNogroup || eg != kNogroup || sg != kNogroup)
        return kWrongGids;
    std::sort(expected_groups.begin(), expected_groups.end());
    if (sorted_groups() != expected_groups)
        return kWrongGroups;
    if (::setuid(0) == 0 || ::seteuid(0) == 0 || ::setresuid(0, 0, 0) == 0)
        return kRegainedRoot;
    if (running_as_root())
        return kRegainedRoot;
    return kOk;
}

#define SKIP_UNLESS_ROOT()                                                                         \
    if (::geteuid() != 0)                                                                          \
    GTEST_SKIP() << "needs root (run as root in CI)"

TEST(Privileges, DropsToUidAndGidAndCannotRegainRoot) {
    SKIP_UNLESS_ROOT();
    EXPECT_CHILD_OK(in_child([] { return drop_and_check("", {kNogroup}); }));
}

TEST(Privileges, SupplementaryGroupsAreTheGidAndTheMailGroup) {
    SKIP_UNLESS_ROOT();
    const struct group* mail = ::getgrnam("mail");
    if (mail == nullptr)
        GTEST_SKIP() << "no group 'mail' on this system";
    const gid_t mail_gid = mail->gr_gid;
    EXPECT_CHILD_OK(in_child([=] { return drop_and_check("mail", {kNogroup, mail_gid}); }));
}

TEST(Privileges, MissingMailGroupLeavesOnlyTheUsersGroup) {
    SKIP_UNLESS_ROOT();
    EXPECT_CHILD_OK(
        in_child([] { return drop_and_check("no-such-group-popperd-test", {kNogroup}); }));
}

TEST(Privileges, MailGroupEqualToTheGidIsListedOnce) {
    SKIP_UNLESS_ROOT();
    const struct group* nogroup = ::getgrgid(kNogroup);
    if (nogroup == nullptr)
        GTEST_SKIP() << "no group 65534 on this system";
    const std::string name = nogroup->gr_name;
    EXPECT_CHILD_OK(in_child([=] { return drop_and_check(name, {kNogroup}); }));
}

// The refusal must come before any change: the child checks it is still root.
int refused_without_change(uid_t uid, gid_t gid, const std::string& mail_group, const char* call) {
    auto dropped = become_user(uid, gid, mail_group, "victim");
    if (dropped)
        return kBecomeSucceeded;
    const std::string message = dropped.error().message();
    if (message.find(call) == std::string::npos || message.find("victim") == std::string::npos)
        return kWrongError;
    return ::geteuid() == 0 ? kOk : kSetupFailed;
}

TEST(Privileges, RefusesUidZero) {
    SKIP_UNLESS_ROOT();
    EXPECT_CHILD_OK(in_child([] { return refused_without_change(0, kNogroup, "", "setresuid"); }));
}

TEST(Privileges, RefusesGidZero) {
    SKIP_UNLESS_ROOT();
    EXPECT_CHILD_OK(in_child([] { return refused_without_change(kNobody, 0, "", "setresgid"); }));
}

TEST(Privileges, RefusesTheUnchangedMarkerAsAnId) {
    SKIP_UNLESS_ROOT();
    EXPECT_CHILD_OK(in_child(
        [] { return refused_without_change(static_cast<uid_t>(-1), kNogroup, "", "setresuid"); }));
    EXPECT_CHILD_OK(in_child(
        [] { return refused_without_change(kNobody, static_cast<gid_t>(-1), "", "setresgid"); }));
}

TEST(Privileges, RefusesAMailGroupWithGidZero) {
    SKIP_UNLESS_ROOT();
    const struct group* root_group = ::getgrgid(0);
    if (root_group == nullptr)
        GTEST_SKIP() << "no group 0 name on this system";
    const std::string name = root_group->gr_name;
    EXPECT_CHILD_OK(
        in_child([=] { return refused_without_change(kNobody, kNogroup, name, "setgroups"); }));
}

TEST(Privileges, NotRootIsANoOp) {
    EXPECT_CHILD_OK(in_child([] {
        if (::geteuid() == 0 && (::setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
                                 ::setresuid(kNobody, kNobody, kNobody) != 0))
            return static_cast<int>(kSetupFailed);
        const uid_t uid = ::getuid();
        const gid_t gid = ::getgid();
        if (running_as_root())
            return static_cast<int>(kSetupFailed);
        if (!become_user(4321, 4321, "mail", "someone"))
            return static_cast<int>(kBecomeFailed);
        return static_cast<int>(ids_are(uid, gid) ? kOk : kWrongUids);
    }));
}

TEST(Privileges, SavedRootUidCountsAsRootAndTheFailureNamesTheCall) {
    SKIP_UNLESS_ROOT();
    // Effective uid dropped but saved uid still 0: root could come back, so
    // become_user must not treat this as "not root"; setgroups then fails.
    EXPECT_CHILD_OK(in_child([] {
        if (::setresuid(kNobody, kNobody, 0) != 0)
            return static_cast<int>(kSetupFailed);
        if (!running_as_root())
            return static_cast<int>(kWrongUids);
        auto dropped = become_user(kNobody, kNogroup, "", "carol");
        if (dropped)
            return static_cast<int>(kBecomeSucceeded);
        const Error& error = dropped.error();
        if (error.op != "setgroups" || error.path != "carol" || error.errnum != EPERM ||
            error.message() != "setgroups carol: " + std::string(std::strerror(EPERM)))
            return static_cast<int>(kWrongError);
        return static_cast<int>(kOk);
    }));
}

TEST(Privileges, RunningAsRootMatchesTheProcess) {
    uid_t r = 0, e = 0, s = 0;
    ASSERT_EQ(::getresuid(&r, &e, &s), 0);
    EXPECT_EQ(running_as_root(), r == 0 || e == 0 || s == 0);
}

} // namespace
} // namespace popper

namespace popper {
namespace {

// remember_account_ids: after it, a process that can no longer see the
// account databases (here: chrooted into an empty directory) still drops to
// the remembered mail group and pre-login account — the lookups are not
// repeated per session.
TEST(Privileges, RememberedIdsServeProcessesThatCannotLookThemUp) {
    SKIP_UNLESS_ROOT();
    const struct group* mail = ::getgrnam("mail");
    if (mail == nullptr)
        GTEST_SKIP() << "no group 'mail' on this system";
    const gid_t mail_gid = mail->gr_gid;
    char dir_template[] = "/tmp/popperd-empty-root.XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    const std::string empty_root = dir_template;
    EXPECT_CHILD_OK(in_child([&] {
        if (!remember_account_ids("no-such-user-popperd-test", "mail"))
            return static_cast<int>(kSetupFailed);
        if (::chroot(empty_root.c_str()) != 0 || ::chdir("/") != 0)
            return static_cast<int>(kSetupFailed);
        if (::getgrnam("mail") != nullptr)
            return static_cast<int>(kSetupFailed); // the chroot did not hide /etc/group
        return drop_and_check("mail", {kNogroup, mail_gid});
    }));
    EXPECT_CHILD_OK(in_child([&] {
        if (!remember_account_ids("no-such-user-popperd-test", ""))
            return static_cast<int>(kSetupFailed);
        // The fallback account (nobody) is remembered too: the sandbox needs
        // no lookup, even where the databases cannot be seen.
        if (::chroot(empty_root.c_str()) != 0 || ::chdir("/") != 0)
            return static_cast<int>(kSetupFailed);
        if (!enter_preauth_sandbox("no-such-user-popperd-test", "/"))
            return static_cast<int>(kBecomeFailed);
        return static_cast<int>(::geteuid() == kNobody && ::getegid() == kNogroup ? kOk
                                                                                  : kWrongUids);
    }));
    ::rmdir(empty_root.c_str());
}

TEST(Privileges, RememberingAnUnusablePreauthAccountIsAnError) {
    SKIP_UNLESS_ROOT();
    EXPECT_CHILD_OK(in_child([] {
        // "root" exists and is root: never a pre-login account.
        auto remembered = remember_account_ids("root", "");
        if (remembered)
            return static_cast<int>(kBecomeSucceeded);
        return static_cast<int>(
            remembered.error().message().find("is root") != std::string::npos ? kOk : kWrongError);
    }));
}

} // namespace
} // namespace popper
