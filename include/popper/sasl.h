// SASL server mechanisms for the POP3 AUTH command (RFC 5034): PLAIN (RFC
// 4616), LOGIN (the de-facto mechanism Outlook uses) and CRAM-MD5 (RFC 2195).
// Pure state machines, no I/O: the session feeds the client's lines and sends
// what comes back; the credentials an exchange yields are checked elsewhere
// (by the privileged process), so nothing here knows any secret.
//
// The session's side of one AUTH command:
//
//   SaslExchange exchange(mechanism, fresh new_apop_stamp(host) for CRAM-MD5);
//   SaslStep s = exchange.start(initial_response_or_nullopt);
//   while (s.kind == SaslStep::Kind::challenge) {
//       send("+ " + s.challenge_b64);            // RFC 5034 §4: "+" SP [base64]
//       s = exchange.step(read_line());          // "*" cancels
//   }
//   done   -> check s.credentials (verify_password / verify_cram_md5)
//   failed -> "-ERR ..."; s.failure says why, s.why is a log text
#pragma once

#include "popper/base64.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace popper {

// The AUTH command line, initial response included, is a POP3 command: at
// most 255 octets (RFC 2449 §4, RFC 5034 §4), which the session's line reader
// enforces. A response to a challenge is a line of its own with no limit in
// the RFCs; 8 KiB decoded is far above any password or CRAM-MD5 answer and
// keeps a hostile client's line cheap.
inline constexpr size_t kMaxSaslResponseOctets = 8192;
// The longest continuation line (without CRLF) that can carry that much: the
// session must accept lines this long while an exchange is under way. Longer
// lines fail the exchange without being decoded.
inline constexpr size_t kMaxSaslLineOctets = base64_encoded_size(kMaxSaslResponseOctets);

enum class SaslMechanism { plain, login, cram_md5 };
// Every mechanism, in the order AUTH without arguments lists them.
inline constexpr SaslMechanism kSaslMechanisms[] = {SaslMechanism::plain, SaslMechanism::login,
                                                    SaslMechanism::cram_md5};

// "PLAIN", "LOGIN", "CRAM-MD5", in any case (clients differ); nullopt for a
// mechanism we do not implement.
std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view name);
// The name CAPA lists after "SASL": "PLAIN", "LOGIN", "CRAM-MD5".
std::string_view sasl_mechanism_name(SaslMechanism mechanism);
// PLAIN and LOGIN carry the password itself (governed by allow_plaintext);
// CRAM-MD5 needs the plain secret on the server (the APOP secrets file).
bool sasl_sends_password(SaslMechanism mechanism);

// What a finished exchange claims. The user name is as the client sent it:
// the session must still check it with is_valid_user_name, and treat an
// invalid name as an unknown user (same reply, same work).
struct SaslCredentials {
    SaslMechanism mechanism = SaslMechanism::plain;
    std::string user;       // the authentication identity (RFC 4616 authcid)
    std::string password;   // PLAIN, LOGIN: for verify_password
    std::string challenge;  // CRAM-MD5: the challenge this exchange sent, decoded
    std::string digest_hex; // CRAM-MD5: the client's 32 hex digits, lowercased

    SaslCredentials() = default;
    SaslCredentials(const SaslCredentials&) = default;
    SaslCredentials(SaslCredentials&&) noexcept = default;
    SaslCredentials& operator=(const SaslCredentials&) = default;
    SaslCredentials& operator=(SaslCredentials&&) noexcept = default;
    ~SaslCredentials(); // wipes the password
};

// Why an exchange failed. None of these is a wrong password: that is only
// known when the credentials are checked.
enum class SaslFailure {
    none,
    cancelled,        // the client sent "*" (RFC 5034 §4)
    bad_base64,       // not strict RFC 4648 base64
    too_long,         // over kMaxSaslLineOctets / kMaxSaslResponseOctets
    malformed,        // decoded, but not what the mechanism expects
    authzid_mismatch, // PLAIN: authorization identity other than the user
    unexpected,       // a step after the end, an initial response to CRAM-MD5
};

struct SaslStep {
    enum class Kind { challenge, done, failed };
    Kind kind = Kind::failed;
    std::string challenge_b64;   // challenge: send "+ " + this (may be empty)
    SaslCredentials credentials; // done
    SaslFailure failure = SaslFailure::none;
    std::string why; // failed: for the log; never holds a secret or raw input
};

// One AUTH exchange. Each object serves one command; after done or failed
// every further step fails with SaslFailure::unexpected.
class SaslExchange {
public:
    // `cram_challenge` is the challenge CRAM-MD5 sends (RFC 2195 §2: a
    // "<random.timestamp@hostname>" message id, i.e. a fresh new_apop_stamp);
    // the other mechanisms ignore it.
    explicit SaslExchange(SaslMechanism mechanism, std::string cram_challenge = {});

    SaslExchange(const SaslExchange&) = delete;
    SaslExchange& operator=(const SaslExchange&) = delete;

    // The AUTH command itself. `initial_response` is the base64 argument
    // after the mechanism name, if the client gave one; "=" stands for an
    // empty response (RFC 5034 §4). CRAM-MD5 is server-first and refuses one.
    SaslStep start(std::optional<std::string_view> initial_response);
    // One continuation line from the client, without its CRLF. "*" cancels;
    // an empty line is an empty response.
    SaslStep step(std::string_view line);

    SaslMechanism mechanism() const { return mechanism_; }
    bool finished() const { return state_ == State::finished; }

private:
    enum class State {
        not_started,
        plain_message,
        login_user,
        login_password,
        cram_answer,
        finished
    };

    SaslStep respond(std::string_view decoded);
    SaslStep on_plain(std::string_view message);
    SaslStep on_login_user(std::string_view user);
    SaslStep on_login_password(std::string_view password);
    SaslStep on_cram_answer(std::string_view answer);
    SaslStep challenge(State next, std::string_view decoded_challenge);
    SaslStep done(SaslCredentials credentials);
    SaslStep fail(SaslFailure failure, std::string why);

    SaslMechanism mechanism_;
    std::string cram_challenge_;
    std::string login_user_;
    State state_ = State::not_started;
};

// The LOGIN mechanism's challenges, "Username:" and "Password:" in base64:
// the texts Outlook and other clients expect (some match on them).
inline constexpr std::string_view kSaslLoginUserChallenge = "VXNlcm5hbWU6";
inline constexpr std::string_view kSaslLoginPasswordChallenge = "UGFzc3dvcmQ6";

// CRAM-MD5 (RFC 2195 §2): whether `digest_hex` (32 hex digits, either case)
// is HMAC-MD5(secret, challenge). Constant-time in the digest; for an unknown
// user call it with any dummy secret, so the work is the same.
bool verify_cram_md5(std::string_view secret, std::string_view challenge,
                     std::string_view digest_hex);

// Overwrites a string that held a secret, then empties it.
void wipe_secret(std::string& secret);

} // namespace popper
