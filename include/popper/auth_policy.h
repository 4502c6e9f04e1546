// Which ways to log in the server offers: USER/PASS and APOP (RFC 1939 §7)
// and the SASL mechanisms of AUTH (RFC 5034, popper/sasl.h). One value,
// computed from the config's allow_plaintext, apop and auth_mechanisms (and
// whether the session is under TLS, for allow_plaintext = tls), and
// asked by everything that needs to know: CAPA and AUTH's list, the commands
// of the pre-login process, the privileged credential check (which does not
// trust the pre-login process to have asked), the login challenges, and
// popperd's check of the secrets file at start.
#pragma once

#include "popper/config.h"
#include "popper/sasl.h"

#include <array>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>
#include <vector>

namespace popper {

enum class LoginMechanism { user_pass, apop, plain, login, cram_md5 };
// Every mechanism, each at the index of its value.
inline constexpr LoginMechanism kLoginMechanisms[] = {
    LoginMechanism::user_pass, LoginMechanism::apop, LoginMechanism::plain, LoginMechanism::login,
    LoginMechanism::cram_md5};

// The name in the auth channel's requests: "PASS" (USER/PASS), "APOP",
// "PLAIN", "LOGIN", "CRAM-MD5".
std::string_view login_mechanism_name(LoginMechanism mechanism);
// Exactly those names and nothing else: the privileged process reads them
// from a process it does not trust.
std::optional<LoginMechanism> parse_login_mechanism(std::string_view name);
LoginMechanism login_mechanism(SaslMechanism mechanism);
// USER/PASS, PLAIN and LOGIN carry the password itself (allow_plaintext).
bool sends_password(LoginMechanism mechanism);

// Whether a mechanism is offered, or why not.
enum class Offer { offered, plaintext_disallowed, disabled };

struct AuthPolicy {
    std::array<Offer, std::size(kLoginMechanisms)> offers{}; // indexed by LoginMechanism
    // The SASL mechanisms offered, in the order auth_mechanisms lists them:
    // CAPA's SASL line.
    std::vector<SaslMechanism> sasl;

    Offer offer(LoginMechanism m) const { return offers[static_cast<size_t>(m)]; }
    bool offered(LoginMechanism m) const { return offer(m) == Offer::offered; }
    // APOP and CRAM-MD5 check digests against the plain secrets of
    // apop_secrets_file.
    bool needs_secrets() const {
        return offered(LoginMechanism::apop) || offered(LoginMechanism::cram_md5);
    }
};

// `under_tls`: the session is known to be under TLS (PeerInfo::under_tls),
// which allow_plaintext = tls asks for the mechanisms that send the password.
AuthPolicy auth_policy(const Config& config, bool under_tls);

} // namespace popper
