// The narrow interface between the pre-login process (unprivileged, chrooted,
// parsing the network) and the privileged process that checks credentials:
// one datagram per message on a SOCK_SEQPACKET socketpair, fields separated
// by NUL. Only the mechanism, user name and credentials cross it.
#pragma once

#include "popper/io.h"
#include "popper/result.h"

#include <optional>
#include <string>
#include <vector>

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

// How a pre-login process ends a connection without a login (QUIT, too many
// failures, timeout, the client gone): whether it told the client that the
// server is shutting down, so that the privileged process does not say it twice.
struct PreauthEnd {
    bool said_goodbye = false;
};

// On a `listen ... proxy` connection, before the greeting: the client that
// the PROXY header names, as the pre-login process read it. The privileged
// process takes the address as a syntactically checked claim (the header
// came from a trusted sender, but through the unprivileged reader), and
// answers with an AuthVerdict: ok, or not ok when max_sessions_per_ip
// refuses the client.
struct ClientAddress {
    std::string address; // numeric IPv4 or IPv6
    bool under_tls = false;
};

// The challenges of one login, made by the privileged process: the APOP
// stamp of the greeting and the CRAM-MD5 challenges. Sent to a pooled
// pre-login process at the start of each connection; a forked one inherits them.
struct LoginChallenges {
    std::string apop_stamp;
    std::vector<std::string> cram;
    std::string capa_policy_lines; // AuthContext::capa_policy_lines
};

Status send_auth_request(int fd, const AuthRequest& request);
Status send_auth_verdict(int fd, const AuthVerdict& verdict);
Status send_handover(int fd, const Handover& handover);
Status send_preauth_end(int fd, const PreauthEnd& end);
Status send_client_address(int fd, const ClientAddress& client);
Status send_login_challenges(int fd, const LoginChallenges& challenges);
// Error at EOF: the privileged process went away.
Result<LoginChallenges> receive_login_challenges(int fd);

// What the privileged side receives: a request, a handover, or nullopt when
// the pre-login process has gone (EOF).
struct AuthMessage {
    std::optional<AuthRequest> request;
    std::optional<Handover> handover;
    std::optional<PreauthEnd> ended;
    std::optional<ClientAddress> client;
};
Result<std::optional<AuthMessage>> receive_auth_message(int fd);
Result<AuthVerdict> receive_auth_verdict(int fd);

// The pool of pre-login processes (preauth_process_connections > 1): the
// listener passes each connection to an idle process over its control
// socket, with the descriptors attached; the process reports when it is idle
// again, or exits when it has served its share.
struct PreauthConnection {
    UniqueFd client;  // the client's socket
    UniqueFd channel; // the auth channel to this connection's privileged process
    std::string peer_address;
    bool expects_proxy_header = false; // accepted on a `proxy` listener
};
Status send_preauth_connection(int control, int client_fd, int channel_fd,
                               const std::string& peer_address, bool expects_proxy_header);
// nullopt when the listener closed the control socket (retire).
Result<std::optional<PreauthConnection>> receive_preauth_connection(int control);
Status send_preauth_idle(int control);
// What the listener reads from a pooled process: true for "idle", false at
// EOF (the process exited); anything else is an error.
Result<bool> receive_preauth_report(int control);

} // namespace popper
