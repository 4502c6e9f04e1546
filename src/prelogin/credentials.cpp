#include "popper/credentials.h"

#include "popper/apop.h"
#include "popper/auth_policy.h"
#include "popper/log.h"
#include "popper/sasl.h"

#include <climits>
#include <unistd.h>

namespace popper {

namespace {

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0)
        return "localhost";
    return buf;
}

// The stored secret APOP and CRAM-MD5 need; a dummy when there is none, so
// the digest is computed either way.
std::string secret_or_dummy(const Config& config, const std::string& user, bool& found) {
    found = false;
    auto secret = find_apop_secret(config.apop_secrets_file, user);
    if (!secret) {
        log_error("cannot read APOP secrets: " + secret.error().message());
        return "popperd-dummy-secret";
    }
    if (!*secret)
        return "popperd-dummy-secret";
    found = true;
    return std::move(**secret);
}

} // namespace

AuthContext make_auth_context(const Config& config) {
    AuthContext context;
    std::string host = host_name();
    // APOP and CRAM-MD5 do not depend on TLS.
    const AuthPolicy policy = auth_policy(config, false);
    if (policy.offered(LoginMechanism::apop)) {
        auto stamp = new_apop_stamp(host);
        if (stamp)
            context.apop_stamp = *stamp;
        else
            log_error("APOP stamp: " + stamp.error().message());
    }
    if (policy.offered(LoginMechanism::cram_md5)) {
        // One challenge per attempt the session allows (RFC 2195 §2 form).
        for (unsigned i = 0; i < config.max_auth_failures; ++i) {
            auto challenge = new_apop_stamp(host);
            if (challenge)
                context.cram_challenges.push_back(*challenge);
        }
    }
    context.cram_used.assign(context.cram_challenges.size(), false);
    if (!config.policy_file.empty()) {
        auto file = load_policy_file(config.policy_file);
        if (file)
            context.capa_policy_lines = policy_capability_lines(
                file->default_policy(), file->login_delay_varies(), file->expire_varies());
        else
            log_error(file.error().message());
    }
    return context;
}

AuthVerdict check_credentials(const Config& config, const AuthContext& context,
                              const AuthRequest& request, std::string_view client_address,
                              bool under_tls, std::optional<GrantedLogin>& granted) {
    granted.reset();
    // The pre-login process is not trusted to have enforced the policy.
    auto mech = parse_login_mechanism(request.mechanism);
    if (!mech)
        return {false, "mechanism-disabled"};
    bool apop = *mech == LoginMechanism::apop;
    switch (auth_policy(config, under_tls).offer(*mech)) {
    case Offer::plaintext_disallowed:
        return {false, "plaintext-disallowed"};
    case Offer::disabled:
        return {false, apop ? "apop-disabled" : "mechanism-disabled"};
    case Offer::offered:
        break;
    }
    if (apop && context.apop_stamp.empty())
        return {false, "apop-disabled"};
    bool plaintext = sends_password(*mech);
    if (*mech == LoginMechanism::cram_md5) {
        // Each challenge this process made is good for one answer.
        auto& used = context.cram_used;
        size_t i = 0;
        while (i < context.cram_challenges.size() &&
               context.cram_challenges[i] != request.challenge)
            ++i;
        if (i == context.cram_challenges.size() || used[i])
            return {false, "bad-challenge"};
        used[i] = true;
    }
    const std::string& name = request.user;
    UserLookup lookup;
    if (is_valid_user_name(name)) {
        auto found =
            config.system_users ? lookup_system_user(name) : lookup_user(config.users_file, name);
        if (!found) {
            log_error("cannot read users file: " + found.error().message());
            return {false, "users-file-unreadable"};
        }
        lookup = std::move(*found);
    }
    // Every branch does the same work for its mechanism: unknown, disabled
    // and wrong answers cannot be told apart by time (invariant 5).
    bool matches = false;
    if (plaintext) {
        if (!lookup.entry) {
            verify_dummy(lookup.scheme_like, request.secret);
            return {false, is_valid_user_name(name) ? "unknown-user" : "invalid-name"};
        }
        matches = verify_password(lookup.entry->hash, request.secret);
    } else {
        bool has_secret = false;
        std::string secret =
            secret_or_dummy(config, is_valid_user_name(name) ? name : std::string(), has_secret);
        matches = apop ? verify_apop(secret, context.apop_stamp, request.secret)
                       : verify_cram_md5(secret, request.challenge, request.secret);
        wipe_secret(secret);
        if (!lookup.entry)
            return {false, is_valid_user_name(name) ? "unknown-user" : "invalid-name"};
        if (!has_secret)
            return {false, "no-secret"};
    }
    if (lookup.entry->disabled())
        return {false, "disabled"};
    if (!matches)
        return {false, "bad-password"};
    // Only a right password learns nothing more: the policy refusal reads
    // as a wrong password (the reason is logged, never sent).
    UserPolicy policy;
    if (!config.policy_file.empty()) {
        auto file = load_policy_file(config.policy_file);
        if (!file) {
            log_error("login refused: " + file.error().message());
            return {false, "policy-file-error"};
        }
        policy = file->policy_for(name);
    }
    if (!policy.admits(client_address))
        return {false, "policy-denied"};
    granted = GrantedLogin{std::move(*lookup.entry), std::move(policy)};
    return {true, ""};
}

} // namespace popper
