// The narrow interface between the pre-login process (unprivileged, chrooted,
// parsing the network) and the privileged process that checks credentials:
// one datagram per message on a SOCK_SEQPACKET socketpair, fields separated
// by NUL. Only the mechanism, user name and credentials cross it.
#pragma once

#include "popper/result.h"

#include <optional>
#include <string>

namespace popper {

// Larger messages are refused: credentials and a pipelined tail fit.
inline constexpr size_t kMaxAuthMessageOctets = 64 * 1024;

struct AuthRequest {
    std::string mechanism; // "PASS" (USER/PASS), "APOP", "PLAIN", "LOGIN", "CRAM-MD5"
    std::string user;
    std::string secret;    // password, or the APOP / CRAM-MD5 hex digest; never logged
    std::string challenge; // CRAM-MD5: the challenge the digest answers
};

struct AuthVerdict {
    bool ok = false;
    std::string reason; // for the log when not ok: bad-password, unknown-user ...
};

// After an ok verdict the pre-login process hands over the bytes it had
// already read from the client (pipelined commands after PASS) and exits.
struct Handover {
    std::string user;
    std::string pending_input;
};

Status send_auth_request(int fd, const AuthRequest& request);
Status send_auth_verdict(int fd, const AuthVerdict& verdict);
Status send_handover(int fd, const Handover& handover);

// What the privileged side receives: a request, a handover, or nullopt when
// the pre-login process has gone (EOF).
struct AuthMessage {
    std::optional<AuthRequest> request;
    std::optional<Handover> handover;
};
Result<std::optional<AuthMessage>> receive_auth_message(int fd);
Result<AuthVerdict> receive_auth_verdict(int fd);

} // namespace popper
