// Whose mailbox a user's is: the spool path and the account a session (or
// popperd-uidl, writing into drop_dir for it) runs as.
#pragma once

#include "popper/config.h"
#include "popper/result.h"
#include "popper/users_file.h"

#include <string>
#include <sys/types.h>

namespace popper {

struct MailboxOwner {
    std::string spool_path;
    uid_t uid = 0;
    gid_t gid = 0;
};

// The users file's uid and gid, or where it leaves them empty the spool
// file's owner and group. Never root.
Result<MailboxOwner> resolve_owner(const Config& config, const UserEntry& entry);

} // namespace popper
