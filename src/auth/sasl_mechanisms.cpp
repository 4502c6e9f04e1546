// The SASL server mechanisms: PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195).
#include "popper/hmac_md5.h"
#include "popper/sasl.h"

#include <cstring>
#include <utility>

namespace popper {

namespace {

constexpr size_t kMd5HexDigits = 32;

char lower_ascii(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower_ascii(a[i]) != lower_ascii(b[i]))
            return false;
    }
    return true;
}

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// 32 hex digits in either case, returned lowercased; empty when malformed.
std::string lower_md5_hex(std::string_view text) {
    if (text.size() != kMd5HexDigits)
        return {};
    std::string out(text);
    for (char& c : out) {
        if (!is_hex_digit(c))
            return {};
        c = lower_ascii(c);
    }
    return out;
}

// A decoded response, wiped when it goes out of scope: it may be a password.
class DecodedResponse {
public:
    explicit DecodedResponse(std::string text) : text_(std::move(text)) {}
    ~DecodedResponse() { wipe_secret(text_); }
    DecodedResponse(const DecodedResponse&) = delete;
    DecodedResponse& operator=(const DecodedResponse&) = delete;
    std::string_view view() const { return text_; }

private:
    std::string text_;
};

} // namespace

void wipe_secret(std::string& secret) {
    explicit_bzero(secret.data(), secret.size());
    secret.clear();
}

SaslCredentials::~SaslCredentials() {
    wipe_secret(password);
}

std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view name) {
    for (SaslMechanism m : kSaslMechanisms) {
        if (equals_ignoring_case(name, sasl_mechanism_name(m)))
            return m;
    }
    return std::nullopt;
}

std::string_view sasl_mechanism_name(SaslMechanism mechanism) {
    switch (mechanism) {
    case SaslMechanism::plain:
        return "PLAIN";
    case SaslMechanism::login:
        return "LOGIN";
    case SaslMechanism::cram_md5:
        return "CRAM-MD5";
    }
    return "PLAIN";
}

bool sasl_sends_password(SaslMechanism mechanism) {
    return mechanism != SaslMechanism::cram_md5;
}

SaslExchange::SaslExchange(SaslMechanism mechanism, std::string cram_challenge)
    : mechanism_(mechanism), cram_challenge_(std::move(cram_challenge)) {}

SaslStep SaslExchange::start(std::optional<std::string_view> initial_response) {
    if (state_ != State::not_started)
        return fail(SaslFailure::unexpected, "exchange already started");
    if (mechanism_ == SaslMechanism::cram_md5) {
        // RFC 2195 §2: the server speaks first, so there is nothing to answer.
        if (initial_response)
            return fail(SaslFailure::unexpected, "CRAM-MD5 takes no initial response");
        if (cram_challenge_.empty())
            return fail(SaslFailure::unexpected, "no CRAM-MD5 challenge given");
        return challenge(State::cram_answer, cram_challenge_);
    }
    state_ = mechanism_ == SaslMechanism::plain ? State::plain_message : State::login_user;
    if (!initial_response) {
        if (mechanism_ == SaslMechanism::plain)
            return challenge(State::plain_message, ""); // RFC 4616 §2: empty challenge
        return challenge(State::login_user, "Username:");
    }
    // RFC 5034 §4: "=" is an empty initial response, distinct from none.
    if (*initial_response == "=")
        return respond("");
    return step(*initial_response);
}

SaslStep SaslExchange::step(std::string_view line) {
    if (state_ == State::not_started || state_ == State::finished)
        return fail(SaslFailure::unexpected, "no exchange under way");
    if (line == "*")
        return fail(SaslFailure::cancelled, "cancelled");
    if (line.size() > kMaxSaslLineOctets)
        return fail(SaslFailure::too_long,
                    "response longer than " + std::to_string(kMaxSaslLineOctets) + " octets");
    auto decoded = base64_decode(line);
    if (!decoded)
        return fail(SaslFailure::bad_base64, decoded.error().message());
    DecodedResponse response(std::move(*decoded));
    return respond(response.view());
}

SaslStep SaslExchange::respond(std::string_view decoded) {
    if (decoded.size() > kMaxSaslResponseOctets)
        return fail(SaslFailure::too_long,
                    "response longer than " + std::to_string(kMaxSaslResponseOctets) + " octets");
    switch (state_) {
    case State::plain_message:
        return on_plain(decoded);
    case State::login_user:
        return on_login_user(decoded);
    case State::login_password:
        return on_login_password(decoded);
    case State::cram_answer:
        return on_cram_answer(decoded);
    case State::not_started:
    case State::finished:
        break;
    }
    return fail(SaslFailure::unexpected, "no exchange under way");
}

// RFC 4616 §2: message = [authzid] NUL authcid NUL passwd.
SaslStep SaslExchange::on_plain(std::string_view message) {
    const size_t first = message.find('\0');
    const size_t second = first == std::string_view::npos ? first : message.find('\0', first + 1);
    if (second == std::string_view::npos ||
        message.find('\0', second + 1) != std::string_view::npos)
        return fail(SaslFailure::malformed, "PLAIN message is not authzid NUL authcid NUL passwd");
    const std::string_view authzid = message.substr(0, first);
    const std::string_view authcid = message.substr(first + 1, second - first - 1);
    const std::string_view passwd = message.substr(second + 1);
    if (authcid.empty() || passwd.empty())
        return fail(SaslFailure::malformed, "PLAIN message with empty user or password");
    // We act for nobody else: an authzid must name the user itself.
    if (!authzid.empty() && authzid != authcid)
        return fail(SaslFailure::authzid_mismatch,
                    "PLAIN authorization identity differs from the user");
    SaslCredentials credentials;
    credentials.mechanism = SaslMechanism::plain;
    credentials.user = authcid;
    credentials.password = passwd;
    return done(std::move(credentials));
}

SaslStep SaslExchange::on_login_user(std::string_view user) {
    if (user.empty() || user.find('\0') != std::string_view::npos)
        return fail(SaslFailure::malformed, "LOGIN user name empty or holding NUL");
    login_user_ = user;
    return challenge(State::login_password, "Password:");
}

SaslStep SaslExchange::on_login_password(std::string_view password) {
    SaslCredentials credentials;
    credentials.mechanism = SaslMechanism::login;
    credentials.user = std::move(login_user_);
    credentials.password = password;
    return done(std::move(credentials));
}

// RFC 2195 §2: the answer is the user name, a space, then 32 lowercase hex
// digits. The name may itself hold spaces, so the last space separates.
SaslStep SaslExchange::on_cram_answer(std::string_view answer) {
    const size_t space = answer.rfind(' ');
    if (space == std::string_view::npos || space == 0)
        return fail(SaslFailure::malformed, "CRAM-MD5 answer is not \"user digest\"");
    std::string digest = lower_md5_hex(answer.substr(space + 1));
    if (digest.empty())
        return fail(SaslFailure::malformed, "CRAM-MD5 digest is not 32 hex digits");
    SaslCredentials credentials;
    credentials.mechanism = SaslMechanism::cram_md5;
    credentials.user = answer.substr(0, space);
    credentials.challenge = cram_challenge_;
    credentials.digest_hex = std::move(digest);
    return done(std::move(credentials));
}

SaslStep SaslExchange::challenge(State next, std::string_view decoded_challenge) {
    state_ = next;
    SaslStep s;
    s.kind = SaslStep::Kind::challenge;
    s.challenge_b64 = base64_encode(decoded_challenge);
    return s;
}

SaslStep SaslExchange::done(SaslCredentials credentials) {
    state_ = State::finished;
    SaslStep s;
    s.kind = SaslStep::Kind::done;
    s.credentials = std::move(credentials);
    return s;
}

SaslStep SaslExchange::fail(SaslFailure failure, std::string why) {
    state_ = State::finished;
    wipe_secret(login_user_);
    SaslStep s;
    s.kind = SaslStep::Kind::failed;
    s.failure = failure;
    s.why = std::move(why);
    return s;
}

bool verify_cram_md5(std::string_view secret, std::string_view challenge,
                     std::string_view digest_hex) {
    return hex_digest_matches(hmac_md5_hex(secret, challenge), digest_hex);
}

} // namespace popper
