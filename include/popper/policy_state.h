// What LOGIN-DELAY and EXPIRE (RFC 2449 §6.5, §6.6) must remember between
// sessions: the user's last login, and when each message was first
// retrieved, keyed by its UIDL (stable across sessions, invariant 4). It is
// kept in drop_dir/USER.state, written by the session as the mailbox owner,
// to a temporary file that is fsynced and renamed over the old one, so a
// crash leaves the old state or the new, never a torn one.
//
// Why a crash can never delete a message that was not due: messages are
// deleted only by a QUIT's commit, from times this file held before the
// session. The file only ever gains true retrieval times (this session's,
// which are "now"), and loses the entries of messages the QUIT is about to
// delete. A crash before the commit keeps the messages and at worst loses
// their entries: their clock starts again, later, never earlier. A file that
// cannot be read or parsed is treated as empty, with the same effect.
#pragma once

#include "popper/mbox_index.h"
#include "popper/result.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace popper {

// A state line is a keyword, a time and a UIDL (RFC 1939 §7: at most 70
// octets); a mailbox of a million messages fits in this many octets.
inline constexpr size_t kMaxPolicyStateOctets = size_t{128} << 20;

struct PolicyState {
    std::optional<int64_t> last_login_s;            // seconds since the epoch
    std::map<std::string, int64_t> first_retrieved; // UIDL -> seconds since the epoch

    bool operator==(const PolicyState&) const = default;
};

// "popperd-state 1", then "login TIME" and "retrieved TIME UIDL" lines, LF
// terminated. TIME: decimal seconds since the epoch, 0 to 2^40. UIDL: 1 to
// 70 octets 0x21-0x7E. nullopt for anything else (a torn, foreign or
// tampered file), which the caller treats as no state.
std::optional<PolicyState> parse_policy_state(std::string_view text);
std::string format_policy_state(const PolicyState& state);

// drop_dir/USER.state.
std::string policy_state_path(const std::string& drop_dir, const std::string& user);
// The state in `path`: empty when missing. An error when it cannot be read
// or is not the user's own regular file; a malformed file is empty, logged.
Result<PolicyState> load_policy_state(const std::string& path);
// Replaces `path` with `state`: temporary file, fsync, rename, fsync of the
// directory (DESIGN.md: data durable before the rename that publishes it).
Status save_policy_state(const std::string& path, const PolicyState& state);

} // namespace popper
