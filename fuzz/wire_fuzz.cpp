// libFuzzer target for the POP3 wire encoder (see fuzz/run-fuzzers).
//
// Input: one byte for the encoder's out_limit, one for TOP's body line
// count, then a stored message. Checks the bulk encoder against the rules
// applied byte by byte, streaming against whole encoding, pop_size_of
// against the encoded size, and that the body can never contain the
// terminator line.
#include "popper/wire.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
    if (!condition)
        std::abort();
}

// The rules of wire.h, one line at a time, written for clarity not speed.
std::string reference_wire_form(std::string_view stored, size_t &stuffed) {
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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size) {
    if (size < 2)
        return 0;
    size_t out_limit = bytes[0];
    uint64_t top_lines = bytes[1];
    std::string_view stored(reinterpret_cast<const char *>(bytes) + 2, size - 2);

    size_t stuffed = 0;
    std::string wire = popper::encode_message(stored);
    check(wire == reference_wire_form(stored, stuffed));
    check(popper::pop_size_of(stored) == wire.size() - stuffed - 3);
    std::string_view body = std::string_view(wire).substr(0, wire.size() - 3);
    check(body.find("\r\n.\r\n") == std::string_view::npos && !body.starts_with(".\r\n"));
    for (size_t i = 0; i < wire.size(); ++i)
        if (wire[i] == '\n')
            check(i > 0 && wire[i - 1] == '\r');

    popper::WireEncoder encoder(stored);
    std::string streamed;
    for (bool done = false; !done;) {
        std::string chunk;
        size_t before = encoder.position();
        done = encoder.encode(chunk, out_limit);
        check(done || encoder.position() > before);
        check(done || chunk.ends_with("\r\n"));
        streamed += chunk;
    }
    encoder.finish(streamed);
    check(streamed == wire);

    size_t top = popper::top_prefix_length(stored, top_lines);
    check(top <= stored.size());
    check(top == 0 || top == stored.size() || stored[top - 1] == '\n');
    check(popper::top_prefix_length(stored, top_lines + 1) >= top);
    popper::encode_message(stored.substr(0, top));
    return 0;
}
