#include "popper/command_line.h"

#include <cctype>

namespace popper {

std::optional<CommandLine> parse_command_line(std::string_view line) {
    size_t space = line.find(' ');
    std::string_view keyword = line.substr(0, space);
    if (keyword.size() < 3 || keyword.size() > 4)
        return std::nullopt;
    CommandLine cmd;
    for (char c : keyword) {
        if (!std::isalpha(static_cast<unsigned char>(c)))
            return std::nullopt;
        cmd.keyword += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (space == std::string_view::npos)
        return cmd;
    std::string_view rest = line.substr(space + 1);
    // PASS may carry any octets but NUL, CR and LF (RFC 1939 §7: spaces too).
    for (unsigned char c : rest) {
        if (c == '\0' || c == '\r' || c == '\n')
            return std::nullopt;
        if (cmd.keyword != "PASS" && (c < 0x20 || c == 0x7f))
            return std::nullopt;
    }
    cmd.rest = std::string(rest);
    size_t pos = 0;
    while (pos < rest.size()) {
        while (pos < rest.size() && rest[pos] == ' ')
            ++pos;
        size_t end = rest.find(' ', pos);
        if (end == std::string_view::npos)
            end = rest.size();
        if (end > pos)
            cmd.args.emplace_back(rest.substr(pos, end - pos));
        pos = end;
    }
    return cmd;
}

std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max) {
    if (text.empty())
        return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
        if (value > max) // also before it could overflow: max < 2^63
            return std::nullopt;
    }
    return value;
}

std::optional<uint32_t> parse_number(std::string_view text) {
    if (text.size() > 10) // 2^32 has 10 digits; more are padding or garbage
        return std::nullopt;
    auto value = parse_decimal(text, UINT32_MAX);
    if (!value)
        return std::nullopt;
    return static_cast<uint32_t>(*value);
}

} // namespace popper
