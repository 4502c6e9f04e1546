// popper-passwd, the real binary (POPPER_PASSWD_BINARY), driving each
// command with --stdin or a pseudo-terminal, then checking the files and
// logging in to the real daemon with the result.
#include "support/popperd_test.h"

#include <gtest/gtest.h>

#ifdef POPPER_PASSWD_BINARY

#include "popper/apop.h"
#include "popper/md5.h"
#include "popper/users_file.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <vector>

namespace popper::test {
namespace {

struct Outcome {
    int code = -1;
    std::string err; // stdout and stderr together
};

// popper-passwd with `args` in a child in a new session: `in_path` opened
// as its standard input (a terminal opened there becomes its controlling
// one), `out_path` as its standard output and error.
pid_t spawn_passwd(const std::vector<std::string>& args, const std::string& in_path,
                   const std::string& out_path) {
    const pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    ::setsid();
    const int in = ::open(in_path.c_str(), O_RDWR);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT, 0600);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0)
        ::_exit(120);
    std::vector<char*> argv{const_cast<char*>(POPPER_PASSWD_BINARY)};
    for (const std::string& arg : args)
        argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(POPPER_PASSWD_BINARY, argv.data());
    ::_exit(121);
}

// Runs popper-passwd with `args`, `input` as its standard input (a file in
// the host directory) and no controlling terminal, so /dev/tty cannot open.
Outcome run_passwd(const MailHost& host, const std::vector<std::string>& args,
                   const std::string& input = "") {
    static int serial = 0;
    const std::string in_path = host.path("passwd-in-" + std::to_string(serial));
    const std::string out_path = host.path("passwd-out-" + std::to_string(serial++));
    write_file(in_path, input);
    const pid_t pid = spawn_passwd(args, in_path, out_path);
    Outcome outcome;
    auto code = wait_for_exit(pid);
    if (!code) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        ADD_FAILURE() << "popper-passwd did not exit";
    }
    outcome.code = code.value_or(-1);
    outcome.err = read_file(out_path).value_or("");
    return outcome;
}

class PopperPasswd : public PopperdTest {
protected:
    // Options that give a new user the host's mailbox owner.
    std::vector<std::string> owner_options() const {
        return {"--uid", std::to_string(host.mail_uid()), "--gid", std::to_string(host.mail_gid())};
    }
    Outcome passwd(std::vector<std::string> args, const std::string& input = "") {
        std::vector<std::string> full = {"-c", host.config_path(), "--apop-file", apop_file_};
        full.insert(full.end(), args.begin(), args.end());
        return run_passwd(host, full, input);
    }
    ::testing::AssertionResult can_login(std::string_view user, std::string_view password) {
        PopClient client = connect();
        return client.login(user, password);
    }
    std::string users_text() const { return read_file(host.users_file()).value_or("<missing>"); }

    const std::string apop_file_ = host.path("apop-secrets");
};

TEST_F(PopperPasswd, AddedUserLogsInWithThePasswordGivenOnStdin) {
    std::vector<std::string> args = {"add", "bob", "--stdin"};
    for (const std::string& o : owner_options())
        args.push_back(o);
    Outcome added = passwd(args, "Tr0ub4dor&3\n");
    ASSERT_EQ(added.code, 0) << added.err;
    EXPECT_EQ(added.err, "");
    host.write_spool("bob", "");
    EXPECT_TRUE(can_login("bob", "Tr0ub4dor&3"));
    EXPECT_FALSE(can_login("bob", "Tr0ub4dor&"));

    auto bob = find_user(host.users_file(), "bob");
    ASSERT_TRUE(bob.has_value() && bob->has_value());
    EXPECT_EQ((*bob)->uid, std::optional<uid_t>(host.mail_uid()));
    EXPECT_EQ((*bob)->gid, std::optional<gid_t>(host.mail_gid()));
}

TEST_F(PopperPasswd, AddWritesHomeAndMailboxAndKeepsOtherLines) {
    const std::string before = users_text();
    Outcome added =
        passwd({"add", "carol", "--home", "/home/carol", "--mailbox", "/var/mail/carol", "--stdin"},
               "pw\n");
    ASSERT_EQ(added.code, 0) << added.err;
    const std::string after = users_text();
    ASSERT_TRUE(after.starts_with(before));
    const std::string line = after.substr(before.size());
    EXPECT_TRUE(line.starts_with("carol:$")) << line;
    EXPECT_TRUE(line.ends_with(":::/home/carol:/var/mail/carol\n")) << line;
}

TEST_F(PopperPasswd, AddRefusesAnExistingUser) {
    const std::string before = users_text();
    Outcome again = passwd({"add", std::string(kUser), "--stdin"}, "other\n");
    EXPECT_EQ(again.code, 1);
    EXPECT_EQ(again.err,
              "popper-passwd: users file " + host.users_file() + ": user alice already exists\n");
    EXPECT_EQ(users_text(), before);
}

TEST_F(PopperPasswd, PasswdChangesThePassword) {
    Outcome changed = passwd({"passwd", std::string(kUser), "--stdin"}, "n3w-pass\n");
    ASSERT_EQ(changed.code, 0) << changed.err;
    host.write_spool(kUser, "");
    EXPECT_TRUE(can_login(kUser, "n3w-pass"));
    EXPECT_FALSE(can_login(kUser, kPassword));
}

TEST_F(PopperPasswd, StdinIsReadAsOneLineOnly) {
    Outcome changed = passwd({"passwd", std::string(kUser), "--stdin"}, "first\r\nsecond\n");
    ASSERT_EQ(changed.code, 0) << changed.err;
    host.write_spool(kUser, "");
    EXPECT_TRUE(can_login(kUser, "first"));
}

TEST_F(PopperPasswd, EmptyOrMissingPasswordChangesNothing) {
    const std::string before = users_text();
    EXPECT_EQ(passwd({"passwd", std::string(kUser), "--stdin"}, "\n").code, 1);
    EXPECT_EQ(passwd({"passwd", std::string(kUser), "--stdin"}, "").code, 1);
    Outcome no_tty = passwd({"passwd", std::string(kUser)});
    EXPECT_EQ(no_tty.code, 1);
    EXPECT_NE(no_tty.err.find("use --stdin"), std::string::npos) << no_tty.err;
    EXPECT_EQ(users_text(), before);
}

TEST_F(PopperPasswd, PasswdOfUnknownUserFailsBeforeReadingAPassword) {
    Outcome unknown = passwd({"passwd", "nobody-here"}); // no --stdin, no terminal
    EXPECT_EQ(unknown.code, 1);
    EXPECT_EQ(unknown.err,
              "popper-passwd: users file " + host.users_file() + ": no user nobody-here\n");
}

TEST_F(PopperPasswd, DisableRefusesLoginAndEnableRestoresIt) {
    host.write_spool(kUser, "");
    ASSERT_EQ(passwd({"disable", std::string(kUser)}).code, 0);
    EXPECT_FALSE(can_login(kUser, kPassword));
    Outcome twice = passwd({"disable", std::string(kUser)});
    EXPECT_EQ(twice.code, 0);
    EXPECT_EQ(twice.err, "popper-passwd: user alice was already disabled\n");
    ASSERT_EQ(passwd({"enable", std::string(kUser)}).code, 0);
    EXPECT_TRUE(can_login(kUser, kPassword));
}

TEST_F(PopperPasswd, DeleteRemovesTheUserAndTheirApopSecret) {
    ASSERT_EQ(passwd({"apop", std::string(kUser), "--stdin"}, "tanstaaf\n").code, 0);
    ASSERT_EQ(passwd({"delete", std::string(kUser)}).code, 0);
    EXPECT_EQ(users_text().find("alice:"), std::string::npos);
    EXPECT_EQ(read_file(apop_file_), std::optional<std::string>(""));
    host.write_spool(kUser, "");
    EXPECT_FALSE(can_login(kUser, kPassword));
    EXPECT_EQ(passwd({"delete", std::string(kUser)}).code, 1);
}

TEST_F(PopperPasswd, ApopSetsAndClearsTheSecretInA0600File) {
    Outcome set = passwd({"apop", std::string(kUser), "--stdin"}, "tanstaaf\n");
    ASSERT_EQ(set.code, 0) << set.err;
    EXPECT_EQ(read_file(apop_file_), std::optional<std::string>("alice:tanstaaf\n"));
    struct stat st {};
    ASSERT_EQ(::stat(apop_file_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    auto permissions = check_secret_file_permissions("apop secrets file", apop_file_);
    EXPECT_TRUE(permissions.has_value()) << permissions.error().message();
    auto secret = find_apop_secret(apop_file_, kUser);
    ASSERT_TRUE(secret.has_value() && secret->has_value());
    const std::string stamp = "<1896.697170952@dbc.mtview.ca.us>";
    EXPECT_TRUE(verify_apop(**secret, stamp, md5_hex(stamp + "tanstaaf")));

    ASSERT_EQ(passwd({"apop", "--clear", std::string(kUser)}).code, 0);
    EXPECT_EQ(read_file(apop_file_), std::optional<std::string>(""));
    Outcome again = passwd({"apop", std::string(kUser), "--clear"});
    EXPECT_EQ(again.code, 0);
    EXPECT_EQ(again.err, "popper-passwd: user alice had no APOP secret in " + apop_file_ + "\n");
}

TEST_F(PopperPasswd, UsersFileOptionOverridesTheConfiguration) {
    const std::string other = host.path("other-users");
    Outcome added = run_passwd(
        host, {"-c", host.path("missing.conf"), "-f", other, "add", "dave", "--stdin"}, "pw\n");
    ASSERT_EQ(added.code, 0) << added.err;
    EXPECT_TRUE(read_file(other).value_or("").starts_with("dave:$"));
}

TEST_F(PopperPasswd, ExitCodes) {
    EXPECT_EQ(run_passwd(host, {}).code, 64);
    EXPECT_EQ(passwd({"frobnicate", "alice"}).code, 64);
    EXPECT_EQ(passwd({"passwd"}).code, 64);
    EXPECT_EQ(passwd({"passwd", "alice", "extra"}).code, 64);
    EXPECT_EQ(passwd({"passwd", "../etc/passwd", "--stdin"}, "x\n").code, 64);
    EXPECT_EQ(passwd({"passwd", "alice", "--uid", "5"}).code, 64);
    EXPECT_EQ(passwd({"add", "bob", "--uid", "0", "--stdin"}, "x\n").code, 64);
    EXPECT_EQ(passwd({"add", "bob", "--mailbox", "relative", "--stdin"}, "x\n").code, 64);
    EXPECT_EQ(passwd({"disable", "alice", "--clear"}).code, 64);
    EXPECT_EQ(passwd({"delete", "alice", "--stdin"}).code, 64);
    EXPECT_EQ(passwd({"--bogus", "disable", "alice"}).code, 64);

    Outcome no_config = run_passwd(host, {"-c", host.path("missing.conf"), "disable", "alice"});
    EXPECT_EQ(no_config.code, 78);
    EXPECT_NE(no_config.err.find(host.path("missing.conf")), std::string::npos) << no_config.err;

    EXPECT_EQ(run_passwd(host, {"-h"}).code, 0);
    EXPECT_EQ(run_passwd(host, {"-V"}).code, 0);
}

// ---- the terminal -------------------------------------------------------------

// popper-passwd on a new pseudo-terminal as its controlling terminal.
class PtyRun {
public:
    explicit PtyRun(const std::vector<std::string>& args) {
        master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master_ < 0 || ::grantpt(master_) != 0 || ::unlockpt(master_) != 0)
            throw std::runtime_error("posix_openpt: " + std::string(std::strerror(errno)));
        const std::string slave = ::ptsname(master_);
        pid_ = spawn_passwd(args, slave, slave);
    }
    ~PtyRun() {
        if (pid_ > 0 && !code_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(master_);
    }

    // Reads the terminal until `text` has appeared; false after kDefaultWait.
    bool wait_for(std::string_view text) {
        const auto deadline = std::chrono::steady_clock::now() + kDefaultWait;
        while (screen_.find(text) == std::string::npos) {
            if (std::chrono::steady_clock::now() >= deadline || !read_some(100))
                return false;
        }
        return true;
    }
    void type(std::string_view keys) {
        EXPECT_EQ(::write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
    }
    // Reads what is left, then the exit code (-1 when it does not end).
    int finish() {
        const auto deadline = std::chrono::steady_clock::now() + kDefaultWait;
        while (std::chrono::steady_clock::now() < deadline && read_some(100)) {
        }
        code_ = wait_for_exit(pid_);
        return code_.value_or(-1);
    }
    const std::string& screen() const { return screen_; }
    // The terminal's mode, which the master shares with the slave.
    bool echo_on() const {
        struct termios mode {};
        EXPECT_EQ(::tcgetattr(master_, &mode), 0);
        return (mode.c_lflag & ECHO) != 0;
    }

private:
    // Appends what the terminal shows within `timeout_ms`. False once the
    // output has ended (EIO when the last slave descriptor closes) or the
    // program has exited with nothing more to show.
    bool read_some(int timeout_ms) {
        struct pollfd pfd {
            master_, POLLIN, 0
        };
        if (::poll(&pfd, 1, timeout_ms) <= 0)
            return !exited();
        char buf[512];
        const ssize_t n = ::read(master_, buf, sizeof buf);
        if (n <= 0)
            return false;
        screen_.append(buf, static_cast<size_t>(n));
        return true;
    }
    bool exited() const {
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == pid_;
    }

    int master_ = -1;
    pid_t pid_ = -1;
    std::optional<int> code_;
    std::string screen_;
};

TEST_F(PopperPasswd, PromptsTwiceOnTheTerminalWithoutEcho) {
    PtyRun run({"-c", host.config_path(), "passwd", std::string(kUser)});
    ASSERT_TRUE(run.wait_for("New password for alice: ")) << run.screen();
    run.type("Zebra-Quartz9\n");
    ASSERT_TRUE(run.wait_for("Retype new password for alice: ")) << run.screen();
    run.type("Zebra-Quartz9\n");
    EXPECT_EQ(run.finish(), 0) << run.screen();
    EXPECT_EQ(run.screen().find("Zebra"), std::string::npos) << run.screen();
    host.write_spool(kUser, "");
    EXPECT_TRUE(can_login(kUser, "Zebra-Quartz9"));
}

TEST_F(PopperPasswd, MismatchedEntriesOnTheTerminalChangeNothing) {
    const std::string before = users_text();
    PtyRun run({"-c", host.config_path(), "passwd", std::string(kUser)});
    ASSERT_TRUE(run.wait_for("New password for alice: ")) << run.screen();
    run.type("one\n");
    ASSERT_TRUE(run.wait_for("Retype new password for alice: ")) << run.screen();
    run.type("two\n");
    EXPECT_EQ(run.finish(), 1);
    EXPECT_NE(run.screen().find("the two entries differ"), std::string::npos) << run.screen();
    EXPECT_EQ(users_text(), before);
}

TEST_F(PopperPasswd, InterruptAtThePromptRestoresEcho) {
    PtyRun run({"-c", host.config_path(), "passwd", std::string(kUser)});
    ASSERT_TRUE(run.wait_for("New password for alice: ")) << run.screen();
    EXPECT_FALSE(run.echo_on());
    run.type("\x03"); // ^C: SIGINT from the terminal
    EXPECT_EQ(run.finish(), 128 + SIGINT);
    EXPECT_TRUE(run.echo_on());
}

} // namespace
} // namespace popper::test

#else // POPPER_PASSWD_BINARY

TEST(PopperPasswd, NeedsTheBinary) {
    GTEST_SKIP() << "POPPER_PASSWD_BINARY is not defined: the popper-passwd target is not built";
}

#endif // POPPER_PASSWD_BINARY
