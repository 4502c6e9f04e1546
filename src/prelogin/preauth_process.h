// The two ways a pre-login process starts, for privilege_separation.cpp and
// preauth_pool.cpp. Both enter the sandbox first (as root).
#pragma once

#include "popper/config.h"
#include "popper/credentials.h"
#include "popper/io.h"
#include "popper/session.h"

namespace popper {

// A fresh pre-login process for one connection, the session process's own
// child: serves `in_fd`/`out_fd` with the challenges of `context` and sends
// the credentials on `channel`. Never returns.
[[noreturn]] void run_fresh_preauth(const Config& config, const AuthContext& context, int in_fd,
                                    int out_fd, const PeerInfo& peer, int channel);

// A pooled pre-login process (forked by the listener): serves the
// connections passed on `control` one after another, up to
// config.preauth_process_connections, reporting "idle" between them. Never
// returns.
[[noreturn]] void run_preauth_process(const Config& config, UniqueFd control);

} // namespace popper
