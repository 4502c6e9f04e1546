#include "popper/wire.h"

#include <gtest/gtest.h>

#include <algorithm>
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
std::string random_message(std::mt19937& rng) {
    static const std::vector<std::string> pieces = {
        "From ", ">From ", ">>From ", "From", ">", ".", "..", "\n", "\n", "\r\n", "\r\n", "\r",
        "\0"s, "x", "Subject: hi", " ", "\xff", "\t", ".\r\n", ".\n", "\n\n", "a line of text",
        // Longer than the encoder's 64-octet blocks, with LF or CR at their edges.
        std::string(63, 'w'), std::string(64, 'v') + "\r", std::string(130, 'u') + "\n"};
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

// RFC 937: POP2's RETR sends exactly the octets READ counted, pop_size_of().
std::string encode_unframed(std::string_view stored, size_t piece_octets) {
    WireEncoder encoder = WireEncoder::unframed_message();
    std::string out(max_wire_octets(stored.size()) + max_wire_octets(0), '\0');
    size_t n = 0;
    for (size_t pos = 0; pos < stored.size(); pos += piece_octets)
        n += encoder.encode(stored.substr(pos, piece_octets), out.data() + n);
    n += encoder.finish(out.data() + n);
    out.resize(n);
    return out;
}

TEST(Wire, UnframedMessageIsNotDotStuffedNorTerminated) {
    const std::string stored = ".a\n>From x\n.\n" + std::string(200, 'b') + "\n..c\r\nlast";
    const std::string sent =
        ".a\r\nFrom x\r\n.\r\n" + std::string(200, 'b') + "\r\n..c\r\nlast\r\n";
    for (size_t piece : {size_t{1}, size_t{3}, size_t{64}, stored.size()}) {
        EXPECT_EQ(encode_unframed(stored, piece), sent) << piece;
    }
    EXPECT_EQ(sent.size(), pop_size_of(stored));
    EXPECT_EQ(encode_unframed("", 1), "");
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

TEST(Wire, WithoutLineEndingDropsLfOrCrlf) {
    EXPECT_EQ(without_line_ending("abc\n"), "abc");
    EXPECT_EQ(without_line_ending("abc\r\n"), "abc");
    EXPECT_EQ(without_line_ending("abc\r"), "abc");
    EXPECT_EQ(without_line_ending("abc\n\n"), "abc\n");
    EXPECT_EQ(without_line_ending("abc"), "abc");
    EXPECT_EQ(without_line_ending(""), "");
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

// Feeds `stored` to `encoder` in pieces of the given sizes (cycled), checking
// that no piece writes past the room max_wire_octets() promises.
std::string encode_in_pieces(WireEncoder encoder, std::string_view stored,
                             const std::vector<size_t>& sizes) {
    constexpr char kUntouched = '\x5a';
    std::string wire;
    size_t next = 0;
    for (size_t pos = 0; pos < stored.size() && !encoder.complete(); ++next) {
        size_t n = std::min(sizes[next % sizes.size()], stored.size() - pos);
        std::string out(max_wire_octets(n) + 64, kUntouched);
        size_t produced = encoder.encode(stored.substr(pos, n), out.data());
        EXPECT_LE(produced, max_wire_octets(n));
        EXPECT_EQ(out.find_first_not_of(kUntouched, max_wire_octets(n)), std::string::npos)
            << "wrote past its room";
        wire.append(out, 0, produced);
        pos += n;
    }
    std::string out(max_wire_octets(0) + 64, kUntouched);
    size_t produced = encoder.finish(out.data());
    EXPECT_LE(produced, max_wire_octets(0));
    EXPECT_EQ(out.find_first_not_of(kUntouched, max_wire_octets(0)), std::string::npos);
    return wire + out.substr(0, produced);
}

// TOP's stored prefix by the rules of wire.h, line by line.
std::string_view reference_top_prefix(std::string_view stored, uint64_t body_lines) {
    auto line_end = [&](size_t pos) {
        size_t lf = stored.find('\n', pos);
        return lf == std::string_view::npos ? stored.size() : lf + 1;
    };
    size_t pos = 0;
    while (pos < stored.size()) {
        size_t end = line_end(pos);
        bool blank = is_blank_line(stored.substr(pos, end - pos));
        pos = end;
        if (blank)
            break;
    }
    for (uint64_t i = 0; i < body_lines && pos < stored.size(); ++i)
        pos = line_end(pos);
    return stored.substr(0, pos);
}

TEST(Wire, StreamingInPiecesOfAnySizeEqualsWholeEncodingOnGeneratedMessages) {
    std::mt19937 rng(1321);
    for (int i = 0; i < 5000; ++i) {
        std::string stored = random_message(rng);
        std::vector<size_t> sizes = {1 + rng() % 24, 1 + rng() % 7, 1 + rng() % 80};
        ASSERT_EQ(encode_in_pieces(WireEncoder::whole_message(), stored, sizes),
                  encode_message(stored))
            << testing::PrintToString(stored);
    }
}

TEST(Wire, APieceMayEndAnywhereInALine) {
    for (std::string stored : {">>From x\n>From\n", "a\r\nb\r\n", "x\n.y\n..\n", ">F\n>Fro\n",
                               ">>>\n", "a\rb\r", "\r\n\r\n"}) {
        for (size_t cut = 1; cut < stored.size(); ++cut) {
            ASSERT_EQ(encode_in_pieces(WireEncoder::whole_message(), stored, {cut, stored.size()}),
                      encode_message(stored))
                << testing::PrintToString(stored) << " cut at " << cut;
        }
        ASSERT_EQ(encode_in_pieces(WireEncoder::whole_message(), stored, {1}),
                  encode_message(stored));
    }
}

TEST(Wire, EveryOctetMayDoubleButNoMore) {
    for (std::string stored : {"\n\n\n\n", ".\n.\n.\n", "..\n", ">From \n>From \n"}) {
        std::string wire = encode_in_pieces(WireEncoder::whole_message(), stored, {1, 2, 3});
        EXPECT_EQ(wire, encode_message(stored));
        EXPECT_LE(wire.size(), max_wire_octets(stored.size()));
    }
}

TEST(Wire, StreamsTenMegabyteMessageInFixedPieces) {
    std::string stored = "Subject: big\n\n";
    for (int i = 0; stored.size() < (10u << 20); ++i) {
        stored += (i % 97 == 0) ? ".dotted line\n" : (i % 89 == 0) ? ">From escaped\n" : "";
        stored += "line " + std::to_string(i) + " of a ten megabyte message body, more text\n";
    }
    std::string streamed = encode_in_pieces(WireEncoder::whole_message(), stored, {128 * 1024});
    EXPECT_EQ(streamed, reference_wire_form(stored));
    EXPECT_EQ(streamed, encode_message(stored));
}

TEST(Wire, LineLongerThanAPieceIsStreamedWhole) {
    std::string long_line(100 * 1024 + 7, 'y');
    std::string stored = "a\n" + long_line + "\r\n.b\n";
    EXPECT_EQ(encode_in_pieces(WireEncoder::whole_message(), stored, {1024}),
              "a\r\n" + long_line + "\r\n..b\r\n.\r\n");
}

TEST(Wire, LongLineWithoutNewlineKeepsItsRules) {
    std::string stored = ">From " + std::string(150 * 1024, 'z');
    std::string expected = "From " + std::string(150 * 1024, 'z') + "\r\n.\r\n";
    EXPECT_EQ(encode_message(stored), expected);
    EXPECT_EQ(pop_size_of(stored), expected.size() - 3);
}

TEST(Wire, TopZeroSendsTheHeadersAndTheEmptyLine) {
    EXPECT_EQ(encode_top("A: 1\nB: 2\n\nl1\nl2\n", 0), "A: 1\r\nB: 2\r\n\r\n.\r\n");
}

TEST(Wire, TopCountsBodyLines) {
    std::string_view stored = "A: 1\n\nl1\n\nl3\nl4\n";
    EXPECT_EQ(encode_top(stored, 1), "A: 1\r\n\r\nl1\r\n.\r\n");
    EXPECT_EQ(encode_top(stored, 3), "A: 1\r\n\r\nl1\r\n\r\nl3\r\n.\r\n");
    EXPECT_EQ(encode_top(stored, 100), encode_message(stored));
}

TEST(Wire, TopFindsACrlfEmptyLine) {
    EXPECT_EQ(encode_top("A: 1\r\n\r\nl1\r\nl2\r\n", 1), "A: 1\r\n\r\nl1\r\n.\r\n");
}

TEST(Wire, TopOfAMessageWithoutEmptyLineIsTheWholeMessage) {
    EXPECT_EQ(encode_top("A: 1\nB: 2\n", 0), "A: 1\r\nB: 2\r\n.\r\n");
}

TEST(Wire, TopWhenTheBodyStartsAtOnce) {
    EXPECT_EQ(encode_top("\nbody\n", 0), "\r\n.\r\n");
}

TEST(Wire, TopOfAMessageEndingMidLineGetsAFinalCrlf) {
    EXPECT_EQ(encode_top("A: 1\n\nlast", 5), "A: 1\r\n\r\nlast\r\n.\r\n");
    EXPECT_EQ(encode_top("A: 1\n\nlast", 0), "A: 1\r\n\r\n.\r\n");
}

TEST(Wire, TopOfAnEmptyMessage) {
    EXPECT_EQ(encode_top("", 10), ".\r\n");
}

TEST(Wire, TopDoesNotTakeAnEscapedOrStuffedLineForTheEmptyLine) {
    EXPECT_EQ(encode_top(">\n.\n>From x\n\nb\nc\n", 1), ">\r\n..\r\nFrom x\r\n\r\nb\r\n.\r\n");
}

TEST(Wire, TopMatchesTheLineRulesOnGeneratedMessagesInAnyPieces) {
    std::mt19937 rng(7);
    for (int i = 0; i < 5000; ++i) {
        std::string stored = random_message(rng);
        uint64_t lines = rng() % 5;
        std::string expected = encode_message(reference_top_prefix(stored, lines));
        ASSERT_EQ(encode_top(stored, lines), expected) << testing::PrintToString(stored);
        std::vector<size_t> sizes = {1 + rng() % 9, 1 + rng() % 30};
        ASSERT_EQ(encode_in_pieces(WireEncoder::top(lines), stored, sizes), expected)
            << testing::PrintToString(stored) << " TOP " << lines;
    }
}

TEST(Wire, TopTakesNoMoreInputOnceComplete) {
    WireEncoder encoder = WireEncoder::top(0);
    std::string out(max_wire_octets(64), '\0');
    EXPECT_FALSE(encoder.complete());
    out.resize(encoder.encode("A: 1\n\nbody\nmore\n", out.data()));
    EXPECT_TRUE(encoder.complete());
    EXPECT_EQ(out, "A: 1\r\n\r\n");
}

} // namespace
} // namespace popper
