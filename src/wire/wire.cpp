// Stored message -> POP3 wire form (RFC 1939 §3), in bulk. Octets are copied
// 64 at a time while the line ends in them are found with SSE2 compares
// (memchr elsewhere); only line ends (LF -> CRLF) and line starts ('.', '>')
// are looked at one by one.
//
// Why not a memchr and a memcpy per line: mail lines are short (~50 octets),
// and two calls per line cost twice the time of the rest of RETR (the pread
// and the write together). Why whole blocks: a line ending in a block that
// is already loaded is found from the block's mask of LFs, without waiting
// for another load; a RETR then encodes at ~6 GB/s instead of ~2.
#include "popper/wire.h"

#include "popper/octet_block.h"

#include <cstring>

namespace popper {
namespace {

constexpr std::string_view kFrom = "From ";
// Octets stored past the encoded ones by a block copy: within the room of
// max_wire_octets(), as the output never runs ahead of twice the input.
constexpr size_t kBlockOctets = kOctetBlockOctets;

// End of the line starting at `pos`: one past its LF, or the end of data.
size_t line_end(std::string_view data, size_t pos) {
    const void* lf = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (lf == nullptr)
        return data.size();
    return static_cast<size_t>(static_cast<const char*>(lf) - data.data()) + 1;
}

char* put(char* out, std::string_view octets) {
    std::memcpy(out, octets.data(), octets.size());
    return out + octets.size();
}

#ifdef __SSE2__
// Stores the kBlockOctets octets at `in` to `out`; returns the mask of their LFs.
inline uint64_t copy_block(const char* in, char* out) {
    OctetBlock block = OctetBlock::load(in);
    block.store(out);
    return block.mask_of('\n');
}
#endif

// Copies the octets before the next LF in [p, end) to `out`, advancing it;
// returns the LF (or `end`).
const char* copy_to_lf(const char* p, const char* end, char*& out) {
#ifdef __SSE2__
    for (; end - p >= static_cast<ptrdiff_t>(kBlockOctets); p += kBlockOctets) {
        if (uint64_t lfs = copy_block(p, out); lfs != 0) {
            auto k = static_cast<unsigned>(__builtin_ctzll(lfs));
            out += k;
            return p + k;
        }
        out += kBlockOctets;
    }
#endif
    const void* found = std::memchr(p, '\n', static_cast<size_t>(end - p));
    const char* stop = found ? static_cast<const char*>(found) : end;
    std::memcpy(out, p, static_cast<size_t>(stop - p));
    out += stop - p;
    return stop;
}

std::string encode_with(WireEncoder encoder, std::string_view stored) {
    std::string out(max_wire_octets(stored.size()) + max_wire_octets(0), '\0');
    size_t n = encoder.encode(stored, out.data());
    n += encoder.finish(out.data() + n);
    out.resize(n);
    return out;
}

} // namespace

uint64_t pop_size_of(std::string_view stored) {
    uint64_t octets = 0;
    for (size_t pos = 0; pos < stored.size();) {
        size_t end = line_end(stored, pos);
        octets += pop_line_octets(stored.substr(pos, end - pos));
        pos = end;
    }
    return octets;
}

size_t WireEncoder::encode(std::string_view piece, char* out) {
    const char* const begin = piece.data();
    const char* const end = begin + piece.size();
    Cursor at{begin, out};
    while (at.in < end && !complete_) {
        if (at_ != At::rest_of_line) {
            at = start_line(at, end);
            if (at_ != At::rest_of_line)
                break; // the piece ended before the line's start was decided
        }
        if (!top_) {
            at = copy_plain_lines(at, begin, end);
            if (at_ != At::rest_of_line)
                continue;
        }
        at = copy_lines(at, begin, end);
    }
    if (!piece.empty())
        last_was_cr_ = end[-1] == '\r';
    return static_cast<size_t>(at.out - out);
}

// True when the LF at `lf` ends a CRLF: the CR was copied with the line, or
// ended the previous piece.
bool WireEncoder::ends_crlf(const char* lf, const char* begin) const {
    return lf > begin ? lf[-1] == '\r' : last_was_cr_;
}

// RETR's bulk path: whole blocks while at least two remain (a block is
// stored again from each LF that gets a CR), until a line starts with '.' or
// '>'.
WireEncoder::Cursor WireEncoder::copy_plain_lines(Cursor at, const char* begin, const char* end) {
#ifdef __SSE2__
    const char* p = at.in;
    char* o = at.out;
    while (end - p >= static_cast<ptrdiff_t>(2 * kBlockOctets)) {
        uint64_t lfs = copy_block(p, o);
        size_t crs = 0; // inserted in this block so far
        for (; lfs != 0; lfs &= lfs - 1) {
            auto k = static_cast<unsigned>(__builtin_ctzll(lfs));
            const char* lf = p + k;
            if (!ends_crlf(lf, begin)) {
                o[k + crs++] = '\r';
                copy_block(lf, o + k + crs);
            }
            if (lf[1] == '.' || lf[1] == '>') {
                at_ = At::line_start;
                return {lf + 1, o + k + crs + 1};
            }
        }
        p += kBlockOctets;
        o += kBlockOctets + crs;
    }
    return {p, o};
#else
    (void)begin;
    (void)end;
    return at;
#endif
}

// The rest of the line at `at`, then the lines after it that start plainly,
// one at a time; TOP counts each.
WireEncoder::Cursor WireEncoder::copy_lines(Cursor at, const char* begin, const char* end) {
    const char* p = at.in;
    char* o = at.out;
    for (;;) {
        const char* lf = copy_to_lf(p, end, o);
        size_t n = static_cast<size_t>(lf - p);
        if (lf == end) {
            line_octets_ += n;
            return {end, o};
        }
        bool crlf = ends_crlf(lf, begin);
        if (!crlf)
            *o++ = '\r';
        *o++ = '\n';
        p = lf + 1;
        bool blank = line_octets_ + n == (crlf ? 1u : 0u);
        line_octets_ = 0;
        if (top_) {
            end_line(blank);
            return {p, o};
        }
        if (p == end || *p == '.' || *p == '>') {
            at_ = At::line_start;
            return {p, o};
        }
    }
}

// Decides how a line starts, consuming the octets held back while that is
// open; returns where the rest of the line begins (or `end`).
WireEncoder::Cursor WireEncoder::start_line(Cursor at, const char* end) {
    const char* p = at.in;
    char* out = at.out;
    for (; p < end; ++p, ++line_octets_) {
        char c = *p;
        switch (at_) {
        case At::line_start:
            if (c == '.' && framed_)
                *out++ = '.'; // RFC 1939 §3: dot-stuffed, then copied as it is
            if (c != '>') {
                at_ = At::rest_of_line;
                return {p, out};
            }
            at_ = At::arrows; // the first '>' is held back
            break;
        case At::arrows:
            if (c == '>') {
                *out++ = '>'; // all '>' alike: the held one may come last
            } else if (c == 'F') {
                at_ = At::from;
                from_matched_ = 1;
            } else {
                out = release_held(out);
                at_ = At::rest_of_line;
                return {p, out};
            }
            break;
        case At::from:
            if (c != kFrom[from_matched_]) {
                out = release_held(out);
                at_ = At::rest_of_line;
                return {p, out};
            }
            if (++from_matched_ == kFrom.size()) {
                out = put(out, kFrom); // ^>+From : sent with one '>' less
                at_ = At::rest_of_line;
                ++line_octets_;
                return {p + 1, out};
            }
            break;
        case At::rest_of_line:
            return {p, out};
        }
    }
    return {p, out};
}

// The '>' and the part of "From " held back at a line start, once the line
// turns out not to be an escaped From_ line.
char* WireEncoder::release_held(char* out) const {
    *out++ = '>';
    if (at_ == At::from)
        out = put(out, kFrom.substr(0, from_matched_));
    return out;
}

// TOP: counts the line just ended.
void WireEncoder::end_line(bool blank) {
    at_ = At::line_start;
    if (in_header_) {
        if (blank) {
            in_header_ = false;
            complete_ = body_lines_left_ == 0;
        }
    } else {
        complete_ = --body_lines_left_ == 0;
    }
}

size_t WireEncoder::finish(char* out) {
    char* o = out;
    if (at_ != At::line_start) {
        if (at_ != At::rest_of_line)
            o = release_held(o);
        o = put(o, "\r\n");
    }
    if (framed_)
        o = put(o, ".\r\n");
    return static_cast<size_t>(o - out);
}

std::string encode_message(std::string_view stored) {
    return encode_with(WireEncoder::whole_message(), stored);
}

std::string encode_top(std::string_view stored, uint64_t body_lines) {
    return encode_with(WireEncoder::top(body_lines), stored);
}

} // namespace popper
