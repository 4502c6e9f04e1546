// The AUTHORIZATION state (RFC 1939 §4, §7; RFC 2449 §5 CAPA; RFC 5034
// AUTH). Its commands run in the pre-login process, unprivileged: only the
// credentials they yield go to the privileged process (submit_credentials),
// which answers with a verdict. A granted login is handed over to it with
// whatever the client pipelined, and this process's part ends.
#include "commands.h"
#include "popper/log.h"
#include "popper/sasl.h"

#include <thread>

namespace popper {

namespace {

void fail_login(Session& s, const std::string& name, const char* reason) {
    ++s.auth_failures;
    log_notice("authentication failure: user=" + name + " addr=" + s.peer.address +
               " reason=" + reason);
    // RFC 2449 AUTH-RESP-CODE; one reply and one delay for every reason, so
    // user names cannot be told apart (invariant 5).
    std::this_thread::sleep_for(std::chrono::milliseconds(s.config.auth_failure_delay_ms));
    if (s.auth_failures >= s.config.max_auth_failures) {
        s.writer.err("[AUTH] Authentication failed, closing connection");
        log_notice("too many authentication failures: addr=" + s.peer.address);
        s.done = true;
        return;
    }
    s.writer.err("[AUTH] Authentication failed");
}

} // namespace

void submit_credentials(Session& s, AuthRequest request) {
    const std::string name = request.user;
    if (s.auth_channel < 0) {
        // No pre-login process: checked here, and the login happens here
        // too (a test of the session alone, popper/session.h).
        static const AuthContext none;
        std::optional<GrantedLogin> granted;
        AuthVerdict verdict = check_credentials(s.config, s.auth ? *s.auth : none, request,
                                                s.peer.address, s.peer.under_tls, granted);
        wipe_secret(request.secret);
        if (!verdict.ok)
            return fail_login(s, name, verdict.reason.c_str());
        return enter_transaction(s, *granted);
    }
    auto sent = send_auth_request(s.auth_channel, request);
    wipe_secret(request.secret);
    auto verdict = sent ? receive_auth_verdict(s.auth_channel) : Result<AuthVerdict>(sent.error());
    if (!verdict) {
        log_error("authentication unavailable: " + verdict.error().message());
        s.writer.err("[SYS/TEMP] Authentication unavailable, try again later");
        s.done = true;
        return;
    }
    if (!verdict->ok)
        return fail_login(s, name, verdict->reason.c_str());
    // The privileged process answers once it has the maildrop; it also gets
    // what the client pipelined after the credentials.
    if (!s.writer.flush()) {
        s.done = true;
        return;
    }
    if (auto handed = send_handover(s.auth_channel, {name, s.reader.take_buffered()}); !handed)
        log_error("handing the session over: " + handed.error().message());
    s.handed_over = true;
    s.done = true;
}

namespace {

// Reads one continuation line; false when the client went away or waited
// too long (the session then ends without a reply).
bool read_continuation(Session& s, std::string& line) {
    s.reader.set_max_line(kMaxSaslLineOctets + 2);
    if (!s.writer.flush())
        return false;
    ReadStatus got = ReadStatus::interrupted;
    while (got == ReadStatus::interrupted && !session_shutdown_requested())
        got = s.reader.read_line(line, static_cast<int>(s.config.auth_timeout_s) * 1000);
    s.reader.set_max_line(kMaxCommandLineOctets);
    if (got == ReadStatus::too_long)
        line = std::string(kMaxSaslLineOctets + 1, 'A');
    return got == ReadStatus::line || got == ReadStatus::too_long;
}

const std::string& next_cram_challenge(Session& s) {
    static const std::string none;
    if (s.auth == nullptr || s.auth->cram_challenges.empty())
        return none;
    size_t i = std::min<size_t>(s.auth_failures, s.auth->cram_challenges.size() - 1);
    return s.auth->cram_challenges[i];
}

// RFC 2449 §5 and RFC 5034 §3: before login, CAPA names the ways to log in
// that are really offered.
void capa_before_login(Session& s, const CommandLine& cmd) {
    std::string login;
    if (s.policy.offered(LoginMechanism::user_pass))
        login += "USER\r\n";
    if (!s.policy.sasl.empty()) {
        login += "SASL";
        for (SaslMechanism m : s.policy.sasl)
            login += " " + std::string(sasl_mechanism_name(m));
        login += "\r\n";
    }
    // RFC 2449 §6.5, §6.6: the defaults, made by the privileged process.
    if (s.auth != nullptr)
        login += s.auth->capa_policy_lines;
    reply_capabilities(s, cmd, login);
}

void handle_user(Session& s, const CommandLine& cmd) {
    if (!s.policy.offered(LoginMechanism::user_pass))
        return refuse_plaintext(s);
    if (cmd.args.size() != 1)
        return s.writer.err("Usage: USER name");
    // Same answer for every name: whether it exists is told by PASS only.
    s.pending_user = cmd.args[0];
    s.writer.ok("Send your password");
}

void handle_pass(Session& s, const CommandLine& cmd) {
    if (!s.policy.offered(LoginMechanism::user_pass))
        return refuse_plaintext(s);
    if (s.pending_user.empty())
        return s.writer.err("Send USER first");
    std::string name = std::move(s.pending_user);
    s.pending_user.clear();
    submit_credentials(
        s, AuthRequest{
               std::string(login_mechanism_name(LoginMechanism::user_pass)), name, cmd.rest, {}});
}

void handle_apop(Session& s, const CommandLine& cmd) {
    if (!s.policy.offered(LoginMechanism::apop) || s.auth == nullptr || s.auth->apop_stamp.empty())
        return s.writer.err("APOP is not enabled");
    if (cmd.args.size() != 2)
        return s.writer.err("Usage: APOP name digest");
    submit_credentials(s, AuthRequest{std::string(login_mechanism_name(LoginMechanism::apop)),
                                      cmd.args[0],
                                      cmd.args[1],
                                      {}});
}

void handle_auth(Session& s, const CommandLine& cmd) {
    if (cmd.args.empty()) {
        // Not in RFC 5034, but what many clients probe: the mechanisms.
        s.writer.ok("Supported SASL mechanisms follow");
        for (SaslMechanism m : kSaslMechanisms)
            if (s.policy.offered(login_mechanism(m)))
                s.writer.raw(std::string(sasl_mechanism_name(m)) + "\r\n");
        s.writer.raw(".\r\n");
        return;
    }
    if (cmd.args.size() > 2)
        return s.writer.err("Usage: AUTH mechanism [initial-response]");
    auto mechanism = parse_sasl_mechanism(cmd.args[0]);
    Offer offer = mechanism ? s.policy.offer(login_mechanism(*mechanism)) : Offer::disabled;
    if (offer == Offer::plaintext_disallowed)
        return refuse_plaintext(s);
    if (offer != Offer::offered)
        return s.writer.err("Unsupported authentication mechanism");
    SaslExchange exchange(*mechanism, next_cram_challenge(s));
    std::optional<std::string_view> initial;
    if (cmd.args.size() == 2)
        initial = cmd.args[1];
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
    submit_credentials(s, AuthRequest{std::move(name), c.user, cram ? c.digest_hex : c.password,
                                      cram ? c.challenge : std::string()});
}

void quit_before_login(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty())
        return s.writer.err("QUIT takes no argument");
    s.done = true;
    s.writer.ok("Bye");
}

constexpr Command kCommands[] = {
    {"CAPA", capa_before_login},
    {"USER", handle_user},
    // RFC 1939 §7: the argument of PASS is the password, spaces and all.
    {.keyword = "PASS", .handler = handle_pass, .long_arguments = true},
    {"APOP", handle_apop},
    {"AUTH", handle_auth},
    {"QUIT", quit_before_login},
};

} // namespace

// RFC 3206 [AUTH], worded as Dovecot's disable_plaintext_auth, so that the
// user of a client that did not start TLS learns what to change.
void refuse_plaintext(Session& s) {
    if (s.config.allow_plaintext == AllowPlaintext::tls)
        return s.writer.err(
            "[AUTH] Plaintext authentication disallowed on non-secure (TLS) connections");
    s.writer.err("[AUTH] Plaintext authentication disallowed");
}

std::span<const Command> authorization_commands() {
    return kCommands;
}

} // namespace popper
