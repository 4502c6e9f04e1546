// Scalar conf-file values: counts, yes/no, absolute paths, group names.
#include "config_values.h"

#include <array>
#include <cstdio>

namespace popper::conf {

namespace {

// Enough of a bad value to recognise it; the rest only floods the log.
constexpr size_t kMaxShownOctets = 64;
// useradd(8)'s limit, and what every libc's getgrnam handles.
constexpr size_t kMaxGroupNameOctets = 32;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

} // namespace

std::string shown(std::string_view text) {
    std::string out = "'";
    for (size_t i = 0; i < text.size() && i < kMaxShownOctets; ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\x%02x", c);
            out += esc;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (text.size() > kMaxShownOctets)
        out += "...";
    return out + "'";
}

Result<unsigned> parse_count(std::string_view text, unsigned min, unsigned max) {
    size_t digits = 0;
    while (digits < text.size() && is_digit(text[digits]))
        ++digits;
    if (digits == 0 || digits != text.size()) {
        return Error::because("", "", shown(text) + " is not a number");
    }
    uint64_t value = 0;
    for (char c : text) {
        value = value * 10 + static_cast<uint64_t>(c - '0');
        if (value > max)
            break; // stops before the product can overflow
    }
    if (value < min || value > max) {
        return Error::because("", "",
                              shown(text) + " is out of range (" + std::to_string(min) + " to " +
                                  std::to_string(max) + ")");
    }
    return static_cast<unsigned>(value);
}

Result<bool> parse_yes_no(std::string_view text) {
    constexpr std::array<std::string_view, 4> kYes = {"yes", "true", "on", "1"};
    constexpr std::array<std::string_view, 4> kNo = {"no", "false", "off", "0"};
    for (auto word : kYes) {
        if (text == word)
            return true;
    }
    for (auto word : kNo) {
        if (text == word)
            return false;
    }
    return Error::because("", "", shown(text) + " is not yes or no (or true/false, on/off, 1/0)");
}

Result<std::string> parse_absolute_path(std::string_view text) {
    if (text.empty() || text[0] != '/') {
        return Error::because("", "", shown(text) + " is not an absolute path");
    }
    return std::string(text);
}

Result<std::string> parse_group_name(std::string_view text) {
    // POSIX portable filename characters, not starting with '-'.
    bool ok = text.size() <= kMaxGroupNameOctets && (text.empty() || text[0] != '-');
    for (char c : text) {
        bool portable = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        c == '.' || c == '_' || c == '-';
        ok = ok && portable;
    }
    if (!ok)
        return Error::because("", "", shown(text) + " is not a group name");
    return std::string(text);
}

} // namespace popper::conf
