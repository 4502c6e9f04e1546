// A stored message in POP3 form (RFC 1939 §3): LF -> CRLF (stored CRLF kept
// as is; a lone CR is sent as is), mboxrd ">From " unescaped (one '>' removed
// from every line matching ^>+From ), lines starting with '.' dot-stuffed
// after unescaping, a final CRLF added when the last line has none, then
// ".\r\n".
//
// "stored" is the message as it sits in the mbox: from the byte after the
// From_ line up to, not including, the separator's empty line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace popper {

// The per-line rules, shared by the encoder, the sizes and the mbox indexer.
// A stored line runs up to and including its LF; only a message's last line
// may lack one.

// "\n" or "\r\n": ends a header section, and in an mbox, before "From ", a message.
inline bool is_blank_line(std::string_view line) {
    return line == "\n" || line == "\r\n";
}

// The line without its "\n" or "\r\n" (a last line without LF loses a
// final CR too): what the UIDL digest hashes, so LF and CRLF spools agree.
inline std::string_view without_line_ending(std::string_view line) {
    if (line.ends_with('\n'))
        line.remove_suffix(1);
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    return line;
}

// ^>+From  — an mboxrd-escaped From_ line, sent with one '>' less.
inline bool is_escaped_from_line(std::string_view line) {
    size_t i = 0;
    while (i < line.size() && line[i] == '>')
        ++i;
    return i > 0 && line.substr(i).starts_with("From ");
}

// Octets a stored line occupies in POP3 form before dot-stuffing, from its
// length (LF included), how it ends and whether it is ^>+From ; a last line
// without LF counts the CRLF the encoder adds.
inline uint64_t pop_line_octets(uint64_t length, bool has_lf, bool crlf, bool escaped) {
    if (length == 0)
        return 0;
    uint64_t octets = length + (has_lf ? (crlf ? 0 : 1) : 2);
    return escaped ? octets - 1 : octets;
}

inline uint64_t pop_line_octets(std::string_view line) {
    size_t n = line.size();
    bool has_lf = n > 0 && line[n - 1] == '\n';
    bool crlf = has_lf && n >= 2 && line[n - 2] == '\r';
    bool escaped = n > 0 && line[0] == '>' && is_escaped_from_line(line);
    return pop_line_octets(n, has_lf, crlf, escaped);
}

// The octets of the CRLF form before dot-stuffing: what LIST and STAT report
// (RFC 1939 §5, §11). Zero for an empty message.
uint64_t pop_size_of(std::string_view stored);

// Room an encoder call needs for `stored_octets` of input, and finish() for
// nothing: every stored octet may become two (LF -> CRLF, "." -> ".."), plus
// the few octets held back at a line start and the terminator.
inline constexpr size_t kWireSlackOctets = 16;
constexpr size_t max_wire_octets(size_t stored_octets) {
    return 2 * stored_octets + kWireSlackOctets;
}

// Streaming encoder: the stored message is fed in pieces that may split it
// anywhere (e.g. fixed-size preads), so memory stays bounded whatever the
// line lengths. Unchanged stretches of a line are copied in bulk; only line
// ends and line starts are looked at. RETR encodes the whole message; TOP
// (RFC 1939 §7) the header section up to and including its first empty line
// (all of the message if it has none), then at most `body_lines` lines.
class WireEncoder {
public:
    static WireEncoder whole_message() { return WireEncoder(false, 0); }
    static WireEncoder top(uint64_t body_lines) { return WireEncoder(true, body_lines); }
    // POP2's RETR (RFC 937): the client reads exactly the octet count READ
    // gave, so the message goes without dot-stuffing and without ".\r\n";
    // its octets are then exactly the message's pop_size.
    static WireEncoder unframed_message() {
        WireEncoder encoder(false, 0);
        encoder.framed_ = false;
        return encoder;
    }

    // Encodes the next piece of the stored message to `out`, which has room
    // for max_wire_octets(piece.size()); returns the octets written. After
    // complete() the rest of the message is ignored.
    size_t encode(std::string_view piece, char* out);
    // TOP: every line asked for has been encoded; further input is not needed.
    bool complete() const { return complete_; }
    // After the last piece: the final CRLF if the last line had none, then
    // ".\r\n" (not unframed), to `out` with room for max_wire_octets(0); returns the octets.
    size_t finish(char* out);

private:
    // Where the next stored octet falls: at a line's start (where '.' and
    // '>' matter), inside a run of '>' that begins a line (the first one held
    // back), after that run in a possible "From " (`from_matched_` octets of
    // it held back), or in the rest of a line, which is copied as it is.
    enum class At { line_start, arrows, from, rest_of_line };

    WireEncoder(bool top, uint64_t body_lines) : top_(top), body_lines_left_(body_lines) {}
    struct Cursor {
        const char* in;
        char* out;
    };
    Cursor start_line(Cursor at, const char* end);
    Cursor copy_plain_lines(Cursor at, const char* begin, const char* end);
    Cursor copy_lines(Cursor at, const char* begin, const char* end);
    bool ends_crlf(const char* lf, const char* begin) const;
    void end_line(bool blank);
    char* release_held(char* out) const;

    bool top_;
    bool framed_ = true; // POP3: dot-stuffed and ended by ".\r\n"
    uint64_t body_lines_left_;
    bool in_header_ = true;
    bool complete_ = false;
    At at_ = At::line_start;
    unsigned from_matched_ = 0;
    bool last_was_cr_ = false; // the piece before ended in CR: a CRLF may span pieces
    uint64_t line_octets_ = 0; // of the current line, in earlier pieces or held back
};

// The whole wire form of a message including the terminating ".\r\n"; and
// of its TOP. For tests and tools: the session streams with WireEncoder.
std::string encode_message(std::string_view stored);
std::string encode_top(std::string_view stored, uint64_t body_lines);

} // namespace popper
