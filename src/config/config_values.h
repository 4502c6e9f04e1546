// Private to src/config: the value parsers behind each conf-file key, and the
// table of keys that parse_config and format_config both walk.
#pragma once

#include "popper/config.h"
#include "popper/result.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace popper::conf {

// Every value parser returns an Error whose detail says what was wrong and
// what was expected; the caller prefixes "FILE:LINE: key: ".

// A decimal count in [min, max].
Result<unsigned> parse_count(std::string_view text, unsigned min, unsigned max);
// "N" (seconds), "Ns", "Nm", "Nh", and "Nms" when `allow_ms`; returns
// milliseconds, which must lie in [min_ms, max_ms].
Result<uint64_t> parse_duration(std::string_view text, bool allow_ms, uint64_t min_ms,
                                uint64_t max_ms);
// The largest unit that shows `ms` exactly: "10m", "90s", "1500ms", "0".
std::string format_duration(uint64_t ms);
// yes|no|true|false|on|off|1|0.
Result<bool> parse_yes_no(std::string_view text);
Result<std::string> parse_absolute_path(std::string_view text);
// A portable POSIX group name; empty means "none".
Result<std::string> parse_group_name(std::string_view text);
// Words dotlock, fcntl, flock separated by spaces or commas; at least one, no repeats.
Result<std::vector<LockMethod>> parse_lock_methods(std::string_view text);
std::string format_lock_methods(const std::vector<LockMethod>& methods);

// `text` fit to quote in an error: control bytes escaped, long text cut.
std::string shown(std::string_view text);

struct ConfigKey {
    std::string_view name;
    bool repeatable;   // may appear on several lines (listen)
    bool may_be_empty; // an empty value is meaningful (mail_privileged_group =)
    Status (*apply)(std::string_view value, Config& config);
    // The value(s) to print, one line each.
    std::vector<std::string> (*values)(const Config& config);
};

// Every key, in the order format_config prints them.
std::span<const ConfigKey> config_keys();

} // namespace popper::conf
