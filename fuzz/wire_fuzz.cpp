// libFuzzer target for the POP3 wire encoder (see fuzz/run-fuzzers).
//
// Input: one byte for the size of the pieces the message is fed in, one for
// TOP's body line count, then a stored message. Checks the bulk encoder
// against the rules applied byte by byte, streaming in pieces against whole
// encoding (and that no piece writes past its room), TOP against the line
// rules, pop_size_of against the encoded size, and that the body can never
// contain the terminator line.
#include "popper/wire.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
    if (!condition)
        std::abort();
}

// The rules of wire.h, one line at a time, written for clarity not speed.
std::string reference_wire_form(std::string_view stored, size_t& stuffed) {
    std::string out;
    stuffed = 0;
    for (size_t pos = 0; pos < stored.size();) {
        size_t lf = stored.find('\n', pos);
        bool has_lf = lf != std::string_view::npos;
        size_t end = has_lf ? lf + 1 : stored.size();
        std::string line(stored.substr(pos, end - pos - (has_lf ? 1 : 0)));
        pos = end;
        size_t arrows = line.find_first_not_of('>');
        if (arrows > 0 && arrows != std::string::npos && line.compare(arrows, 5, "From ") == 0)
            line.erase(0, 1);
        if (!line.empty() && line[0] == '.') {
            line.insert(0, ".");
            ++stuffed;
        }
        if (has_lf && !line.empty() && line.back() == '\r')
            line.pop_back();
        out += line + "\r\n";
    }
    return out + ".\r\n";
}

// TOP's stored prefix (RFC 1939 §7): the header section up to and including
// its first empty line, then at most `body_lines` lines.
std::string_view reference_top_prefix(std::string_view stored, uint64_t body_lines) {
    auto line_end = [&](size_t pos) {
        size_t lf = stored.find('\n', pos);
        return lf == std::string_view::npos ? stored.size() : lf + 1;
    };
    size_t pos = 0;
    while (pos < stored.size()) {
        size_t end = line_end(pos);
        std::string_view line = stored.substr(pos, end - pos);
        pos = end;
        if (line == "\n" || line == "\r\n")
            break;
    }
    for (uint64_t i = 0; i < body_lines && pos < stored.size(); ++i)
        pos = line_end(pos);
    return stored.substr(0, pos);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 2)
        return 0;
    size_t piece = std::max<size_t>(1, bytes[0]);
    uint64_t top_lines = bytes[1];
    std::string_view stored(reinterpret_cast<const char*>(bytes) + 2, size - 2);

    size_t stuffed = 0;
    std::string wire = popper::encode_message(stored);
    check(wire == reference_wire_form(stored, stuffed));
    check(popper::pop_size_of(stored) == wire.size() - stuffed - 3);
    std::string_view body = std::string_view(wire).substr(0, wire.size() - 3);
    check(body.find("\r\n.\r\n") == std::string_view::npos && !body.starts_with(".\r\n"));
    for (size_t i = 0; i < wire.size(); ++i)
        if (wire[i] == '\n')
            check(i > 0 && wire[i - 1] == '\r');

    // A fresh allocation of exactly the promised room per piece, so that
    // ASan reports any write past it.
    auto stream = [&](popper::WireEncoder encoder) {
        std::string out;
        for (size_t pos = 0; pos < stored.size() && !encoder.complete(); pos += piece) {
            std::string_view part = stored.substr(pos, piece);
            auto room = std::make_unique<char[]>(popper::max_wire_octets(part.size()));
            out.append(room.get(), encoder.encode(part, room.get()));
        }
        auto room = std::make_unique<char[]>(popper::max_wire_octets(0));
        return out.append(room.get(), encoder.finish(room.get()));
    };
    check(stream(popper::WireEncoder::whole_message()) == wire);

    std::string_view top = reference_top_prefix(stored, top_lines);
    std::string top_wire = popper::encode_top(stored, top_lines);
    check(top_wire == popper::encode_message(top));
    check(stream(popper::WireEncoder::top(top_lines)) == top_wire);
    return 0;
}
