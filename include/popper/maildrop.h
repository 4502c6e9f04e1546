// The maildrop: taking a user's mail out of the spool into a private drop
// file for the session, and putting back what the session kept (UPDATE).
// docs/DESIGN.md, "The maildrop", draws the states; this is the interface.
//
// Invariant 1: at every instant each message is durable in the spool, in the
// drop, or in both, and the files say which. Invariant 6: the session serves
// only its drop file, which nothing but the session writes; the spool path
// is free for the MTA (and local mail readers) the whole session long.
//
// Files, for user U with spool S (e.g. /var/mail/U):
//   drop_dir/U.pop          the drop: mail taken from S; S holds only newer mail
//   drop_dir/U.pop.new      a drop being built; garbage if found at login
//   drop_dir/U.pop.moving   a new drop whose last bytes may still be in S
//   drop_dir/U.pop.commit   a finished session's drop; S may not yet be replaced
//   drop_dir/U.pop.compact  same filesystem: the drop becoming the next S
//   drop_dir/U.pop.tail     kept messages after the first deleted one
//   drop_dir/U.pop.journal  "KIND N INO TAIL": the step, S's size and inode
//   drop_dir/U.pop.index    the index of the mailbox, for the next login
//                           (checked, never trusted: index_cache.h)
//   drop_dir/U.session      fcntl-locked for the life of a session
//   drop_dir/U.uidbase      uidl_format uw, dovecot: the UID validity and
//                           last UID of the mailbox, for when the message
//                           that carried them is gone
//   drop_dir/U.state        LOGIN-DELAY and EXPIRE times (policy_state.h)
//   dir(S)/.S.popperd-new   the next S being built (renamed over S)
#pragma once

#include "popper/io.h"
#include "popper/mbox_index.h"
#include "popper/result.h"
#include "popper/spool_lock.h"

#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <vector>

namespace popper {

struct MaildropSettings {
    std::string user;       // a valid user name (names the drop files)
    std::string spool_path; // absolute path of the mbox spool
    std::string drop_dir;
    LockSettings locks;
    UidlFormat uidl_format = UidlFormat::popperd; // whose UIDLs the index lists
};

class Maildrop {
public:
    // Takes the session lock, recovers what a crashed session left, moves the
    // spool's mail into the drop (same filesystem, no drop left over: one
    // rename; otherwise a journaled copy) and indexes the drop. During the
    // session the spool path does not exist until an MTA delivers.
    static Result<Maildrop> open(const MaildropSettings& settings);

    // The pid of the session holding this mailbox's session lock, if any:
    // the one a takeover (config `takeover`) asks to end.
    static std::optional<pid_t> holder(const MaildropSettings& settings);

    const MboxIndex& index() const { return index_; }
    int drop_fd() const { return drop_fd_.get(); }
    const std::string& drop_path() const { return drop_path_; }

    // UPDATE (RFC 1939 §6): the spool becomes the kept messages followed by
    // the mail that arrived during the session; then the drop is removed.
    // `deleted` has one flag per message. On error nothing is lost: the drop
    // stays and the next login merges it back.
    Status commit(const std::vector<bool>& deleted);

    // After a commit that deleted from the first message on, the file the
    // session read has no name left; its blocks are freed when this
    // descriptor (the last) closes. The caller keeps it until the client has
    // its +OK, so that such a QUIT does not wait for the whole mailbox to be
    // freed. Empty otherwise, or when already taken.
    UniqueFd release_retired_file() { return std::move(retired_file_); }

private:
    MaildropSettings settings_;
    UniqueFd session_lock_;
    UniqueFd drop_fd_;      // empty: an empty mailbox, nothing to put back
    UniqueFd retired_file_; // drop_fd_ after a commit, see release_retired_file()
    std::string drop_path_;
    MboxIndex index_;
    // Set when index_ came from the cache: the mailbox state it was saved
    // for, so that an unchanged QUIT only restamps it.
    std::optional<struct stat> cached_for_;
};

} // namespace popper
