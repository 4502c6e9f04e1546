// Stored message -> POP3 wire form (RFC 1939 §3), in bulk: memchr finds each
// line end and unchanged runs of lines are appended with one copy.
#include "popper/wire.h"

#include <cstring>

namespace popper {
namespace {

// End of the line starting at `pos`: one past its LF, or the end of data.
size_t line_end(std::string_view data, size_t pos) {
    const void *lf = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (lf == nullptr)
        return data.size();
    return static_cast<size_t>(static_cast<const char *>(lf) - data.data()) + 1;
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

size_t top_prefix_length(std::string_view stored, uint64_t body_lines) {
    size_t pos = 0;
    while (pos < stored.size()) {
        size_t end = line_end(stored, pos);
        bool blank = is_blank_line(stored.substr(pos, end - pos));
        pos = end;
        if (blank)
            break;
    }
    for (uint64_t i = 0; i < body_lines && pos < stored.size(); ++i)
        pos = line_end(stored, pos);
    return pos;
}

bool WireEncoder::encode(std::string &out, size_t out_limit) {
    const size_t first = pos_;
    size_t run = pos_;            // start of stored bytes to copy unchanged
    size_t produced = out.size(); // out.size() once the pending run is copied
    while (pos_ < stored_.size()) {
        size_t end = line_end(stored_, pos_);
        std::string_view line = stored_.substr(pos_, end - pos_);
        bool bare_lf = line.back() == '\n' && (line.size() < 2 || line[line.size() - 2] != '\r');
        bool escaped = line[0] == '>' && is_escaped_from_line(line);
        bool stuffed = line[0] == '.';
        size_t wire = line.size() + (bare_lf ? 1 : 0) - (escaped ? 1 : 0) + (stuffed ? 1 : 0);
        if (pos_ != first && produced + wire > out_limit)
            break;
        produced += wire;
        if (bare_lf || escaped || stuffed) {
            out.append(stored_.data() + run, pos_ - run);
            if (stuffed)
                out.push_back('.');
            if (escaped)
                line.remove_prefix(1);
            if (bare_lf) {
                line.remove_suffix(1);
                out.append(line);
                out.append("\r\n", 2);
            } else {
                out.append(line);
            }
            run = end;
        }
        pos_ = end;
    }
    out.append(stored_.data() + run, pos_ - run);
    return pos_ == stored_.size();
}

void WireEncoder::finish(std::string &out) const {
    if (!stored_.empty() && stored_.back() != '\n')
        out.append("\r\n", 2);
    out.append(".\r\n", 3);
}

std::string encode_message(std::string_view stored) {
    std::string out;
    out.reserve(stored.size() + stored.size() / 16 + 8);
    WireEncoder encoder(stored);
    while (!encoder.encode(out, SIZE_MAX)) {
    }
    encoder.finish(out);
    return out;
}

} // namespace popper
