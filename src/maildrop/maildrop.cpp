// Opening a maildrop (spool -> drop) and committing a session (UPDATE).
// Comments name the invariant of docs/DESIGN.md each ordering protects.
#include "popper/maildrop.h"

#include "maildrop_files.h"
#include "popper/index_cache.h"
#include "popper/log.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace popper {

using namespace maildrop_detail;

namespace {

// A spool someone could replace between our open and our lock: after
// locking, the path must still name the inode we locked.
constexpr int kLockAttempts = 5;

struct LockedSpool {
    SpoolFile spool;
    SpoolLock lock;
};

bool spool_was_replaced(const DropFiles& files, const SpoolFile& locked) {
    struct stat now {};
    bool exists = ::lstat(files.spool.c_str(), &now) == 0;
    if (!locked.fd) return exists;
    return !exists || now.st_ino != locked.st.st_ino || now.st_dev != locked.st.st_dev;
}

Result<LockedSpool> lock_spool(const DropFiles& files, const LockSettings& settings) {
    for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
        auto spool = open_spool(files.spool);
        if (!spool) {
            // An MTA creating the spool (it is gone during every session)
            // may not have given it its owner yet: look again once its
            // delivery is over, under the dotlock.
            auto delivering = SpoolLock::acquire(files.spool, -1, settings);
            if (!delivering) return delivering.error();
            spool = open_spool(files.spool);
            delivering->release();
            if (!spool) return spool.error();
        }
        auto lock = SpoolLock::acquire(files.spool, spool->fd ? spool->fd.get() : -1, settings);
        if (!lock) return lock.error();
        if (spool_was_replaced(files, *spool)) continue;
        if (spool->fd) {
            // Sizes seen before the lock are stale: an MTA may have been
            // half-way through a delivery.
            auto st = stat_fd(spool->fd.get(), files.spool);
            if (!st) return st.error();
            spool->st = *st;
        }
        return LockedSpool{std::move(*spool), std::move(*lock)};
    }
    return Error::in_use("lock", files.spool, "spool keeps being replaced");
}

Status check_is_mbox(const SpoolFile& spool, const std::string& path) {
    char head[5] = {};
    auto got = pread_full(spool.fd.get(), head, sizeof head, 0, path);
    if (!got) return got.error();
    if (*got != sizeof head || std::string_view(head, sizeof head) != "From ")
        return Error::permanent("refuse", path,
                                 "not an mbox file (does not begin with \"From \")");
    return {};
}

// Same filesystem, no drop left over: the spool file itself becomes the drop
// (invariant 1: one rename, so the mail is in exactly one of the two names
// at every instant). No empty spool takes its place: the MTA creates one when
// it delivers, and a BSD-Mail-family reader (s-nail, mailx) that read the
// mailbox before this login writes nothing back to a spool that is gone.
// Both directories are synced before the spool is unlocked, so that a
// delivery into a fresh spool can never outlive a crash that lost the move.
Status rename_spool_into_drop(const DropFiles& files) {
    if (auto r = rename_path(files.spool, files.drop); !r) return r;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    return fsync_dir(files.spool_dir);
}

// Other filesystem, or a drop left by a crashed session: the spool's mail
// (all of it: we hold its lock) is copied into a new drop after that drop's
// mail. Invariant 1: the new drop is durable under its ".moving" name before
// the spool loses anything, and the journal says how to finish if we die.
Status move_spool_into_drop(const DropFiles& files, const SpoolFile& spool) {
    uint64_t n = static_cast<uint64_t>(spool.st.st_size);
    if (auto j = write_journal(files.journal,
                               {"moving", n, static_cast<uint64_t>(spool.st.st_ino), 0});
        !j)
        return j;
    auto fresh = create_exclusive(files.new_drop, 0600);
    if (!fresh) return fresh.error();
    // The drop carries the spool's mode and group back to the next spool.
    if (auto mode = copy_mode_and_group(fresh->get(), spool.st, files.new_drop); !mode)
        return mode;
    MboxWriter writer(fresh->get(), files.new_drop);
    bool had_drop = path_exists(files.drop);
    if (had_drop) {
        // A crashed session's drop goes first: its messages are older.
        auto old = open_own_file(files.drop, O_RDONLY);
        if (!old) return old.error();
        auto st = stat_fd(old->get(), files.drop);
        if (!st) return st.error();
        if (auto a = writer.append(old->get(), 0, static_cast<uint64_t>(st->st_size), files.drop);
            !a)
            return a;
    }
    if (auto a = writer.append(spool.fd.get(), 0, n, files.spool); !a) return a;
    if (auto s = fsync_fd(fresh->get(), files.new_drop); !s) return s;
    if (auto r = rename_path(files.new_drop, files.moving); !r) return r;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    if (had_drop) {
        if (auto gone = unlink_path(files.drop); !gone) return gone;
    }
    if (auto cut = cut_spool_prefix(files, spool, n); !cut) return cut;
    if (auto r = rename_path(files.moving, files.drop); !r) return r;
    return fsync_dir(files.drop_dir);
}

// Smaller mailboxes are indexed at every login: a cache would save less
// than its file costs.
constexpr uint64_t kIndexCacheMinOctets = 1024 * 1024;

// The index of the spool open as `fd` (fstat `st`, taken under its lock),
// from U.pop.index when that was saved for exactly this state of the file
// (inode, size, mtime, ctime: see Maildrop::put_back_unchanged). Trouble
// with the cache costs a scan, never the login.
std::optional<MboxIndex> cached_index(const DropFiles& files, int fd, const struct stat& st) {
    if (static_cast<uint64_t>(st.st_size) < kIndexCacheMinOctets) return std::nullopt;
    auto cached = load_index_cache(files.index_cache, fd, st);
    if (!cached) {
        log_warning("index cache ignored, indexing the mailbox: " + cached.error().message());
        return std::nullopt;
    }
    if (*cached) log_debug("index of " + files.spool + " loaded from " + files.index_cache);
    return std::move(*cached);
}

// The cache follows the file: saved for the spool's state after a QUIT that
// left the mailbox as the session indexed it, so the next login can skip
// the scan; removed for a mailbox too small to need one.
void save_cache_for(const DropFiles& files, const MboxIndex& index, const struct stat& st) {
    if (static_cast<uint64_t>(st.st_size) < kIndexCacheMinOctets) {
        if (auto gone = unlink_path(files.index_cache); !gone)
            log_warning("stale index cache: " + gone.error().message());
        return;
    }
    if (auto saved = save_index_cache(files.index_cache, index, st); !saved)
        log_warning("index cache not saved: " + saved.error().message());
    else
        log_debug("index of " + files.spool + " saved to " + files.index_cache);
}

} // namespace

Result<Maildrop> Maildrop::open(const MaildropSettings& settings) {
    const DropFiles files = DropFiles::for_settings(settings);
    Maildrop drop;
    drop.settings_ = settings;
    drop.drop_path_ = files.drop;

    auto session = take_session_lock(files.session);
    if (!session) return session.error();
    auto session_st = stat_fd(session->get(), files.session);
    if (!session_st) return session_st.error();
    if (auto own = check_own_regular_file(*session_st, files.session); !own) return own.error();
    drop.session_lock_ = std::move(*session);

    std::optional<MboxIndex> index;
    {
        auto locked = lock_spool(files, settings.locks);
        if (!locked) return locked.error();
        if (auto r = recover(files); !r) return r.error();
        if (spool_was_replaced(files, locked->spool)) {
            // Recovery installed a new spool: lock that one instead.
            locked->lock.release();
            locked = lock_spool(files, settings.locks);
            if (!locked) return locked.error();
        }
        SpoolFile& spool = locked->spool;
        const bool has_mail = spool.fd && spool.st.st_size > 0;
        if (has_mail) {
            if (auto m = check_is_mbox(spool, files.spool); !m) return m.error();
        }
        const bool had_drop = path_exists(files.drop);
        if (has_mail && !had_drop && same_filesystem(files.drop_dir, files.spool_dir)) {
            // The bytes do not change with the name: a cache made for the
            // spool as it is now is the drop's index.
            index = cached_index(files, spool.fd.get(), spool.st);
            if (auto moved = rename_spool_into_drop(files); !moved) return moved.error();
            drop.drop_fd_ = std::move(spool.fd); // the lock keeps its number until released
        } else if (has_mail) {
            if (!had_drop) index = cached_index(files, spool.fd.get(), spool.st);
            if (auto moved = move_spool_into_drop(files, spool); !moved) return moved.error();
        }
    } // spool unlocked: the MTA may deliver while the session runs

    if (!drop.drop_fd_ && path_exists(files.drop)) {
        auto fd = open_own_file(files.drop, O_RDONLY);
        if (!fd) return fd.error();
        drop.drop_fd_ = std::move(*fd);
    }
    if (!drop.drop_fd_) return drop; // no mail: nothing to serve or put back
    auto st = stat_fd(drop.drop_fd_.get(), files.drop);
    if (!st) return st.error();
    if (index && index->file_size == static_cast<uint64_t>(st->st_size)) {
        drop.index_ = std::move(*index);
        return drop;
    }
    auto scanned = index_mbox_file(drop.drop_fd_.get(), static_cast<uint64_t>(st->st_size),
                                   files.drop);
    if (!scanned) return Error::permanent("index", files.drop, scanned.error().message());
    drop.index_ = std::move(*scanned);
    return drop;
}

namespace {

bool any_deleted(const std::vector<bool>& deleted) {
    return std::find(deleted.begin(), deleted.end(), true) != deleted.end();
}

} // namespace

// Nothing deleted and no mail arrived: the drop goes back under the spool's
// name (one rename; the spool's directory synced so the mail is not left
// only under the drop's name by a crash: were it, the next login would take
// that drop as a crashed session's, losing nothing). The index cache is
// stamped with the state the file has now, for the next login.
Status Maildrop::put_back_unchanged() {
    const DropFiles files = DropFiles::for_settings(settings_);
    if (auto r = rename_path(files.drop, files.spool); !r) return r;
    if (auto s = fsync_dir(files.spool_dir); !s) return s;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    auto st = stat_fd(drop_fd_.get(), files.spool);
    if (st) save_cache_for(files, index_, *st);
    return {};
}

// Same filesystem: the drop becomes the new spool. Only the octets from the
// first deleted message on are rewritten (from a tail file built first),
// then the mail that arrived meanwhile is appended. `spool_inode`: the spool
// that finish_compact must find at the spool's path (0: none).
Status Maildrop::commit_same_filesystem(const std::vector<bool>& deleted, uint64_t spool_inode) {
    const DropFiles files = DropFiles::for_settings(settings_);
    const auto& messages = index_.messages;
    auto drop_st = stat_fd(drop_fd_.get(), drop_path_);
    if (!drop_st) return drop_st.error();
    uint64_t drop_size = static_cast<uint64_t>(drop_st->st_size);
    size_t first = 0;
    while (first < messages.size() && !(first < deleted.size() && deleted[first])) ++first;
    uint64_t cut = first < messages.size() ? messages[first].from_line : index_.file_size;
    if (cut > drop_size) return Error::because("update", drop_path_, "drop file shrank");

    uint64_t tail_size = 0;
    if (auto gone = unlink_path(files.tail); !gone) return gone;
    // With nothing kept before the cut the tail becomes the spool (see
    // finish_compact), so it is made even when empty.
    if (first < messages.size() || drop_size > index_.file_size || cut == 0) {
        auto tail = create_exclusive(files.tail, 0600);
        if (!tail) return tail.error();
        MboxWriter writer(tail->get(), files.tail);
        if (auto c = append_kept(writer, index_, deleted, first + 1, drop_fd_.get(), drop_path_,
                               drop_size);
            !c)
            return c;
        tail_size = writer.size();
        if (auto s = fsync_fd(tail->get(), files.tail); !s) return s;
    }
    // Commit point (invariants 1 and 2): once the drop is renamed to
    // ".compact" the deletions stand and recovery redoes finish_compact.
    if (auto j = write_journal(files.journal, {"compact", cut, spool_inode, tail_size}); !j)
        return j;
    if (auto r = rename_path(files.drop, files.compact); !r) return r;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    return finish_compact(files, Journal{"compact", cut, spool_inode, tail_size});
}

// Other filesystem: the next spool is built beside the spool from the kept
// messages and the mail that arrived meanwhile, then renamed over it.
Status Maildrop::commit_by_copy(const std::vector<bool>& deleted, const SpoolFile& spool) {
    const DropFiles files = DropFiles::for_settings(settings_);
    if (auto gone = unlink_path(files.spool_tmp); !gone) return gone;
    auto tmp = create_exclusive(files.spool_tmp, 0600);
    if (!tmp) return tmp.error();
    auto drop_st = stat_fd(drop_fd_.get(), drop_path_);
    if (!drop_st) return drop_st.error();
    // The drop carries the mode and group the spool had at login.
    if (auto mode = copy_mode_and_group(tmp->get(), *drop_st, files.spool_tmp); !mode)
        return mode;
    MboxWriter writer(tmp->get(), files.spool_tmp);
    if (auto c = append_kept(writer, index_, deleted, 0, drop_fd_.get(), drop_path_,
                           static_cast<uint64_t>(drop_st->st_size));
        !c)
        return c;
    auto copied = prepare_spool_tmp(files, tmp->get(), writer, spool, 0, false);
    if (!copied) return copied.error();

    // Commit point (invariants 1 and 2): once the drop is renamed to
    // ".commit" the deletions stand; the journal lets the next login finish
    // replacing the spool with everything that arrived meanwhile.
    uint64_t inode = spool.fd ? static_cast<uint64_t>(spool.st.st_ino) : 0;
    if (auto j = write_journal(files.journal, {"commit", *copied, inode, 0}); !j) return j;
    if (auto r = rename_path(files.drop, files.commit); !r) return r;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    if (auto installed = install_spool_tmp(files); !installed) return installed;
    if (auto gone = unlink_path(files.commit); !gone) return gone;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    if (!any_deleted(deleted) && *copied == 0 &&
        static_cast<uint64_t>(drop_st->st_size) == index_.file_size) {
        // The new spool holds exactly the drop's bytes: its index is ours.
        if (auto st = stat_fd(tmp->get(), files.spool)) save_cache_for(files, index_, *st);
    }
    return {};
}

Status Maildrop::commit(const std::vector<bool>& deleted) {
    if (!drop_fd_) return {}; // an empty mailbox: nothing was taken
    const DropFiles files = DropFiles::for_settings(settings_);

    auto locked = lock_spool(files, settings_.locks);
    if (!locked) return locked.error();
    // A local reader that read the mailbox before this login may have
    // written its stale copy back: those messages are in the drop already.
    auto echoes = remove_echoes_from_spool(files, locked->spool, index_);
    if (!echoes) return echoes.error();
    if (*echoes > 0) {
        locked->lock.release();
        locked = lock_spool(files, settings_.locks); // the cleaned spool
        if (!locked) return locked.error();
    }
    const SpoolFile& spool = locked->spool;
    const bool new_mail = spool.fd && spool.st.st_size > 0;
    if (!same_filesystem(files.drop_dir, files.spool_dir)) {
        auto done = commit_by_copy(deleted, spool);
        if (done) drop_fd_.reset();
        return done;
    }
    auto drop_st = stat_fd(drop_fd_.get(), drop_path_);
    if (!drop_st) return drop_st.error();
    Status done;
    if (!any_deleted(deleted) && !new_mail &&
        static_cast<uint64_t>(drop_st->st_size) == index_.file_size)
        done = put_back_unchanged();
    else
        done = commit_same_filesystem(deleted, spool.fd ? static_cast<uint64_t>(spool.st.st_ino)
                                                        : 0);
    if (done) retired_file_ = std::move(drop_fd_);
    return done;
}

} // namespace popper
