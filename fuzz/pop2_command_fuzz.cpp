// libFuzzer target for the POP2 command parser (RFC 937, see
// fuzz/run-fuzzers).
//
// Input: one command line as a client sends it, without CRLF. Checks,
// beyond not crashing: a line is either a command or refused with a reply
// text that is one printable line; a command's user and folder fit RFC
// 2449's 40 octets and its password is the line's own text; READ's number
// prints back as the digits it was parsed from (leading zeros aside).
//
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//          fuzz/pop2_command_fuzz.cpp src/session/pop2_command.cpp \
//          src/session/command_line.cpp
#include "popper/command_line.h"
#include "popper/pop2_command.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    auto parsed = popper::parse_pop2_command(line);
    if (const auto* why = std::get_if<std::string_view>(&parsed)) {
        require(!why->empty());
        for (char c : *why)
            require(c >= 0x20 && c < 0x7f);
        return 0;
    }
    const auto& cmd = std::get<popper::Pop2Command>(parsed);
    require(cmd.user.size() <= popper::kMaxArgumentOctets);
    require(cmd.folder.size() <= popper::kMaxArgumentOctets);
    require(cmd.password.size() < size);
    require(line.find(cmd.password) != std::string_view::npos);
    if (cmd.verb == popper::Pop2Verb::helo)
        require(!cmd.user.empty() && !cmd.password.empty());
    if (cmd.number) {
        std::string digits = std::to_string(*cmd.number);
        require(line.find(digits) != std::string_view::npos || *cmd.number == 0);
    }
    return 0;
}
