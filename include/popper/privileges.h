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
Status become_user(uid_t uid, gid_t gid, const std::string &mail_group, const std::string &name);
// True when the real, effective or saved uid is 0: any of them can regain root.
bool running_as_root();

} // namespace popper
