// POP2 (RFC 937) over real sockets, on a `pop2_listen` address beside the
// POP3 one: the greeting, HELO's message count, READ's octet counts, RETR's
// unframed data, ACKS/ACKD/NACK, QUIT's UPDATE; every command in a wrong
// state, bad message numbers, malformed, huge and binary lines; a dropped
// connection deleting nothing; the policy file's deny_from, LOGIN-DELAY
// and EXPIRE; max_sessions_per_ip and auth_timeout; the proto=pop2 log
// lines.
#include "support/popperd_test.h"

#include <ctime>
#include <string>

namespace popper::test {
namespace {

class Pop2 : public PopperdTest {
protected:
    Pop2() {
        host.add_config("pop2_listen", "127.0.0.1:0");
        host.write_spool(kUser, message(1) + message(2));
    }
    static std::string message(int n) {
        const std::string number = std::to_string(n);
        return mbox_message("sender@example.org",
                            "Subject: message " + number + "\nMessage-ID: <" + number +
                                "@example.org>\n",
                            "Body " + number + ".\n");
    }
    // The octets RETR sends for message(n): its CRLF form, without the
    // From_ line and the separator.
    static std::string sent_form(int n) {
        std::string entry = message(n);
        entry = entry.substr(entry.find('\n') + 1);
        entry.pop_back(); // the separator's empty line
        return to_crlf(entry);
    }
    static std::string length_reply(const std::string& octets) {
        return "=" + std::to_string(octets.size());
    }
    PopClient connect_pop2() {
        PopClient client(daemon().pop2_port());
        EXPECT_EQ(client.read_line(), "+ POP2 popperd ready");
        return client;
    }
    PopClient helo() {
        PopClient client = connect_pop2();
        EXPECT_EQ(client.command("HELO alice wonderland"), "#2 messages");
        return client;
    }
    void use_policy(const std::string& text) {
        write_file(host.path("policy"), text, 0600);
        host.set_config("policy_file", host.path("policy"));
    }
};

TEST_F(Pop2, ReadRetrAndAckdDeleteAtQuit) {
    PopClient client = helo();
    EXPECT_EQ(client.command("READ 1"), length_reply(sent_form(1)));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent_form(1).size()), sent_form(1));
    EXPECT_EQ(client.command("ACKD"), length_reply(sent_form(2)));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent_form(2).size()), sent_form(2));
    EXPECT_EQ(client.command("ACKS"), "=0");
    EXPECT_EQ(client.command("QUIT"), "+ Bye (1 message left)");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(host.read_spool(kUser), message(2));
}

TEST_F(Pop2, RetrSendsTheStoredMessageUnstuffedWithItsExactOctetCount) {
    const std::string stored = "Subject: dots\n\n.leading dot\n>From the mbox\n..two\nno final LF";
    host.write_spool(kUser, mbox_entry("sender@example.org", stored));
    const std::string sent =
        "Subject: dots\r\n\r\n.leading dot\r\nFrom the mbox\r\n..two\r\nno final LF\r\n";
    PopClient client = connect_pop2();
    EXPECT_EQ(client.command("HELO alice wonderland"), "#1 messages");
    EXPECT_EQ(client.command("READ"), length_reply(sent));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent.size()), sent);
    EXPECT_EQ(client.command("ACKS"), "=0");
    EXPECT_EQ(client.command("QUIT"), "+ Bye (1 message left)");
}

TEST_F(Pop2, NackOffersTheSameMessageAgain) {
    PopClient client = helo();
    EXPECT_EQ(client.command("READ 2"), length_reply(sent_form(2)));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent_form(2).size()), sent_form(2));
    EXPECT_EQ(client.command("NACK"), length_reply(sent_form(2)));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent_form(2).size()), sent_form(2));
    EXPECT_EQ(client.command("ACKD"), "=0");
    EXPECT_EQ(client.command("QUIT"), "+ Bye (1 message left)");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(host.read_spool(kUser), message(1));
}

TEST_F(Pop2, DroppedConnectionDeletesNothing) {
    PopClient client = helo();
    EXPECT_EQ(client.command("READ 1"), length_reply(sent_form(1)));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent_form(1).size()), sent_form(1));
    EXPECT_EQ(client.command("ACKD"), length_reply(sent_form(2)));
    client.close();
    EXPECT_TRUE(daemon().wait_for_log("how=disconnected"));
    EXPECT_EQ(host.read_spool(kUser), message(1) + message(2));
}

TEST_F(Pop2, FoldServesOnlyTheInbox) {
    PopClient client = helo();
    EXPECT_EQ(client.command("FOLD Archive"), "- No such folder, only INBOX is served");
    EXPECT_EQ(client.command("FOLD inbox"), "#2");
    EXPECT_EQ(client.command("READ"), length_reply(sent_form(1)));
    EXPECT_EQ(client.command("QUIT"), "+ Bye (2 messages left)");
}

TEST_F(Pop2, BadMessageNumbersReadAsNoMessage) {
    PopClient client = helo();
    EXPECT_EQ(client.command("READ 0"), "=0");
    EXPECT_EQ(client.command("RETR"), "- No message to send, READ one first");
    EXPECT_EQ(client.command("READ 3"), "=0");
    EXPECT_EQ(client.command("READ 4294967295"), "=0");
    EXPECT_EQ(client.command("READ 4294967296"), "- Invalid message number");
    EXPECT_EQ(client.command("READ -1"), "- Invalid message number");
    EXPECT_EQ(client.command("READ 1 2"), "- Wrong number of arguments");
    EXPECT_EQ(client.command("QUIT"), "+ Bye (2 messages left)");
}

TEST_F(Pop2, CommandsInTheWrongStateGetMinus) {
    PopClient client = connect_pop2();
    EXPECT_EQ(client.command("READ 1"), "- Not logged in, send HELO");
    EXPECT_EQ(client.command("RETR"), "- Not logged in, send HELO");
    EXPECT_EQ(client.command("ACKD"), "- Not logged in, send HELO");
    EXPECT_EQ(client.command("FOLD INBOX"), "- Not logged in, send HELO");
    EXPECT_EQ(client.command("HELO alice wonderland"), "#2 messages");
    EXPECT_EQ(client.command("HELO alice wonderland"), "- Already logged in");
    EXPECT_EQ(client.command("ACKS"), "- No message sent to acknowledge");
    EXPECT_EQ(client.command("NACK"), "- No message sent to acknowledge");
    EXPECT_EQ(client.command("READ 1"), length_reply(sent_form(1)));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent_form(1).size()), sent_form(1));
    EXPECT_EQ(client.command("READ 2"), "- Send ACKS, ACKD or NACK for the message sent");
    EXPECT_EQ(client.command("RETR"), "- Send ACKS, ACKD or NACK for the message sent");
    EXPECT_EQ(client.command("USER alice"), "- Unknown command");
    EXPECT_EQ(client.command("QUIT"), "+ Bye (2 messages left)");
}

TEST_F(Pop2, MalformedHugeAndBinaryLinesGetMinusAndTheSessionGoesOn) {
    PopClient client = connect_pop2();
    EXPECT_EQ(client.command(""), "- Invalid command line");
    EXPECT_EQ(client.command("HELO"), "- Wrong number of arguments");
    EXPECT_EQ(client.command("HELO alice"), "- Wrong number of arguments");
    EXPECT_EQ(client.command("HELO " + std::string(41, 'a') + " pw"), "- Argument too long");
    EXPECT_EQ(client.command(std::string(100000, 'A')), "- Line too long");
    EXPECT_EQ(client.command(std::string("HELO al\0ce x", 12)), "- Invalid command line");
    EXPECT_EQ(client.command("HELO \x01\xff\x80 x"), "- Invalid command line");
    EXPECT_EQ(client.command("XYZZ"), "- Unknown command");
    EXPECT_EQ(client.command("HELO alice wonderland"), "#2 messages");
    EXPECT_EQ(client.command("READ \x7f"), "- Invalid command line");
    EXPECT_EQ(client.command("QUIT"), "+ Bye (2 messages left)");
}

TEST_F(Pop2, WrongPasswordAndUnknownUserGetTheSameMinus) {
    PopClient client = connect_pop2();
    EXPECT_EQ(client.command("HELO alice wrong"), "- [AUTH] Authentication failed");
    EXPECT_EQ(client.command("HELO nobody wonderland"), "- [AUTH] Authentication failed");
    EXPECT_EQ(client.command("QUIT"), "+ Bye");
}

TEST_F(Pop2, ConnectAndLoginAreLoggedAsPop2) {
    PopClient client = helo();
    EXPECT_EQ(client.command("QUIT"), "+ Bye (2 messages left)");
    EXPECT_TRUE(daemon().wait_for_log("proto=pop2"));
    EXPECT_EQ(daemon().log_lines_with("connect: addr=127.0.0.1 proto=pop2").size(), 1u);
    EXPECT_EQ(daemon().log_lines_with("login: user=alice addr=127.0.0.1 messages=2").size(), 1u);
    EXPECT_EQ(daemon().log_lines_with("proto=pop2").size(), 2u);
}

TEST_F(Pop2, PopThreeIsUnchangedBesideIt) {
    PopClient client = login();
    EXPECT_EQ(client.command("STAT"),
              "+OK 2 " + std::to_string(sent_form(1).size() + sent_form(2).size()));
    EXPECT_EQ(client.command("QUIT"), bye_reply(2));
}

TEST_F(Pop2, PolicyDenyLooksLikeAWrongPassword) {
    use_policy("*: deny_from=127.0.0.0/8\n");
    PopClient client = connect_pop2();
    EXPECT_EQ(client.command("HELO alice wonderland"), "- [AUTH] Authentication failed");
    EXPECT_TRUE(daemon().wait_for_log("user=alice addr=127.0.0.1 reason=policy-denied"));
}

TEST_F(Pop2, LoginDelayRefusesAnEarlyHelo) {
    use_policy("*: login_delay=3600\n");
    const std::string state = host.drop_dir() + "/alice.state";
    write_file(state, "popperd-state 1\nlogin " + std::to_string(::time(nullptr) - 60) + "\n");
    host.give_to_mail_owner(state);
    PopClient client = connect_pop2();
    EXPECT_EQ(client.command("HELO alice wonderland"),
              "- [LOGIN-DELAY] Minimum time between logins has not passed, try again later");
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Pop2, ExpireZeroDeletesWhatWasRetrievedAtQuit) {
    use_policy("*: expire=0\n");
    PopClient client = helo();
    EXPECT_EQ(client.command("READ 1"), length_reply(sent_form(1)));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent_form(1).size()), sent_form(1));
    EXPECT_EQ(client.command("ACKS"), length_reply(sent_form(2)));
    EXPECT_EQ(client.command("QUIT"), "+ Bye (1 message left)");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(host.read_spool(kUser), message(2));
}

TEST_F(Pop2, MaxSessionsPerIpCountsPop2AndPop3Together) {
    host.set_config("max_sessions_per_ip", "1");
    PopClient pop3 = connect();
    PopClient pop2(daemon().pop2_port());
    // The listener's refusal, before any byte of either protocol: its "-"
    // is what a POP2 client reads as a refusal.
    EXPECT_EQ(pop2.read_line(), "-ERR [SYS/TEMP] Too many connections from your address");
    EXPECT_TRUE(pop2.wait_closed());
    EXPECT_EQ(pop3.command("QUIT"), "+OK Bye");
}

TEST_F(Pop2, IdleClientBeforeHeloIsDisconnected) {
    host.set_config("auth_timeout", "1");
    PopClient client = connect_pop2();
    EXPECT_EQ(client.read_line(), "- Disconnected for inactivity");
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Pop2, InetdModeWithDash2SpeaksPop2) {
    InetdSession session(host, {"-2"});
    PopClient& client = session.client();
    EXPECT_EQ(client.read_line(), "+ POP2 popperd ready");
    EXPECT_EQ(client.command("HELO alice wonderland"), "#2 messages");
    EXPECT_EQ(client.command("READ 2"), length_reply(sent_form(2)));
    client.send_raw("RETR\r\n");
    EXPECT_EQ(client.read_octets(sent_form(2).size()), sent_form(2));
    EXPECT_EQ(client.command("ACKD"), "=0");
    EXPECT_EQ(client.command("QUIT"), "+ Bye (1 message left)");
    EXPECT_EQ(session.wait_exit(), 0);
    EXPECT_EQ(host.read_spool(kUser), message(1));
}

} // namespace
} // namespace popper::test
