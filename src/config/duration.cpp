// Durations in the conf file: "600", "90s", "10m", "1h", and "250ms" where allowed.
#include "config_values.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace popper::conf {

namespace {

struct DurationUnit {
    std::string_view suffix;
    uint64_t ms;
};

// Largest first, so format_duration picks the largest unit that is exact.
constexpr std::array<DurationUnit, 5> kUnits = {{
    {"h", 3600 * 1000},
    {"m", 60 * 1000},
    {"s", 1000},
    {"ms", 1},
    {"", 1000}, // a bare number counts seconds
}};

// 12 digits of hours still fit in 64-bit milliseconds, and no sane value needs more.
constexpr size_t kMaxDurationDigits = 12;

std::string_view expected_forms(bool allow_ms) {
    return allow_ms ? "a duration such as 2, 2s, 1500ms, 10m or 1h"
                    : "a duration such as 600, 600s, 10m or 1h";
}

} // namespace

Result<uint64_t> parse_duration(std::string_view text, bool allow_ms, uint64_t min_ms,
                                uint64_t max_ms) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    std::string_view suffix = text.substr(digits);
    const DurationUnit* unit = nullptr;
    for (const auto& u : kUnits) {
        if (suffix == u.suffix && (allow_ms || u.suffix != "ms")) {
            unit = &u;
            break;
        }
    }
    if (digits == 0 || unit == nullptr) {
        return Error::because("", "",
                              shown(text) + " is not " + std::string(expected_forms(allow_ms)));
    }
    uint64_t count = 0;
    for (char c : text.substr(0, std::min(digits, kMaxDurationDigits))) {
        count = count * 10 + static_cast<uint64_t>(c - '0');
    }
    uint64_t ms = count * unit->ms;
    if (digits > kMaxDurationDigits || ms < min_ms || ms > max_ms) {
        return Error::because("", "",
                              shown(text) + " is out of range (" + format_duration(min_ms) +
                                  " to " + format_duration(max_ms) + ")");
    }
    return ms;
}

std::string format_duration(uint64_t ms) {
    if (ms == 0)
        return "0";
    for (const auto& u : kUnits) {
        if (u.suffix != "" && u.suffix != "ms" && ms % u.ms == 0) {
            return std::to_string(ms / u.ms) + std::string(u.suffix);
        }
    }
    return std::to_string(ms) + "ms";
}

} // namespace popper::conf
