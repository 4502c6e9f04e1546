#include "popper/auth_policy.h"

#include <algorithm>

namespace popper {

std::string_view login_mechanism_name(LoginMechanism mechanism) {
    switch (mechanism) {
    case LoginMechanism::user_pass:
        return "PASS";
    case LoginMechanism::apop:
        return "APOP";
    case LoginMechanism::plain:
        return sasl_mechanism_name(SaslMechanism::plain);
    case LoginMechanism::login:
        return sasl_mechanism_name(SaslMechanism::login);
    case LoginMechanism::cram_md5:
        return sasl_mechanism_name(SaslMechanism::cram_md5);
    }
    return "PASS";
}

std::optional<LoginMechanism> parse_login_mechanism(std::string_view name) {
    for (LoginMechanism m : kLoginMechanisms)
        if (name == login_mechanism_name(m))
            return m;
    return std::nullopt;
}

LoginMechanism login_mechanism(SaslMechanism mechanism) {
    switch (mechanism) {
    case SaslMechanism::plain:
        return LoginMechanism::plain;
    case SaslMechanism::login:
        return LoginMechanism::login;
    case SaslMechanism::cram_md5:
        return LoginMechanism::cram_md5;
    }
    return LoginMechanism::plain;
}

bool sends_password(LoginMechanism mechanism) {
    return mechanism == LoginMechanism::user_pass || mechanism == LoginMechanism::plain ||
           mechanism == LoginMechanism::login;
}

AuthPolicy auth_policy(const Config& config, bool under_tls) {
    const bool plaintext_ok = config.allow_plaintext == AllowPlaintext::yes ||
                              (config.allow_plaintext == AllowPlaintext::tls && under_tls);
    std::vector<SaslMechanism> listed;
    for (const auto& name : config.auth_mechanisms)
        if (auto m = parse_sasl_mechanism(name))
            listed.push_back(*m);
    auto is_listed = [&listed](LoginMechanism m) {
        return std::any_of(listed.begin(), listed.end(),
                           [m](SaslMechanism s) { return login_mechanism(s) == m; });
    };
    AuthPolicy policy;
    for (LoginMechanism m : kLoginMechanisms) {
        bool on = m == LoginMechanism::user_pass ? true
                  : m == LoginMechanism::apop    ? config.apop
                                                 : is_listed(m);
        Offer& offer = policy.offers[static_cast<size_t>(m)];
        if (sends_password(m) && !plaintext_ok)
            offer = Offer::plaintext_disallowed;
        else
            offer = on ? Offer::offered : Offer::disabled;
    }
    for (SaslMechanism m : listed)
        if (policy.offered(login_mechanism(m)))
            policy.sasl.push_back(m);
    return policy;
}

} // namespace popper
