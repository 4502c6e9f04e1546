// The maildrop's rename strategy, for a drop_dir on the spool's filesystem:
// the mailbox file itself moves between the spool's name and the drop's, so
// a login and a QUIT that changed nothing cost one rename whatever the size
// of the mailbox, and a QUIT after DELE rewrites only from the first deleted
// message on (docs/DESIGN.md, "The maildrop").
#include "maildrop_files.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>

namespace popper::maildrop_detail {

// Same filesystem, no drop left over: the spool file itself becomes the drop
// (invariant 1: one rename, so the mail is in exactly one of the two names
// at every instant). No empty spool takes its place: the MTA creates one when
// it delivers, and a BSD-Mail-family reader (s-nail, mailx) that read the
// mailbox before this login writes nothing back to a spool that is gone.
// Both directories are synced before the spool is unlocked, so that a
// delivery into a fresh spool can never outlive a crash that lost the move.
Status rename_spool_into_drop(const DropFiles& files) {
    if (auto r = rename_path(files.spool, files.drop); !r)
        return r;
    if (auto s = fsync_dir(files.drop_dir); !s)
        return s;
    return fsync_dir(files.spool_dir);
}

// Nothing deleted and no mail arrived: the drop goes back under the spool's
// name, one rename. The spool's directory is synced so that the +OK comes
// after the mail is durably back under the spool's name; the drop
// directory is not: should a crash keep the drop's name too, recovery sees
// both names on one inode and removes the drop's (maildrop_recovery.cpp).
Status put_back_unchanged(const DropFiles& files) {
    if (auto r = rename_path(files.drop, files.spool); !r)
        return r;
    return fsync_dir(files.spool_dir);
}

// Same filesystem: the drop becomes the new spool. Only the octets from the
// first deleted message on are rewritten (from a tail file built first),
// then the mail that arrived meanwhile is appended. `spool_inode`: the spool
// that finish_compact must find at the spool's path (0: none).
Status commit_by_compaction(const DropFiles& files, int drop_fd, const MboxIndex& index,
                            const std::vector<bool>& deleted, uint64_t spool_inode) {
    const auto& messages = index.messages;
    auto drop_st = stat_fd(drop_fd, files.drop);
    if (!drop_st)
        return drop_st.error();
    uint64_t drop_size = static_cast<uint64_t>(drop_st->st_size);
    size_t first = 0;
    while (first < messages.size() && !(first < deleted.size() && deleted[first]))
        ++first;
    uint64_t cut = first < messages.size() ? messages[first].from_line : index.file_size;
    if (cut > drop_size)
        return Error::because("update", files.drop, "drop file shrank");

    uint64_t tail_size = 0;
    if (auto gone = unlink_path(files.tail); !gone)
        return gone;
    // With nothing kept before the cut the tail becomes the spool (see
    // finish_compact), so it is made even when empty.
    if (first < messages.size() || drop_size > index.file_size || cut == 0) {
        auto tail = create_exclusive(files.tail, 0600);
        if (!tail)
            return tail.error();
        MboxWriter writer(tail->get(), files.tail);
        if (auto c = append_kept(writer, index, deleted, first + 1, drop_fd, files.drop, drop_size);
            !c)
            return c;
        tail_size = writer.size();
        if (auto s = fsync_fd(tail->get(), files.tail); !s)
            return s;
    }
    // Commit point (invariants 1 and 2): once the drop is renamed to
    // ".compact" the deletions stand and recovery redoes finish_compact.
    if (auto j = write_journal(files.journal, {"compact", cut, spool_inode, tail_size}); !j)
        return j;
    if (auto r = rename_path(files.drop, files.compact); !r)
        return r;
    if (auto s = fsync_dir(files.drop_dir); !s)
        return s;
    return finish_compact(files, Journal{"compact", cut, spool_inode, tail_size});
}

namespace {

Status unlink_old_mailbox(const DropFiles& files) {
    if (auto gone = unlink_path(files.compact); !gone)
        return gone;
    return fsync_dir(files.drop_dir);
}

// Nothing before the cut is kept (QUIT deleted from the first message on):
// the tail file, not the old mailbox, becomes the spool, and the old
// mailbox is only unlinked. Its blocks are freed when the last descriptor
// of it closes: for a live session after the +OK (see
// Maildrop::release_retired_file), so that the cost of such a QUIT follows
// the mail kept, not the mailbox. Redone after a crash from the tail's
// first journal.tail_size octets, as long as the tail exists.
Status finish_replacing_with_tail(const DropFiles& files, const Journal& journal,
                                  const SpoolFile& spool) {
    auto tail = open_own_file(files.tail, O_RDWR);
    if (!tail)
        return tail.error();
    auto old = open_own_file(files.compact, O_RDONLY);
    if (!old)
        return old.error();
    auto old_st = stat_fd(old->get(), files.compact);
    if (!old_st)
        return old_st.error();
    old->reset();
    if (auto t = truncate_fd(tail->get(), static_cast<off_t>(journal.tail_size), files.tail); !t)
        return t;
    // The old mailbox's mode and group: those the spool had at login.
    if (auto mode = copy_mode_and_group(tail->get(), *old_st, files.tail); !mode)
        return mode;
    MboxWriter writer(tail->get(), files.tail, journal.tail_size);
    auto prepared = prepare_spool_tmp(files, tail->get(), writer, spool, 0, false);
    if (!prepared)
        return prepared.error();
    if (auto r = rename_path(files.tail, files.spool); !r)
        return r;
    if (auto s = fsync_dir(files.spool_dir); !s)
        return s;
    return unlink_old_mailbox(files);
}

} // namespace

Status finish_compact(const DropFiles& files, const Journal& journal) {
    auto spool = open_spool(files.spool);
    if (!spool)
        return spool.error();
    const bool replace_with_tail = journal.spool_size == 0;
    // The tail is gone only once renamed over the spool (it is removed
    // nowhere else while ".compact" exists): only the unlink is left.
    if (replace_with_tail && spool->fd && !path_exists(files.tail))
        return unlink_old_mailbox(files);
    if (journal.spool_inode != 0 && spool->fd &&
        static_cast<uint64_t>(spool->st.st_ino) != journal.spool_inode)
        return Error::permanent("update", files.spool,
                                "spool was replaced during an update; nothing changed");
    // Without a tail (an empty mailbox, or a journal of an older popperd)
    // the old mailbox, emptied, becomes the spool as below.
    if (replace_with_tail && path_exists(files.tail))
        return finish_replacing_with_tail(files, journal, *spool);
    auto compact = open_own_file(files.compact, O_RDWR);
    if (!compact)
        return compact.error();
    // Everything from the truncation point on is rewritten from the tail
    // file and the spool, so doing it twice gives the same bytes.
    if (auto t = truncate_fd(compact->get(), static_cast<off_t>(journal.spool_size), files.compact);
        !t)
        return t;
    MboxWriter writer(compact->get(), files.compact, journal.spool_size);
    if (journal.tail_size > 0) {
        auto tail = open_own_file(files.tail, O_RDONLY);
        if (!tail)
            return tail.error();
        if (auto a = writer.append(tail->get(), 0, journal.tail_size, files.tail); !a)
            return a;
    }
    // The new spool keeps the drop's inode, and so the mode and group the
    // spool had at login.
    auto prepared = prepare_spool_tmp(files, compact->get(), writer, *spool, 0, false);
    if (!prepared)
        return prepared.error();
    if (auto r = rename_path(files.compact, files.spool); !r)
        return r;
    if (auto s = fsync_dir(files.spool_dir); !s)
        return s;
    if (auto gone = unlink_path(files.tail); !gone)
        return gone;
    return fsync_dir(files.drop_dir);
}

} // namespace popper::maildrop_detail
