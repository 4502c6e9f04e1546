// drop_dir/USER.state: the last login and first-retrieval times that
// LOGIN-DELAY and EXPIRE need; parsed as untrusted input, replaced whole.
#include "popper/policy_state.h"

#include "popper/command_line.h"
#include "popper/io.h"
#include "popper/log.h"
#include "popper/temp_file.h"
#include "popper/users_file_edit.h"

#include <cerrno>

namespace popper {

namespace {

constexpr std::string_view kMagic = "popperd-state 1";
constexpr int64_t kMaxTime = int64_t{1} << 40; // year 36812: beyond any real clock

std::optional<int64_t> parse_time(std::string_view text) {
    auto value = parse_decimal(text, kMaxTime);
    if (!value)
        return std::nullopt;
    return static_cast<int64_t>(*value);
}

bool is_uidl(std::string_view text) {
    if (text.empty() || text.size() > kMaxUidlOctets)
        return false;
    for (char c : text)
        if (c < 0x21 || c > 0x7e)
            return false;
    return true;
}

// "WORD REST": the first word, and `rest` after one space.
std::string_view first_word(std::string_view& rest) {
    const size_t space = rest.find(' ');
    std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    return word;
}

} // namespace

std::optional<PolicyState> parse_policy_state(std::string_view text) {
    if (text.empty() || text.back() != '\n')
        return std::nullopt; // torn: the file always ends in LF
    PolicyState state;
    bool ok = true;
    bool magic_seen = false;
    for_each_line(text, [&](std::string_view line, size_t number) {
        if (!ok)
            return;
        if (number == 1) {
            magic_seen = line == kMagic;
            ok = magic_seen;
            return;
        }
        std::string_view rest = line;
        std::string_view keyword = first_word(rest);
        if (keyword == "login" && !state.last_login_s) {
            state.last_login_s = parse_time(rest);
            ok = state.last_login_s.has_value();
            return;
        }
        if (keyword == "retrieved") {
            auto time = parse_time(first_word(rest));
            ok = time && is_uidl(rest) && state.first_retrieved.emplace(rest, *time).second;
            return;
        }
        ok = false;
    });
    if (!ok || !magic_seen)
        return std::nullopt;
    return state;
}

std::string format_policy_state(const PolicyState& state) {
    std::string text(kMagic);
    text += '\n';
    if (state.last_login_s)
        text += "login " + std::to_string(*state.last_login_s) + "\n";
    for (const auto& [uidl, time] : state.first_retrieved)
        text += "retrieved " + std::to_string(time) + " " + uidl + "\n";
    return text;
}

std::string policy_state_path(const std::string& drop_dir, const std::string& user) {
    return drop_dir + "/" + user + ".state";
}

Result<PolicyState> load_policy_state(const std::string& path) {
    auto file = read_text_file(path, kMaxPolicyStateOctets);
    if (!file) {
        if (file.error().errnum == ENOENT)
            return PolicyState{};
        return file.error();
    }
    if (auto own = check_own_regular_file(file->st, path); !own)
        return own.error();
    auto state = parse_policy_state(file->text);
    if (!state) {
        // Forgetting is safe: no message expires early, a login delay waits
        // for the next login (policy_state.h).
        log_warning("policy state " + path + ": malformed, starting afresh");
        return PolicyState{};
    }
    return std::move(*state);
}

Status save_policy_state(const std::string& path, const PolicyState& state) {
    return replace_file_durably(path, format_policy_state(state));
}

} // namespace popper
