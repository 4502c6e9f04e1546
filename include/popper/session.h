// One POP3 session (RFC 1939 states AUTHORIZATION, TRANSACTION, UPDATE) on a
// connected descriptor pair: the child of the listener, or inetd's stdin.
#pragma once

#include "popper/config.h"
#include "popper/io.h"

#include <string>

namespace popper {

struct PeerInfo {
    std::string address; // peer_address_text(): "192.0.2.1", "::1", or "local"
};

// Runs the whole session and returns the process exit status. The
// pre-login part runs in a child forked for this connection.
int run_session(const Config& config, int in_fd, int out_fd, const PeerInfo& peer);

// The same with the pre-login part in a pooled process of the listener, to
// which the listener passes `fd` and the other end of `channel`.
int run_session_with_pooled_preauth(const Config& config, int fd, const PeerInfo& peer,
                                    UniqueFd channel);

// A pooled pre-login process (forked by the listener, as root): enters the
// sandbox, then serves the connections passed on `control` one after
// another, up to config.preauth_process_connections, reporting "idle"
// between them. Never returns.
[[noreturn]] void run_preauth_process(const Config& config, UniqueFd control);

// Set by SIGTERM: a session puts the mail back and ends at the next command.
void request_session_shutdown();
bool session_shutdown_requested();

// Signals of a session process (listener child, inetd, systemd Accept=yes):
// SIGTERM/SIGINT end it gracefully (an UPDATE in progress completes first),
// SIGPIPE and SIGHUP are ignored so a vanished client cannot kill it mid-step.
void install_session_signals();

} // namespace popper
