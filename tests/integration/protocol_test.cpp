// RFC 1939 / RFC 2449 over a real TCP connection to the real daemon: the
// AUTHORIZATION and TRANSACTION states, every command and its error cases,
// pipelining, line limits and timeouts. Replies are compared byte for byte.
#include "support/popperd_test.h"

#include <string>
#include <utility>
#include <vector>

namespace popper::test {
namespace {

const std::string kFirstContent = "From: bob@example.org\n"
                                  "Subject: first\n"
                                  "\n"
                                  "Hello Alice.\n"
                                  "Second line.\n";
const std::string kSecondContent = "From: carol@example.org\n"
                                   "Subject: second\n"
                                   "\n"
                                   "A longer second message,\n"
                                   "with three lines\n"
                                   "of body.\n";

std::string first_size() {
    return std::to_string(to_crlf(kFirstContent).size());
}
std::string second_size() {
    return std::to_string(to_crlf(kSecondContent).size());
}
std::string total_size() {
    return std::to_string(to_crlf(kFirstContent).size() + to_crlf(kSecondContent).size());
}

class Protocol : public PopperdTest {
protected:
    void SetUp() override {
        host.write_spool(kUser, mbox_entry("bob@example.org", kFirstContent) +
                                    mbox_entry("carol@example.org", kSecondContent));
    }
};

TEST_F(Protocol, GreetingIsOkReadyOnConnect) {
    PopClient client = daemon().connect();
    EXPECT_EQ(client.read_line(), "+OK popperd ready");
}

TEST_F(Protocol, CapaBeforeLoginListsUserAndEveryCapability) {
    PopClient client = connect();
    EXPECT_EQ(client.command("CAPA"), "+OK Capability list follows");
    EXPECT_EQ(client.read_multiline(), "TOP\r\n"
                                       "USER\r\n"
                                       "SASL PLAIN LOGIN\r\n"
                                       "UIDL\r\n"
                                       "RESP-CODES\r\n"
                                       "AUTH-RESP-CODE\r\n"
                                       "PIPELINING\r\n"
                                       "IMPLEMENTATION popperd\r\n");
}

TEST_F(Protocol, CapaAfterLoginNoLongerListsUser) {
    PopClient client = login();
    EXPECT_EQ(client.command("CAPA"), "+OK Capability list follows");
    EXPECT_EQ(client.read_multiline(), "TOP\r\n"
                                       "UIDL\r\n"
                                       "RESP-CODES\r\n"
                                       "AUTH-RESP-CODE\r\n"
                                       "PIPELINING\r\n"
                                       "IMPLEMENTATION popperd\r\n");
}

TEST_F(Protocol, UserAndGoodPasswordLogInWithMaildropSummary) {
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"),
              "+OK Logged in, 2 messages (" + total_size() + " octets)");
    EXPECT_TRUE(daemon().wait_for_log(
        "info: login: user=alice addr=127.0.0.1 messages=2 octets=" + total_size() + "\n"));
}

TEST_F(Protocol, BadPasswordIsRefusedWithAuthCodeAndLogged) {
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS rabbit-hole"), "-ERR [AUTH] Authentication failed");
    EXPECT_TRUE(daemon().wait_for_log(
        "notice: authentication failure: user=alice addr=127.0.0.1 reason=bad-password\n"));
}

TEST_F(Protocol, UnknownUserGetsTheSameRepliesAsBadPassword) {
    PopClient client = connect();
    EXPECT_EQ(client.command("USER mallory"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"), "-ERR [AUTH] Authentication failed");
    EXPECT_TRUE(daemon().wait_for_log("authentication failure: user=mallory addr=127.0.0.1"));
}

TEST_F(Protocol, UserNameWithPathCharactersIsRefusedLikeAnUnknownUser) {
    PopClient client = connect();
    EXPECT_EQ(client.command("USER ../spool/alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"), "-ERR [AUTH] Authentication failed");
    EXPECT_EQ(client.command("STAT"), "-ERR Not logged in");
}

TEST_F(Protocol, DisabledUserIsRefusedLikeBadPasswordEvenWithRightPassword) {
    host.add_disabled_user("carol", "carols-password");
    host.write_spool("carol", mbox_entry("bob@example.org", kFirstContent));
    PopClient client = connect();
    EXPECT_EQ(client.command("USER carol"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS carols-password"), "-ERR [AUTH] Authentication failed");
    EXPECT_EQ(client.command("STAT"), "-ERR Not logged in");
    EXPECT_EQ(host.read_spool("carol"), mbox_entry("bob@example.org", kFirstContent));
}

TEST_F(Protocol, UsersFileIsReadAgainAtEachLogin) {
    PopClient before = connect();
    EXPECT_FALSE(before.login("dave", "daves-password"));
    host.add_user("dave", "daves-password");
    PopClient after = connect();
    EXPECT_TRUE(after.login("dave", "daves-password"));
    EXPECT_EQ(after.command("STAT"), "+OK 0 0");
}

TEST_F(Protocol, PasswordMayContainSpaces) {
    host.add_user("erin", "correct horse battery");
    PopClient client = connect();
    EXPECT_FALSE(client.login("erin", "correct"));
    EXPECT_TRUE(client.login("erin", "correct horse battery"));
}

TEST_F(Protocol, FailedLoginStaysInAuthorizationAndMayBeRetried) {
    PopClient client = connect();
    EXPECT_FALSE(client.login("alice", "wrong"));
    EXPECT_EQ(client.command("STAT"), "-ERR Not logged in");
    EXPECT_TRUE(client.login("alice", "wonderland"));
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + total_size());
}

TEST_F(Protocol, MaxAuthFailuresDisconnects) {
    host.set_config("max_auth_failures", "2");
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wrong-1"), "-ERR [AUTH] Authentication failed");
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wrong-2"),
              "-ERR [AUTH] Authentication failed, closing connection");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_TRUE(daemon().wait_for_log("too many authentication failures: addr=127.0.0.1"));
}

TEST_F(Protocol, PassWithoutUserIsRefused) {
    PopClient client = connect();
    EXPECT_EQ(client.command("PASS wonderland"), "-ERR Send USER first");
    EXPECT_TRUE(client.login("alice", "wonderland"));
}

TEST_F(Protocol, TransactionCommandsBeforeLoginAreRefused) {
    PopClient client = connect();
    for (const char* line :
         {"STAT", "LIST", "LIST 1", "UIDL", "RETR 1", "TOP 1 0", "DELE 1", "NOOP", "RSET"})
        EXPECT_EQ(client.command(line), "-ERR Not logged in") << line;
    EXPECT_TRUE(client.login("alice", "wonderland"));
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + total_size());
}

TEST_F(Protocol, AuthorizationCommandsAfterLoginAreRefused) {
    PopClient client = login();
    EXPECT_EQ(client.command("USER alice"), "-ERR Already logged in");
    EXPECT_EQ(client.command("PASS wonderland"), "-ERR Already logged in");
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + total_size());
}

TEST_F(Protocol, UnknownCommandIsRefusedInBothStates) {
    PopClient client = connect();
    EXPECT_EQ(client.command("HELO"), "-ERR Unknown command");
    EXPECT_EQ(client.command("APPEND 1"), "-ERR Invalid command line");
    EXPECT_TRUE(client.login("alice", "wonderland"));
    EXPECT_EQ(client.command("XTND"), "-ERR Unknown command");
    EXPECT_EQ(client.command("NOOP"), "+OK");
}

TEST_F(Protocol, CommandsAreCaseInsensitive) {
    PopClient client = connect();
    EXPECT_EQ(client.command("user alice"), "+OK Send your password");
    EXPECT_EQ(client.command("pAsS wonderland"),
              "+OK Logged in, 2 messages (" + total_size() + " octets)");
    EXPECT_EQ(client.command("stat"), "+OK 2 " + total_size());
    EXPECT_EQ(client.command("List 2"), "+OK 2 " + second_size());
    EXPECT_EQ(client.command("rEtR 1"), "+OK " + first_size() + " octets");
    EXPECT_EQ(client.read_multiline(), to_crlf(kFirstContent));
    EXPECT_EQ(client.command("quit"), bye_reply(2));
}

TEST_F(Protocol, BareLfEndsACommandLineToo) {
    PopClient client = connect();
    client.send_raw("USER alice\nPASS wonderland\nSTAT\n");
    EXPECT_EQ(client.read_line(), "+OK Send your password");
    EXPECT_EQ(client.read_line(), "+OK Logged in, 2 messages (" + total_size() + " octets)");
    EXPECT_EQ(client.read_line(), "+OK 2 " + total_size());
}

TEST_F(Protocol, StatCountsMessagesAndOctets) {
    PopClient client = login();
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + total_size());
}

TEST_F(Protocol, ListShowsEveryMessageWithItsSize) {
    PopClient client = login();
    EXPECT_EQ(client.command("LIST"), "+OK Scan list follows");
    EXPECT_EQ(client.read_multiline(), "1 " + first_size() + "\r\n2 " + second_size() + "\r\n");
}

TEST_F(Protocol, ListWithNumberShowsThatMessage) {
    PopClient client = login();
    EXPECT_EQ(client.command("LIST 1"), "+OK 1 " + first_size());
    EXPECT_EQ(client.command("LIST 2"), "+OK 2 " + second_size());
}

TEST_F(Protocol, UidlListsDistinctPrintableIdsMatchingUidlWithNumber) {
    PopClient client = login();
    EXPECT_EQ(client.command("UIDL"), "+OK Unique-ID listing follows");
    std::string listing = client.read_multiline();
    size_t lf = listing.find("\r\n");
    ASSERT_NE(lf, std::string::npos) << listing;
    std::string first = listing.substr(0, lf);
    std::string second = listing.substr(lf + 2);
    ASSERT_TRUE(first.starts_with("1 ")) << listing;
    ASSERT_TRUE(second.starts_with("2 ") && second.ends_with("\r\n")) << listing;
    std::string uid1 = first.substr(2);
    std::string uid2 = second.substr(2, second.size() - 4);
    EXPECT_NE(uid1, uid2);
    for (const std::string& uid : {uid1, uid2}) {
        // RFC 1939 §7: 1 to 70 characters in 0x21..0x7E.
        EXPECT_GE(uid.size(), 1u);
        EXPECT_LE(uid.size(), 70u);
        for (char c : uid)
            EXPECT_TRUE(c >= 0x21 && c <= 0x7e) << uid;
    }
    EXPECT_EQ(client.command("UIDL 1"), "+OK 1 " + uid1);
    EXPECT_EQ(client.command("UIDL 2"), "+OK 2 " + uid2);
}

TEST_F(Protocol, RetrSendsTheMessageAfterItsOctetCount) {
    PopClient client = login();
    EXPECT_EQ(client.command("RETR 2"), "+OK " + second_size() + " octets");
    EXPECT_EQ(client.read_multiline_wire(), to_crlf(kSecondContent) + ".\r\n");
}

TEST_F(Protocol, TopZeroSendsTheHeadersAndTheEmptyLine) {
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 1 0"), "+OK Top of message follows");
    EXPECT_EQ(client.read_multiline(), "From: bob@example.org\r\nSubject: first\r\n\r\n");
}

TEST_F(Protocol, TopSendsTheHeadersAndTheFirstBodyLines) {
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 2 2"), "+OK Top of message follows");
    EXPECT_EQ(client.read_multiline(), "From: carol@example.org\r\nSubject: second\r\n\r\n"
                                       "A longer second message,\r\nwith three lines\r\n");
}

TEST_F(Protocol, TopBeyondTheBodySendsTheWholeMessage) {
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 2 1000"), "+OK Top of message follows");
    EXPECT_EQ(client.read_multiline(), to_crlf(kSecondContent));
}

TEST_F(Protocol, DeleHidesTheMessageFromStatAndList) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("STAT"), "+OK 1 " + second_size());
    EXPECT_EQ(client.command("LIST"), "+OK Scan list follows");
    EXPECT_EQ(client.read_multiline(), "2 " + second_size() + "\r\n");
    EXPECT_EQ(client.command("UIDL"), "+OK Unique-ID listing follows");
    EXPECT_TRUE(client.read_multiline().starts_with("2 "));
}

TEST_F(Protocol, DeletedMessageIsRefusedByEveryCommand) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    for (const char* line : {"RETR 1", "DELE 1", "LIST 1", "UIDL 1", "TOP 1 0"})
        EXPECT_EQ(client.command(line), "-ERR Message 1 already deleted") << line;
}

TEST_F(Protocol, NoopAnswersOk) {
    PopClient client = login();
    EXPECT_EQ(client.command("NOOP"), "+OK");
}

TEST_F(Protocol, RsetUndeletesAndReportsTheMaildrop) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 2"), "+OK Message 2 deleted");
    EXPECT_EQ(client.command("RSET"), "+OK Maildrop has 2 " + total_size());
    EXPECT_EQ(client.command("LIST 2"), "+OK 2 " + second_size());
}

TEST_F(Protocol, QuitInAuthorizationSaysByeAndCloses) {
    PopClient client = connect();
    EXPECT_EQ(client.command("QUIT"), "+OK Bye");
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Protocol, QuitInTransactionReportsMessagesLeftAndCloses) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(1));
    EXPECT_TRUE(client.wait_closed());
    EXPECT_TRUE(daemon().wait_for_log("logout: user=alice addr=127.0.0.1 how=quit retrieved=0/0 "
                                      "deleted=1 seconds="));
}

TEST_F(Protocol, LogoutLineSummarisesWhatTheSessionDid) {
    PopClient client = login();
    EXPECT_EQ(client.command("RETR 2"), "+OK " + second_size() + " octets");
    client.read_multiline();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(1));
    EXPECT_TRUE(daemon().wait_for_log("info: logout: user=alice addr=127.0.0.1 how=quit "
                                      "retrieved=1/" +
                                      second_size() + " deleted=1 seconds="));
    EXPECT_TRUE(daemon().wait_for_log(" peak_rss_kb="));
}

TEST_F(Protocol, MalformedMessageArgumentsAreRefusedAndChangeNothing) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"RETR 0", "-ERR No such message"},
        {"RETR abc", "-ERR Invalid message number"},
        {"RETR 1 2", "-ERR Usage: RETR message"},
        {"RETR", "-ERR Usage: RETR message"},
        {"RETR 3", "-ERR No such message"},
        {"RETR +1", "-ERR Invalid message number"},
        {"RETR 4294967296", "-ERR Invalid message number"},
        {"LIST 0", "-ERR No such message"},
        {"LIST -1", "-ERR Invalid message number"},
        {"LIST 3", "-ERR No such message"},
        {"LIST 1 2", "-ERR Usage: LIST [message]"},
        {"UIDL 3", "-ERR No such message"},
        {"TOP 1", "-ERR Usage: TOP message lines"},
        {"TOP 1 x", "-ERR Invalid number of lines"},
        {"TOP 1 -1", "-ERR Invalid number of lines"},
        {"TOP 3 0", "-ERR No such message"},
        {"DELE 0", "-ERR No such message"},
        {"DELE 3", "-ERR No such message"},
        {"DELE x", "-ERR Invalid message number"},
        {"STAT 1", "-ERR STAT takes no argument"},
        {"NOOP 1", "-ERR NOOP takes no argument"},
        {"RSET 1", "-ERR RSET takes no argument"},
        {"QUIT now", "-ERR QUIT takes no argument"},
    };
    PopClient client = login();
    for (const auto& [line, reply] : cases)
        EXPECT_EQ(client.command(line), reply) << line;
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + total_size());
}

TEST_F(Protocol, ArgumentLongerThan40OctetsIsRefused) {
    PopClient client = connect();
    // RFC 2449 §4: arguments are at most 40 octets.
    EXPECT_EQ(client.command("USER " + std::string(41, 'a')), "-ERR Argument too long");
    EXPECT_TRUE(client.login("alice", "wonderland"));
}

TEST_F(Protocol, LastReportsTheHighestMessageRetrievedWhenEnabled) {
    host.set_config("enable_last", "yes");
    PopClient client = login();
    EXPECT_EQ(client.command("LAST"), "+OK 0");
    EXPECT_EQ(client.command("RETR 2"), "+OK " + second_size() + " octets");
    client.read_multiline();
    EXPECT_EQ(client.command("LAST"), "+OK 2");
    EXPECT_EQ(client.command("RETR 1"), "+OK " + first_size() + " octets");
    client.read_multiline();
    EXPECT_EQ(client.command("LAST"), "+OK 2");
    EXPECT_EQ(client.command("RSET"), "+OK Maildrop has 2 " + total_size());
    EXPECT_EQ(client.command("LAST"), "+OK 0");
}

TEST_F(Protocol, LastIsAnUnknownCommandWhenDisabled) {
    PopClient client = login();
    EXPECT_EQ(client.command("LAST"), "-ERR Unknown command");
}

TEST_F(Protocol, ThousandPipelinedCommandsInOneWriteAreAnsweredInOrder) {
    PopClient client = login();
    std::string batch;
    for (int i = 0; i < 1000; ++i)
        batch += i % 2 == 0 ? "LIST 1\r\n" : "LIST 2\r\n";
    client.send_raw(batch);
    for (int i = 0; i < 1000; ++i) {
        std::string expected = i % 2 == 0 ? "+OK 1 " + first_size() : "+OK 2 " + second_size();
        ASSERT_EQ(client.read_line(), expected) << "reply " << i;
    }
    EXPECT_EQ(client.command("NOOP"), "+OK");
}

TEST_F(Protocol, PipelinedMultiLineRepliesStayInOrder) {
    PopClient client = connect();
    client.send_raw("USER alice\r\nPASS wonderland\r\nRETR 1\r\nLIST\r\nRETR 2\r\nQUIT\r\n");
    EXPECT_EQ(client.read_line(), "+OK Send your password");
    EXPECT_EQ(client.read_line(), "+OK Logged in, 2 messages (" + total_size() + " octets)");
    EXPECT_EQ(client.read_line(), "+OK " + first_size() + " octets");
    EXPECT_EQ(client.read_multiline(), to_crlf(kFirstContent));
    EXPECT_EQ(client.read_line(), "+OK Scan list follows");
    EXPECT_EQ(client.read_multiline(), "1 " + first_size() + "\r\n2 " + second_size() + "\r\n");
    EXPECT_EQ(client.read_line(), "+OK " + second_size() + " octets");
    EXPECT_EQ(client.read_multiline(), to_crlf(kSecondContent));
    EXPECT_EQ(client.read_line(), bye_reply(2));
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Protocol, NulBytesInCommandLinesAreRefusedAndTheSessionContinues) {
    PopClient client = connect();
    client.send_raw(std::string("US\0ER alice\r\n", 13));
    EXPECT_EQ(client.read_line(), "-ERR Invalid command line");
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    client.send_raw(std::string("PASS wonder\0land\r\n", 18));
    EXPECT_EQ(client.read_line(), "-ERR Invalid command line");
    EXPECT_TRUE(client.login("alice", "wonderland"));
    client.send_raw(std::string("RETR 1\0\r\n", 9));
    EXPECT_EQ(client.read_line(), "-ERR Invalid command line");
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + total_size());
}

TEST_F(Protocol, CommandLineOf255OctetsIsAcceptedAnd256IsTooLong) {
    PopClient client = connect();
    // RFC 2449 §4: 255 octets including the CRLF. "PASS " + 248 + CRLF = 255.
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS " + std::string(248, 'p')), "-ERR [AUTH] Authentication failed");
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS " + std::string(249, 'p')), "-ERR Line too long");
    EXPECT_TRUE(client.login("alice", "wonderland"));
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + total_size());
}

TEST_F(Protocol, HundredKilobyteLineGetsOneErrorAndTheSessionContinues) {
    PopClient client = login();
    client.send_raw(std::string(100 * 1024, 'A') + "\r\nNOOP\r\n");
    EXPECT_EQ(client.read_line(), "-ERR Line too long");
    EXPECT_EQ(client.read_line(), "+OK");
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + total_size());
}

TEST_F(Protocol, AuthTimeoutClosesAConnectionThatDoesNotLogIn) {
    host.set_config("auth_timeout", "1s");
    PopClient client = connect();
    EXPECT_EQ(client.read_line(), "-ERR Disconnected for inactivity");
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Protocol, IdleTimeoutAfterLoginClosesAndKeepsEveryMessage) {
    const std::string original = host.read_spool(kUser);
    host.set_config("idle_timeout", "1s");
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.read_line(), "-ERR Disconnected for inactivity");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_TRUE(wait_until([&] { return !path_exists(host.drop_path(kUser)); }));
    EXPECT_EQ(host.read_spool(kUser), original);
}

} // namespace
} // namespace popper::test

namespace popper::test {
namespace {

TEST_F(Protocol, ClientThatStopsReadingIsDisconnectedByTheIdleTimeout) {
    // Larger than every socket buffer between us, so the daemon's writes block.
    const std::string spool =
        mbox_message("big@example.org", "Subject: big\n", filler_lines(160000, 75)) +
        host.read_spool(kUser);
    host.write_spool(kUser, spool);
    host.set_config("idle_timeout", "1s");
    PopClient client = login();
    client.send_raw("RETR 1\r\n");
    EXPECT_TRUE(daemon().wait_for_log("how=")) << daemon().log_text();
    EXPECT_TRUE(wait_until([&] { return !path_exists(host.drop_path(kUser)); }));
    EXPECT_TRUE(same_bytes(spool, host.read_spool(kUser)));
}

} // namespace
} // namespace popper::test
