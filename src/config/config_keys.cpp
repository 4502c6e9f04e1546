// The conf-file keys: for each, how its value is read into Config and how the
// effective value is printed back. One table, so parse and print never disagree.
#include "config_values.h"
#include "popper/sasl.h"

#include <array>
#include <utility>

namespace popper::conf {

namespace {

constexpr uint64_t kSecond = 1000;
constexpr uint64_t kDay = 24 * 3600 * kSecond;

// Ranges catch typos ("idle_timeout = 6000m") rather than encode policy; each
// bound says why it is where it is.
constexpr uint64_t kMinIdleTimeoutMs = 1 * kSecond; // RFC 1939 §3 wants 10m; less is for tests
constexpr uint64_t kMinAuthTimeoutMs = 1 * kSecond;
constexpr uint64_t kMaxTimeoutMs = kDay;                  // a session idle a day is a dead one
constexpr uint64_t kMinDotlockStaleMs = 1 * kSecond;      // 0 would break every live lock
constexpr uint64_t kMaxAuthFailureDelayMs = 60 * kSecond; // stays under any client's timeout
constexpr unsigned kMaxSessionsLimit = 100000;            // beyond fork-per-connection's reach
constexpr unsigned kMaxAuthFailuresLimit = 1000; // more is brute force, not a forgetful user
// A pooled pre-login process is recycled at least this often, so that a leak
// or a takeover does not live for ever.
constexpr unsigned kMaxPreauthProcessConnections = 1000000;

// Stores a parsed value in its field, or passes the parser's error on.
template <class T> Status assign(Result<T> parsed, T& field) {
    if (!parsed)
        return parsed.error();
    field = std::move(*parsed);
    return {};
}

Status set_path(std::string_view value, std::string& field) {
    return assign(parse_absolute_path(value), field);
}

Status set_count(std::string_view value, unsigned min, unsigned max, unsigned& field) {
    return assign(parse_count(value, min, max), field);
}

Status set_seconds(std::string_view value, uint64_t min_ms, uint64_t max_ms, unsigned& field) {
    auto ms = parse_duration(value, false, min_ms, max_ms);
    if (!ms)
        return ms.error();
    field = static_cast<unsigned>(*ms / kSecond);
    return {};
}

Status set_yes_no(std::string_view value, bool& field) {
    return assign(parse_yes_no(value), field);
}

// Space or comma separated SASL mechanism names (RFC 5034); empty: no AUTH.
Status set_auth_mechanisms(std::string_view value, Config& config) {
    std::vector<std::string> names;
    size_t pos = 0;
    while (pos < value.size()) {
        size_t end = value.find_first_of(" ,\t", pos);
        if (end == std::string_view::npos)
            end = value.size();
        std::string_view word = value.substr(pos, end - pos);
        pos = end + 1;
        if (word.empty())
            continue;
        auto mechanism = parse_sasl_mechanism(word);
        if (!mechanism)
            return Error::because(
                "", "", shown(word) + " is not a SASL mechanism (PLAIN, LOGIN, CRAM-MD5)");
        std::string name(sasl_mechanism_name(*mechanism));
        for (const auto& other : names)
            if (other == name)
                return Error::because("", "", name + " is listed twice");
        names.push_back(name);
    }
    config.auth_mechanisms = std::move(names);
    return {};
}

Status add_listen(std::string_view value, Config& config) {
    auto address = parse_listen_address(value);
    if (!address)
        return address.error();
    for (const auto& other : config.listen) {
        if (other.host == address->host && other.port == address->port) {
            return Error::because("", "", shown(value) + " repeats " + shown(other.text));
        }
    }
    config.listen.push_back(std::move(*address));
    return {};
}

Status set_uidl_format(std::string_view value, Config& config) {
    auto format = parse_uidl_format(value);
    if (!format)
        return Error::because(
            "", "",
            shown(value) + " is not popperd, popa3d, solid-pop3d, uw, dovecot, x-uidl or qpopper");
    config.uidl_format = *format;
    return {};
}

Status set_log_target(std::string_view value, Config& config) {
    if (value == "syslog") {
        config.log = LogTarget::syslog;
    } else if (value == "stderr") {
        config.log = LogTarget::stderr_stream;
    } else {
        return Error::because("", "", shown(value) + " is not syslog or stderr");
    }
    return {};
}

Status set_log_level(std::string_view value, Config& config) {
    if (!parse_log_level(value, config.log_level)) {
        return Error::because("", "",
                              shown(value) + " is not error, warning, notice, info or debug");
    }
    return {};
}

std::vector<std::string> one(std::string value) {
    return {std::move(value)};
}
std::vector<std::string> seconds(unsigned s) {
    return one(format_duration(s * kSecond));
}
std::vector<std::string> number(unsigned n) {
    return one(std::to_string(n));
}
std::vector<std::string> yes_no(bool yes) {
    return one(yes ? "yes" : "no");
}

// POP2's addresses: the same syntax, no proxy, none bound twice.
Status add_pop2_listen(std::string_view value, Config& config) {
    auto address = parse_listen_address(value);
    if (!address)
        return address.error();
    if (address->proxy)
        return Error::because("", "", "pop2_listen takes no \"proxy\"");
    for (const auto& other : config.pop2_listen) {
        if (other.host == address->host && other.port == address->port)
            return Error::because("", "", shown(value) + " repeats " + shown(other.text));
    }
    config.pop2_listen.push_back(std::move(*address));
    return {};
}

std::vector<std::string> pop2_listen_values(const Config& config) {
    std::vector<std::string> values;
    for (const auto& address : config.pop2_listen)
        values.push_back(address.text);
    return values;
}

std::vector<std::string> listen_values(const Config& config) {
    std::vector<std::string> values;
    for (const auto& address : config.listen)
        values.push_back(address.proxy ? address.text + " proxy" : address.text);
    return values;
}

constexpr bool kOnce = false;
constexpr bool kRepeatable = true;
constexpr bool kNonEmpty = false;
constexpr bool kMayBeEmpty = true;

using V = std::string_view;
using C = Config;

// A CIDR list; the error names the network that is wrong.
Status set_networks(std::string_view value, Config& config) {
    auto list = parse_network_list(value);
    if (!list)
        return Error::because("", "", shown(list.error().path) + " " + list.error().detail);
    config.proxy_trusted_networks = std::move(*list);
    return {};
}

Status set_allow_plaintext(std::string_view value, Config& config) {
    if (value == "tls") {
        config.allow_plaintext = AllowPlaintext::tls;
        return {};
    }
    auto yes = parse_yes_no(value);
    if (!yes)
        return Error::because("", "", shown(value) + " is not yes, no or tls");
    config.allow_plaintext = *yes ? AllowPlaintext::yes : AllowPlaintext::no;
    return {};
}

std::vector<std::string> allow_plaintext_value(const Config& config) {
    switch (config.allow_plaintext) {
    case AllowPlaintext::no:
        return one("no");
    case AllowPlaintext::tls:
        return one("tls");
    case AllowPlaintext::yes:
        break;
    }
    return one("yes");
}

const std::array<ConfigKey, 31> kKeys = {{
    {"listen", kRepeatable, kNonEmpty, add_listen, listen_values},
    {"pop2_listen", kRepeatable, kNonEmpty, add_pop2_listen, pop2_listen_values},
    {"proxy_trusted_networks", kOnce, kMayBeEmpty, set_networks,
     [](const C& c) { return one(c.proxy_trusted_networks.text()); }},
    {"max_sessions", kOnce, kNonEmpty,
     [](V v, C& c) { return set_count(v, 1, kMaxSessionsLimit, c.max_sessions); },
     [](const C& c) { return number(c.max_sessions); }},
    {"max_sessions_per_ip", kOnce, kNonEmpty,
     [](V v, C& c) { return set_count(v, 1, kMaxSessionsLimit, c.max_sessions_per_ip); },
     [](const C& c) { return number(c.max_sessions_per_ip); }},
    {"pidfile", kOnce, kNonEmpty, [](V v, C& c) { return set_path(v, c.pidfile); },
     [](const C& c) { return one(c.pidfile); }},
    {"users_file", kOnce, kNonEmpty, [](V v, C& c) { return set_path(v, c.users_file); },
     [](const C& c) { return one(c.users_file); }},
    {"spool_dir", kOnce, kNonEmpty, [](V v, C& c) { return set_path(v, c.spool_dir); },
     [](const C& c) { return one(c.spool_dir); }},
    {"drop_dir", kOnce, kNonEmpty, [](V v, C& c) { return set_path(v, c.drop_dir); },
     [](const C& c) { return one(c.drop_dir); }},
    {"uidl_format", kOnce, kNonEmpty, set_uidl_format,
     [](const C& c) { return one(std::string(uidl_format_name(c.uidl_format))); }},
    {"lock_methods", kOnce, kNonEmpty,
     [](V v, C& c) { return assign(parse_lock_methods(v), c.lock_methods); },
     [](const C& c) { return one(format_lock_methods(c.lock_methods)); }},
    {"lock_timeout", kOnce, kNonEmpty,
     [](V v, C& c) { return set_seconds(v, 0, kMaxTimeoutMs, c.lock_timeout_s); },
     [](const C& c) { return seconds(c.lock_timeout_s); }},
    {"dotlock_stale", kOnce, kNonEmpty,
     [](V v, C& c) { return set_seconds(v, kMinDotlockStaleMs, kDay, c.dotlock_stale_s); },
     [](const C& c) { return seconds(c.dotlock_stale_s); }},
    {"idle_timeout", kOnce, kNonEmpty,
     [](V v, C& c) { return set_seconds(v, kMinIdleTimeoutMs, kMaxTimeoutMs, c.idle_timeout_s); },
     [](const C& c) { return seconds(c.idle_timeout_s); }},
    {"auth_timeout", kOnce, kNonEmpty,
     [](V v, C& c) { return set_seconds(v, kMinAuthTimeoutMs, kMaxTimeoutMs, c.auth_timeout_s); },
     [](const C& c) { return seconds(c.auth_timeout_s); }},
    {"auth_failure_delay", kOnce, kNonEmpty,
     [](V v, C& c) {
         auto ms = parse_duration(v, true, 0, kMaxAuthFailureDelayMs);
         if (!ms)
             return Status(ms.error());
         c.auth_failure_delay_ms = static_cast<unsigned>(*ms);
         return Status();
     },
     [](const C& c) { return one(format_duration(c.auth_failure_delay_ms)); }},
    {"max_auth_failures", kOnce, kNonEmpty,
     [](V v, C& c) { return set_count(v, 1, kMaxAuthFailuresLimit, c.max_auth_failures); },
     [](const C& c) { return number(c.max_auth_failures); }},
    {"enable_last", kOnce, kNonEmpty, [](V v, C& c) { return set_yes_no(v, c.enable_last); },
     [](const C& c) { return yes_no(c.enable_last); }},
    {"mail_privileged_group", kOnce, kMayBeEmpty,
     [](V v, C& c) { return assign(parse_group_name(v), c.mail_privileged_group); },
     [](const C& c) { return one(c.mail_privileged_group); }},
    {"unprivileged_user", kOnce, kNonEmpty,
     [](V v, C& c) {
         // Same portable-name rule as group names (POSIX 3.437).
         auto user = parse_group_name(v);
         if (!user)
             return Status(Error::because("", "", shown(v) + " is not a user name"));
         c.unprivileged_user = std::move(*user);
         return Status();
     },
     [](const C& c) { return one(c.unprivileged_user); }},
    {"preauth_chroot", kOnce, kNonEmpty, [](V v, C& c) { return set_path(v, c.preauth_chroot); },
     [](const C& c) { return one(c.preauth_chroot); }},
    {"preauth_process_connections", kOnce, kNonEmpty,
     [](V v, C& c) {
         return set_count(v, 1, kMaxPreauthProcessConnections, c.preauth_process_connections);
     },
     [](const C& c) { return number(c.preauth_process_connections); }},
    {"users", kOnce, kNonEmpty,
     [](V v, C& c) {
         if (v != "file" && v != "system")
             return Status(Error::because("", "", shown(v) + " is not file or system"));
         c.system_users = v == "system";
         return Status();
     },
     [](const C& c) { return one(c.system_users ? "system" : "file"); }},
    {"apop", kOnce, kNonEmpty, [](V v, C& c) { return set_yes_no(v, c.apop); },
     [](const C& c) { return yes_no(c.apop); }},
    {"apop_secrets_file", kOnce, kNonEmpty,
     [](V v, C& c) { return set_path(v, c.apop_secrets_file); },
     [](const C& c) { return one(c.apop_secrets_file); }},
    {"policy_file", kOnce, kMayBeEmpty,
     [](V v, C& c) {
         if (v.empty()) {
             c.policy_file.clear();
             return Status();
         }
         return set_path(v, c.policy_file);
     },
     [](const C& c) { return one(c.policy_file); }},
    {"takeover", kOnce, kNonEmpty, [](V v, C& c) { return set_yes_no(v, c.takeover); },
     [](const C& c) { return yes_no(c.takeover); }},
    {"allow_plaintext", kOnce, kNonEmpty, set_allow_plaintext, allow_plaintext_value},
    {"auth_mechanisms", kOnce, kMayBeEmpty, set_auth_mechanisms,
     [](const C& c) {
         std::string text;
         for (const auto& m : c.auth_mechanisms)
             text += (text.empty() ? "" : " ") + m;
         return one(text);
     }},
    {"log", kOnce, kNonEmpty, set_log_target,
     [](const C& c) { return one(c.log == LogTarget::syslog ? "syslog" : "stderr"); }},
    {"log_level", kOnce, kNonEmpty, set_log_level,
     [](const C& c) { return one(std::string(log_level_name(c.log_level))); }},
}};

} // namespace

std::span<const ConfigKey> config_keys() {
    return kKeys;
}

} // namespace popper::conf
