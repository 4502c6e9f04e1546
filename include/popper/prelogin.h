// The privilege boundary: one connection, two processes (privilege
// separation, after popa3d and qmail's checkpassword). A pre-login process,
// chrooted and unprivileged, sends the greeting and serves the AUTHORIZATION
// state until the client has sent credentials; the privileged session
// process checks them (popper/credentials.h), and after a login becomes the
// mailbox owner and serves the rest of the session. Only the typed messages
// of popper/auth_channel.h pass between them. The pre-login process is the
// session process's own child, or (preauth_process_connections > 1) a
// pooled process of the listener (popper/preauth_pool.h).
#pragma once

#include "popper/config.h"
#include "popper/io.h"
#include "popper/session.h"

namespace popper {

// Runs the whole session in this process and a pre-login child forked for
// it, and returns the process exit status. `admission`: on a `proxy`
// listener, where to ask the listener to admit the client that the PROXY
// header names (ask_admission, popper/listener.h); -1 otherwise.
int run_session(const Config& config, int in_fd, int out_fd, const PeerInfo& peer, int admission);

// The same with the pre-login part in a pooled process of the listener, to
// which the listener passes `fd` and the other end of `channel`.
int run_session_with_pooled_preauth(const Config& config, int fd, const PeerInfo& peer,
                                    UniqueFd channel, int admission);

} // namespace popper
