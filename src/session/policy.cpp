// LOGIN-DELAY and EXPIRE (RFC 2449 §6.5, §6.6, §8.1.1) enforced for a
// session with a policy file: the login refused too soon after the last,
// the login time recorded, each message's first retrieval noted, and at QUIT
// the messages whose time has come added to the deletions. The times live
// in drop_dir/USER.state (popper/policy_state.h says why a crash cannot
// delete a message early).
#include "commands.h"
#include "popper/log.h"

#include <ctime>

namespace popper {

namespace {

constexpr int64_t kSecondsPerDay = 24 * 3600;

int64_t now_s() {
    return static_cast<int64_t>(std::time(nullptr));
}

std::string state_path(const Session& s) {
    return policy_state_path(s.config.drop_dir, s.user);
}

// Read failures are logged and taken as no state: nothing then expires
// early, and no login is refused.
PolicyState load_or_empty(const Session& s) {
    auto state = load_policy_state(state_path(s));
    if (!state) {
        log_error("policy state: user=" + s.user + ": " + state.error().message());
        return PolicyState{};
    }
    return std::move(*state);
}

void save(Session& s, const PolicyState& state) {
    if (auto saved = save_policy_state(state_path(s), state); !saved)
        log_error("policy state: user=" + s.user + ": " + saved.error().message());
}

// The entries of the messages that stay (not in `gone`); mail that left
// takes its entry with it.
PolicyState pruned(const Session& s, const std::vector<bool>& gone) {
    PolicyState kept;
    kept.last_login_s = s.policy_state->last_login_s;
    const MboxIndex& index = s.maildrop->index();
    for (size_t i = 0; i < index.messages.size(); ++i) {
        if (gone[i])
            continue;
        auto found = s.policy_state->first_retrieved.find(index.uidl(i));
        if (found != s.policy_state->first_retrieved.end())
            kept.first_retrieved.insert(*found);
    }
    return kept;
}

} // namespace

bool refuse_early_login(Session& s) {
    const unsigned delay_s = s.user_policy.login_delay_s;
    if (s.config.policy_file.empty() || delay_s == 0)
        return false;
    const PolicyState state = load_or_empty(s);
    const int64_t now = now_s();
    // A last login in the future (a clock set back, a hand-edited file)
    // does not lock the user out until then.
    if (!state.last_login_s || *state.last_login_s > now || now - *state.last_login_s >= delay_s)
        return false;
    log_notice(
        "login refused: user=" + s.user + " addr=" + s.peer.address +
        " reason=login-delay seconds_since_last=" + std::to_string(now - *state.last_login_s));
    s.writer.err("[LOGIN-DELAY] Minimum time between logins has not passed, try again later");
    s.done = true;
    return true;
}

void start_policy_state(Session& s) {
    if (s.config.policy_file.empty())
        return;
    // Loaded again under the session lock: a session that was ending when
    // the login began has saved its retrievals by now.
    s.policy_state = load_or_empty(s);
    if (s.user_policy.login_delay_s > 0) {
        s.policy_state->last_login_s = now_s();
        save(s, *s.policy_state);
    }
}

void note_retrieval(Session& s, size_t index) {
    if (!s.policy_state)
        return;
    // The first retrieval only: a later RETR does not restart the clock.
    if (s.policy_state->first_retrieved.emplace(s.maildrop->index().uidl(index), now_s()).second)
        s.policy_state_changed = true;
}

size_t add_expired(Session& s, std::vector<bool>& deleting) {
    if (!s.policy_state)
        return 0;
    size_t expired = 0;
    if (s.user_policy.expire_days) {
        const int64_t age_s = int64_t{*s.user_policy.expire_days} * kSecondsPerDay;
        const int64_t now = now_s();
        const MboxIndex& index = s.maildrop->index();
        for (size_t i = 0; i < index.messages.size(); ++i) {
            if (deleting[i])
                continue;
            auto found = s.policy_state->first_retrieved.find(index.uidl(i));
            // A time in the future is not a retrieval that happened.
            if (found == s.policy_state->first_retrieved.end() || found->second > now ||
                now - found->second < age_s)
                continue;
            deleting[i] = true;
            ++expired;
        }
    }
    save_policy_state_for(s, deleting);
    return expired;
}

void save_policy_state_for(Session& s, const std::vector<bool>& gone) {
    if (!s.policy_state)
        return;
    PolicyState kept = pruned(s, gone);
    // Written before the commit: it holds only true retrieval times and
    // drops only the entries of messages this commit deletes, so a crash
    // anywhere after it deletes nothing early.
    if (s.policy_state_changed || kept != *s.policy_state)
        save(s, kept);
    s.policy_state = std::move(kept);
    s.policy_state_changed = false;
}

} // namespace popper
