#include "popper/wire.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace popper {
namespace {

using namespace std::string_literals;

// The rules of wire.h applied byte by byte, as a check on the bulk encoder.
std::string reference_wire_form(std::string_view stored) {
    std::string out;
    size_t pos = 0;
    while (pos < stored.size()) {
        size_t end = stored.find('\n', pos);
        std::string line(stored.substr(pos, end == std::string_view::npos ? end : end - pos));
        bool has_lf = end != std::string_view::npos;
        pos = has_lf ? end + 1 : stored.size();
        size_t arrows = line.find_first_not_of('>');
        if (arrows != 0 && arrows != std::string::npos && line.compare(arrows, 5, "From ") == 0)
            line.erase(0, 1);
        if (!line.empty() && line[0] == '.')
            line.insert(0, ".");
        if (!line.empty() && line.back() == '\r' && has_lf)
            line.pop_back();
        out += line + "\r\n";
    }
    return out + ".\r\n";
}

// Random messages made of the pieces that matter to the rules.
std::string random_message(std::mt19937 &rng) {
    static const std::vector<std::string> pieces = {
        "From ", ">From ", ">>From ", "From",          ">", ".",           "..", "\n",   "\n",
        "\r\n",  "\r\n",   "\r",      "\0"s,           "x", "Subject: hi", " ",  "\xff", "\t",
        ".\r\n", ".\n",    "\n\n",    "a line of text"};
    std::uniform_int_distribution<size_t> count(0, 40);
    std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
    std::string message;
    for (size_t n = count(rng); n > 0; --n)
        message += pieces[pick(rng)];
    return message;
}

size_t dot_stuffed_lines(std::string_view stored) {
    size_t lines = 0;
    for (size_t pos = 0; pos < stored.size();) {
        if (stored[pos] == '.')
            ++lines;
        size_t end = stored.find('\n', pos);
        pos = end == std::string_view::npos ? stored.size() : end + 1;
    }
    return lines;
}

TEST(Wire, ConvertsBareLfToCrlf) {
    EXPECT_EQ(encode_message("Subject: a\n\nbody\n"), "Subject: a\r\n\r\nbody\r\n.\r\n");
}

TEST(Wire, SendsStoredCrlfAsIs) {
    EXPECT_EQ(encode_message("Subject: a\r\n\r\nbody\r\n"), "Subject: a\r\n\r\nbody\r\n.\r\n");
}

TEST(Wire, MixedLineEndingsNeverGiveCrCrLf) {
    EXPECT_EQ(encode_message("a\r\nb\nc\r\n"), "a\r\nb\r\nc\r\n.\r\n");
}

TEST(Wire, SendsLoneCrAsIs) {
    EXPECT_EQ(encode_message("a\rb\n"), "a\rb\r\n.\r\n");
    EXPECT_EQ(encode_message("a\r\r\n"), "a\r\r\n.\r\n");
}

TEST(Wire, DotStuffsLineStartingWithDot) {
    EXPECT_EQ(encode_message("x\n.hidden\n"), "x\r\n..hidden\r\n.\r\n");
}

TEST(Wire, DotStuffsLineOfSingleDot) {
    EXPECT_EQ(encode_message("a\n.\nb\n"), "a\r\n..\r\nb\r\n.\r\n");
    EXPECT_EQ(encode_message(".\r\n"), "..\r\n.\r\n");
}

TEST(Wire, DotStuffsFirstLine) {
    EXPECT_EQ(encode_message("..x\n"), "...x\r\n.\r\n");
}

TEST(Wire, UnescapesMboxrdFromLine) {
    EXPECT_EQ(encode_message("a\n>From x\n"), "a\r\nFrom x\r\n.\r\n");
}

TEST(Wire, UnescapesOneLevelOfNestedFrom) {
    EXPECT_EQ(encode_message(">>From x\n>>>From y\r\n"), ">From x\r\n>>From y\r\n.\r\n");
}

TEST(Wire, UnescapesFromInHeaders) {
    EXPECT_EQ(encode_message(">From: not a header\n\nb\n"),
              ">From: not a header\r\n\r\nb\r\n.\r\n");
    EXPECT_EQ(encode_message(">From x\nSubject: s\n\nb\n"),
              "From x\r\nSubject: s\r\n\r\nb\r\n.\r\n");
}

TEST(Wire, LeavesLinesThatOnlyLookEscaped) {
    EXPECT_EQ(encode_message(">From\n> From x\n>from x\nx>From y\n"),
              ">From\r\n> From x\r\n>from x\r\nx>From y\r\n.\r\n");
}

TEST(Wire, UnescapesLastLineWithoutNewline) {
    EXPECT_EQ(encode_message(">From x"), "From x\r\n.\r\n");
}

TEST(Wire, AddsCrlfWhenLastLineHasNoNewline) {
    EXPECT_EQ(encode_message("a\nlast"), "a\r\nlast\r\n.\r\n");
    EXPECT_EQ(encode_message(".last"), "..last\r\n.\r\n");
}

TEST(Wire, EmptyMessageIsJustTerminator) {
    EXPECT_EQ(encode_message(""), ".\r\n");
    EXPECT_EQ(pop_size_of(""), 0u);
}

TEST(Wire, MessageOfOnlyHeaders) {
    EXPECT_EQ(encode_message("Subject: a\nTo: b\n"), "Subject: a\r\nTo: b\r\n.\r\n");
}

TEST(Wire, PassesBinaryBytesAndNuls) {
    std::string stored = "a\0b\xff\x80\n\0\n"s;
    EXPECT_EQ(encode_message(stored), "a\0b\xff\x80\r\n\0\r\n.\r\n"s);
    EXPECT_EQ(pop_size_of(stored), 10u);
}

TEST(Wire, PopSizeCountsCrlfFormBeforeDotStuffing) {
    // "a\r\n" + "..b\r\n" (one dot stuffed, not counted) + "From c\r\n"
    EXPECT_EQ(pop_size_of("a\n.b\n>From c\r\n"), 3u + 4u + 8u);
}

TEST(Wire, PopSizeIncludesAddedFinalCrlf) {
    EXPECT_EQ(pop_size_of("a\nb"), 3u + 3u);
}

TEST(Wire, PopLineOctetsPerLine) {
    EXPECT_EQ(pop_line_octets("abc\n"), 5u);
    EXPECT_EQ(pop_line_octets("abc\r\n"), 5u);
    EXPECT_EQ(pop_line_octets("abc"), 5u);
    EXPECT_EQ(pop_line_octets("\n"), 2u);
    EXPECT_EQ(pop_line_octets(">From x\n"), 8u);
    EXPECT_EQ(pop_line_octets(""), 0u);
}

TEST(Wire, PopSizeEqualsEncodedSizeLessStuffingAndTerminatorOnGeneratedMessages) {
    std::mt19937 rng(1939);
    for (int i = 0; i < 20000; ++i) {
        std::string stored = random_message(rng);
        std::string wire = encode_message(stored);
        ASSERT_EQ(pop_size_of(stored), wire.size() - dot_stuffed_lines(stored) - 3)
            << testing::PrintToString(stored);
    }
}

TEST(Wire, EncoderMatchesByteByByteRulesOnGeneratedMessages) {
    std::mt19937 rng(4155);
    for (int i = 0; i < 20000; ++i) {
        std::string stored = random_message(rng);
        ASSERT_EQ(encode_message(stored), reference_wire_form(stored))
            << testing::PrintToString(stored);
    }
}

TEST(Wire, StreamingInSmallChunksEqualsWholeEncodingOnGeneratedMessages) {
    std::mt19937 rng(1321);
    for (int i = 0; i < 5000; ++i) {
        std::string stored = random_message(rng);
        size_t limit = rng() % 24;
        WireEncoder encoder(stored);
        std::string streamed, chunk;
        bool done = false;
        while (!done) {
            chunk.clear();
            done = encoder.encode(chunk, limit);
            ASSERT_TRUE(done || !chunk.empty());
            streamed += chunk;
        }
        encoder.finish(streamed);
        ASSERT_EQ(streamed, encode_message(stored)) << testing::PrintToString(stored);
    }
}

TEST(Wire, StreamsTenMegabyteMessageInBoundedWrites) {
    std::string stored = "Subject: big\n\n";
    for (int i = 0; stored.size() < (10u << 20); ++i) {
        stored += (i % 97 == 0) ? ".dotted line\n" : (i % 89 == 0) ? ">From escaped\n" : "";
        stored += "line " + std::to_string(i) + " of a ten megabyte message body, more text\n";
    }
    const size_t limit = 256 * 1024;
    WireEncoder encoder(stored);
    std::string streamed, chunk;
    size_t writes = 0;
    bool done = false;
    while (!done) {
        chunk.clear();
        done = encoder.encode(chunk, limit);
        ASSERT_LE(chunk.size(), limit);
        ASSERT_TRUE(chunk.ends_with("\r\n")) << "a write must end at a line boundary";
        streamed += chunk;
        ++writes;
    }
    EXPECT_EQ(encoder.position(), stored.size());
    encoder.finish(streamed);
    EXPECT_EQ(streamed, encode_message(stored));
    EXPECT_GE(writes, (10u << 20) / limit);
    EXPECT_LE(writes, (10u << 20) / limit + 3);
}

TEST(Wire, LineLongerThanLimitIsSentWhole) {
    std::string long_line(100 * 1024 + 7, 'y');
    std::string stored = "a\n" + long_line + "\nb\n";
    WireEncoder encoder(stored);
    std::string out;
    EXPECT_FALSE(encoder.encode(out, 1024));
    EXPECT_EQ(out, "a\r\n");
    out.clear();
    EXPECT_FALSE(encoder.encode(out, 1024));
    EXPECT_EQ(out, long_line + "\r\n");
    out.clear();
    EXPECT_TRUE(encoder.encode(out, 1024));
    EXPECT_EQ(out, "b\r\n");
}

TEST(Wire, LongLineWithoutNewlineKeepsItsRules) {
    std::string stored = ">From " + std::string(150 * 1024, 'z');
    std::string expected = "From " + std::string(150 * 1024, 'z') + "\r\n.\r\n";
    EXPECT_EQ(encode_message(stored), expected);
    EXPECT_EQ(pop_size_of(stored), expected.size() - 3);
}

TEST(Wire, EncoderMakesProgressWithZeroLimit) {
    WireEncoder encoder("a\nb\n");
    std::string out = "+OK\r\n";
    EXPECT_FALSE(encoder.encode(out, 0));
    EXPECT_EQ(out, "+OK\r\na\r\n");
    EXPECT_EQ(encoder.position(), 2u);
}

TEST(Wire, EncoderCountsWhatOutAlreadyHolds) {
    WireEncoder encoder("aa\nbb\ncc\n");
    std::string out = "+OK\r\n";
    EXPECT_FALSE(encoder.encode(out, 5 + 8));
    EXPECT_EQ(out, "+OK\r\naa\r\nbb\r\n");
}

TEST(Wire, TopPrefixIsHeadersAndBlankLineForZeroLines) {
    std::string_view stored = "A: 1\nB: 2\n\nl1\nl2\n";
    EXPECT_EQ(stored.substr(0, top_prefix_length(stored, 0)), "A: 1\nB: 2\n\n");
}

TEST(Wire, TopPrefixCountsBodyLines) {
    std::string_view stored = "A: 1\n\nl1\n\nl3\nl4\n";
    EXPECT_EQ(stored.substr(0, top_prefix_length(stored, 1)), "A: 1\n\nl1\n");
    EXPECT_EQ(stored.substr(0, top_prefix_length(stored, 3)), "A: 1\n\nl1\n\nl3\n");
    EXPECT_EQ(top_prefix_length(stored, 100), stored.size());
}

TEST(Wire, TopPrefixWithCrlfBlankLine) {
    std::string_view stored = "A: 1\r\n\r\nl1\r\nl2\r\n";
    EXPECT_EQ(stored.substr(0, top_prefix_length(stored, 1)), "A: 1\r\n\r\nl1\r\n");
}

TEST(Wire, TopPrefixOfMessageWithoutBlankLineIsWholeMessage) {
    std::string_view stored = "A: 1\nB: 2\n";
    EXPECT_EQ(top_prefix_length(stored, 0), stored.size());
}

TEST(Wire, TopPrefixWhenBodyStartsImmediately) {
    std::string_view stored = "\nbody\n";
    EXPECT_EQ(top_prefix_length(stored, 0), 1u);
}

TEST(Wire, TopOfMessageEndingMidLineGetsFinalCrlf) {
    std::string_view stored = "A: 1\n\nlast";
    EXPECT_EQ(encode_message(stored.substr(0, top_prefix_length(stored, 5))),
              "A: 1\r\n\r\nlast\r\n.\r\n");
    EXPECT_EQ(encode_message(stored.substr(0, top_prefix_length(stored, 0))), "A: 1\r\n\r\n.\r\n");
}

TEST(Wire, TopPrefixOfEmptyMessage) {
    EXPECT_EQ(top_prefix_length("", 10), 0u);
}

} // namespace
} // namespace popper
