// Invariant 4 (DESIGN.md), bytes are exact: RETR and TOP send the stored
// message with the From_ line removed, mboxrd ">From " unescaped, LF made
// CRLF and dot-stuffed; LIST and STAT count the CRLF octets before stuffing.
// Each special message sits between ordinary ones, so its boundaries in the
// mbox are checked too.
#include "support/popperd_test.h"

#include <string>

namespace popper::test {
namespace {

const std::string kBefore = "Subject: before\n\nThe message before.\n";
const std::string kAfter = "Subject: after\n\nThe message after.\n";

class Retrieve : public PopperdTest {
protected:
    // Spool: kBefore, `content`, kAfter (or nothing after when `last`).
    void store_between(const std::string& content, bool last = false) {
        std::string spool =
            mbox_entry("before@example.org", kBefore) + mbox_entry("sender@example.org", content);
        if (!last)
            spool += mbox_entry("after@example.org", kAfter);
        host.write_spool(kUser, spool);
    }

    // LIST 2 gives the size of `expected` (the unstuffed wire octets), and
    // RETR 2 sends exactly `expected_wire`; so do the neighbours.
    void expect_message_2(PopClient& client, const std::string& expected,
                          const std::string& expected_wire) {
        const std::string size = std::to_string(expected.size());
        EXPECT_EQ(client.command("LIST 2"), "+OK 2 " + size);
        EXPECT_EQ(client.command("RETR 2"), "+OK " + size + " octets");
        EXPECT_EQ(client.read_multiline_wire(), expected_wire);
        EXPECT_EQ(client.command("RETR 1"),
                  "+OK " + std::to_string(to_crlf(kBefore).size()) + " octets");
        EXPECT_EQ(client.read_multiline(), to_crlf(kBefore));
    }
};

TEST_F(Retrieve, DotStuffsEveryLineThatStartsWithADot) {
    store_between("Subject: dots\n\n.leading dot\n..two dots\nmiddle . dot\n");
    PopClient client = login();
    expect_message_2(client, "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\nmiddle . dot\r\n",
                     "Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\nmiddle . dot\r\n.\r\n");
}

TEST_F(Retrieve, StuffsALineThatIsASingleDot) {
    store_between("Subject: dot\n\nbefore\n.\nafter\n");
    PopClient client = login();
    expect_message_2(client, "Subject: dot\r\n\r\nbefore\r\n.\r\nafter\r\n",
                     "Subject: dot\r\n\r\nbefore\r\n..\r\nafter\r\n.\r\n");
    EXPECT_EQ(client.command("RETR 3"),
              "+OK " + std::to_string(to_crlf(kAfter).size()) + " octets");
    EXPECT_EQ(client.read_multiline(), to_crlf(kAfter));
}

TEST_F(Retrieve, UnescapesMboxrdFromLinesByOneAngleBracket) {
    store_between("Subject: escaped\n\nHi\n>From the start\n>>From deeper\n>not a From line\n");
    PopClient client = login();
    const std::string expected =
        "Subject: escaped\r\n\r\nHi\r\nFrom the start\r\n>From deeper\r\n>not a From line\r\n";
    expect_message_2(client, expected, expected + ".\r\n");
}

TEST_F(Retrieve, SendsAFromLineThatFollowsNoEmptyLineUnchanged) {
    // mboxo: "From " not after an empty line is message text, not a separator.
    store_between("Subject: mboxo\n\nHi\nFrom here on, all is text\nBye\n");
    PopClient client = login();
    const std::string expected = "Subject: mboxo\r\n\r\nHi\r\nFrom here on, all is text\r\nBye\r\n";
    expect_message_2(client, expected, expected + ".\r\n");
}

TEST_F(Retrieve, StuffsADotThatAnUnescapedFromLineDoesNotHide) {
    store_between("Subject: mixed\n\n>From x\n.From y\n");
    PopClient client = login();
    expect_message_2(client, "Subject: mixed\r\n\r\nFrom x\r\n.From y\r\n",
                     "Subject: mixed\r\n\r\nFrom x\r\n..From y\r\n.\r\n");
}

TEST_F(Retrieve, AddsTheMissingFinalCrlfAndCountsIt) {
    store_between("Subject: no newline\n\nlast line without newline", true);
    PopClient client = login();
    const std::string expected = "Subject: no newline\r\n\r\nlast line without newline\r\n";
    expect_message_2(client, expected, expected + ".\r\n");
}

TEST_F(Retrieve, SendsAnEmptyBodyAsHeadersAndTheEmptyLine) {
    store_between("Subject: empty body\n\n");
    PopClient client = login();
    expect_message_2(client, "Subject: empty body\r\n\r\n", "Subject: empty body\r\n\r\n.\r\n");
}

TEST_F(Retrieve, SendsAnEmptyMessageAsTheTerminatorAlone) {
    store_between("");
    PopClient client = login();
    expect_message_2(client, "", ".\r\n");
    EXPECT_EQ(client.command("STAT"),
              "+OK 3 " + std::to_string(to_crlf(kBefore).size() + to_crlf(kAfter).size()));
}

TEST_F(Retrieve, SendsCrlfStoredLinesWithoutAddingACarriageReturn) {
    const std::string content = "Subject: crlf\r\n\r\nline one\r\nline two\r\n";
    store_between(content);
    PopClient client = login();
    expect_message_2(client, content, content + ".\r\n");
}

TEST_F(Retrieve, SendsALoneCarriageReturnInsideALineAsIs) {
    store_between("Subject: cr\n\nbefore\rafter\n");
    PopClient client = login();
    const std::string expected = "Subject: cr\r\n\r\nbefore\rafter\r\n";
    expect_message_2(client, expected, expected + ".\r\n");
}

TEST_F(Retrieve, SendsATenMegabyteMessageExactly) {
    const std::string body =
        filler_lines(70000, 75) + ".dotted line\n" + filler_lines(70000, 75) + ">From escaped\n";
    const std::string content = "Subject: big\n\n" + body;
    ASSERT_GT(content.size(), 10u * 1000 * 1000);
    store_between(content);
    PopClient client = login();
    std::string expected = to_crlf(content);
    expected.replace(expected.rfind(">From escaped"), 1, "");
    const std::string size = std::to_string(expected.size());
    EXPECT_EQ(client.command("LIST 2"), "+OK 2 " + size);
    EXPECT_EQ(client.command("RETR 2"), "+OK " + size + " octets");
    EXPECT_TRUE(same_bytes(expected, client.read_multiline()));
    EXPECT_EQ(client.command("RETR 3"),
              "+OK " + std::to_string(to_crlf(kAfter).size()) + " octets");
    EXPECT_EQ(client.read_multiline(), to_crlf(kAfter));
}

TEST_F(Retrieve, SendsAHundredKilobyteLineExactly) {
    const std::string content = "Subject: long line\n\n" + std::string(100 * 1024, 'x') + "\nend\n";
    store_between(content);
    PopClient client = login();
    const std::string expected = to_crlf(content);
    const std::string size = std::to_string(expected.size());
    EXPECT_EQ(client.command("LIST 2"), "+OK 2 " + size);
    EXPECT_EQ(client.command("RETR 2"), "+OK " + size + " octets");
    EXPECT_TRUE(same_bytes(expected, client.read_multiline()));
}

// A session reads a message in pieces of 128 KiB (kMessageReadOctets in
// transaction.cpp). These put each rule across the edge of a piece: a CRLF,
// a dot-stuffed line start, an escaped From_ line and one that is not.
constexpr size_t kPieceOctets = 128 * 1024;

// Filler lines of exactly `octets` octets in all.
std::string filler_of(size_t octets) {
    std::string out = filler_lines(octets / 64, 63);
    if (size_t rest = octets - out.size(); rest > 0)
        out += std::string(rest - 1, 'y') + "\n";
    return out;
}

TEST_F(Retrieve, KeepsEveryRuleAcrossTheEdgesOfItsReads) {
    std::string content = "Subject: edges\n\n";
    content += filler_of(kPieceOctets - 4 - content.size()) + "abc\r\n";        // CR | LF
    content += filler_of(2 * kPieceOctets - content.size()) + ".dot\n";         // | .dot
    content += filler_of(3 * kPieceOctets - 3 - content.size()) + ">>From x\n"; // >>F | rom
    content += filler_of(4 * kPieceOctets - 2 - content.size()) + ">Frog\n";    // >F | rog
    content += "end\n";
    store_between(content);
    PopClient client = login();
    std::string expected = to_crlf(content);
    expected.replace(expected.find(">>From x"), 1, "");
    std::string wire = expected;
    wire.insert(wire.find("\r\n.dot\r\n") + 2, ".");
    expect_message_2(client, expected, wire + ".\r\n");
}

TEST_F(Retrieve, TopOfATenMegabyteMessageSendsOnlyTheLinesAskedFor) {
    const std::string body = filler_lines(150000, 75);
    store_between("Subject: big\n\n" + body);
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 2 2"), "+OK Top of message follows");
    EXPECT_EQ(client.read_multiline_wire(),
              "Subject: big\r\n\r\n" + to_crlf(body.substr(0, 2 * 76)) + ".\r\n");
    EXPECT_EQ(client.command("RETR 3"),
              "+OK " + std::to_string(to_crlf(kAfter).size()) + " octets");
    EXPECT_EQ(client.read_multiline(), to_crlf(kAfter));
}

TEST_F(Retrieve, TopFindsTheEmptyLineAfterAHeaderLongerThanARead) {
    const std::string header = "Subject: long\nX-Long: " + std::string(200 * 1024, 'h') + "\n\n";
    store_between(header + "b1\nb2\n");
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 2 1"), "+OK Top of message follows");
    EXPECT_TRUE(same_bytes(to_crlf(header + "b1\n") + ".\r\n", client.read_multiline_wire()));
}

TEST_F(Retrieve, TopFindsACrlfEmptyLineAcrossTheEdgeOfARead) {
    std::string header = "Subject: s\r\nX-Pad: ";
    header += std::string(kPieceOctets - 1 - header.size() - 2, 'p') + "\r\n\r\n"; // CR | LF
    store_between(header + "b1\r\nb2\r\n");
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 2 1"), "+OK Top of message follows");
    EXPECT_TRUE(same_bytes(header + "b1\r\n.\r\n", client.read_multiline_wire()));
}

TEST_F(Retrieve, StatSumsTheSizesThatListReports) {
    store_between("Subject: dots\n\n.a\n>From b\nc", true);
    PopClient client = login();
    const size_t second = std::string("Subject: dots\r\n\r\n.a\r\nFrom b\r\nc\r\n").size();
    EXPECT_EQ(client.command("STAT"), "+OK 2 " + std::to_string(to_crlf(kBefore).size() + second));
    EXPECT_EQ(client.command("LIST"), "+OK Scan list follows");
    EXPECT_EQ(client.read_multiline(), "1 " + std::to_string(to_crlf(kBefore).size()) + "\r\n2 " +
                                           std::to_string(second) + "\r\n");
}

TEST_F(Retrieve, TopStuffsAndUnescapesTheLinesItSends) {
    store_between("Subject: top\n\n.one\n>From two\nthree\n");
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 2 2"), "+OK Top of message follows");
    EXPECT_EQ(client.read_multiline_wire(), "Subject: top\r\n\r\n..one\r\nFrom two\r\n.\r\n");
}

TEST_F(Retrieve, TopOfAMessageWithoutFinalNewlineEndsWithCrlf) {
    store_between("Subject: top\n\nonly line", true);
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 2 5"), "+OK Top of message follows");
    EXPECT_EQ(client.read_multiline_wire(), "Subject: top\r\n\r\nonly line\r\n.\r\n");
}

TEST_F(Retrieve, TopZeroOfAMessageWithoutBodySendsTheHeaders) {
    store_between("Subject: headers only\nX-Other: yes\n", true);
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 2 0"), "+OK Top of message follows");
    EXPECT_EQ(client.read_multiline(), "Subject: headers only\r\nX-Other: yes\r\n");
}

} // namespace
} // namespace popper::test
