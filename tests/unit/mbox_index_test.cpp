#include "popper/mbox_index.h"

#include "popper/io.h"
#include "popper/md5.h"
#include "popper/wire.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace popper {
namespace {

using namespace std::string_literals;

MboxIndex index_of(std::string_view mbox) {
    auto index = index_mbox_bytes(mbox, "/test/mbox");
    EXPECT_TRUE(index.has_value()) << index.error().message();
    return index ? std::move(index).value() : MboxIndex{};
}

std::string_view stored(std::string_view mbox, const MessageEntry& entry) {
    return mbox.substr(entry.start, entry.end - entry.start);
}

std::vector<std::string> uidls_of(const MboxIndex& index) {
    std::vector<std::string> uidls;
    for (size_t i = 0; i < index.messages.size(); ++i)
        uidls.push_back(index.uidl(i));
    return uidls;
}

void expect_unique_valid_uidls(const MboxIndex& index) {
    std::set<std::string> seen;
    for (const std::string& uidl : uidls_of(index)) {
        EXPECT_TRUE(seen.insert(uidl).second) << "duplicate UIDL " << uidl;
        EXPECT_GE(uidl.size(), 1u);
        EXPECT_LE(uidl.size(), kMaxUidlOctets);
        for (char c : uidl)
            EXPECT_TRUE(c >= 0x21 && c <= 0x7e) << uidl;
    }
}

// An mboxrd writer: escapes ^>*From lines, ends the message with a newline
// and the separator's empty line.
std::string mboxrd_message(std::string_view from_line, std::string_view content,
                           std::string_view eol = "\n") {
    std::string out(from_line);
    out += eol;
    for (size_t pos = 0; pos < content.size();) {
        size_t end = content.find('\n', pos);
        end = end == std::string_view::npos ? content.size() : end + 1;
        std::string_view line = content.substr(pos, end - pos);
        size_t arrows = line.find_first_not_of('>');
        if (arrows != std::string_view::npos && line.substr(arrows).starts_with("From "))
            out += '>';
        out += line;
        pos = end;
    }
    if (!content.empty() && !content.ends_with('\n'))
        out += eol;
    return out + std::string(eol);
}

// A file in the test's temporary directory, removed at the end.
class TempFile {
public:
    explicit TempFile(std::string_view content) {
        const char* dir = std::getenv("TMPDIR");
        path_ = std::string(dir ? dir : "/tmp") + "/mbox_index_test.XXXXXX";
        fd_.reset(::mkstemp(path_.data()));
        EXPECT_TRUE(fd_) << "mkstemp " << path_;
        EXPECT_TRUE(write_all(fd_.get(), content, path_));
    }
    ~TempFile() { ::unlink(path_.c_str()); }
    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    UniqueFd fd_;
};

// --- separators -------------------------------------------------------------

TEST(MboxIndex, EmptyFileIsEmptyMailbox) {
    MboxIndex index = index_of("");
    EXPECT_TRUE(index.messages.empty());
    EXPECT_EQ(index.file_size, 0u);
}

TEST(MboxIndex, RejectsDataNotBeginningWithFrom) {
    for (std::string_view bad : {"Subject: x\n\nbody\n", "from a\n", "\nFrom a\n", "From"}) {
        auto index = index_mbox_bytes(bad, "/var/mail/alice");
        ASSERT_FALSE(index.has_value());
        EXPECT_NE(index.error().message().find("/var/mail/alice"), std::string::npos);
        EXPECT_NE(index.error().message().find("not an mbox file (does not begin with \"From \")"),
                  std::string::npos)
            << index.error().message();
    }
}

TEST(MboxIndex, SingleMessageEntryFields) {
    std::string mbox = "From a@b Mon Jan  1 00:00:00 2024\nSubject: s\n\nbody\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 1u);
    const MessageEntry& m = index.messages[0];
    EXPECT_EQ(m.from_line, 0u);
    EXPECT_EQ(m.start, 34u);
    EXPECT_EQ(m.end, mbox.size());
    EXPECT_EQ(m.stored_length(), 17u);
    EXPECT_EQ(stored(mbox, m), "Subject: s\n\nbody\n");
    EXPECT_EQ(m.pop_size, 20u);
    EXPECT_EQ(index.file_size, mbox.size());
}

TEST(MboxIndex, EmptyLineBeforeFromBelongsToSeparator) {
    std::string mbox = "From a\nS: 1\n\nbody one\n\nFrom b\nS: 2\n\nbody two\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "S: 1\n\nbody one\n");
    EXPECT_EQ(index.messages[1].from_line, mbox.find("From b"));
    EXPECT_EQ(stored(mbox, index.messages[1]), "S: 2\n\nbody two\n");
}

TEST(MboxIndex, EmptyLineAtEndOfFileBelongsToSeparator) {
    std::string mbox = "From a\nS: 1\n\nbody\n\n";
    EXPECT_EQ(stored(mbox, index_of(mbox).messages.at(0)), "S: 1\n\nbody\n");
}

TEST(MboxIndex, OnlyOneEmptyLineAtEndIsSeparator) {
    std::string mbox = "From a\nS: 1\n\nbody\n\n\n";
    EXPECT_EQ(stored(mbox, index_of(mbox).messages.at(0)), "S: 1\n\nbody\n\n");
}

TEST(MboxIndex, OnlyOneEmptyLineBeforeFromIsSeparator) {
    std::string mbox = "From a\nS: 1\n\nbody\n\n\nFrom b\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "S: 1\n\nbody\n\n");
}

TEST(MboxIndex, FromLineWithoutPrecedingEmptyLineIsBody) {
    std::string mbox = "From a\nS: 1\n\nbody\nFrom the desk of x\nmore\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 1u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "S: 1\n\nbody\nFrom the desk of x\nmore\n");
}

TEST(MboxIndex, FromWithoutSpaceAfterEmptyLineIsBody) {
    std::string mbox = "From a\nS: 1\n\nbody\n\nFromage\n\nfrom b\n";
    EXPECT_EQ(index_of(mbox).messages.size(), 1u);
}

TEST(MboxIndex, FromLineRightAfterFromLineIsHeader) {
    std::string mbox = "From a\nFrom b\n\nbody\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 1u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "From b\n\nbody\n");
}

TEST(MboxIndex, CrlfStoredSpool) {
    std::string mbox = "From a\r\nS: 1\r\n\r\nbody\r\n\r\nFrom b\r\nS: 2\r\n\r\nlast\r\n\r\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "S: 1\r\n\r\nbody\r\n");
    EXPECT_EQ(stored(mbox, index.messages[1]), "S: 2\r\n\r\nlast\r\n");
    EXPECT_EQ(index.messages[0].pop_size, 14u);
    EXPECT_EQ(index.messages[1].pop_size, 14u);
}

TEST(MboxIndex, LfMessageWithCrlfSeparator) {
    std::string mbox = "From a\nS: 1\n\nbody\n\r\nFrom b\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "S: 1\n\nbody\n");
}

TEST(MboxIndex, LastMessageWithoutFinalNewline) {
    std::string mbox = "From a\nS: 1\n\nbody\n\nFrom b\nS: 2\n\nno newline";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(stored(mbox, index.messages[1]), "S: 2\n\nno newline");
    EXPECT_EQ(index.messages[1].pop_size, pop_size_of("S: 2\n\nno newline"));
    EXPECT_EQ(index.messages[1].pop_size, 6u + 2u + 12u);
}

TEST(MboxIndex, EmptyMessages) {
    std::string mbox = "From a\n\nFrom b\n\nFrom c\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 3u);
    for (const MessageEntry& m : index.messages) {
        EXPECT_EQ(m.stored_length(), 0u);
        EXPECT_EQ(m.pop_size, 0u);
    }
    EXPECT_EQ(index.messages[2].start, mbox.size());
}

TEST(MboxIndex, FromLineWithoutNewlineAtEndOfFile) {
    std::string mbox = "From a\nS: 1\n\nFrom b";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(index.messages[1].from_line, 13u);
    EXPECT_EQ(index.messages[1].start, mbox.size());
    EXPECT_EQ(index.messages[1].end, mbox.size());
}

TEST(MboxIndex, MessageOfOnlyHeaders) {
    std::string mbox = "From a\nSubject: x\nTo: y\n\nFrom b\nSubject: z\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "Subject: x\nTo: y\n");
    EXPECT_EQ(stored(mbox, index.messages[1]), "Subject: z\n");
}

TEST(MboxIndex, BinaryBytesAndNuls) {
    std::string mbox = "From a\nS: \0\xff\n\n\0\0\n\x80\r\n\n\nFrom b\n\0"s;
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "S: \0\xff\n\n\0\0\n\x80\r\n\n"s);
    EXPECT_EQ(stored(mbox, index.messages[1]), "\0"s);
}

// --- sizes ------------------------------------------------------------------

TEST(MboxIndex, PopSizeCountsUnescapedCrlfForm) {
    std::string mbox = "From a\n>From x\n>>From y\n.z\n";
    MboxIndex index = index_of(mbox);
    // "From x\r\n" + ">From y\r\n" + ".z\r\n" (the stuffed dot is not counted)
    EXPECT_EQ(index.messages.at(0).pop_size, 8u + 9u + 4u);
}

TEST(MboxIndex, PopSizeAgreesWithWireModule) {
    std::string mbox = "From a\nS: 1\r\n\r\nx\r\ry\n.\n>From q\n\nFrom b\nA\nB";
    MboxIndex index = index_of(mbox);
    for (const MessageEntry& m : index.messages) {
        std::string_view s = stored(mbox, m);
        EXPECT_EQ(m.pop_size, pop_size_of(s));
        EXPECT_EQ(m.pop_size, encode_message(s).size() - 3 - (s.find("\n.") != s.npos ? 1 : 0));
    }
}

// --- whole mailboxes --------------------------------------------------------

std::string random_content(std::mt19937& rng) {
    static const std::vector<std::string> pieces = {
        "From ", ">From ", "From",         "\n",  "\n",   "\n\n", "\r\n",
        ".",     "x",      "Subject: s\n", "\0"s, "\xfe", " ",    "text text text"};
    std::string content;
    for (size_t n = rng() % 30; n > 0; --n)
        content += pieces[rng() % pieces.size()];
    if (!content.empty() && !content.ends_with('\n'))
        content += '\n';
    return content;
}

// The content a mboxrd reader gets back: the stored form with the escapes kept.
std::string stored_form(std::string_view content) {
    std::string one = mboxrd_message("From x", content);
    return one.substr(7, one.size() - 8);
}

TEST(MboxIndex, ReturnsTheMessagesItWasBuiltFrom) {
    std::mt19937 rng(822);
    for (int round = 0; round < 300; ++round) {
        std::vector<std::string> contents(rng() % 12);
        std::string mbox;
        bool crlf = round % 3 == 0;
        for (std::string& content : contents) {
            content = random_content(rng);
            mbox += mboxrd_message("From sender@example.org Tue Mar  5 10:00:00 2024", content,
                                   crlf ? "\r\n" : "\n");
        }
        MboxIndex index = index_of(mbox);
        ASSERT_EQ(index.messages.size(), contents.size()) << testing::PrintToString(mbox);
        for (size_t i = 0; i < contents.size(); ++i) {
            std::string_view s = stored(mbox, index.messages[i]);
            ASSERT_EQ(s, stored_form(contents[i])) << testing::PrintToString(mbox);
            ASSERT_EQ(index.messages[i].pop_size, pop_size_of(s));
        }
        expect_unique_valid_uidls(index);
    }
}

TEST(MboxIndex, GarbageAfterFromDoesNotBreakInvariants) {
    std::mt19937 rng(12345);
    const std::string alphabet = "From \n\n\r>.X:\0\xff"s;
    for (int round = 0; round < 2000; ++round) {
        std::string mbox = "From ";
        for (size_t n = rng() % 200; n > 0; --n)
            mbox += alphabet[rng() % alphabet.size()];
        MboxIndex index = index_of(mbox);
        ASSERT_FALSE(index.messages.empty());
        uint64_t previous_end = 0;
        for (const MessageEntry& m : index.messages) {
            ASSERT_GE(m.from_line, previous_end);
            ASSERT_TRUE(mbox.substr(m.from_line).starts_with("From "));
            ASSERT_LE(m.from_line, m.start);
            ASSERT_LE(m.start, m.end);
            ASSERT_LE(m.end, mbox.size());
            ASSERT_EQ(m.pop_size, pop_size_of(stored(mbox, m)));
            previous_end = m.end;
        }
        expect_unique_valid_uidls(index);
    }
}

TEST(MboxIndex, IndexesFileLikeBytes) {
    std::string mbox = mboxrd_message("From a", "S: 1\n\nhello\n") +
                       mboxrd_message("From b", "S: 2\nX-UIDL: keep-me\n\nFrom here\n");
    TempFile file(mbox);
    auto from_file = index_mbox_file(file.fd(), mbox.size(), file.path());
    ASSERT_TRUE(from_file.has_value()) << from_file.error().message();
    MboxIndex from_bytes = index_of(mbox);
    ASSERT_EQ(from_file->messages.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(from_file->messages[i].start, from_bytes.messages[i].start);
        EXPECT_EQ(from_file->messages[i].end, from_bytes.messages[i].end);
        EXPECT_EQ(from_file->messages[i].pop_size, from_bytes.messages[i].pop_size);
        EXPECT_EQ(from_file->uidl(i), from_bytes.uidl(i));
    }
    EXPECT_EQ(from_file->uidl(1), "keep-me");
}

TEST(MboxIndex, IndexesEmptyFile) {
    TempFile file("");
    auto index = index_mbox_file(file.fd(), 0, file.path());
    ASSERT_TRUE(index.has_value());
    EXPECT_TRUE(index->messages.empty());
}

TEST(MboxIndex, FileNotMboxNamesPath) {
    TempFile file("garbage\n");
    auto index = index_mbox_file(file.fd(), 8, file.path());
    ASSERT_FALSE(index.has_value());
    EXPECT_NE(index.error().message().find(file.path()), std::string::npos);
}

TEST(MboxIndex, IndexesFileLargerThanBuffer) {
    std::string body;
    for (int i = 0; body.size() < (1u << 20); ++i)
        body += "body line " + std::to_string(i) + "\n";
    std::string mbox;
    for (int i = 0; i < 6; ++i)
        mbox += mboxrd_message("From m" + std::to_string(i), "S: x\n\n" + body);
    TempFile file(mbox);
    auto index = index_mbox_file(file.fd(), mbox.size(), file.path());
    ASSERT_TRUE(index.has_value()) << index.error().message();
    ASSERT_EQ(index->messages.size(), 6u);
    for (const MessageEntry& m : index->messages) {
        EXPECT_EQ(stored(mbox, m), "S: x\n\n" + body);
        EXPECT_EQ(m.pop_size, pop_size_of("S: x\n\n" + body));
    }
    expect_unique_valid_uidls(*index);
}

TEST(MboxIndex, FileShorterThanSizeIsError) {
    std::string mbox = "From a\nS: 1\n\nbody\n";
    TempFile file(mbox);
    auto index = index_mbox_file(file.fd(), mbox.size() + 100, file.path());
    ASSERT_FALSE(index.has_value());
    EXPECT_NE(index.error().message().find(file.path()), std::string::npos);
}

TEST(MboxIndex, IndexesOnlyTheGivenSize) {
    std::string mbox = "From a\nS: 1\n\nbody\n\nFrom b\nS: 2\n";
    TempFile file(mbox);
    auto index = index_mbox_file(file.fd(), mbox.find("From b"), file.path());
    ASSERT_TRUE(index.has_value());
    ASSERT_EQ(index->messages.size(), 1u);
    EXPECT_EQ(stored(mbox, index->messages[0]), "S: 1\n\nbody\n");
}

void expect_same_index(const MboxIndex& a, const MboxIndex& b) {
    ASSERT_EQ(a.messages.size(), b.messages.size());
    for (size_t i = 0; i < a.messages.size(); ++i) {
        EXPECT_EQ(a.messages[i].from_line, b.messages[i].from_line);
        EXPECT_EQ(a.messages[i].start, b.messages[i].start);
        EXPECT_EQ(a.messages[i].end, b.messages[i].end);
        EXPECT_EQ(a.messages[i].pop_size, b.messages[i].pop_size);
        EXPECT_EQ(a.uidl(i), b.uidl(i));
    }
}

TEST(MboxIndex, LinesLongerThanBufferGiveSameIndex) {
    std::mt19937 rng(2045);
    for (int round = 0; round < 300; ++round) {
        std::string mbox;
        for (size_t n = rng() % 6; n > 0; --n) {
            std::string content = random_content(rng);
            if (rng() % 2)
                content.insert(0, "X-UIDL: u" + std::to_string(rng() % 4) + "\n");
            if (rng() % 2)
                content.insert(0, std::string(rng() % 5, '>') + "From " +
                                      std::string(rng() % 80, 'L') + "\n");
            mbox += mboxrd_message("From " + std::string(rng() % 40, 'f'), content,
                                   rng() % 2 ? "\n" : "\r\n");
        }
        if (rng() % 4 == 0 && !mbox.empty())
            mbox.pop_back();
        MboxIndex whole = index_of(mbox);
        for (size_t buffer : std::vector<size_t>{0, 16, 17, 23, 64, 129}) {
            auto small = index_mbox_bytes(mbox, "/test/mbox", buffer);
            ASSERT_TRUE(small.has_value());
            expect_same_index(*small, whole);
        }
    }
}

TEST(MboxIndex, LongEscapedFromLineAcrossBufferPieces) {
    std::string line = std::string(40, '>') + "From " + std::string(3000, 'x') + "\r\n";
    std::string mbox = "From a\nS: 1\n\n" + line + "\r\nFrom b\n" + line;
    for (size_t buffer : std::vector<size_t>{16, 39, 41, 44, 45, 46, 1000, 1u << 20}) {
        auto index = index_mbox_bytes(mbox, "/test/mbox", buffer);
        ASSERT_TRUE(index.has_value());
        ASSERT_EQ(index->messages.size(), 2u) << buffer;
        EXPECT_EQ(index->messages[0].pop_size, 6u + 2u + line.size() - 1) << buffer;
        EXPECT_EQ(index->messages[1].pop_size, line.size() - 1) << buffer;
    }
}

TEST(MboxIndex, HugeLineWithDefaultBuffer) {
    std::string line = ">From " + std::string(3u << 20, 'h');
    std::string mbox = "From a\nS: 1\n\n" + line + "\n\nFrom b\n" + line;
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 2u);
    EXPECT_EQ(stored(mbox, index.messages[0]), "S: 1\n\n" + line + "\n");
    EXPECT_EQ(index.messages[0].pop_size, 6u + 2u + line.size() + 1);
    EXPECT_EQ(index.messages[1].pop_size, line.size() - 1 + 2);
}

// --- the bulk body scan against a line-by-line reference ------------------------
//
// The indexer counts body lines in 64-octet blocks (body_scan.h). The
// reference below applies the rules of mbox_index.h to a list of lines, one
// at a time, as the indexer did before; every buffer size from the smallest
// upward, through the file and from memory, must agree with it.

struct ReferenceEntry {
    uint64_t from_line, start, end, pop_size;
    std::array<uint8_t, 16> uid_digest;
};

std::string_view without_eol(std::string_view line) {
    if (line.ends_with('\n'))
        line.remove_suffix(1);
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    return line;
}

bool is_rewritten_field(std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
        return false;
    std::string name;
    for (char c : line.substr(0, colon))
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (std::string_view f : {"status", "x-status", "x-keywords", "x-uid", "x-mozilla-status",
                               "x-mozilla-status2", "content-length", "lines"})
        if (name == f)
            return true;
    return false;
}

// The UIDL digest rule of mbox_index.h with the one-message-at-a-time Md5:
// the From_ line and the header lines (up to the first empty line), each
// without its line ending and followed by "\n", except the fields MUAs
// rewrite and their continuations; at most 64 KiB of the From_ line and 64
// KiB of header lines (line endings counted) are read.
std::array<uint8_t, 16> reference_digest(const std::vector<std::string_view>& lines, size_t from,
                                         size_t end) {
    constexpr size_t kMax = 64 * 1024;
    Md5 md5;
    md5.update(without_eol(lines[from]).substr(0, kMax));
    md5.update("\n");
    size_t budget = kMax;
    bool skipping = false;
    for (size_t j = from + 1; j < end && !is_blank_line(lines[j]) && budget > 0; ++j) {
        std::string_view line = lines[j].substr(0, budget);
        budget -= line.size();
        line = without_eol(line);
        if (line.empty() || (line[0] != ' ' && line[0] != '\t'))
            skipping = is_rewritten_field(line);
        if (!skipping) {
            md5.update(line);
            md5.update("\n");
        }
    }
    return md5.finish();
}

std::vector<ReferenceEntry> reference_index(std::string_view data) {
    std::vector<std::string_view> lines;
    for (size_t pos = 0; pos < data.size();) {
        size_t lf = data.find('\n', pos);
        size_t end = lf == std::string_view::npos ? data.size() : lf + 1;
        lines.push_back(data.substr(pos, end - pos));
        pos = end;
    }
    auto offset = [&](size_t i) { return static_cast<uint64_t>(lines[i].data() - data.data()); };
    auto separator_at = [&](size_t i) { // an empty line before "From " or at the end
        return is_blank_line(lines[i]) &&
               (i + 1 == lines.size() || lines[i + 1].starts_with("From "));
    };
    std::vector<ReferenceEntry> entries;
    for (size_t i = 0; i < lines.size();) {
        ReferenceEntry e{offset(i), offset(i) + lines[i].size(), 0, 0, {}};
        e.end = e.start;
        size_t next = lines.size();
        for (size_t j = i + 1; j < lines.size(); ++j) {
            if (separator_at(j)) {
                next = j + 1;
                break;
            }
            e.pop_size += pop_line_octets(lines[j]);
            e.end = offset(j) + lines[j].size();
        }
        e.uid_digest = reference_digest(lines, i, next == lines.size() ? next : next - 1);
        entries.push_back(e);
        i = next;
    }
    return entries;
}

// Mailboxes that put what the block scan looks at (LF, CR, '>' and 'F' at
// line starts, empty lines before "From ") anywhere, among long plain runs.
std::string nasty_mbox(std::mt19937& rng) {
    static const std::vector<std::string> lines = {
        "\n",     "\r\n",    "\r\r\n",       "\r",         ">From x\n", ">>From \r\n", ">From",
        ">Fro\n", ">\n",     ">>>x\n",       "From x\n",   "From \n",   "From",        "Fro\n",
        "F\n",    "Fxx\r\n", "\0\n"s,        "\xff\n",     ".\n",       ".From x\n",   " From x\n",
        "\n\n",   "From\n",  "\r\nFrom x\n", "a\rFrom x\n"};
    std::string mbox = "From first@example.org\n";
    for (size_t n = rng() % 120; n > 0; --n) {
        switch (rng() % 4) {
        case 0:
            mbox += lines[rng() % lines.size()];
            break;
        case 1: { // plain text, sometimes over several blocks
            size_t length = rng() % 3 == 0 ? rng() % 300 : rng() % 60;
            for (size_t k = 0; k < length; ++k)
                mbox += static_cast<char>('a' + rng() % 26);
            mbox += rng() % 4 == 0 ? "\r\n" : "\n";
            break;
        }
        case 2:
            mbox += "\nFrom next@example.org\nSubject: s\n\n";
            break;
        default:
            for (size_t k = rng() % 8; k > 0; --k)
                mbox += "body text line of some ordinary length, like most mail\n";
        }
    }
    if (rng() % 3 == 0 && !mbox.empty())
        mbox.pop_back(); // the last line without LF
    return mbox;
}

void expect_reference_index(const Result<MboxIndex>& index,
                            const std::vector<ReferenceEntry>& expected, std::string_view mbox,
                            size_t buffer, const char* path) {
    ASSERT_TRUE(index.has_value()) << index.error().message();
    ASSERT_EQ(index->messages.size(), expected.size())
        << path << " buffer " << buffer << " " << testing::PrintToString(mbox);
    for (size_t i = 0; i < expected.size(); ++i) {
        const MessageEntry& m = index->messages[i];
        const ReferenceEntry& e = expected[i];
        ASSERT_TRUE(m.from_line == e.from_line && m.start == e.start && m.end == e.end &&
                    m.pop_size == e.pop_size)
            << path << " buffer " << buffer << " message " << i << ": from " << m.from_line << "/"
            << e.from_line << " start " << m.start << "/" << e.start << " end " << m.end << "/"
            << e.end << " pop " << m.pop_size << "/" << e.pop_size << " "
            << testing::PrintToString(mbox);
        ASSERT_EQ(to_hex(m.uid_digest.data(), 16), to_hex(e.uid_digest.data(), 16))
            << path << " buffer " << buffer << " message " << i << " of " << expected.size()
            << (mbox.size() < 4096 ? " " + testing::PrintToString(mbox) : std::string());
    }
}

TEST(MboxIndex, BodyScanAgreesWithLineByLineReferenceForEveryBufferSize) {
    std::mt19937 rng(4096);
    for (int round = 0; round < 60; ++round) {
        std::string mbox = nasty_mbox(rng);
        std::vector<ReferenceEntry> expected = reference_index(mbox);
        TempFile file(mbox);
        MboxIndex whole = index_of(mbox);
        for (size_t buffer = 16; buffer <= 300; ++buffer) {
            expect_reference_index(index_mbox_bytes(mbox, "/test/mbox", buffer), expected, mbox,
                                   buffer, "bytes");
            auto from_file = index_mbox_file(file.fd(), mbox.size(), file.path(), buffer);
            expect_reference_index(from_file, expected, mbox, buffer, "file");
            for (size_t i = 0; i < whole.messages.size(); ++i)
                ASSERT_EQ(from_file->uidl(i), whole.uidl(i)) << buffer;
        }
        for (size_t buffer : {512, 1000, 4096, 65536}) {
            expect_reference_index(index_mbox_bytes(mbox, "/test/mbox", buffer), expected, mbox,
                                   buffer, "bytes");
        }
    }
}

TEST(MboxIndex, BodyScanAgreesWithReferenceOnLongMailboxes) {
    std::mt19937 rng(65);
    for (int round = 0; round < 20; ++round) {
        std::string mbox;
        while (mbox.size() < 200000)
            mbox += nasty_mbox(rng) + "\n";
        std::vector<ReferenceEntry> expected = reference_index(mbox);
        TempFile file(mbox);
        for (size_t buffer : {16, 63, 64, 65, 69, 70, 127, 128, 129, 4093, 65536, 131072}) {
            expect_reference_index(index_mbox_bytes(mbox, "/test/mbox", buffer), expected, mbox,
                                   buffer, "bytes");
            expect_reference_index(index_mbox_file(file.fd(), mbox.size(), file.path(), buffer),
                                   expected, mbox, buffer, "file");
        }
    }
}

// Mailboxes of many messages with varied headers: fields MUAs rewrite (any
// case, folded), folded others, CRLF lines, From_ lines and headers whose
// digest input is around kMaxDeferredDigestOctets (4 KiB: the indexer
// hashes those as it reads them instead of in a batch) or past 64 KiB,
// and runs of tiny messages (more than a batch holds).
std::string header_mbox(std::mt19937& rng) {
    static const std::vector<std::string> fields = {"Subject: s",
                                                    "To: t@example.org",
                                                    "Status: RO",
                                                    "X-Status: A",
                                                    "x-keywords: $x",
                                                    "X-UID: 7",
                                                    "X-Mozilla-Status: 0001",
                                                    "X-Mozilla-Status2: 0",
                                                    "Content-Length: 5",
                                                    "LINES: 1",
                                                    "X-UIDL: u1",
                                                    "Status : O",
                                                    "Received: from a\n\tby b",
                                                    "No colon here",
                                                    "Lines:\n folded continuation",
                                                    "Message-ID: <m@x>",
                                                    "Subject: \xff\0x"s};
    std::string mbox;
    for (size_t n = 1 + rng() % 400; n > 0; --n) {
        std::string eol = rng() % 8 == 0 ? "\r\n" : "\n";
        std::string from = "From " + std::to_string(rng() % 50);
        if (rng() % 40 == 0)
            from += " " + std::string(4000 + rng() % 200, 'f');
        mbox += from + eol;
        switch (rng() % 10) {
        case 0: // nothing more: the smallest digest input
            break;
        case 1: { // one field bringing the digest input to 4 KiB +- a few octets
            size_t input = from.size() + 1 + 4096 - 6 + rng() % 12;
            if (input > from.size() + 1 + 4)
                mbox += "X: " + std::string(input - (from.size() + 1) - 4, 'x') + eol;
            break;
        }
        case 2: // many lines, over 4 KiB in all
            for (size_t k = 40 + rng() % 40; k > 0; --k)
                mbox += fields[rng() % fields.size()] + " " + std::string(rng() % 90, 'y') + eol;
            break;
        case 3:
            if (rng() % 10 == 0) // past the 64 KiB read of the digest
                mbox +=
                    "X-Big: " + std::string(60000 + rng() % 10000, 'b') + eol + "Subject: z" + eol;
            break;
        default:
            for (size_t k = rng() % 12; k > 0; --k)
                mbox += fields[rng() % fields.size()] + eol;
        }
        mbox += eol + "body" + eol;
        if (rng() % 3 == 0)
            mbox += "Subject: in the body" + eol;
        mbox += eol;
    }
    return mbox;
}

// The digests are computed several messages at a time (DigestBatch,
// md5_each); they must be what Md5 gives one message at a time.
TEST(MboxIndex, UidDigestsAgreeWithOneByOneMd5OnGeneratedMailboxes) {
    std::mt19937 rng(1321);
    for (int round = 0; round < 30; ++round) {
        std::string mbox = header_mbox(rng);
        std::vector<ReferenceEntry> expected = reference_index(mbox);
        TempFile file(mbox);
        for (size_t buffer : {16, 100, 4096, 65536, 131072}) {
            expect_reference_index(index_mbox_bytes(mbox, "/test/mbox", buffer), expected, mbox,
                                   buffer, "bytes");
            expect_reference_index(index_mbox_file(file.fd(), mbox.size(), file.path(), buffer),
                                   expected, mbox, buffer, "file");
        }
    }
}

TEST(MboxIndex, UidDigestsAgreeWithOneByOneMd5AroundTheDeferredLimit) {
    // "From a\n" and "X: <n x>\n": 7 + 4 + n octets of digest input, n from 4015 to 4155.
    std::string mbox;
    for (size_t input = 4096 - 70; input <= 4096 + 70; ++input)
        mbox += "From a\nX: " + std::string(input - 11, 'x') + "\n\nb\n\n";
    for (size_t k = 0; k < 1000; ++k) // more messages than a batch holds
        mbox += "From " + std::to_string(k) + "\n\n\n";
    std::vector<ReferenceEntry> expected = reference_index(mbox);
    expect_reference_index(index_mbox_bytes(mbox, "/test/mbox"), expected, mbox, 0, "bytes");
}

// Each thing the block scan stops at, at every offset from a block's start.
TEST(MboxIndex, BodyScanFindsLineStartsAtEveryOffsetOfABlock) {
    for (std::string_view special :
         {">From x\n", ">>From x\r\n", ">Frox\n", "\nFrom y\nS: 2\n\n", "\r\nFrom y\n", "\nFro\n",
          "\nFrom", "\n", "\r\n", "\r\r\n", "Fa\n"}) {
        for (size_t pad = 0; pad < 140; ++pad) {
            std::string mbox = "From a\nS: 1\n\n" + std::string(pad, 'p') + "\n";
            mbox += special;
            mbox += std::string(150, 'q') + "\nend\n";
            std::vector<ReferenceEntry> expected = reference_index(mbox);
            for (size_t buffer : {16, 100, 200, 1000})
                expect_reference_index(index_mbox_bytes(mbox, "/test/mbox", buffer), expected, mbox,
                                       buffer, "bytes");
        }
    }
}

// --- UIDL -------------------------------------------------------------------

TEST(MboxIndex, UidlIsMd5OfFromLineAndHeaders) {
    MboxIndex index = index_of("From a@b Mon\nSubject: s\nTo: t\n\nbody\n");
    EXPECT_EQ(index.uidl(0), md5_hex("From a@b Mon\nSubject: s\nTo: t\n"));
}

TEST(MboxIndex, UidlIgnoresHeadersMuasRewrite) {
    MboxIndex plain = index_of("From a\nSubject: s\n\nbody\n");
    MboxIndex rewritten =
        index_of("From a\nStatus: RO\nSubject: s\nX-Status: A\nX-Keywords: $x\nX-UID: 7\n"
                 "X-Mozilla-Status: 0001\nX-Mozilla-Status2: 0\ncontent-length: 5\nLINES: 1\n"
                 "status:\n folded continuation of status\n\nbody\n");
    EXPECT_EQ(rewritten.uidl(0), plain.uidl(0));
}

TEST(MboxIndex, UidlKeepsContinuationOfOtherHeaders) {
    MboxIndex a = index_of("From a\nSubject: s\n more\n\nbody\n");
    MboxIndex b = index_of("From a\nSubject: s\n\nbody\n");
    EXPECT_NE(a.uidl(0), b.uidl(0));
}

TEST(MboxIndex, UidlIgnoresBody) {
    MboxIndex a = index_of("From a\nSubject: s\n\nbody one\n");
    MboxIndex b = index_of("From a\nSubject: s\n\nanother body\nlonger\n");
    EXPECT_EQ(a.uidl(0), b.uidl(0));
}

TEST(MboxIndex, UidlDependsOnFromLineAndHeaders) {
    std::string base = index_of("From a\nSubject: s\n\nb\n").uidl(0);
    EXPECT_NE(index_of("From b\nSubject: s\n\nb\n").uidl(0), base);
    EXPECT_NE(index_of("From a\nSubject: t\n\nb\n").uidl(0), base);
}

TEST(MboxIndex, UidlSameForLfAndCrlfStorage) {
    MboxIndex lf = index_of("From a\nSubject: s\n\nbody\n");
    MboxIndex crlf = index_of("From a\r\nSubject: s\r\n\r\nbody\r\n");
    EXPECT_EQ(lf.uidl(0), crlf.uidl(0));
}

TEST(MboxIndex, IdenticalMessagesGetRepeatSuffix) {
    std::string one = mboxrd_message("From a", "Subject: same\n\nbody\n");
    std::string other = mboxrd_message("From b", "Subject: other\n\nbody\n");
    MboxIndex index = index_of(one + other + one + one);
    std::string digest = md5_hex("From a\nSubject: same\n");
    EXPECT_EQ(index.uidl(0), digest);
    EXPECT_EQ(index.uidl(1), md5_hex("From b\nSubject: other\n"));
    EXPECT_EQ(index.uidl(2), digest + "-2");
    EXPECT_EQ(index.uidl(3), digest + "-3");
    expect_unique_valid_uidls(index);
}

TEST(MboxIndex, UidlsStableWhenOtherMessagesRemoved) {
    std::vector<std::string> messages;
    for (int i = 0; i < 8; ++i)
        messages.push_back(mboxrd_message("From u" + std::to_string(i),
                                          "Message-ID: <" + std::to_string(i) + "@x>\n\nb\n"));
    std::string all;
    for (const auto& m : messages)
        all += m;
    MboxIndex full = index_of(all);
    std::string kept;
    std::vector<std::string> expected;
    for (int i = 0; i < 8; ++i) {
        if (i % 3 == 1)
            continue;
        kept += messages[i];
        expected.push_back(full.uidl(i));
    }
    EXPECT_EQ(uidls_of(index_of(kept)), expected);
}

TEST(MboxIndex, XUidlHonoured) {
    MboxIndex index = index_of("From a\nX-UIDL: \t 1234abcd.qpopper \r\nSubject: s\n\nbody\n");
    EXPECT_EQ(index.uidl(0), "1234abcd.qpopper");
}

TEST(MboxIndex, XUidlNameIsCaseInsensitive) {
    EXPECT_EQ(index_of("From a\nx-uidl: abc\n\nb\n").uidl(0), "abc");
}

TEST(MboxIndex, XUidlInBodyIgnored) {
    MboxIndex index = index_of("From a\nSubject: s\n\nX-UIDL: abc\n");
    EXPECT_EQ(index.uidl(0), md5_hex("From a\nSubject: s\n"));
}

TEST(MboxIndex, InvalidXUidlIgnored) {
    for (std::string header :
         std::vector<std::string>{"X-UIDL: two words", "X-UIDL:", "X-UIDL: " + std::string(71, 'u'),
                                  "X-UIDL: caf\xc3\xa9"}) {
        MboxIndex index = index_of("From a\n" + header + "\n\nb\n");
        EXPECT_EQ(index.uidl(0).size(), 32u) << header;
        EXPECT_TRUE(index.x_uidls.empty());
    }
    EXPECT_EQ(index_of("From a\nX-UIDL: " + std::string(70, 'u') + "\n\nb\n").uidl(0),
              std::string(70, 'u'));
}

TEST(MboxIndex, DuplicateXUidlFallsBackForLaterMessage) {
    std::string first = "From a\nX-UIDL: dup\nSubject: 1\n\nb\n\n";
    std::string second = "From b\nX-UIDL: dup\nSubject: 2\n\nb\n";
    MboxIndex index = index_of(first + second);
    EXPECT_EQ(index.uidl(0), "dup");
    EXPECT_EQ(index.uidl(1), md5_hex("From b\nX-UIDL: dup\nSubject: 2\n"));
}

TEST(MboxIndex, XUidlEqualToEarlierComputedUidlFallsBack) {
    std::string digest = md5_hex("From a\nSubject: 1\n");
    std::string mbox = "From a\nSubject: 1\n\nb\n\nFrom a\nSubject: 1\n\nb\n\n"
                       "From c\nX-UIDL: " +
                       digest + "-2\n\nb\n";
    MboxIndex index = index_of(mbox);
    EXPECT_EQ(index.uidl(0), digest);
    EXPECT_EQ(index.uidl(1), digest + "-2");
    EXPECT_EQ(index.uidl(2), md5_hex("From c\nX-UIDL: " + digest + "-2\n"));
}

TEST(MboxIndex, ComputedUidlSkipsOneTakenByEarlierXUidl) {
    std::string digest = md5_hex("From a\nSubject: 1\n");
    std::string mbox = "From c\nX-UIDL: " + digest + "\n\nb\n\n" +
                       "From a\nSubject: 1\n\nb\n\nFrom a\nSubject: 1\n\nb\n";
    MboxIndex index = index_of(mbox);
    EXPECT_EQ(index.uidl(0), digest);
    EXPECT_EQ(index.uidl(1), digest + "-2");
    EXPECT_EQ(index.uidl(2), digest + "-3");
}

TEST(MboxIndex, ComputedUidlSkipsEveryRepeatTakenByXUidls) {
    std::string digest = md5_hex("From a\nSubject: 1\n");
    std::string same = "From a\nSubject: 1\n\nb\n\n";
    std::string mbox = "From c\nX-UIDL: " + digest + "-2\n\nb\n\n" + same +
                       "From d\nX-UIDL: " + digest + "-3\n\nb\n\n" + same + same;
    MboxIndex index = index_of(mbox);
    EXPECT_EQ(uidls_of(index), (std::vector<std::string>{digest + "-2", digest, digest + "-3",
                                                         digest + "-4", digest + "-5"}));
}

TEST(MboxIndex, HashesAtMostFirst64KiBOfHeaders) {
    std::string filler = "X-Filler: " + std::string(70 * 1024, 'f') + "\n";
    std::string a = "From a\n" + filler + "Subject: one\n\nb\n\n";
    std::string b = "From a\n" + filler + "Subject: two\n\nb\n";
    MboxIndex index = index_of(a + b);
    EXPECT_EQ(index.uidl(1), index.uidl(0) + "-2");
}

TEST(MboxIndex, UidlsUniqueOnGeneratedMailboxes) {
    std::mt19937 rng(1939);
    const std::vector<std::string> headers = {"Subject: a", "Subject: b", "X-UIDL: x1",
                                              "X-UIDL: x2", "Status: RO", "To: t"};
    for (int round = 0; round < 200; ++round) {
        std::string mbox;
        std::vector<std::string> digests;
        for (size_t n = rng() % 20; n > 0; --n) {
            std::string from = "From " + std::to_string(rng() % 3);
            std::string head;
            for (size_t h = rng() % 3; h > 0; --h)
                head += headers[rng() % headers.size()] + "\n";
            // Some X-UIDLs copy another message's computed UIDL.
            if (!digests.empty() && rng() % 4 == 0)
                head += "X-UIDL: " + digests[rng() % digests.size()] + "\n";
            digests.push_back(md5_hex(from + "\n" + head));
            if (rng() % 2)
                digests.back() += "-2";
            mbox += mboxrd_message(from, head + "\nbody\n");
        }
        MboxIndex index = index_of(mbox);
        expect_unique_valid_uidls(index);
    }
}

// --- UIDL side tables -------------------------------------------------------

TEST(MboxIndex, SideTablesHoldOnlyTwinsAndKeptXUidls) {
    std::string same = "From a\nSubject: same\n\nb\n\n";
    std::string mbox = same + "From b\nX-UIDL: kept\n\nb\n\n" + same +
                       "From c\nSubject: alone\n\nb\n\n" + same + "From d\nX-UIDL: kept\n\nb\n";
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 6u);
    ASSERT_EQ(index.repeats.size(), 2u);
    EXPECT_EQ(index.repeats[0].message, 2u);
    EXPECT_EQ(index.repeats[0].repeat, 1u);
    EXPECT_EQ(index.repeats[1].message, 4u);
    EXPECT_EQ(index.repeats[1].repeat, 2u);
    ASSERT_EQ(index.x_uidls.size(), 1u);
    EXPECT_EQ(index.x_uidls[0].message, 1u);
    EXPECT_EQ(index.x_uidl_octets, "kept");
    EXPECT_EQ(index.x_uidl_of(1), "kept");
    EXPECT_EQ(index.x_uidl_of(5), "");
    EXPECT_EQ(index.repeat_of(0), 0u);
    EXPECT_EQ(index.repeat_of(4), 2u);
}

// The rule of MboxIndex::uidl() as a literal walk in file order with a set of
// the UIDLs given so far: what the indexer computed before its side tables.
std::vector<std::string> reference_uidls(const std::vector<std::string>& digests,
                                         const std::vector<std::string>& x_uidls) {
    std::set<std::string> given;
    std::vector<std::string> uidls;
    for (size_t i = 0; i < digests.size(); ++i) {
        if (!x_uidls[i].empty() && given.insert(x_uidls[i]).second) {
            uidls.push_back(x_uidls[i]);
            continue;
        }
        std::string uidl = digests[i];
        for (uint64_t n = 2; given.contains(uidl); ++n)
            uidl = digests[i] + "-" + std::to_string(n);
        given.insert(uidl);
        uidls.push_back(uidl);
    }
    return uidls;
}

TEST(MboxIndex, UidlsEqualLiteralRuleWhenXUidlsSpellComputedOnes) {
    std::mt19937 rng(4155);
    const std::vector<std::string> plain = {"From a\nSubject: 1\n", "From a\nSubject: 2\n",
                                            "From b\nSubject: 1\n"};
    std::vector<std::string> values = {"x1", "x2", md5_hex("absent")};
    for (const std::string& p : plain) {
        values.push_back(md5_hex(p));
        for (int n = 2; n <= 5; ++n)
            values.push_back(md5_hex(p) + "-" + std::to_string(n));
    }
    for (int round = 0; round < 3000; ++round) {
        std::string mbox;
        std::vector<std::string> digests, x_uidls;
        for (size_t n = 1 + rng() % 14; n > 0; --n) {
            std::string head = plain[rng() % plain.size()];
            std::string x_uidl;
            if (rng() % 3 == 0) {
                x_uidl = values[rng() % values.size()];
                head += "X-UIDL: " + x_uidl + "\n";
            }
            digests.push_back(md5_hex(head));
            x_uidls.push_back(x_uidl);
            mbox += mboxrd_message(head.substr(0, head.find('\n')),
                                   head.substr(head.find('\n') + 1) + "\nbody\n");
        }
        MboxIndex index = index_of(mbox);
        ASSERT_EQ(uidls_of(index), reference_uidls(digests, x_uidls)) << mbox;
        for (size_t k = 1; k < index.repeats.size(); ++k)
            ASSERT_LT(index.repeats[k - 1].message, index.repeats[k].message);
        for (const RepeatRow& row : index.repeats)
            ASSERT_GT(row.repeat, 0u);
        for (size_t k = 1; k < index.x_uidls.size(); ++k)
            ASSERT_LT(index.x_uidls[k - 1].message, index.x_uidls[k].message);
    }
}

// Past 32,768 messages twins are found slice by slice of digests (uidl.cpp).
TEST(MboxIndex, UidlsEqualLiteralRuleInALargeMailbox) {
    std::mt19937 rng(1725);
    std::string mbox;
    std::vector<std::string> digests, x_uidls;
    for (int i = 0; i < 50000; ++i) {
        std::string head = "From x\nS: " + std::to_string(rng() % 20000) + "\n";
        std::string x_uidl;
        if (rng() % 10 == 0) {
            x_uidl = "x" + std::to_string(rng() % 3000);
            head += "X-UIDL: " + x_uidl + "\n";
        }
        digests.push_back(md5_hex(head));
        x_uidls.push_back(x_uidl);
        mbox += head + "\n";
    }
    MboxIndex index = index_of(mbox);
    ASSERT_EQ(index.messages.size(), 50000u);
    EXPECT_GT(index.repeats.size(), 10000u);
    ASSERT_EQ(uidls_of(index), reference_uidls(digests, x_uidls));
    for (size_t k = 1; k < index.repeats.size(); ++k)
        ASSERT_LT(index.repeats[k - 1].message, index.repeats[k].message);
}

TEST(MboxIndex, ManyTwinsNumberedInFileOrder) {
    std::string one = mboxrd_message("From a", "Subject: same\n\nbody\n");
    std::string mbox;
    for (int i = 0; i < 1000; ++i)
        mbox += i % 10 == 3 ? mboxrd_message("From z" + std::to_string(i), "S: x\n\nb\n") : one;
    MboxIndex index = index_of(mbox);
    std::string digest = md5_hex("From a\nSubject: same\n");
    uint32_t n = 0;
    for (size_t i = 0; i < 1000; ++i) {
        if (i % 10 == 3)
            continue;
        EXPECT_EQ(index.uidl(i), n == 0 ? digest : digest + "-" + std::to_string(n + 1));
        ++n;
    }
    EXPECT_EQ(index.repeats.size(), 899u);
}

// --- MessageList --------------------------------------------------------------

MessageEntry entry_numbered(uint64_t n) {
    MessageEntry e;
    e.from_line = n;
    e.start = n + 1;
    e.end = n + 2;
    e.pop_size = n + 3;
    e.uid_digest[0] = static_cast<uint8_t>(n);
    return e;
}

TEST(MessageList, GrowsAcrossManyPagesKeepingEntries) {
    MessageList list;
    EXPECT_TRUE(list.empty());
    for (uint64_t n = 0; n < 100000; ++n)
        list.push_back(entry_numbered(n));
    ASSERT_EQ(list.size(), 100000u);
    uint64_t n = 0;
    for (const MessageEntry& e : list) {
        ASSERT_EQ(e.from_line, n);
        ASSERT_EQ(e.pop_size, n + 3);
        ASSERT_EQ(e.uid_digest[0], static_cast<uint8_t>(n));
        ++n;
    }
    EXPECT_EQ(list.back().from_line, 99999u);
    EXPECT_EQ(list.at(5).start, 6u);
    EXPECT_THROW((void)list.at(100000), std::out_of_range);
}

TEST(MessageList, CopyIsDeepAndMoveEmptiesTheSource) {
    MessageList list;
    for (uint64_t n = 0; n < 300; ++n)
        list.push_back(entry_numbered(n));
    MessageList copy = list;
    copy[0].from_line = 77;
    EXPECT_EQ(list[0].from_line, 0u);
    ASSERT_EQ(copy.size(), 300u);
    EXPECT_EQ(copy[299].end, 301u);
    MessageList moved = std::move(list);
    EXPECT_EQ(moved.size(), 300u);
    EXPECT_TRUE(list.empty()); // NOLINT(bugprone-use-after-move): moved-from state is specified
    copy = moved;
    EXPECT_EQ(copy[0].from_line, 0u);
    copy = MessageList();
    EXPECT_TRUE(copy.empty());
}

TEST(MessageList, ResizeAddsZeroEntries) {
    MessageList list;
    for (uint64_t n = 1; n <= 10; ++n)
        list.push_back(entry_numbered(n));
    list.resize(3);
    list.resize(5000);
    ASSERT_EQ(list.size(), 5000u);
    EXPECT_EQ(list[2].from_line, 3u);
    const MessageEntry zero{};
    for (size_t i = 3; i < list.size(); ++i)
        ASSERT_EQ(std::memcmp(&list[i], &zero, sizeof zero), 0) << i;
}

} // namespace
} // namespace popper
