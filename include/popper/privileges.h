// Becoming the mailbox owner: setgroups, setgid, setuid, and the proof that
// root cannot be regained. A process not started as root stays as it is.
#pragma once

#include "popper/result.h"

#include <string>
#include <sys/types.h>

namespace popper {

// Drops to uid/gid with supplementary groups = {gid, mail_group's gid if it
// exists}. Verifies setuid(0) then fails. No-op (Ok) when not root.
// Refuses uid/gid 0 and -1, and a mail group with gid 0. Errors name the
// failing call and carry the user `name` as path ("setresuid alice: ...");
// after an error the process may be half-dropped and must not serve the user.
Status become_user(uid_t uid, gid_t gid, const std::string& mail_group, const std::string& name);
// True when the real, effective or saved uid is 0: any of them can regain root.
bool running_as_root();

} // namespace popper

namespace popper {

// Looks up the ids of `unprivileged_user` (or nobody) and `mail_group` and
// remembers them for enter_preauth_sandbox and become_user in this process
// and every process it forks afterwards. Call as root at start and after
// each configuration reload. Why: a session forked from the listener would
// otherwise load the NSS modules for two lookups every time; and why in a
// short-lived child: loaded into the listener they would stay resident in
// it (bench/NOTES.md).
// Errors: no usable pre-login account, or a failing group lookup.
Status remember_account_ids(const std::string& unprivileged_user, const std::string& mail_group);

} // namespace popper
