// APOP (RFC 1939 §7) and AUTH (RFC 5034) in the AUTHORIZATION state. The
// exchanges run in the pre-login process; only the resulting credentials go
// to the privileged process, through submit_credentials.
#include "popper/apop.h"
#include "popper/log.h"
#include "popper/sasl.h"
#include "session_state.h"

namespace popper {

namespace {

// Reads one continuation line; false when the client went away or waited
// too long (the session then ends without a reply).
bool read_continuation(Session& s, std::string& line) {
    s.reader.set_max_line(kMaxSaslLineOctets + 2);
    if (!s.writer.flush()) return false;
    ReadStatus got = ReadStatus::interrupted;
    while (got == ReadStatus::interrupted && !session_shutdown_requested())
        got = s.reader.read_line(line, static_cast<int>(s.config.auth_timeout_s) * 1000);
    s.reader.set_max_line(kMaxCommandLineOctets);
    if (got == ReadStatus::too_long) line = std::string(kMaxSaslLineOctets + 1, 'A');
    return got == ReadStatus::line || got == ReadStatus::too_long;
}

const std::string& next_cram_challenge(Session& s) {
    static const std::string none;
    if (s.auth == nullptr || s.auth->cram_challenges.empty()) return none;
    size_t i = std::min<size_t>(s.auth_failures, s.auth->cram_challenges.size() - 1);
    return s.auth->cram_challenges[i];
}

} // namespace

void handle_apop(Session& s, const CommandLine& cmd) {
    if (!s.policy.offered(LoginMechanism::apop) || s.auth == nullptr ||
        s.auth->apop_stamp.empty())
        return s.writer.err("APOP is not enabled");
    if (cmd.args.size() != 2) return s.writer.err("Usage: APOP name digest");
    submit_credentials(s, AuthRequest{std::string(login_mechanism_name(LoginMechanism::apop)),
                                      cmd.args[0], cmd.args[1], {}});
}

void handle_auth(Session& s, const CommandLine& cmd) {
    if (cmd.args.empty()) {
        // Not in RFC 5034, but what many clients probe: the mechanisms.
        s.writer.ok("Supported SASL mechanisms follow");
        for (auto m : {SaslMechanism::plain, SaslMechanism::login, SaslMechanism::cram_md5})
            if (s.policy.offered(login_mechanism(m)))
                s.writer.raw(std::string(sasl_mechanism_name(m)) + "\r\n");
        s.writer.raw(".\r\n");
        return;
    }
    if (cmd.args.size() > 2) return s.writer.err("Usage: AUTH mechanism [initial-response]");
    auto mechanism = parse_sasl_mechanism(cmd.args[0]);
    Offer offer = mechanism ? s.policy.offer(login_mechanism(*mechanism)) : Offer::disabled;
    if (offer == Offer::plaintext_disallowed)
        return s.writer.err("[AUTH] Plaintext authentication disallowed");
    if (offer != Offer::offered) return s.writer.err("Unsupported authentication mechanism");
    SaslExchange exchange(*mechanism, next_cram_challenge(s));
    std::optional<std::string_view> initial;
    if (cmd.args.size() == 2) initial = cmd.args[1];
    SaslStep step = exchange.start(initial);
    std::string line;
    while (step.kind == SaslStep::Kind::challenge) {
        s.writer.raw("+ " + step.challenge_b64 + "\r\n");
        if (!read_continuation(s, line)) {
            s.done = true;
            return;
        }
        step = exchange.step(line);
        wipe_secret(line);
    }
    if (step.kind == SaslStep::Kind::failed) {
        if (step.failure == SaslFailure::cancelled)
            return s.writer.err("Authentication cancelled");
        log_info("AUTH " + std::string(sasl_mechanism_name(*mechanism)) +
                 " rejected: addr=" + s.peer.address + " why=" + step.why);
        return fail_login(s, "", "malformed-sasl");
    }
    SaslCredentials& c = step.credentials;
    bool cram = c.mechanism == SaslMechanism::cram_md5;
    std::string name(login_mechanism_name(login_mechanism(c.mechanism)));
    submit_credentials(s, AuthRequest{std::move(name), c.user,
                                      cram ? c.digest_hex : c.password,
                                      cram ? c.challenge : std::string()});
}

} // namespace popper
