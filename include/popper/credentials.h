// The privileged side of a login: the challenges of one connection, made
// before the pre-login process exists, and the check of the credentials it
// sends (popper/auth_channel.h carries them across). The users file (or the
// system's accounts) and the APOP secrets are read afresh at each check.
#pragma once

#include "popper/auth_channel.h"
#include "popper/config.h"
#include "popper/users_file.h"

#include <optional>
#include <string>
#include <vector>

namespace popper {

// Made by the privileged process before it forks the pre-login one, so a
// compromised pre-login process cannot choose the challenges it replays.
struct AuthContext {
    std::string apop_stamp;                   // empty unless APOP is offered
    std::vector<std::string> cram_challenges; // one per allowed attempt
    mutable std::vector<bool> cram_used;
};
AuthContext make_auth_context(const Config& config);

// Checks `request` against the auth policy (the pre-login process is not
// trusted to have done so), the users file and the secrets; fills `entry`
// when the login is granted. Unknown users, invalid names and wrong answers
// cost the same work (invariant 5); the verdict's reason says which for the
// log. Each CRAM-MD5 challenge of `context` is good for one answer.
// `under_tls`: the session's PeerInfo::under_tls (allow_plaintext = tls).
AuthVerdict check_credentials(const Config& config, const AuthContext& context,
                              const AuthRequest& request, bool under_tls,
                              std::optional<UserEntry>& entry);

} // namespace popper
