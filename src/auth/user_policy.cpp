// The policy file: parsing its lines, merging a user's line over `*`, the
// address check, and the capability lines it gives CAPA.
#include "popper/user_policy.h"

#include "popper/apop.h"
#include "popper/command_line.h"
#include "popper/users_file.h"
#include "popper/users_file_edit.h"

namespace popper {

namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// Decimal without sign, in 0..max.
std::optional<unsigned> parse_bounded(std::string_view text, unsigned max) {
    auto number = parse_number(text);
    if (!number || *number > max)
        return std::nullopt;
    return static_cast<unsigned>(*number);
}

// One `key=value` word into `line`; false with `why` set when it is wrong.
bool apply_setting(std::string_view word, PolicyLine& line, std::string& why) {
    const size_t equals = word.find('=');
    if (equals == std::string_view::npos) {
        why = "no '=' in a setting (want key=value)";
        return false;
    }
    const std::string_view key = word.substr(0, equals);
    const std::string_view value = word.substr(equals + 1);
    auto once = [&](bool already) {
        if (already)
            why = std::string(key) + " given twice";
        return !already;
    };
    if (key == "allow_from" || key == "deny_from") {
        auto& field = key == "allow_from" ? line.allow_from : line.deny_from;
        if (!once(field.has_value()))
            return false;
        auto list = parse_network_list(value);
        if (!list) {
            why = std::string(key) + ": " + list.error().detail;
            return false;
        }
        field = std::move(*list);
        return true;
    }
    if (key == "login_delay") {
        if (!once(line.login_delay_s.has_value()))
            return false;
        line.login_delay_s = parse_bounded(value, kMaxLoginDelayS);
        if (!line.login_delay_s)
            why = "login_delay: want seconds, 0 to " + std::to_string(kMaxLoginDelayS);
        return line.login_delay_s.has_value();
    }
    if (key == "expire") {
        if (!once(line.expire_days.has_value()))
            return false;
        if (value == "never") {
            line.expire_days = std::optional<unsigned>();
            return true;
        }
        auto days = parse_bounded(value, kMaxExpireDays);
        if (!days) {
            why = "expire: want days, 0 to " + std::to_string(kMaxExpireDays) + ", or never";
            return false;
        }
        line.expire_days = days;
        return true;
    }
    why = "unknown key (want allow_from, deny_from, login_delay, expire)";
    return false;
}

} // namespace

bool UserPolicy::admits(std::string_view address) const {
    auto ip = parse_ip_address(address);
    if (!allow_from.empty() && (!ip || !allow_from.contains(*ip)))
        return false;
    return !(ip && deny_from.contains(*ip));
}

std::optional<PolicyLine> parse_policy_line(std::string_view line, std::string& why) {
    why.clear();
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (line.size() > kMaxPolicyLineOctets) {
        why = "line longer than " + std::to_string(kMaxPolicyLineOctets) + " octets";
        return std::nullopt;
    }
    size_t first = 0;
    while (first < line.size() && is_blank(line[first]))
        ++first;
    if (first == line.size() || line[first] == '#')
        return std::nullopt;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        why = "no ':' (want NAME: key=value ...)";
        return std::nullopt;
    }
    PolicyLine out;
    out.name = line.substr(0, colon);
    if (out.name != "*" && !is_valid_user_name(out.name)) {
        why = "invalid user name";
        return std::nullopt;
    }
    std::string_view rest = line.substr(colon + 1);
    while (!rest.empty()) {
        if (is_blank(rest.front())) {
            rest.remove_prefix(1);
            continue;
        }
        size_t end = 0;
        while (end < rest.size() && !is_blank(rest[end]))
            ++end;
        if (!apply_setting(rest.substr(0, end), out, why))
            return std::nullopt;
        rest.remove_prefix(end);
    }
    return out;
}

UserPolicy PolicyFile::policy_for(std::string_view name) const {
    UserPolicy policy;
    auto merge = [&](const PolicyLine& line) {
        if (line.allow_from)
            policy.allow_from = *line.allow_from;
        if (line.deny_from)
            policy.deny_from = *line.deny_from;
        if (line.login_delay_s)
            policy.login_delay_s = *line.login_delay_s;
        if (line.expire_days)
            policy.expire_days = *line.expire_days;
    };
    for (const auto& line : lines)
        if (line.name == "*")
            merge(line);
    if (name != "*")
        for (const auto& line : lines)
            if (line.name == name)
                merge(line);
    return policy;
}

bool PolicyFile::login_delay_varies() const {
    const UserPolicy base = default_policy();
    for (const auto& line : lines)
        if (line.login_delay_s && *line.login_delay_s != base.login_delay_s)
            return true;
    return false;
}

bool PolicyFile::expire_varies() const {
    const UserPolicy base = default_policy();
    for (const auto& line : lines)
        if (line.expire_days && *line.expire_days != base.expire_days)
            return true;
    return false;
}

Result<PolicyFile> parse_policy_file(std::string_view text, const std::string& source) {
    PolicyFile file;
    std::string why;
    std::optional<Error> first_error;
    for_each_line(text, [&](std::string_view raw, size_t number) {
        if (first_error)
            return;
        auto line = parse_policy_line(raw, why);
        if (line) {
            for (const auto& other : file.lines)
                if (other.name == line->name)
                    why = "a second line for " + line->name;
            if (why.empty())
                return file.lines.push_back(std::move(*line));
        }
        if (!why.empty())
            first_error = Error::because("policy file", source + ":" + std::to_string(number), why);
    });
    if (first_error)
        return *first_error;
    return file;
}

Result<PolicyFile> load_policy_file(const std::string& path) {
    if (auto safe = check_secret_file_permissions("policy file", path); !safe)
        return safe.error();
    auto text = read_text_file(path, kMaxPolicyFileOctets);
    if (!text)
        return text.error();
    return parse_policy_file(text->text, path);
}

std::string policy_capability_lines(const UserPolicy& policy, bool delay_varies,
                                    bool expire_varies) {
    std::string lines;
    if (policy.login_delay_s > 0 || delay_varies)
        lines += "LOGIN-DELAY " + std::to_string(policy.login_delay_s) +
                 (delay_varies ? " USER" : "") + "\r\n";
    lines += "EXPIRE " +
             (policy.expire_days ? std::to_string(*policy.expire_days) : std::string("NEVER")) +
             (expire_varies ? " USER" : "") + "\r\n";
    return lines;
}

} // namespace popper
