// Captured UIDLs: the header identity both sides compute, the captured
// names laid over an index (twins, sizes, unmatched messages), and the map
// file read as untrusted input.
#include "popper/captured_uidls.h"
#include "popper/mbox_index.h"
#include "popper/uidl_map.h"

#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace popper {
namespace {

TEST(HeaderIdentity, IgnoresLineEndingsTrailingBlanksAndRewrittenFields) {
    const HeaderIdentity plain = header_identity("Subject: hi\nMessage-ID: <1@x>\n\nbody\n");
    EXPECT_EQ(header_identity("Subject: hi\r\nMessage-ID: <1@x>\r\n\r\nother body\r\n"), plain);
    EXPECT_EQ(header_identity("Subject: hi  \t\nMessage-ID: <1@x>\n"), plain);
    EXPECT_EQ(header_identity("Status: RO\nSubject: hi\nX-UID: 7\nX-IMAPbase: 1 2\n"
                              "Content-Length: 5\n  folded on\nMessage-ID: <1@x>\nLines: 1\n\n"),
              plain);
    EXPECT_NE(header_identity("Subject: hi\nMessage-ID: <2@x>\n"), plain);
    EXPECT_NE(header_identity("Subject: hi\n folded\nMessage-ID: <1@x>\n"), plain);
    EXPECT_NE(header_identity("Message-ID: <1@x>\nSubject: hi\n"), plain) << "order counts";
}

TEST(HeaderIdentity, HeaderSizeInCrlfFormCountsTheEmptyLine) {
    EXPECT_EQ(header_crlf_octets("A: b\nC: d\n\nbody\n"), 6u + 6u + 2u);
    EXPECT_EQ(header_crlf_octets("A: b\r\n\r\n"), 6u + 2u);
    EXPECT_EQ(header_crlf_octets("A: b"), 6u) << "a header without body or empty line";
    EXPECT_EQ(header_crlf_octets(""), 0u);
}

// An index of `count` messages with distinct computed UIDLs.
MboxIndex index_of(const std::vector<std::string>& headers) {
    std::string mbox;
    for (size_t i = 0; i < headers.size(); ++i)
        mbox += "From x@y Mon Nov 30 06:00:00 2026\n" + headers[i] + "\nbody " + std::to_string(i) +
                "\n\n";
    auto index = index_mbox_bytes(mbox, "test");
    EXPECT_TRUE(index) << index.error().message();
    return std::move(*index);
}

MessageKey key(std::string_view header, uint64_t body = kUnknownBodyOctets) {
    return {header_identity(header), body};
}

TEST(ApplyCapturedUidls, TwinsTakeTheEntryOfTheirBodySizeThenTheOldOrder) {
    MboxIndex index = index_of({"Subject: twin\n", "Subject: twin\n", "Subject: twin\n"});
    std::vector<CapturedUidl> captured = {
        {header_identity("Subject: twin\n"), 10, "old-a"},
        {header_identity("Subject: twin\n"), 20, "old-b"},
        {header_identity("Subject: twin\n"), kUnknownBodyOctets, "old-c"},
    };
    // The first message's size matches none; the second's is old-a's.
    std::vector<MessageKey> keys = {key("Subject: twin\n", 99), key("Subject: twin\n", 10),
                                    key("Subject: twin\n", 20)};
    std::vector<bool> used = apply_captured_uidls(index, keys, captured);
    EXPECT_EQ(used, (std::vector<bool>{true, true, true}));
    EXPECT_EQ(index.uidl(0), "old-c");
    EXPECT_EQ(index.uidl(1), "old-a");
    EXPECT_EQ(index.uidl(2), "old-b");
}

TEST(ApplyCapturedUidls, UnmatchedMessagesKeepTheirUidlsAndNamesStayUnique) {
    MboxIndex index =
        index_of({"Subject: one\n", "Subject: two\nX-UIDL: kept-value\n", "Subject: three\n"});
    const std::string computed_three = index.uidl(2);
    std::vector<CapturedUidl> captured = {
        {header_identity("Subject: one\n"), kUnknownBodyOctets, "kept-value"},
        {header_identity("Subject: gone\n"), kUnknownBodyOctets, "gone"},
    };
    std::vector<MessageKey> keys = {key("Subject: one\n"), key("Subject: two\n"),
                                    key("Subject: three\n")};
    EXPECT_EQ(apply_captured_uidls(index, keys, captured), (std::vector<bool>{true, false}));
    EXPECT_EQ(index.uidl(0), "kept-value");
    EXPECT_EQ(index.uidl(1), "kept-value-2") << "RFC 1939: unique in the maildrop";
    EXPECT_EQ(index.uidl(2), computed_three);
}

TEST(ApplyCapturedUidls, NoMatchLeavesTheIndexAsItWas) {
    MboxIndex index = index_of({"Subject: one\n", "Subject: two\n"});
    const std::string a = index.uidl(0), b = index.uidl(1);
    std::vector<CapturedUidl> captured = {{header_identity("Subject: x\n"), 1, "x"}};
    EXPECT_EQ(apply_captured_uidls(index, {key("Subject: one\n"), key("Subject: two\n")}, captured),
              std::vector<bool>{false});
    EXPECT_EQ(index.uidl(0), a);
    EXPECT_EQ(index.uidl(1), b);
}

TEST(UidlMap, FormatAndParseRoundTrip) {
    UidlMap map;
    map.matched = true;
    map.entries = {{header_identity("A: b\n"), 12, "uidl-1"},
                   {header_identity("A: c\n"), kUnknownBodyOctets, "~!\"#"}};
    const std::string text = format_uidl_map(map);
    EXPECT_TRUE(text.starts_with("popperd-uidl-map 1 matched\n")) << text;
    auto parsed = parse_uidl_map(text, "m");
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_TRUE(parsed->matched);
    ASSERT_EQ(parsed->entries.size(), 2u);
    EXPECT_EQ(parsed->entries[0].identity, map.entries[0].identity);
    EXPECT_EQ(parsed->entries[0].body_octets, 12u);
    EXPECT_EQ(parsed->entries[1].body_octets, kUnknownBodyOctets);
    EXPECT_EQ(parsed->entries[1].uidl, "~!\"#");
}

TEST(UidlMap, MalformedMapsAreRefusedWithTheLine) {
    const std::string head = "popperd-uidl-map 1 captured\n";
    const std::string id(32, 'a');
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "m:0"},
        {"popperd-uidl-map 1 captured", "m:1"},
        {"popperd-uidl-map 1 other\n", "m:1"},
        {head + id + " 5\n", "m:2"},
        {head + id + " 05 u\n", "m:2"},
        {head + id + " -5 u\n", "m:2"},
        {head + id + " 18446744073709551615 u\n", "m:2"},
        {head + id + " 18446744073709551616 u\n", "m:2"},
        {head + id.substr(1) + "g 5 u\n", "m:2"},
        {head + id + "  5 u\n", "m:2"},
        {head + id + " 5 u v\n", "m:2"},
        {head + id + " 5 " + std::string(71, 'u') + "\n", "m:2"},
        {head + id + " 5 u\n" + id + " 5 \x7f\n", "m:3"},
        {head + id + " 5 u\r\n", "m:2"},
    };
    for (const auto& [text, where] : cases) {
        auto parsed = parse_uidl_map(text, "m");
        ASSERT_FALSE(parsed) << text;
        EXPECT_NE(parsed.error().message().find(where), std::string::npos)
            << parsed.error().message();
    }
}

TEST(UidlMap, RandomBytesNeverCrashAndAcceptedMapsRoundTrip) {
    std::mt19937 rng(1939);
    const std::string head = "popperd-uidl-map 1 captured\n";
    for (int round = 0; round < 2000; ++round) {
        std::string text = head;
        size_t n = rng() % 200;
        for (size_t i = 0; i < n; ++i)
            text += static_cast<char>(rng() % 4 ? "0123456789abcdef -\nxyz"[rng() % 22]
                                                : static_cast<char>(rng()));
        auto parsed = parse_uidl_map(text, "m");
        if (parsed) {
            EXPECT_EQ(format_uidl_map(*parsed), text);
        }
    }
}

TEST(UidlMap, ReadRefusesFilesThatAreNotSafe) {
    test::MailHost host;
    const std::string path = host.path("u.uidl-map");
    auto none = read_uidl_map(path);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);

    UidlMap map;
    map.entries = {{header_identity("A: b\n"), 3, "u"}};
    ASSERT_TRUE(write_uidl_map(path, map));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    auto read = read_uidl_map(path);
    ASSERT_TRUE(read && *read) << (read ? "" : read.error().message());
    EXPECT_EQ((*read)->entries.size(), 1u);

    ::chmod(path.c_str(), 0604);
    EXPECT_FALSE(read_uidl_map(path));
    ::chmod(path.c_str(), 0600);
    ASSERT_EQ(::symlink(path.c_str(), host.path("link").c_str()), 0);
    EXPECT_FALSE(read_uidl_map(host.path("link")));
    ASSERT_EQ(::mkfifo(host.path("fifo").c_str(), 0600), 0);
    EXPECT_FALSE(read_uidl_map(host.path("fifo")));
    ASSERT_TRUE(remove_uidl_map(path));
    EXPECT_FALSE(*read_uidl_map(path));
}

} // namespace
} // namespace popper
