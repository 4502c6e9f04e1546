// Pooled pre-login processes (preauth_process_connections > 1), over real
// sockets against the real daemon: reuse, recycling, a pooled process that
// dies, SIGTERM and SIGHUP. The listener and protocol suites also run whole
// in this mode (ctest's "pooled." tests).
#include "support/popperd_test.h"

#include <csignal>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace popper::test {
namespace {

// "popperd[PID]: ..." -> PID
pid_t pid_of_log_line(const std::string& line) {
    size_t open = line.find('[');
    return open == std::string::npos ? -1 : static_cast<pid_t>(std::stol(line.substr(open + 1)));
}

std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> kids;
    auto text =
        read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::istringstream in(text.value_or(""));
    for (pid_t kid; in >> kid;)
        kids.push_back(kid);
    return kids;
}

bool process_gone(pid_t pid) {
    return !path_exists("/proc/" + std::to_string(pid));
}

class PreauthPool : public PopperdTest {
protected:
    static std::string spool() {
        return mbox_entry("a@example.org", "Subject: one\n\nfirst\n") +
               mbox_entry("b@example.org", "Subject: two\n\nsecond\n");
    }

    void SetUp() override {
        host.write_spool(kUser, spool());
        host.set_config("preauth_process_connections", "10");
        host.set_config("max_auth_failures", "1");
    }

    // Waits until pre-login process `pid` is done with its connection: idle
    // again, or exited after its share. It reports idle to the listener
    // before its title says so, and the listener reads reports before it
    // accepts, so the next connection finds it idle however slow the machine.
    void wait_done(pid_t pid) {
        EXPECT_TRUE(wait_until([&] {
            return process_gone(pid) || process_title(pid) == "popperd: pre-login (idle)";
        })) << "pre-login process "
            << pid << " still busy";
    }

    // A connection whose one failed login is logged by the pre-login process
    // that served it: returns that process's pid, once it is done (wait_done).
    pid_t failed_login_pid() {
        size_t before = daemon().log_lines_with("authentication failure: user=alice").size();
        PopClient client = connect();
        EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
        EXPECT_EQ(client.command("PASS not-the-password"),
                  "-ERR [AUTH] Authentication failed, closing connection");
        EXPECT_TRUE(client.wait_closed());
        std::vector<std::string> lines;
        EXPECT_TRUE(wait_until([&] {
            lines = daemon().log_lines_with("authentication failure: user=alice");
            return lines.size() > before;
        }));
        if (lines.size() <= before)
            return -1;
        const pid_t pid = pid_of_log_line(lines[before]);
        wait_done(pid);
        return pid;
    }

    // The listener's child that shows this title, once there is one.
    pid_t child_titled(const std::string& title) {
        pid_t found = -1;
        wait_until([&] {
            for (pid_t kid : children_of(daemon().pid()))
                if (process_title(kid) == title)
                    found = kid;
            return found > 0;
        });
        return found;
    }
};

TEST_F(PreauthPool, OnePreloginProcessServesConsecutiveConnections) {
    pid_t first = failed_login_pid();
    pid_t second = failed_login_pid();
    ASSERT_GT(first, 0);
    EXPECT_EQ(first, second);
    // Neither is a session process: those are new for every connection.
    std::set<pid_t> sessions;
    for (const auto& line : daemon().log_lines_with(": connect: addr="))
        sessions.insert(pid_of_log_line(line));
    EXPECT_EQ(sessions.size(), 2u);
    EXPECT_FALSE(sessions.contains(first));
    EXPECT_EQ(process_title(first), "popperd: pre-login (idle)");
    // And a good login through the same process reaches the mailbox.
    PopClient client = login();
    EXPECT_TRUE(client.command("STAT").starts_with("+OK 2 "));
    EXPECT_EQ(client.command("QUIT"), bye_reply(2));
    wait_done(first);
    EXPECT_EQ(failed_login_pid(), first);
}

TEST_F(PreauthPool, WithTheDefaultOfOneEachConnectionHasItsOwnPreloginProcess) {
    host.set_config("preauth_process_connections", "1");
    pid_t first = failed_login_pid();
    pid_t second = failed_login_pid();
    EXPECT_NE(first, second);
    EXPECT_TRUE(wait_until([&] { return process_gone(first); }));
}

TEST_F(PreauthPool, AProcessIsRecycledAfterItsShareOfConnections) {
    host.set_config("preauth_process_connections", "2");
    pid_t first = failed_login_pid();
    EXPECT_EQ(failed_login_pid(), first);
    pid_t third = failed_login_pid();
    EXPECT_NE(third, first);
    EXPECT_TRUE(wait_until([&] { return process_gone(first); })) << "not exited and reaped";
    EXPECT_EQ(failed_login_pid(), third);
}

TEST_F(PreauthPool, PipelinedCommandsAfterPassReachTheSession) {
    PopClient client = connect();
    client.send_raw("USER alice\r\nPASS wonderland\r\nSTAT\r\nUIDL 1\r\nQUIT\r\n");
    EXPECT_EQ(client.read_line(), "+OK Send your password");
    EXPECT_TRUE(client.read_line().starts_with("+OK Logged in, 2 messages"));
    EXPECT_TRUE(client.read_line().starts_with("+OK 2 "));
    EXPECT_TRUE(client.read_line().starts_with("+OK 1 "));
    EXPECT_EQ(client.read_line(), bye_reply(2));
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(PreauthPool, AClientThatLeavesBeforeLoggingInFreesTheProcessForTheNext) {
    pid_t first = failed_login_pid();
    {
        PopClient gone = connect(); // greeting read, then closed
    }
    wait_done(first);
    PopClient quits = connect();
    EXPECT_EQ(quits.command("QUIT"), "+OK Bye");
    EXPECT_TRUE(quits.wait_closed());
    wait_done(first);
    EXPECT_EQ(failed_login_pid(), first);
}

TEST_F(PreauthPool, ConcurrentConnectionsGetProcessesOfTheirOwn) {
    std::vector<PopClient> clients;
    for (int i = 0; i < 6; ++i)
        clients.push_back(connect());
    for (auto& client : clients)
        EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    std::set<pid_t> pooled;
    EXPECT_TRUE(wait_until([&] {
        pooled.clear();
        for (pid_t kid : children_of(daemon().pid()))
            if (process_title(kid) == "popperd: [127.0.0.1] AUTH (pre-login)")
                pooled.insert(kid);
        return pooled.size() == clients.size();
    })) << pooled.size()
        << " pre-login processes";
    // One at a time through the mailbox: the others wait in AUTHORIZATION.
    for (auto& client : clients) {
        EXPECT_TRUE(client.command("PASS wonderland").starts_with("+OK Logged in, 2 messages"));
        EXPECT_EQ(client.command("QUIT"), bye_reply(2));
    }
}

TEST_F(PreauthPool, AKilledPreloginProcessEndsOnlyItsConnectionWithAnError) {
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    pid_t pooled = child_titled("popperd: [127.0.0.1] AUTH (pre-login)");
    ASSERT_GT(pooled, 0);
    ASSERT_EQ(::kill(pooled, SIGKILL), 0);
    EXPECT_EQ(client.read_line(), "-ERR [SYS/TEMP] Internal error, try again later");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_TRUE(daemon().wait_for_log("pre-login process " + std::to_string(pooled) +
                                      " killed by signal 9"));
    PopClient next = login();
    EXPECT_TRUE(next.command("STAT").starts_with("+OK 2 "));
    EXPECT_EQ(next.command("QUIT"), bye_reply(2));
}

TEST_F(PreauthPool, SigtermSaysGoodbyeOnceToAClientBeforeLoginAndLeavesNoProcess) {
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    pid_t pooled = child_titled("popperd: [127.0.0.1] AUTH (pre-login)");
    ASSERT_GT(pooled, 0);
    EXPECT_EQ(daemon().stop(), 0);
    EXPECT_EQ(client.read_line(), "-ERR [SYS/TEMP] Server shutting down");
    EXPECT_EQ(client.read_line(), "");
    EXPECT_TRUE(client.closed());
    EXPECT_TRUE(wait_until([&] { return process_gone(pooled); }));
    EXPECT_EQ(host.read_spool(kUser), spool());
}

TEST_F(PreauthPool, AStuckPreloginProcessDoesNotHoldUpShutdown) {
    pid_t pooled = failed_login_pid();
    ASSERT_GT(pooled, 0);
    // Stopped, it cannot see its control socket close, as a taken-over one
    // might ignore it.
    ASSERT_EQ(::kill(pooled, SIGSTOP), 0);
    EXPECT_EQ(daemon().stop(), 0);
    EXPECT_TRUE(wait_until([&] { return process_gone(pooled); }));
}

TEST_F(PreauthPool, SighupRetiresTheProcessesOfTheOldConfiguration) {
    pid_t before = failed_login_pid();
    host.set_config("enable_last", "yes");
    daemon().send_signal(SIGHUP);
    EXPECT_TRUE(daemon().wait_for_log("SIGHUP: configuration re-read"));
    EXPECT_TRUE(wait_until([&] { return process_gone(before); }));
    pid_t after = failed_login_pid();
    EXPECT_NE(after, before);
    PopClient client = login(); // the new configuration reaches the session
    EXPECT_EQ(client.command("LAST"), "+OK 0");
}

TEST_F(PreauthPool, SigtermToOneSessionBeforeLoginEndsThatConnectionOnly) {
    pid_t pooled = failed_login_pid();
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    auto session = daemon().session_pid(1);
    ASSERT_TRUE(session);
    ASSERT_EQ(::kill(*session, SIGTERM), 0);
    EXPECT_EQ(client.read_line(), "-ERR [SYS/TEMP] Server shutting down");
    EXPECT_EQ(client.read_line(), "");
    EXPECT_TRUE(client.closed());
    // The pooled process was not asked to stop: it serves the next one.
    wait_done(pooled);
    EXPECT_EQ(failed_login_pid(), pooled);
}

} // namespace
} // namespace popper::test
