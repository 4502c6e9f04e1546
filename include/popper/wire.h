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

// Length of the stored prefix that TOP sends (RFC 1939 §7): the header
// section up to and including the first empty line (the whole message if it
// has none), then at most `body_lines` lines of body.
size_t top_prefix_length(std::string_view stored, uint64_t body_lines);

// Incremental encoder over a whole message held in memory (a mapping), for
// streaming a large message in bounded writes. Each encode() appends whole
// lines to `out`: at least one line per call (so it always makes progress),
// then further lines while they fit within `out_limit` octets. `out` exceeds
// the limit only when the first line appended by a call does not fit, e.g. a
// single line longer than the limit.
class WireEncoder {
public:
    explicit WireEncoder(std::string_view stored) : stored_(stored) {}
    // Appends wire octets; returns true when the whole message is encoded.
    bool encode(std::string &out, size_t out_limit);
    // After encode() returned true: appends the final CRLF (if the last line
    // had none) and ".\r\n".
    void finish(std::string &out) const;
    // Stored offset reached: everything before it has been appended.
    size_t position() const { return pos_; }

private:
    std::string_view stored_;
    size_t pos_ = 0;
};

// The whole wire form of a message including the terminating ".\r\n".
std::string encode_message(std::string_view stored);

} // namespace popper
