// The old servers' UIDLs (uidl_format, src/mbox/old_server_uidl.h): each
// expectation is worked out here by hand from the server's rule, as the
// server's own code would compute it; tests/uidl/ compares with the real
// programs.
#include "popper/mbox_index.h"
#include "popper/md5.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace popper {
namespace {

std::vector<std::string> uidls(std::string_view mbox, UidlFormat format, UidBase remembered = {},
                               size_t buffer_octets = kIndexBufferOctets) {
    UidlOptions options;
    options.format = format;
    options.remembered = remembered;
    auto index = index_mbox_bytes(mbox, "/test/mbox", options, buffer_octets);
    EXPECT_TRUE(index.has_value()) << index.error().message();
    std::vector<std::string> out;
    if (index)
        for (size_t i = 0; i < index->messages.size(); ++i)
            out.push_back(index->uidl(i));
    return out;
}

// popperd's own UIDL of message `i` (format popperd; no X-UIDL in these).
std::string own(std::string_view mbox, size_t i) {
    return uidls(mbox, UidlFormat::popperd).at(i);
}

// popa3d's pop_trans.c: digest bytes 3 2 1 0 7 6 5 4 in hex.
std::string popa3d(std::string_view hashed) {
    Md5 md5;
    md5.update(hashed);
    auto d = md5.finish();
    const uint8_t half[8] = {d[3], d[2], d[1], d[0], d[7], d[6], d[5], d[4]};
    return to_hex(half, sizeof half);
}

// UW's "%08lx%08lx" (validity, UID) and Dovecot's %08Xu%08Xv (UID, validity).
std::string hex_pair(unsigned long long a, unsigned long long b) {
    char text[40];
    std::snprintf(text, sizeof text, "%08llx%08llx", a, b);
    return text;
}

const std::string kFrom = "From sender@example.org Mon Nov 30 06:00:00 2026\n";

// --- popa3d -----------------------------------------------------------------

TEST(Popa3dUidl, HashesFirstReceivedWithItsContinuationAndEveryDeliveredTo) {
    std::string mbox = kFrom + "Delivered-To: a@x\n"
                               "Received: from relay\n\tby mx; Mon\n"
                               "Received: from outside\n"
                               "Delivered-To: b@x\n"
                               "Subject: s\n\nbody\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::popa3d),
              std::vector<std::string>{popa3d("Delivered-To: a@x\nReceived: from relay\n"
                                              "\tby mx; Mon\nDelivered-To: b@x\n")});
}

TEST(Popa3dUidl, DateAndMessageIdCountOnlyBeforeTheFirstReceived) {
    std::string before = kFrom + "Date: d\nMessage-ID: <m>\nReceived: r\n\nb\n";
    std::string after = kFrom + "Received: r\nDate: d\nMessage-ID: <m>\n\nb\n";
    EXPECT_EQ(uidls(before, UidlFormat::popa3d)[0],
              popa3d("Date: d\nMessage-ID: <m>\nReceived: r\n"));
    EXPECT_EQ(uidls(after, UidlFormat::popa3d)[0], popa3d("Received: r\n"));
}

TEST(Popa3dUidl, NamesMatchInAnyCaseButXDeliveryIdNeedsACapitalX) {
    std::string mbox = kFrom + "message-id: <1>\nMESSAGE-Id: <2>\nX-DELIVERY-ID: 7\n"
                               "x-delivery-id: 8\nDATE: d\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::popa3d)[0],
              popa3d("message-id: <1>\nMESSAGE-Id: <2>\nX-DELIVERY-ID: 7\nDATE: d\n"));
}

TEST(Popa3dUidl, CountsRawLinesCrlfAndLongOnesWhole) {
    std::string longer(5000, 'x');
    std::string mbox = kFrom + "Date: " + longer + "\r\nSubject: s\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::popa3d, {}, 64)[0], popa3d("Date: " + longer + "\r\n"));
}

TEST(Popa3dUidl, ACountedLineLongerThanTheIndexerKeepsLeavesTheMessageToPopperd) {
    // Lines longer than the read buffer keep only their first 64 KiB.
    std::string mbox = kFrom + "Received: " + std::string(70000, 'r') + "\n\nb\n\n" + kFrom +
                       "Subject: " + std::string(70000, 's') + "\nDate: d\n\nb\n";
    auto got = uidls(mbox, UidlFormat::popa3d, {}, 1024);
    EXPECT_EQ(got, (std::vector<std::string>{own(mbox, 0), popa3d("Date: d\n")}));
}

TEST(Popa3dUidl, MessagesWithoutCountedHeadersAreTwins) {
    std::string mbox = kFrom + "Subject: one\n\nb\n\n" + kFrom + "Subject: two\n\nb\n";
    std::string none = popa3d("");
    EXPECT_EQ(uidls(mbox, UidlFormat::popa3d), (std::vector<std::string>{none, none + "-2"}));
}

TEST(Popa3dUidl, CrlfHeaderRunsOnIntoTheNextMessagePopperdBegins) {
    // popa3d's header ends at an LF line only, and after a CRLF blank line
    // "From " does not begin a message: popa3d sees one message.
    std::string mbox = kFrom + "Date: d1\r\n\r\nbody\r\nDate: in body\r\n\r\n" + kFrom +
                       "Delivered-To: x\r\n\r\nb\r\n";
    auto got = uidls(mbox, UidlFormat::popa3d);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], popa3d("Date: d1\r\nDate: in body\r\nDelivered-To: x\r\n"));
    EXPECT_EQ(got[1], own(mbox, 1));
}

TEST(Popa3dUidl, BodyLinesAfterAnLfBlankLineDoNotCount) {
    std::string mbox = kFrom + "Subject: s\n\nDate: not a header\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::popa3d)[0], popa3d(""));
}

// --- solid-pop3d --------------------------------------------------------------

TEST(SolidPop3dUidl, HashesCaseSensitiveNamesWithoutContinuationLines) {
    std::string mbox = kFrom + "Received: r1\n\tby x\nReceived: r2\nDate: d\nMessage-ID: <a>\n"
                               "Message-Id: <b>\nsubject: no\nSubject: yes\nX: y\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::solid_pop3d)[0],
              md5_hex("Received: r1\nReceived: r2\nDate: d\nMessage-Id: <b>\nSubject: yes\n"));
}

TEST(SolidPop3dUidl, AFromLineOf28OctetsBeginsAMessageWithoutABlankLine) {
    std::string from28 = "From " + std::string(22, 'x') + "\n"; // 28 octets
    std::string from27 = "From " + std::string(21, 'x') + "\n";
    // Body From_ lines without a blank line before: popperd keeps both in
    // message 1; solid-pop3d begins a message at the 28-octet one.
    std::string mbox = kFrom + "Subject: one\n\nbody\n" + from27 + "Subject: x\n" + from28 +
                       "Subject: two\n\nb\n\n" + kFrom + "Subject: three\n\nb\n";
    auto got = uidls(mbox, UidlFormat::solid_pop3d);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], md5_hex("Subject: one\n"));
    EXPECT_EQ(got[1], md5_hex("Subject: three\n"));
}

TEST(SolidPop3dUidl, AShortFromLineAfterABlankLineIsContentToSolidPop3d) {
    std::string mbox = kFrom + "Subject: one\n\nbody\n\nFrom me\nSubject: two\n\nb\n";
    auto got = uidls(mbox, UidlFormat::solid_pop3d);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], md5_hex("Subject: one\n"));
    EXPECT_EQ(got[1], own(mbox, 1));
}

TEST(SolidPop3dUidl, CrlfHeaderRunsOnUntilTheNextFromLine) {
    std::string mbox =
        kFrom + "Subject: one\r\n\r\nDate: in body\r\n\r\n" + kFrom + "Subject: two\r\n\r\nb\r\n";
    auto got = uidls(mbox, UidlFormat::solid_pop3d);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], md5_hex("Subject: one\r\nDate: in body\r\n"));
    EXPECT_EQ(got[1], md5_hex("Subject: two\r\n"));
}

// --- uw -----------------------------------------------------------------------

TEST(UwUidl, ValidityFromXImapbaseAndUidFromXUid) {
    std::string mbox = kFrom + "X-IMAPbase: 1700000000 0000000012\nX-UID: 10\n\nb\n\n" + kFrom +
                       "X-UID: 12\nStatus: RO\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::uw),
              (std::vector<std::string>{hex_pair(1700000000, 10), hex_pair(1700000000, 12)}));
}

TEST(UwUidl, PseudoMessageGivesTheValidityAndIsListedAsPopperdsOwn) {
    std::string pseudo = "From MAILER-DAEMON Mon Nov 30 06:00:00 2026\n"
                         "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
                         "X-IMAP: 1600000000 0000000003\nX-UID: 1\n\ninternal\n\n";
    std::string mbox = pseudo + kFrom + "X-UID: 2\n\nb\n\n" + kFrom + "X-UID: 3\n\nb\n";
    auto got = uidls(mbox, UidlFormat::uw);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], own(mbox, 0));
    EXPECT_EQ(got[1], hex_pair(1600000000, 2));
    EXPECT_EQ(got[2], hex_pair(1600000000, 3));
}

TEST(UwUidl, NamesAreCaseSensitiveAndAMessageWithoutXUidGetsPopperdsOwn) {
    std::string mbox =
        kFrom + "X-IMAPbase: 1700000000 5\nX-UID: 4\n\nb\n\n" + kFrom + "x-uid: 5\n\nb\n";
    auto got = uidls(mbox, UidlFormat::uw);
    EXPECT_EQ(got, (std::vector<std::string>{hex_pair(1700000000, 4), own(mbox, 1)}));
}

TEST(UwUidl, UidsThatDoNotGrowMakeUwRenumberSoNothingIsNamed) {
    std::string mbox = kFrom + "X-IMAPbase: 1700000000 5\nX-UID: 4\n\nb\n\n" + kFrom +
                       "X-UID: 4\n\nb\n\n" + kFrom + "X-UID: 5\n\nb\n";
    auto got = uidls(mbox, UidlFormat::uw);
    EXPECT_EQ(got, (std::vector<std::string>{own(mbox, 0), own(mbox, 1), own(mbox, 2)}));
}

TEST(UwUidl, AMessageWithoutXUidConstrainsNoOther) {
    // UW wrote an X-UID into every message it saw: one without is new, or
    // a part of a UW message that popperd divides off.
    std::string mbox = kFrom + "X-IMAPbase: 1700000000 5\nX-UID: 4\n\nb\n\n" + kFrom +
                       "Subject: none\n\nb\n\n" + kFrom + "X-UID: 5\n\nb\n";
    auto got = uidls(mbox, UidlFormat::uw);
    EXPECT_EQ(got, (std::vector<std::string>{hex_pair(1700000000, 4), own(mbox, 1),
                                             hex_pair(1700000000, 5)}));
}

TEST(UwUidl, AnXUidBeforeTheXImapbaseHeaderIsIgnored) {
    std::string mbox = kFrom + "X-UID: 4\nX-IMAPbase: 1700000000 5\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::uw), std::vector<std::string>{own(mbox, 0)});
}

TEST(UwUidl, WithoutAValidityNothingIsNamedUnlessOneIsRemembered) {
    std::string mbox = kFrom + "X-UID: 7\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::uw), std::vector<std::string>{own(mbox, 0)});
    EXPECT_EQ(uidls(mbox, UidlFormat::uw, {1700000000, 7}),
              std::vector<std::string>{hex_pair(1700000000, 7)});
}

TEST(UwUidl, ReportsTheUidBaseOfTheFirstMessage) {
    std::string mbox = kFrom + "X-IMAPbase: 1700000000 0000000012 $Junk\n\nb\n";
    UidlOptions options;
    options.format = UidlFormat::uw;
    auto index = index_mbox_bytes(mbox, "/test/mbox", options);
    ASSERT_TRUE(index);
    EXPECT_EQ(index->uid_base, (UidBase{1700000000, 12}));
    EXPECT_EQ(index->uidl_format, UidlFormat::uw);
}

// --- dovecot --------------------------------------------------------------------

TEST(DovecotUidl, UidThenValidityInLowercaseHex) {
    std::string mbox = kFrom +
                       "X-IMAPbase: 1796680707 0000000002\n"
                       "X-UID: 1                                      \n\nb\n\n" +
                       kFrom + "x-uid: 2\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::dovecot),
              (std::vector<std::string>{hex_pair(1, 1796680707), hex_pair(2, 1796680707)}));
}

TEST(DovecotUidl, AnXUidAboveTheNextUidOrNotGrowingIsDropped) {
    std::string mbox = kFrom + "X-IMAPbase: 100 2\nX-UID: 1\n\nb\n\n" + // next UID 3
                       kFrom + "X-UID: 9\nSubject: 2\n\nb\n\n" +        // above it
                       kFrom + "X-UID: 1\nSubject: 3\n\nb\n\n" +        // not above 1
                       kFrom + "X-UID: 3\nSubject: 4\n\nb\n\n" +        // the next one
                       kFrom + "X-UID: 2\nSubject: 5\n\nb\n";           // not above 3
    EXPECT_EQ(uidls(mbox, UidlFormat::dovecot),
              (std::vector<std::string>{hex_pair(1, 100), own(mbox, 1), own(mbox, 2),
                                        hex_pair(3, 100), own(mbox, 4)}));
}

TEST(DovecotUidl, TheFirstXUidThatFitsCountsAndBrokenValuesDoNot) {
    std::string mbox = kFrom + "X-IMAPbase: 100 9\nX-UID: 1x\nX-UID: 5\nX-UID: 6\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::dovecot), std::vector<std::string>{hex_pair(5, 100)});
}

TEST(DovecotUidl, WithoutXImapbaseNothingIsNamedUnlessRemembered) {
    std::string mbox = kFrom + "X-UID: 3\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::dovecot), std::vector<std::string>{own(mbox, 0)});
    EXPECT_EQ(uidls(mbox, UidlFormat::dovecot, {100, 3}),
              std::vector<std::string>{hex_pair(3, 100)});
}

// --- x-uidl ---------------------------------------------------------------------

TEST(XUidlFormatUidl, FirstValidXUidlInAnyCaseWithoutTrailingBlanks) {
    std::string mbox =
        kFrom + "X-UIDL: has space\nx-uidl:\t 0123456789abcdef  \nX-UIDL: later\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::x_uidl), std::vector<std::string>{"0123456789abcdef"});
}

TEST(XUidlFormatUidl, MessagesWithoutOneGetPopperdsOwnAndTwinsGetSuffixes) {
    std::string mbox = kFrom + "X-UIDL: same\n\nb\n\n" + kFrom + "Subject: none\n\nb\n\n" + kFrom +
                       "X-UIDL: same\n\nc\n\n" + kFrom + "X-UIDL: same-2\n\nd\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::x_uidl),
              (std::vector<std::string>{"same", own(mbox, 1), "same-3", "same-2"}));
}

TEST(XUidlFormatUidl, ATwinWhoseSuffixedNameWouldBeTooLongGetsPopperdsOwn) {
    std::string seventy(70, 'u');
    std::string mbox =
        kFrom + "X-UIDL: " + seventy + "\n\nb\n\n" + kFrom + "X-UIDL: " + seventy + "\n\nc\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::x_uidl), (std::vector<std::string>{seventy, own(mbox, 1)}));
}

TEST(XUidlFormatUidl, ANameSpellingAnotherMessagesOwnUidlStaysUnique) {
    std::string plain = kFrom + "Subject: plain\n\nb\n";
    std::string claimed = own(plain, 0);
    std::string mbox = plain + "\n" + kFrom + "X-UIDL: " + claimed + "\n\nc\n";
    auto got = uidls(mbox, UidlFormat::x_uidl);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1], claimed);
    EXPECT_EQ(got[0], claimed + "-2");
}

// --- qpopper ---------------------------------------------------------------------

TEST(QpopperUidl, FirstXUidlOf11To32OctetsCountsAndShorterOrLongerOnesArePassedOver) {
    const std::string ten(10, 'a'), eleven(11, 'b'), thirty_two(32, 'c'), thirty_three(33, 'd');
    std::string mbox = kFrom + "X-UIDL: " + ten + "\nX-UIDL: " + thirty_three +
                       "\nx-uidl: " + thirty_two + "\nX-UIDL: " + eleven + "\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::qpopper), std::vector<std::string>{thirty_two});
    // GNU Mailutils takes the first valid one, whatever its length.
    EXPECT_EQ(uidls(mbox, UidlFormat::x_uidl), std::vector<std::string>{ten});
}

TEST(QpopperUidl, TheLineEndingCountsAndTrailingBlanksStayInTheValue) {
    const std::string eleven(11, 'e');
    // 10 octets and CRLF make 12: qpopper takes it.
    std::string crlf = kFrom + "X-UIDL: " + std::string(10, 'f') + "\r\n\r\nb\r\n";
    EXPECT_EQ(uidls(crlf, UidlFormat::qpopper), std::vector<std::string>{std::string(10, 'f')});
    // qpopper would list "eeeeeeeeeee  " with its blanks: no valid UIDL, so
    // popperd lists its own.
    std::string blanks = kFrom + "X-UIDL: " + eleven + "  \n\nb\n";
    EXPECT_EQ(uidls(blanks, UidlFormat::qpopper), std::vector<std::string>{own(blanks, 0)});
    EXPECT_EQ(uidls(blanks, UidlFormat::x_uidl), std::vector<std::string>{eleven});
}

TEST(XUidlFormatUidl, XUidlInTheBodyIsIgnored) {
    std::string mbox = kFrom + "Subject: s\n\nX-UIDL: in-the-body\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::x_uidl), std::vector<std::string>{own(mbox, 0)});
}

// --- every format ----------------------------------------------------------------

TEST(OldServerUidl, SameUidlsForEveryBufferSize) {
    std::string mbox = kFrom + "X-IMAPbase: 100 9\nX-UID: 1\nReceived: " + std::string(300, 'r') +
                       "\nSubject: s\r\nX-UIDL: abcdefghijkl\n\r\nDate: body\n\n" + kFrom +
                       "X-UID: 2\nSubject: t\n\nb\n";
    for (UidlFormat format : kUidlFormats) {
        auto expected = uidls(mbox, format);
        for (size_t buffer : {16, 17, 64, 100, 333})
            EXPECT_EQ(uidls(mbox, format, {}, buffer), expected)
                << uidl_format_name(format) << " buffer " << buffer;
    }
}

TEST(OldServerUidl, FormatPopperdIsUnchanged) {
    std::string mbox = kFrom + "X-UIDL: kept-one\n\nb\n\n" + kFrom + "Subject: s\n\nb\n";
    EXPECT_EQ(uidls(mbox, UidlFormat::popperd),
              (std::vector<std::string>{
                  "kept-one", md5_hex(kFrom.substr(0, kFrom.size() - 1) + "\nSubject: s\n")}));
}

} // namespace
} // namespace popper
