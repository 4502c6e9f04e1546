// The privileged side of a login: the challenges of one connection, made
// before the pre-login process exists, and the check of the credentials it
// sends (popper/auth_channel.h carries them across). The users file (or the
// system's accounts) and the APOP secrets are read afresh at each check.
#pragma once

#include "popper/auth_channel.h"
#include "popper/config.h"
#include "popper/user_policy.h"
#include "popper/users_file.h"

#include <optional>
#include <string>
#include <vector>

namespace popper {

// Made by the privileged process before it forks the pre-login one, so a
// compromised pre-login process cannot choose the challenges it replays.
struct AuthContext {
    std::string apop_stamp; // empty unless APOP is offered
    // LOGIN-DELAY and EXPIRE for CAPA before login (RFC 2449 §6.5, §6.6):
    // the policy file's defaults, read here because the pre-login process
    // cannot read it. Empty without a policy file.
    std::string capa_policy_lines;
    std::vector<std::string> cram_challenges; // one per allowed attempt
    mutable std::vector<bool> cram_used;
};
AuthContext make_auth_context(const Config& config);

// What a granted login brings to the session: the account and its policy.
struct GrantedLogin {
    UserEntry entry;
    UserPolicy policy;
};

// Checks `request` against the auth policy (the pre-login process is not
// trusted to have done so), the users file, the secrets and then the policy
// file for `client_address` (PeerInfo::address); fills `granted` when the
// login is granted. A policy refusal ("policy-denied", or
// "policy-file-error" while the file is broken) looks to the client like a
// wrong password, after the same work; only the log tells. Unknown users,
// invalid names and wrong answers cost the same work (invariant 5); the
// verdict's reason says which for the log. Each CRAM-MD5 challenge of
// `context` is good for one answer. `under_tls`: the session's
// PeerInfo::under_tls (allow_plaintext = tls).
AuthVerdict check_credentials(const Config& config, const AuthContext& context,
                              const AuthRequest& request, std::string_view client_address,
                              bool under_tls, std::optional<GrantedLogin>& granted);

} // namespace popper
