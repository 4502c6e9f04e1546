// The maildrop's copy strategy, for a drop_dir on another filesystem than
// the spool's (and for a drop a crashed session left): the mail is copied
// with copy_file_range, each copy durable under a temporary name and
// journaled before the rename that makes it count (docs/DESIGN.md).
#include "maildrop_files.h"

#include <algorithm>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>

namespace popper::maildrop_detail {

// Other filesystem, or a drop left by a crashed session: the spool's mail
// (all of it: we hold its lock) is copied into a new drop after that drop's
// mail. Invariant 1: the new drop is durable under its ".moving" name before
// the spool loses anything, and the journal says how to finish if we die.
Status move_spool_into_drop(const DropFiles& files, const SpoolFile& spool) {
    uint64_t n = static_cast<uint64_t>(spool.st.st_size);
    if (auto j =
            write_journal(files.journal, {"moving", n, static_cast<uint64_t>(spool.st.st_ino), 0});
        !j)
        return j;
    auto fresh = create_exclusive(files.new_drop, 0600);
    if (!fresh)
        return fresh.error();
    // The drop carries the spool's mode and group back to the next spool.
    if (auto mode = copy_mode_and_group(fresh->get(), spool.st, files.new_drop); !mode)
        return mode;
    MboxWriter writer(fresh->get(), files.new_drop);
    bool had_drop = path_exists(files.drop);
    if (had_drop) {
        // A crashed session's drop goes first: its messages are older.
        auto old = open_own_file(files.drop, O_RDONLY);
        if (!old)
            return old.error();
        auto st = stat_fd(old->get(), files.drop);
        if (!st)
            return st.error();
        if (auto a = writer.append(old->get(), 0, static_cast<uint64_t>(st->st_size), files.drop);
            !a)
            return a;
    }
    if (auto a = writer.append(spool.fd.get(), 0, n, files.spool); !a)
        return a;
    if (auto s = fsync_fd(fresh->get(), files.new_drop); !s)
        return s;
    if (auto r = rename_path(files.new_drop, files.moving); !r)
        return r;
    if (auto s = fsync_dir(files.drop_dir); !s)
        return s;
    if (had_drop) {
        if (auto gone = unlink_path(files.drop); !gone)
            return gone;
    }
    if (auto cut = cut_spool_prefix(files, spool, n); !cut)
        return cut;
    if (auto r = rename_path(files.moving, files.drop); !r)
        return r;
    return fsync_dir(files.drop_dir);
}

// Other filesystem: the next spool is built beside the spool from the kept
// messages and the mail that arrived meanwhile, then renamed over it.
Result<bool> commit_by_copy(const DropFiles& files, int drop_fd, const MboxIndex& index,
                            const std::vector<bool>& deleted, const SpoolFile& spool) {
    auto drop_st = stat_fd(drop_fd, files.drop);
    if (!drop_st)
        return drop_st.error();
    // The drop carries the mode and group the spool had at login.
    auto tmp = create_spool_tmp(files, *drop_st);
    if (!tmp)
        return tmp.error();
    MboxWriter writer(tmp->get(), files.spool_tmp);
    if (auto c = append_kept(writer, index, deleted, 0, drop_fd, files.drop,
                             static_cast<uint64_t>(drop_st->st_size));
        !c)
        return c.error();
    auto copied = prepare_spool_tmp(files, tmp->get(), writer, spool, 0, false);
    if (!copied)
        return copied.error();

    // Commit point (invariants 1 and 2): once the drop is renamed to
    // ".commit" the deletions stand; the journal lets the next login finish
    // replacing the spool with everything that arrived meanwhile.
    uint64_t inode = spool.fd ? static_cast<uint64_t>(spool.st.st_ino) : 0;
    if (auto j = write_journal(files.journal, {"commit", *copied, inode, 0}); !j)
        return j.error();
    if (auto r = rename_path(files.drop, files.commit); !r)
        return r.error();
    if (auto s = fsync_dir(files.drop_dir); !s)
        return s.error();
    if (auto installed = install_spool_tmp(files); !installed)
        return installed.error();
    if (auto gone = unlink_path(files.commit); !gone)
        return gone.error();
    if (auto s = fsync_dir(files.drop_dir); !s)
        return s.error();
    // The new spool holds exactly the drop's bytes when nothing was deleted
    // or added: the session's index is then its index too.
    return std::find(deleted.begin(), deleted.end(), true) == deleted.end() && *copied == 0 &&
           static_cast<uint64_t>(drop_st->st_size) == index.file_size;
}

Result<uint64_t> prepare_spool_tmp(const DropFiles& files, int tmp_fd, MboxWriter& writer,
                                   const SpoolFile& spool, uint64_t from, bool unread_mail) {
    uint64_t spool_size = 0;
    if (spool.fd) {
        auto st = stat_fd(spool.fd.get(), files.spool);
        if (!st)
            return st.error();
        spool_size = static_cast<uint64_t>(st->st_size);
        if (spool_size > from) {
            if (auto a = writer.append(spool.fd.get(), from, spool_size - from, files.spool); !a)
                return a.error();
            unread_mail = true;
        }
    }
    // Shells and biff report new mail when mtime > atime: say so only when
    // mail the client has not seen remains.
    struct timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    struct timespec earlier = now;
    earlier.tv_sec -= 1;
    struct timespec times[2] = {unread_mail ? earlier : now, unread_mail ? now : earlier};
    ::futimens(tmp_fd, times);
    if (auto s = fsync_fd(tmp_fd, writer.path()); !s)
        return s.error();
    return spool_size;
}

Result<UniqueFd> create_spool_tmp(const DropFiles& files, const struct stat& mode_of) {
    if (auto gone = unlink_path(files.spool_tmp); !gone)
        return gone.error();
    auto tmp = create_exclusive(files.spool_tmp, 0600);
    if (!tmp)
        return tmp.error();
    if (auto mode = copy_mode_and_group(tmp->get(), mode_of, files.spool_tmp); !mode)
        return mode.error();
    return tmp;
}

Status install_spool_tmp(const DropFiles& files) {
    if (auto r = rename_path(files.spool_tmp, files.spool); !r)
        return r;
    return fsync_dir(files.spool_dir);
}

Status cut_spool_prefix(const DropFiles& files, const SpoolFile& spool, uint64_t moved) {
    if (auto gone = unlink_path(files.spool_tmp); !gone)
        return gone;
    if (moved >= static_cast<uint64_t>(spool.st.st_size)) {
        if (auto gone = unlink_path(files.spool); !gone)
            return gone;
        return fsync_dir(files.spool_dir);
    }
    auto tmp = create_spool_tmp(files, spool.st);
    if (!tmp)
        return tmp.error();
    MboxWriter writer(tmp->get(), files.spool_tmp);
    auto prepared = prepare_spool_tmp(files, tmp->get(), writer, spool, moved, false);
    if (!prepared)
        return prepared.error();
    return install_spool_tmp(files);
}

} // namespace popper::maildrop_detail
