// The standalone listener and the other ways to run popperd: signals,
// session limits, process titles, pidfile, IPv6, inetd mode, -t and -n.
#include "support/popperd_test.h"

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace popper::test {
namespace {

const std::string kFirstContent = "Subject: one\n\nfirst\n";
const std::string kSecondContent = "Subject: two\n\nsecond\n";

class Listener : public PopperdTest {
protected:
    void SetUp() override { host.write_spool(kUser, spool()); }

    static std::string spool() {
        return mbox_entry("a@example.org", kFirstContent) +
               mbox_entry("b@example.org", kSecondContent);
    }
};

bool ipv6_loopback_available() {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 addr {};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

TEST_F(Listener, WritesItsPidToThePidfile) {
    daemon();
    EXPECT_EQ(read_file(host.pidfile_path()), std::to_string(daemon().pid()) + "\n");
}

TEST_F(Listener, SigtermEndsOpenSessionsPutsMailBackAndExitsZero) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(daemon().stop(), 0);
    EXPECT_EQ(client.read_line(), "-ERR [SYS/TEMP] Server shutting down");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(host.read_spool(kUser), spool());
    EXPECT_FALSE(path_exists(host.drop_path(kUser)));
    EXPECT_FALSE(path_exists(host.pidfile_path()));
}

TEST_F(Listener, SigtermEndsASessionBlockedWritingToAClientThatDoesNotRead) {
    // Larger than every socket buffer between us, so the session's writes block.
    const std::string big =
        mbox_message("big@example.org", "Subject: big\n", filler_lines(160000, 75));
    host.write_spool(kUser, big + spool());
    PopClient client = login();
    client.send_raw("RETR 1\r\n");
    EXPECT_TRUE(client.read_line().starts_with("+OK "));
    EXPECT_EQ(daemon().stop(), 0);
    EXPECT_FALSE(path_exists(host.drop_path(kUser)));
    EXPECT_TRUE(same_bytes(big + spool(), host.read_spool(kUser)));
}

TEST_F(Listener, SigtermWithoutSessionsExitsZeroAndRemovesThePidfile) {
    daemon();
    EXPECT_TRUE(path_exists(host.pidfile_path()));
    EXPECT_EQ(daemon().stop(), 0);
    EXPECT_FALSE(path_exists(host.pidfile_path()));
}

TEST_F(Listener, MaxSessionsPerIpRefusesTheNextConnectionUntilOneEnds) {
    host.set_config("max_sessions_per_ip", "1");
    PopClient first = connect();
    PopClient second = daemon().connect();
    EXPECT_EQ(second.read_line(), "-ERR [SYS/TEMP] Too many connections from your address");
    EXPECT_TRUE(second.wait_closed());
    EXPECT_TRUE(daemon().wait_for_log("connection refused: addr=127.0.0.1 "
                                      "reason=max_sessions_per_ip"));
    EXPECT_EQ(first.command("QUIT"), "+OK Bye");
    EXPECT_TRUE(first.wait_closed());
    // The slot is free once the listener has reaped the session.
    EXPECT_TRUE(wait_until([&] {
        PopClient third = daemon().connect();
        return third.read_line() == kGreeting;
    }));
}

TEST_F(Listener, MaxSessionsRefusesConnectionsBeyondTheLimit) {
    host.set_config("max_sessions", "1");
    PopClient first = connect();
    PopClient second = daemon().connect();
    EXPECT_EQ(second.read_line(), "-ERR [SYS/TEMP] Too many connections, try again later");
    EXPECT_TRUE(second.wait_closed());
    EXPECT_EQ(first.command("NOOP"), "-ERR Not logged in");
}

TEST_F(Listener, ListenerProcessTitleNamesTheAddress) {
    EXPECT_EQ(process_title(daemon().pid()),
              "popperd: listening on 127.0.0.1:" + std::to_string(daemon().port()));
}

TEST_F(Listener, SessionProcessTitleShowsAddressThenUserAndState) {
    PopClient client = connect();
    auto pid = daemon().session_pid(0);
    ASSERT_TRUE(pid);
    EXPECT_EQ(process_title(*pid), "popperd: [127.0.0.1] AUTH");
    EXPECT_TRUE(client.login(kUser, kPassword));
    EXPECT_EQ(process_title(*pid), "popperd: alice [127.0.0.1] TRANSACTION");
}

TEST_F(Listener, FinishedSessionsAreReaped) {
    PopClient client = connect();
    auto pid = daemon().session_pid(0);
    ASSERT_TRUE(pid);
    EXPECT_EQ(client.command("QUIT"), "+OK Bye");
    EXPECT_TRUE(client.wait_closed());
    // A zombie keeps its /proc entry; a reaped child has none.
    EXPECT_TRUE(wait_until([&] { return !path_exists("/proc/" + std::to_string(*pid)); }));
}

TEST_F(Listener, SighupWithABadConfigLogsFileAndLineAndKeepsServing) {
    daemon();
    host.write_config_text(host.config_text() + "no_such_key = 1\n");
    daemon().send_signal(SIGHUP);
    EXPECT_TRUE(daemon().wait_for_log(
        "SIGHUP: keeping the old configuration: " + host.config_path() + ":"));
    EXPECT_TRUE(daemon().running());
    PopClient client = login();
    EXPECT_TRUE(client.command("STAT").starts_with("+OK 2 "));
}

TEST_F(Listener, SighupAppliesANewConfigToNewConnections) {
    daemon();
    host.set_config("enable_last", "yes");
    daemon().send_signal(SIGHUP);
    EXPECT_TRUE(daemon().wait_for_log("SIGHUP: configuration re-read from " + host.config_path()));
    PopClient client = login();
    EXPECT_EQ(client.command("LAST"), "+OK 0");
}

TEST_F(Listener, CheckOptionAcceptsAGoodConfig) {
    RunResult run = run_popperd(host, {"-t", "-c", host.config_path()});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, "popperd: configuration " + host.config_path() + " is valid\n");
}

TEST_F(Listener, CheckOptionRejectsABadConfigWithExit78NamingFileAndLine) {
    host.write_config_text("# a comment\nlog = stderr\nmax_sessions = lots\n");
    RunResult run = run_popperd(host, {"-t", "-c", host.config_path()});
    EXPECT_EQ(run.exit_code, 78);
    EXPECT_NE(run.err.find(host.config_path() + ":3:"), std::string::npos) << run.err;
}

TEST_F(Listener, StartingWithABadConfigExits78BeforeListening) {
    host.write_config_text("listen = 127.0.0.1:0\nidle_timeout = forever\n");
    RunResult run = run_popperd(host, {"-f", "-c", host.config_path()});
    EXPECT_EQ(run.exit_code, 78);
    EXPECT_NE(run.err.find(host.config_path() + ":2:"), std::string::npos) << run.err;
    EXPECT_FALSE(path_exists(host.pidfile_path()));
}

TEST_F(Listener, PrintOptionShowsTheEffectiveConfigWhichReadsBack) {
    RunResult run = run_popperd(host, {"-n", "-c", host.config_path()});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    const std::vector<std::string> expected_lines = {
        "listen = 127.0.0.1:0\n",
        "spool_dir = " + host.spool_dir() + "\n",
        "drop_dir = " + host.drop_dir() + "\n",
        "users_file = " + host.users_file() + "\n",
        "max_sessions = 500\n",
        "log = stderr\n",
    };
    for (const std::string& line : expected_lines)
        EXPECT_NE(run.out.find(line), std::string::npos) << line << "in:\n" << run.out;
    const std::string printed = host.path("printed.conf");
    write_file(printed, run.out);
    RunResult check = run_popperd(host, {"-t", "-c", printed});
    EXPECT_EQ(check.exit_code, 0) << check.err;
}

TEST_F(Listener, VersionOptionPrintsTheVersion) {
    RunResult run = run_popperd(host, {"-V"});
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_TRUE(run.out.starts_with("popperd ")) << run.out;
}

TEST_F(Listener, InetdModeServesAWholeSessionOnARealSocket) {
    InetdSession inetd(host);
    PopClient& client = inetd.client();
    EXPECT_EQ(client.read_line(), kGreeting);
    EXPECT_TRUE(client.login(kUser, kPassword));
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + std::to_string(to_crlf(kFirstContent).size() +
                                                                to_crlf(kSecondContent).size()));
    EXPECT_EQ(client.command("RETR 2"),
              "+OK " + std::to_string(to_crlf(kSecondContent).size()) + " octets");
    EXPECT_EQ(client.read_multiline(), to_crlf(kSecondContent));
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(1));
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(inetd.wait_exit(), 0);
    EXPECT_EQ(host.read_spool(kUser), mbox_entry("b@example.org", kSecondContent));
    EXPECT_NE(inetd.log_text().find("login: user=alice addr=127.0.0.1"), std::string::npos)
        << inetd.log_text();
}

TEST_F(Listener, InetdSessionWhoseClientVanishesDuringRetrPutsTheMailBack) {
    const std::string big =
        mbox_message("big@example.org", "Subject: big\n", filler_lines(50000, 75));
    host.write_spool(kUser, big + spool());
    InetdSession inetd(host);
    PopClient& client = inetd.client();
    EXPECT_EQ(client.read_line(), kGreeting);
    EXPECT_TRUE(client.login(kUser, kPassword));
    client.send_raw("RETR 1\r\n");
    EXPECT_TRUE(client.read_line().starts_with("+OK "));
    client.close(); // unread data: the kernel answers the daemon's writes with RST
    EXPECT_EQ(inetd.wait_exit(), 0) << inetd.log_text();
    EXPECT_FALSE(path_exists(host.drop_path(kUser)));
    EXPECT_TRUE(same_bytes(big + spool(), host.read_spool(kUser)));
}

TEST_F(Listener, SigtermToAnInetdSessionPutsTheMailBackAndExitsZero) {
    InetdSession inetd(host);
    PopClient& client = inetd.client();
    EXPECT_EQ(client.read_line(), kGreeting);
    EXPECT_TRUE(client.login(kUser, kPassword));
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    ASSERT_EQ(::kill(inetd.pid(), SIGTERM), 0);
    EXPECT_EQ(client.read_line(), "-ERR [SYS/TEMP] Server shutting down");
    EXPECT_EQ(inetd.wait_exit(), 0) << inetd.log_text();
    EXPECT_FALSE(path_exists(host.drop_path(kUser)));
    EXPECT_EQ(host.read_spool(kUser), spool());
}

TEST_F(Listener, ListensOnIpv6Loopback) {
    if (!ipv6_loopback_available())
        GTEST_SKIP() << "this machine has no ::1";
    host.set_config("listen", "[::1]:0");
    ASSERT_TRUE(daemon().listen_names().front().starts_with("[::1]:"))
        << daemon().listen_names().front();
    PopClient client(daemon().port(), "::1");
    EXPECT_EQ(client.read_line(), kGreeting);
    EXPECT_TRUE(client.login(kUser, kPassword));
    EXPECT_TRUE(daemon().wait_for_log("login: user=alice addr=::1 messages=2"));
}

TEST_F(Listener, ListensOnIpv4AndIpv6AtOnce) {
    if (!ipv6_loopback_available())
        GTEST_SKIP() << "this machine has no ::1";
    host.add_config("listen", "[::1]:0");
    ASSERT_EQ(daemon().listen_names().size(), 2u);
    const std::string v6 = daemon().listen_names()[1];
    ASSERT_TRUE(v6.starts_with("[::1]:")) << v6;
    PopClient over_v6(static_cast<uint16_t>(std::stoul(v6.substr(v6.rfind(':') + 1))), "::1");
    EXPECT_EQ(over_v6.read_line(), kGreeting);
    PopClient over_v4(daemon().port());
    EXPECT_EQ(over_v4.read_line(), kGreeting);
}

} // namespace
} // namespace popper::test
