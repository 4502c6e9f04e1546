// Issue 16 over real sockets: the policy file's allow_from and deny_from
// (answered like a wrong password), CAPA's LOGIN-DELAY and EXPIRE before
// and after login, LOGIN-DELAY refusals, EXPIRE deletions at QUIT (the
// clock moved by writing drop_dir/USER.state, never by sleeping), and the
// takeover of a session that holds the mailbox.
#include "support/popperd_test.h"

#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace popper::test {
namespace {

class Policy : public PopperdTest {
protected:
    void use_policy(const std::string& text) {
        write_file(host.path("policy"), text, 0600);
        host.set_config("policy_file", host.path("policy"));
    }
    std::string state_path() const { return host.drop_dir() + "/alice.state"; }
    // Moves the clock: the state file as if alice last logged in, and first
    // retrieved each UIDL, that many seconds ago.
    void write_state(std::optional<int64_t> login_ago_s,
                     const std::vector<std::pair<std::string, int64_t>>& retrieved_ago_s) {
        const int64_t now = static_cast<int64_t>(::time(nullptr));
        std::string text = "popperd-state 1\n";
        if (login_ago_s)
            text += "login " + std::to_string(now - *login_ago_s) + "\n";
        for (const auto& [uidl, ago] : retrieved_ago_s)
            text += "retrieved " + std::to_string(now - ago) + " " + uidl + "\n";
        write_file(state_path(), text);
        host.give_to_mail_owner(state_path());
    }
    // The UIDLs of alice's mailbox, in order, from a session ended by QUIT.
    std::vector<std::string> uidls() {
        PopClient client = login();
        EXPECT_EQ(client.command("UIDL"), "+OK Unique-ID listing follows");
        std::string listing = client.read_multiline();
        EXPECT_TRUE(client.command("QUIT").starts_with("+OK"));
        std::vector<std::string> out;
        for (size_t pos = 0; pos < listing.size();) {
            size_t end = listing.find("\r\n", pos);
            std::string line = listing.substr(pos, end - pos);
            out.push_back(line.substr(line.find(' ') + 1));
            pos = end + 2;
        }
        return out;
    }
    static std::string message(int n) {
        const std::string number = std::to_string(n);
        return mbox_message("sender@example.org",
                            "Subject: message " + number + "\nMessage-ID: <" + number +
                                "@example.org>\n",
                            "Body " + number + ".\n");
    }
    static constexpr int64_t kDay = 24 * 3600;

    std::string capa(PopClient& client) {
        EXPECT_EQ(client.command("CAPA"), "+OK Capability list follows");
        return client.read_multiline();
    }
};

TEST_F(Policy, DeniedAddressGetsTheWrongPasswordAnswerAndTheLogSaysWhy) {
    use_policy("*: deny_from=127.0.0.0/8\n");
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"), "-ERR [AUTH] Authentication failed");
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wrong"), "-ERR [AUTH] Authentication failed");
    EXPECT_TRUE(daemon().wait_for_log("user=alice addr=127.0.0.1 reason=policy-denied"));
}

TEST_F(Policy, AllowFromAdmitsOnlyItsNetworks) {
    use_policy("*: allow_from=192.0.2.0/24\nalice: allow_from=127.0.0.1,::1\n");
    host.add_user("bob", "builder");
    PopClient alice = connect();
    EXPECT_TRUE(alice.login("alice", "wonderland"));
    PopClient bob = connect();
    EXPECT_EQ(bob.command("USER bob"), "+OK Send your password");
    EXPECT_EQ(bob.command("PASS builder"), "-ERR [AUTH] Authentication failed");
}

TEST_F(Policy, CapaListsTheDefaultsBeforeLoginAndTheUsersValuesAfter) {
    use_policy("*: login_delay=0 expire=30\nalice: expire=never\n");
    PopClient client = connect();
    std::string before = capa(client);
    EXPECT_NE(before.find("EXPIRE 30 USER\r\n"), std::string::npos) << before;
    EXPECT_EQ(before.find("LOGIN-DELAY"), std::string::npos) << before;
    ASSERT_TRUE(client.login("alice", "wonderland"));
    std::string after = capa(client);
    EXPECT_NE(after.find("EXPIRE NEVER\r\n"), std::string::npos) << after;
}

TEST_F(Policy, FileIsReadAgainAtEveryLoginWithoutARestart) {
    use_policy("*: login_delay=60\n");
    PopClient allowed = connect();
    std::string before = capa(allowed);
    EXPECT_NE(before.find("LOGIN-DELAY 60\r\nEXPIRE NEVER\r\n"), std::string::npos) << before;
    ASSERT_TRUE(allowed.login("alice", "wonderland"));
    EXPECT_TRUE(allowed.command("QUIT").starts_with("+OK"));
    write_file(host.path("policy"), "alice: deny_from=127.0.0.1\n", 0600);
    PopClient denied = connect();
    EXPECT_EQ(denied.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(denied.command("PASS wonderland"), "-ERR [AUTH] Authentication failed");
}

TEST_F(Policy, BrokenPolicyFileStopsTheDaemonFromStarting) {
    use_policy("alice: expire=soon\n");
    RunResult checked = run_popperd(host, {"-t", "-c", host.config_path()});
    EXPECT_EQ(checked.exit_code, 78); // EX_CONFIG
    EXPECT_NE(checked.err.find("policy:1: expire: want days"), std::string::npos) << checked.err;
}

TEST_F(Policy, LoginSoonerThanLoginDelayGetsTheLoginDelayCode) {
    use_policy("*: login_delay=600\n");
    host.write_spool(kUser, message(1));
    write_state(10, {}); // logged in 10 s ago
    PopClient early = connect();
    EXPECT_EQ(early.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(early.command("PASS wonderland"),
              "-ERR [LOGIN-DELAY] Minimum time between logins has not passed, try again later");
    EXPECT_TRUE(early.wait_closed());
    EXPECT_TRUE(daemon().wait_for_log("reason=login-delay"));
    EXPECT_EQ(host.read_spool(kUser), message(1)); // nothing moved
    write_state(601, {});                          // the delay has passed
    PopClient later = connect();
    ASSERT_TRUE(later.login("alice", "wonderland"));
    std::string capa_lines = capa(later);
    EXPECT_NE(capa_lines.find("LOGIN-DELAY 600\r\n"), std::string::npos) << capa_lines;
    EXPECT_TRUE(later.command("QUIT").starts_with("+OK"));
    // That login is recorded: the next one, at once, is too soon.
    PopClient again = connect();
    EXPECT_EQ(again.command("USER alice"), "+OK Send your password");
    EXPECT_TRUE(again.command("PASS wonderland").starts_with("-ERR [LOGIN-DELAY]"));
}

TEST_F(Policy, ExpireDeletesMessagesRetrievedThatManyDaysAgoAtQuit) {
    use_policy("*: expire=3\n");
    host.write_spool(kUser, message(1) + message(2) + message(3) + message(4));
    std::vector<std::string> ids = uidls();
    ASSERT_EQ(ids.size(), 4u);
    // 1: retrieved 3 days ago (due); 2: 2 days ago (not yet); 3: never
    // retrieved; 4: retrieved 10 days ago, but DELEted anyway.
    write_state(std::nullopt, {{ids[0], 3 * kDay}, {ids[1], 2 * kDay}, {ids[3], 10 * kDay}});
    PopClient client = login();
    EXPECT_EQ(client.command("RETR 3").substr(0, 3), "+OK");
    client.read_multiline();
    EXPECT_EQ(client.command("DELE 4"), "+OK Message 4 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(2));
    EXPECT_EQ(host.read_spool(kUser), message(2) + message(3));
    // Pruned: the entries of messages that went are gone; 3's first
    // retrieval is recorded, 2's time kept.
    std::string state = read_file(state_path()).value_or("");
    EXPECT_EQ(state.find(ids[0]), std::string::npos) << state;
    EXPECT_EQ(state.find(ids[3]), std::string::npos) << state;
    EXPECT_NE(state.find(" " + ids[1] + "\n"), std::string::npos) << state;
    EXPECT_NE(state.find(" " + ids[2] + "\n"), std::string::npos) << state;
    EXPECT_TRUE(daemon().wait_for_log("expired: user=alice messages=1"));
}

TEST_F(Policy, ExpireZeroDeletesWhatTheSessionRetrievedAtItsQuitOnly) {
    use_policy("alice: expire=0\n");
    host.write_spool(kUser, message(1) + message(2) + message(3));
    PopClient client = login();
    EXPECT_EQ(client.command("RETR 2").substr(0, 3), "+OK");
    client.read_multiline();
    EXPECT_EQ(client.command("TOP 3 0").substr(0, 3), "+OK"); // TOP is not a retrieval
    client.read_multiline();
    EXPECT_EQ(client.command("QUIT"), bye_reply(2));
    EXPECT_EQ(host.read_spool(kUser), message(1) + message(3));
}

TEST_F(Policy, SessionEndedWithoutQuitExpiresNothingButRemembersItsRetrievals) {
    use_policy("*: expire=0\n");
    host.write_spool(kUser, message(1) + message(2));
    {
        PopClient client = login();
        EXPECT_EQ(client.command("RETR 1").substr(0, 3), "+OK");
        client.read_multiline();
        client.close(); // no QUIT: RFC 1939 §6, nothing is deleted
    }
    ASSERT_TRUE(wait_until(
        [&] { return host.spool_exists(kUser) && !path_exists(host.drop_path(kUser)); }));
    EXPECT_EQ(host.read_spool(kUser), message(1) + message(2));
    PopClient next = login();
    EXPECT_EQ(next.command("QUIT"), bye_reply(1)); // message 1 was retrieved: expired now
    EXPECT_EQ(host.read_spool(kUser), message(2));
}

TEST_F(Policy, MalformedStateStartsAfreshAndExpiresNothing) {
    use_policy("*: expire=0 login_delay=600\n");
    host.write_spool(kUser, message(1));
    write_file(state_path(), std::string("popperd-state 1\nlogin \0\xff\n", 25));
    host.give_to_mail_owner(state_path());
    PopClient client = login();
    EXPECT_EQ(client.command("QUIT"), bye_reply(1));
    EXPECT_EQ(host.read_spool(kUser), message(1));
}

class Takeover : public Policy {
protected:
    void SetUp() override {
        host.set_config("takeover", "yes");
        host.write_spool(kUser, message(1) + message(2));
    }
};

TEST_F(Takeover, LoginEndsTheSessionOfAClientThatVanishedWithoutClosing) {
    // The first client's link went dead (a firewall dropping its packets):
    // it says nothing more and never closes.
    PopClient vanished = login();
    EXPECT_EQ(vanished.command("DELE 1"), "+OK Message 1 deleted");
    PopClient again = connect();
    EXPECT_EQ(again.command("USER alice"), "+OK Send your password");
    EXPECT_TRUE(again.command("PASS wonderland").starts_with("+OK Logged in, 2 messages"));
    EXPECT_EQ(vanished.read_line(),
              "-ERR [SYS/TEMP] Session taken over by a new login of the same user");
    EXPECT_TRUE(vanished.wait_closed());
    EXPECT_TRUE(daemon().wait_for_log("takeover: user=alice addr=127.0.0.1 ends the session pid="));
    EXPECT_TRUE(daemon().wait_for_log("session taken over: user=alice addr=127.0.0.1"));
    EXPECT_EQ(again.command("QUIT"), bye_reply(2)); // the DELE was not made
    EXPECT_EQ(host.read_spool(kUser), message(1) + message(2));
}

TEST_F(Takeover, TwoLiveClientsTheFirstIsToldAndKeepsNothingDeleted) {
    PopClient first = login();
    EXPECT_EQ(first.command("DELE 2"), "+OK Message 2 deleted");
    PopClient second = login();
    EXPECT_EQ(first.command("NOOP"),
              "-ERR [SYS/TEMP] Session taken over by a new login of the same user");
    EXPECT_TRUE(first.wait_closed());
    EXPECT_EQ(second.command("STAT").substr(0, 5), "+OK 2");
    EXPECT_EQ(second.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(second.command("QUIT"), bye_reply(1));
    EXPECT_EQ(host.read_spool(kUser), message(2));
}

TEST_F(Takeover, SessionInTheMiddleOfQuitFinishesItFirst) {
    host.set_config("lock_timeout", "30s"); // waits end by progress, not by time
    PopClient first = login();
    const pid_t first_pid = daemon().session_pid(0).value_or(-1);
    EXPECT_EQ(first.command("DELE 1"), "+OK Message 1 deleted");
    std::optional<HeldSpoolLock> mta(std::in_place, host, kUser);
    first.send_raw("QUIT\r\n"); // UPDATE now waits for the spool lock
    ASSERT_TRUE(
        wait_until([&] { return process_title(first_pid).find("UPDATE") != std::string::npos; }));
    PopClient second = connect();
    second.send_raw("USER alice\r\nPASS wonderland\r\n");
    ASSERT_TRUE(daemon().wait_for_log("takeover: user=alice"));
    mta.reset(); // the QUIT goes on, and must complete
    EXPECT_EQ(first.read_line(), "+OK Bye (1 message left)");
    EXPECT_EQ(second.read_line(), "+OK Send your password");
    EXPECT_EQ(second.read_line().substr(0, 23), "+OK Logged in, 1 messag");
    EXPECT_EQ(second.command("QUIT"), bye_reply(1));
    EXPECT_EQ(host.read_spool(kUser), message(2));
}

TEST_F(Takeover, WithoutTakeoverTheSecondLoginIsInUse) {
    host.set_config("takeover", "no");
    PopClient first = login();
    PopClient second = connect();
    EXPECT_EQ(second.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(second.command("PASS wonderland"),
              "-ERR [IN-USE] Mailbox is locked by another session or program");
    EXPECT_TRUE(first.command("NOOP").starts_with("+OK"));
}

} // namespace
} // namespace popper::test
