// Parsing a POP2 command line (RFC 937): the verb and its typed arguments,
// or the text of the "-" reply that refuses the line. Pure, so a fuzzer
// (fuzz/pop2_command_fuzz.cpp) can drive it alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace popper {

enum class Pop2Verb { helo, fold, read, retr, acks, ackd, nack, quit };

struct Pop2Command {
    Pop2Verb verb = Pop2Verb::quit;
    std::string user;               // HELO
    std::string password;           // HELO: the rest of the line after the user
    std::string folder;             // FOLD
    std::optional<uint32_t> number; // READ n
};

// A command, or why the line is refused: an empty or malformed line, an
// unknown verb, missing, extra or over-long arguments, a bad number.
using Pop2Parsed = std::variant<Pop2Command, std::string_view>;
Pop2Parsed parse_pop2_command(std::string_view line);

} // namespace popper
