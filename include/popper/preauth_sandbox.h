// The pre-login process's sandbox (popper/prelogin.h): the process that
// parses the network before login runs as `unprivileged_user`, chrooted into
// the empty `preauth_chroot`, with nothing left to lose.
#pragma once

#include "popper/result.h"

#include <string>

namespace popper {

// Makes sure `dir` can be the pre-login chroot: creates it (0755, root) when
// missing; refuses one not owned by root or writable by group or others.
// Call at startup, as root.
Status prepare_preauth_chroot(const std::string& dir);

// The pre-login process's sandbox: chroot into `chroot_dir`, drop to `user`
// (or nobody, with a warning) with no supplementary groups, and tight
// rlimits (no new processes or files, no core dumps, bounded memory). No-op
// when not root. The account's ids come from remember_account_ids
// (popper/privileges.h).
Status enter_preauth_sandbox(const std::string& user, const std::string& chroot_dir);

} // namespace popper
