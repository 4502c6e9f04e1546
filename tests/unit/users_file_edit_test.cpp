// popper-passwd's edits: the users file and APOP secrets file texts, the
// locked atomic replacement of a file, and new password hashes.
#include "popper/apop.h"
#include "popper/users_file_edit.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <grp.h>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace popper {
namespace {

using namespace std::string_literals;

// Short fixed hashes keep the texts readable; crypt is tested at the end.
constexpr std::string_view kHashA = "$6$saltA$aaaa";
constexpr std::string_view kHashB = "$6$saltB$bbbb";

UserEntry entry(std::string name, std::string_view hash = kHashA) {
    UserEntry e;
    e.name = std::move(name);
    e.hash = hash;
    return e;
}

std::string ok(const Result<std::string>& text) {
    EXPECT_TRUE(text.has_value()) << text.error().message();
    return text ? *text : "<error>";
}

std::string error_of(const Result<std::string>& text) {
    EXPECT_FALSE(text.has_value()) << *text;
    return text ? "" : text.error().message();
}

// ---- the users file's text ---------------------------------------------------

TEST(UsersFileEdit, FormatLeavesOutTrailingEmptyFields) {
    EXPECT_EQ(format_user_line(entry("alice")), "alice:$6$saltA$aaaa");
    UserEntry full = entry("bob");
    full.uid = 1001;
    full.gid = 100;
    full.gecos = "Bob B";
    full.home = "/home/bob";
    full.mailbox = "/var/mail/bob";
    EXPECT_EQ(format_user_line(full), "bob:$6$saltA$aaaa:1001:100:Bob B:/home/bob:/var/mail/bob");
    UserEntry only_mailbox = entry("carol");
    only_mailbox.mailbox = "/srv/mail/carol";
    EXPECT_EQ(format_user_line(only_mailbox), "carol:$6$saltA$aaaa:::::/srv/mail/carol");
}

TEST(UsersFileEdit, AddAppendsKeepingEveryOtherLineByteForByte) {
    const std::string before = "# users\n\nbob:x\r\nthis line is malformed\n";
    EXPECT_EQ(ok(users_text_add(before, entry("alice"))), before + "alice:$6$saltA$aaaa\n");
}

TEST(UsersFileEdit, AddToEmptyTextOrTextWithoutFinalNewline) {
    EXPECT_EQ(ok(users_text_add("", entry("alice"))), "alice:$6$saltA$aaaa\n");
    EXPECT_EQ(ok(users_text_add("bob:x", entry("alice"))), "bob:x\nalice:$6$saltA$aaaa\n");
}

TEST(UsersFileEdit, AddRefusesAnExistingUserEvenOnAMalformedLine) {
    EXPECT_EQ(error_of(users_text_add("alice:x:1:1\n", entry("alice"))),
              "users file: user alice already exists");
    error_of(users_text_add("alice:x:notanumber\n", entry("alice")));
    // Only the first field counts: these are not alice's.
    ok(users_text_add("alice2:x\n#alice:x\nbob:alice:x\n", entry("alice")));
}

TEST(UsersFileEdit, AddRefusesEntriesThatWouldNotReadBack) {
    EXPECT_NE(error_of(users_text_add("", entry("../etc"))).find("invalid user name"),
              std::string::npos);
    error_of(users_text_add("", entry("")));
    error_of(users_text_add("", entry("alice", "")));
    error_of(users_text_add("", entry("alice", "$6$a:b")));
    UserEntry root = entry("alice");
    root.uid = 0;
    EXPECT_EQ(error_of(users_text_add("", root)), "users file: uid 0 (root) may not own a mailbox");
    UserEntry relative = entry("alice");
    relative.mailbox = "mail/alice";
    EXPECT_EQ(error_of(users_text_add("", relative)),
              "users file: mailbox is not an absolute path");
    UserEntry colon = entry("alice");
    colon.home = "/home/a:b";
    error_of(users_text_add("", colon));
    UserEntry newline = entry("alice");
    newline.gecos = "Alice\nmallory::::::";
    error_of(users_text_add("", newline));
}

TEST(UsersFileEdit, SetHashChangesOnlyTheHashOfThatUser) {
    const std::string before = "# c\nalice:$6$saltA$aaaa:1001:100:Alice:/home/alice:/var/mail/a\r\n"
                               "alice2:$6$saltA$aaaa\n";
    EXPECT_EQ(ok(users_text_set_hash(before, "alice", kHashB)),
              "# c\nalice:$6$saltB$bbbb:1001:100:Alice:/home/alice:/var/mail/a\r\n"
              "alice2:$6$saltA$aaaa\n");
    EXPECT_EQ(ok(users_text_set_hash("alice:old", "alice", kHashB)), "alice:$6$saltB$bbbb");
}

TEST(UsersFileEdit, SetHashKeepsADisabledAccountDisabled) {
    EXPECT_EQ(ok(users_text_set_hash("alice:!$6$saltA$aaaa:1001\n", "alice", kHashB)),
              "alice:!$6$saltB$bbbb:1001\n");
}

TEST(UsersFileEdit, SetHashOfUnknownUserOrMalformedLineFails) {
    EXPECT_EQ(error_of(users_text_set_hash("bob:x\n", "alice", kHashB)),
              "users file: no user alice");
    EXPECT_EQ(error_of(users_text_set_hash("bob:x\nalice:x:0\n", "alice", kHashB)),
              "users file: line 2 for alice is malformed (uid 0 (root) may not own a mailbox): "
              "fix it by hand");
    error_of(users_text_set_hash("alice:x\n", "alice", ""));
    error_of(users_text_set_hash("alice:x\n", "alice", "!$6$x"));
    error_of(users_text_set_hash("alice:x\n", "alice", "$6$a:b"));
    error_of(users_text_set_hash("alice:x\n", "alice", "$6$a\nmallory:x"));
}

TEST(UsersFileEdit, DisableAndEnable) {
    const std::string enabled = "alice:$6$saltA$aaaa:1001\n";
    const std::string disabled = ok(users_text_set_disabled(enabled, "alice", true));
    EXPECT_EQ(disabled, "alice:!$6$saltA$aaaa:1001\n");
    EXPECT_EQ(ok(users_text_set_disabled(disabled, "alice", true)), disabled);
    EXPECT_EQ(ok(users_text_set_disabled(disabled, "alice", false)), enabled);
    EXPECT_EQ(ok(users_text_set_disabled(enabled, "alice", false)), enabled);
    EXPECT_EQ(ok(users_text_set_disabled("alice:!!x\n", "alice", false)), "alice:x\n");
    EXPECT_EQ(ok(users_text_set_disabled("alice:*\n", "alice", true)), "alice:*\n");
}

TEST(UsersFileEdit, EnableWithoutAUsableHashFails) {
    for (const char* text : {"alice:*\n", "alice:!\n", "alice:\n", "alice:!*x\n"})
        EXPECT_EQ(error_of(users_text_set_disabled(text, "alice", false)),
                  "users file: user alice has no password to enable: set one with passwd")
            << text;
}

TEST(UsersFileEdit, DeleteRemovesEveryLineOfTheUserOnly) {
    const std::string before = "# alice:x\nalice:x:1\nbob:y\nalice:broken:line:0\nalice2:z";
    EXPECT_EQ(ok(users_text_delete(before, "alice")), "# alice:x\nbob:y\nalice2:z");
    EXPECT_EQ(error_of(users_text_delete("bob:y\n", "alice")), "users file: no user alice");
    error_of(users_text_delete("bob:y\n", "../bob"));
}

// ---- the secrets file's text ---------------------------------------------------

TEST(UsersFileEdit, SecretSetAppendsOrReplacesTheFirstAndDropsDuplicates) {
    EXPECT_EQ(ok(secrets_text_set("", "tim", "tanstaaf")), "tim:tanstaaf\n");
    EXPECT_EQ(ok(secrets_text_set("# s\nbob:b", "tim", "tanstaaf")), "# s\nbob:b\ntim:tanstaaf\n");
    EXPECT_EQ(ok(secrets_text_set("tim:old\nbob:b\ntim:older\n", "tim", "new secret")),
              "tim:new secret\nbob:b\n");
}

TEST(UsersFileEdit, SecretSetRefusesWhatCouldNotBeReadBack) {
    error_of(secrets_text_set("", "tim", ""));
    error_of(secrets_text_set("", "tim", "a\nmallory:x"));
    error_of(secrets_text_set("", "tim", "a\r"));
    error_of(secrets_text_set("", "tim", "a\0b"s));
    error_of(secrets_text_set("", "tim", std::string(kMaxApopSecretOctets + 1, 's')));
    error_of(secrets_text_set("", "../tim", "x"));
}

TEST(UsersFileEdit, SecretClearRemovesEveryLineOfTheUser) {
    EXPECT_EQ(ok(secrets_text_clear("tim:a\nbob:b\ntim:c\n", "tim")), "bob:b\n");
    EXPECT_EQ(ok(secrets_text_clear("bob:b\n", "tim")), "bob:b\n");
}

// ---- files on disk -------------------------------------------------------------

class UsersFileEditOnDisk : public ::testing::Test {
protected:
    std::string read(const std::string& path) const {
        return test::read_file(path).value_or("<missing>");
    }
    struct stat stat_of(const std::string& path) const {
        struct stat st {};
        EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
        return st;
    }
    // Names in the directory other than the users file, its lock and the
    // host's own: a temporary file left behind would show here.
    std::vector<std::string> leftovers() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(host_.dir())) {
            const std::string name = e.path().filename();
            if (name.starts_with("."))
                names.push_back(name);
        }
        return names;
    }

    test::MailHost host_;
    const std::string users_ = host_.path("users-edit");
    const std::string secrets_ = host_.path("apop-secrets");
};

// Runs `body` in a child process; returns its exit code.
template <class Body> int in_child(Body body) {
    const pid_t pid = ::fork();
    if (pid == 0)
        ::_exit(body());
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(UsersFileEditOnDisk, AddCreatesAMissingFileMode0600) {
    ASSERT_TRUE(add_user(users_, entry("alice")).has_value());
    EXPECT_EQ(read(users_), "alice:$6$saltA$aaaa\n");
    EXPECT_EQ(stat_of(users_).st_mode & 07777, 0600u);
    EXPECT_EQ(stat_of(users_ + ".lock").st_mode & 07777, 0600u);
    EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

TEST_F(UsersFileEditOnDisk, OtherEditsNeedAnExistingFileAndNameIt) {
    auto status = set_user_hash(users_, "alice", kHashB);
    ASSERT_FALSE(status.has_value());
    EXPECT_EQ(status.error().message(), "open " + users_ + ": No such file or directory");
    EXPECT_FALSE(test::path_exists(users_));
}

TEST_F(UsersFileEditOnDisk, FailedEditNamesTheFileAndLeavesItAlone) {
    test::write_file(users_, "bob:x\n");
    auto status = set_user_hash(users_, "alice", kHashB);
    ASSERT_FALSE(status.has_value());
    EXPECT_EQ(status.error().message(), "users file " + users_ + ": no user alice");
    EXPECT_EQ(read(users_), "bob:x\n");
}

TEST_F(UsersFileEditOnDisk, RoundTripWithVerifyPassword) {
    auto hash = make_password_hash("correct horse");
    ASSERT_TRUE(hash.has_value()) << hash.error().message();
    UserEntry alice = entry("alice", *hash);
    alice.uid = 1001;
    alice.gid = 100;
    alice.mailbox = "/var/mail/alice";
    ASSERT_TRUE(add_user(users_, alice).has_value());
    auto found = find_user(users_, "alice");
    ASSERT_TRUE(found.has_value() && found->has_value());
    EXPECT_TRUE(verify_password((*found)->hash, "correct horse"));
    EXPECT_FALSE(verify_password((*found)->hash, "wrong horse"));
    EXPECT_EQ((*found)->uid, std::optional<uid_t>(1001));
    EXPECT_EQ((*found)->mailbox, "/var/mail/alice");

    auto changed = make_password_hash("battery staple");
    ASSERT_TRUE(changed.has_value());
    ASSERT_TRUE(set_user_hash(users_, "alice", *changed).has_value());
    found = find_user(users_, "alice");
    EXPECT_TRUE(verify_password((*found)->hash, "battery staple"));
    EXPECT_FALSE(verify_password((*found)->hash, "correct horse"));

    ASSERT_EQ(set_user_disabled(users_, "alice", true).value(), true);
    EXPECT_FALSE(verify_password((*find_user(users_, "alice"))->hash, "battery staple"));
    ASSERT_EQ(set_user_disabled(users_, "alice", false).value(), true);
    EXPECT_TRUE(verify_password((*find_user(users_, "alice"))->hash, "battery staple"));

    ASSERT_TRUE(delete_user(users_, "alice").has_value());
    EXPECT_FALSE(find_user(users_, "alice")->has_value());
}

TEST_F(UsersFileEditOnDisk, EditKeepsModeAndOwnerAndReplacesTheFile) {
    test::write_file(users_, "alice:" + std::string(kHashA) + "\n");
    ASSERT_EQ(::chmod(users_.c_str(), 0640), 0);
    const bool root = ::geteuid() == 0;
    if (root) {
        ASSERT_EQ(::chown(users_.c_str(), 65534, 65534), 0);
    }
    const struct stat before = stat_of(users_);

    ASSERT_TRUE(set_user_hash(users_, "alice", kHashB).has_value());
    const struct stat after = stat_of(users_);
    EXPECT_EQ(after.st_mode & 07777, 0640u);
    EXPECT_EQ(after.st_uid, before.st_uid);
    EXPECT_EQ(after.st_gid, before.st_gid);
    EXPECT_NE(after.st_ino, before.st_ino); // renamed into place, not rewritten
    EXPECT_EQ(read(users_), "alice:" + std::string(kHashB) + "\n");
    EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

TEST_F(UsersFileEditOnDisk, EditThatChangesNothingWritesNothing) {
    test::write_file(users_, "alice:!x\n");
    const ino_t before = stat_of(users_).st_ino;
    auto changed = set_user_disabled(users_, "alice", true);
    ASSERT_TRUE(changed.has_value());
    EXPECT_FALSE(*changed);
    EXPECT_EQ(stat_of(users_).st_ino, before);
}

TEST_F(UsersFileEditOnDisk, SymlinkIsRefusedAndItsTargetUntouched) {
    const std::string target = host_.path("real-users");
    test::write_file(target, "alice:x\n");
    ASSERT_EQ(::symlink(target.c_str(), users_.c_str()), 0);
    auto status = delete_user(users_, "alice");
    ASSERT_FALSE(status.has_value());
    EXPECT_EQ(status.error().message(), "open " + users_ + ": is a symbolic link");
    EXPECT_EQ(read(target), "alice:x\n");
}

TEST_F(UsersFileEditOnDisk, NoTemporaryFileIsLeftWhenTheWriteFails) {
    // The file-size limit makes the write of the temporary file fail after
    // it was created: exactly the failure that could leave it behind.
    const std::string before = "alice:" + std::string(kHashA) + "\n";
    test::write_file(users_, before);
    const int code = in_child([&] {
        std::signal(SIGXFSZ, SIG_IGN);
        struct rlimit limit {
            64, 64
        };
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0)
            return 2;
        UserEntry bob = entry("bob");
        bob.gecos = std::string(200, 'g');
        auto status = add_user(users_, bob);
        if (status)
            return 3;
        return status.error().message().find("File too large") != std::string::npos ? 0 : 4;
    });
    EXPECT_EQ(code, 0);
    EXPECT_EQ(read(users_), before);
    EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

TEST_F(UsersFileEditOnDisk, NoTemporaryFileIsLeftWhenTheDirectoryIsNotWritable) {
    const std::string before = "alice:" + std::string(kHashA) + "\n";
    test::write_file(users_, before, 0666);
    test::write_file(users_ + ".lock", "", 0666);
    ASSERT_EQ(::chmod(users_.c_str(), 0666), 0);
    ASSERT_EQ(::chmod((users_ + ".lock").c_str(), 0666), 0);
    const bool root = ::geteuid() == 0;
    if (!root) {
        ASSERT_EQ(::chmod(host_.dir().c_str(), 0555), 0);
    }
    const int code = in_child([&] {
        // Root ignores permissions: become nobody, for whom the 0755
        // directory is not writable.
        if (root && (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
                     ::setresuid(65534, 65534, 65534) != 0))
            return 2;
        auto status = set_user_hash(users_, "alice", kHashB);
        if (status)
            return 3;
        return status.error().message().starts_with("create temporary file " + host_.dir() +
                                                    "/.users-edit.")
                   ? 0
                   : 4;
    });
    ASSERT_EQ(::chmod(host_.dir().c_str(), 0755), 0);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(read(users_), before);
    EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

TEST_F(UsersFileEditOnDisk, ConcurrentEditsFromManyProcessesAreSerialized) {
    // Without the lock, two read-modify-writes overlapping would lose one
    // of the additions.
    constexpr int kProcesses = 6;
    constexpr int kUsersEach = 15;
    test::write_file(users_, "# users\n");
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            for (int u = 0; u < kUsersEach; ++u) {
                const std::string name = "u" + std::to_string(p) + "x" + std::to_string(u);
                if (!add_user(users_, entry(name)))
                    ::_exit(1);
            }
            ::_exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const std::string text = read(users_);
    for (int p = 0; p < kProcesses; ++p) {
        for (int u = 0; u < kUsersEach; ++u) {
            const std::string line = "u" + std::to_string(p) + "x" + std::to_string(u) + ":";
            EXPECT_NE(text.find("\n" + line), std::string::npos) << line;
        }
    }
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1 + kProcesses * kUsersEach);
    EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

TEST_F(UsersFileEditOnDisk, ConcurrentEditsFromThreadsAreSerialized) {
    // Open file description locks serialize threads of one process too.
    test::write_file(users_, "");
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int u = 0; u < 10; ++u)
                if (!add_user(users_, entry("t" + std::to_string(t) + "x" + std::to_string(u))))
                    ++failures;
        });
    for (auto& thread : threads)
        thread.join();
    EXPECT_EQ(failures.load(), 0);
    const std::string text = read(users_);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 40);
}

TEST_F(UsersFileEditOnDisk, EditWaitsForTheLockHeldByAnotherEditor) {
    test::write_file(users_, "alice:" + std::string(kHashA) + "\n");
    const int lock_fd = ::open((users_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(lock_fd, 0);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    ASSERT_EQ(::fcntl(lock_fd, F_OFD_SETLK, &lock), 0);

    std::atomic<bool> finished{false};
    std::thread editor([&] {
        EXPECT_TRUE(set_user_hash(users_, "alice", kHashB).has_value());
        finished = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(finished.load());
    EXPECT_EQ(read(users_), "alice:" + std::string(kHashA) + "\n");
    ::close(lock_fd); // releases the lock
    editor.join();
    EXPECT_EQ(read(users_), "alice:" + std::string(kHashB) + "\n");
}

TEST_F(UsersFileEditOnDisk, ApopSecretRoundTrip) {
    ASSERT_TRUE(set_apop_secret(secrets_, "tim", "tanstaaf").has_value());
    EXPECT_EQ(stat_of(secrets_).st_mode & 07777, 0600u);
    auto permissions = check_secret_file_permissions("apop secrets file", secrets_);
    EXPECT_TRUE(permissions.has_value()) << permissions.error().message();
    auto secret = find_apop_secret(secrets_, "tim");
    ASSERT_TRUE(secret.has_value() && secret->has_value());
    EXPECT_TRUE(verify_apop(**secret, "<1896.697170952@dbc.mtview.ca.us>",
                            "c4c9334bac560ecc979e58001b3e22fb"));

    ASSERT_TRUE(set_apop_secret(secrets_, "tim", "changed").has_value());
    EXPECT_EQ(read(secrets_), "tim:changed\n");
    EXPECT_EQ(clear_apop_secret(secrets_, "tim").value(), true);
    EXPECT_EQ(read(secrets_), "");
    EXPECT_EQ(clear_apop_secret(secrets_, "tim").value(), false);
}

TEST_F(UsersFileEditOnDisk, ClearingASecretInAMissingFileCreatesNothing) {
    EXPECT_EQ(clear_apop_secret(secrets_, "tim").value(), false);
    EXPECT_FALSE(test::path_exists(secrets_));
}

TEST_F(UsersFileEditOnDisk, OversizedFileIsRefused) {
    test::write_file(users_, std::string(kMaxUsersFileOctets + 1, '#'));
    auto status = add_user(users_, entry("alice"));
    ASSERT_FALSE(status.has_value());
    EXPECT_NE(status.error().message().find("larger than"), std::string::npos);
}

// ---- new hashes -----------------------------------------------------------------

TEST(UsersFileEdit, NewHashesUseTheLibrarysPreferredSchemeWithRandomSalts) {
    auto first = make_password_hash("secret");
    auto second = make_password_hash("secret");
    ASSERT_TRUE(first.has_value() && second.has_value());
    EXPECT_NE(*first, *second); // different salts
    EXPECT_TRUE(first->starts_with("$y$") || first->starts_with("$6$")) << *first;
    EXPECT_TRUE(verify_password(*first, "secret"));
    EXPECT_TRUE(verify_password(*second, "secret"));
}

TEST(UsersFileEdit, UnusablePasswordsAreRefused) {
    EXPECT_FALSE(make_password_hash("").has_value());
    EXPECT_FALSE(make_password_hash("a\nb").has_value());
    EXPECT_FALSE(make_password_hash("a\rb").has_value());
    EXPECT_FALSE(make_password_hash("a\0b"s).has_value());
}

} // namespace
} // namespace popper
