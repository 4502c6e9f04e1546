// The owner of a user's mailbox: popper/mailbox_owner.h.
#include "popper/mailbox_owner.h"

#include <sys/stat.h>

namespace popper {

Result<MailboxOwner> resolve_owner(const Config& config, const UserEntry& entry) {
    MailboxOwner owner;
    owner.spool_path = entry.mailbox.empty() ? config.spool_dir + "/" + entry.name : entry.mailbox;
    if (!entry.uid || !entry.gid) {
        struct stat st {};
        if (::lstat(owner.spool_path.c_str(), &st) != 0)
            return Error::permanent("owner of", owner.spool_path,
                                    "users file leaves uid/gid empty and the spool is missing");
        if (!S_ISREG(st.st_mode))
            return Error::permanent("owner of", owner.spool_path, "not a regular file");
        owner.uid = entry.uid.value_or(st.st_uid);
        owner.gid = entry.gid.value_or(st.st_gid);
    } else {
        owner.uid = *entry.uid;
        owner.gid = *entry.gid;
    }
    if (owner.uid == 0)
        return Error::permanent("owner of", owner.spool_path, "mailbox would be served as root");
    return owner;
}

} // namespace popper
