// Splitting a POP3 command line into keyword and arguments (RFC 1939 §3,
// RFC 2449 §4), and parsing message numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace popper {

// RFC 2449 §4: a command line is at most 255 octets including CRLF.
inline constexpr size_t kMaxCommandLineOctets = 255;
// RFC 2449 §4: each argument is at most 40 octets.
inline constexpr size_t kMaxArgumentOctets = 40;

struct CommandLine {
    std::string keyword;           // upper-cased
    std::vector<std::string> args; // split on spaces
    std::string rest;              // everything after the keyword and one space (PASS)
};

// nullopt for an empty line, a keyword that is not 3-4 printable letters, or
// a line holding a NUL or another control character (except the argument of
// PASS, which may hold spaces).
std::optional<CommandLine> parse_command_line(std::string_view line);

// A message number or line count: decimal digits only, no sign, fits 32 bits.
std::optional<uint32_t> parse_number(std::string_view text);
// Decimal digits only, no sign, at most `max` (which is below 2^63).
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max);

} // namespace popper
