// Opening a maildrop (spool -> drop) and committing a session (UPDATE).
// Comments name the invariant of DESIGN.md each ordering protects.
#include "popper/maildrop.h"

#include "maildrop_files.h"
#include "popper/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace popper {

using namespace maildrop_detail;

MaildropFailure classify_failure(const Error& error) {
    switch (error.errnum) {
    case EWOULDBLOCK: return MaildropFailure::in_use;
    case ELOOP:
    case EISDIR:
    case ENODEV:
    case EMLINK:
    case EPERM:
    case EILSEQ: return MaildropFailure::permanent;
    default: return MaildropFailure::temporary;
    }
}

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
        if (!spool) return spool.error();
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
    return Error::classified(EWOULDBLOCK, "lock", files.spool, "spool keeps being replaced");
}

Status check_is_mbox(const SpoolFile& spool, const std::string& path) {
    char head[5] = {};
    auto got = pread_full(spool.fd.get(), head, sizeof head, 0, path);
    if (!got) return got.error();
    if (*got != sizeof head || std::string_view(head, sizeof head) != "From ")
        return Error::classified(EILSEQ, "refuse", path,
                                 "not an mbox file (does not begin with \"From \")");
    return {};
}

// Moves the spool's first `n` octets (all of it: we hold its lock) into the
// drop. Invariant 1: the new drop is durable under its ".moving" name before
// the spool loses anything, and the journal says how to finish if we die.
Status move_spool_into_drop(const DropFiles& files, const SpoolFile& spool) {
    uint64_t n = static_cast<uint64_t>(spool.st.st_size);
    if (auto j = write_journal(files.journal,
                               {"moving", n, static_cast<uint64_t>(spool.st.st_ino), 0});
        !j)
        return j;
    auto fresh = create_exclusive(files.new_drop, 0600);
    if (!fresh) return fresh.error();
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

// Same filesystem, no drop left over: the spool file itself becomes the
// drop (one rename, no copy) and an empty spool takes its place.
Status rename_spool_into_drop(const DropFiles& files, const SpoolFile& spool) {
    uint64_t n = static_cast<uint64_t>(spool.st.st_size);
    if (auto j = write_journal(files.journal,
                               {"moving", n, static_cast<uint64_t>(spool.st.st_ino), 0});
        !j)
        return j;
    if (auto r = rename_path(files.spool, files.moving); !r) return r;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    // Other members of the mail group may read the spool; not the drop.
    if (::fchmod(spool.fd.get(), 0600) != 0) return Error::from_errno("chmod", files.moving);
    auto fresh = create_exclusive(files.spool, spool.st.st_mode & 07777);
    if (fresh) {
        ::fchmod(fresh->get(), spool.st.st_mode & 07777); // not narrowed by umask
        if (::fchown(fresh->get(), static_cast<uid_t>(-1), spool.st.st_gid) != 0)
            return Error::from_errno("chown", files.spool);
        if (auto s = fsync_dir(files.spool_dir); !s) return s;
    } else if (fresh.error().errnum != EEXIST) {
        return fresh.error(); // the next login finishes the step
    }
    if (auto r = rename_path(files.moving, files.drop); !r) return r;
    return fsync_dir(files.drop_dir);
}

Status create_empty_drop(const DropFiles& files) {
    auto fresh = create_exclusive(files.drop, 0600);
    if (!fresh) return fresh.error();
    return fsync_dir(files.drop_dir);
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
        const SpoolFile& spool = locked->spool;
        if (spool.fd && spool.st.st_size > 0) {
            if (auto m = check_is_mbox(spool, files.spool); !m) return m.error();
            bool quick = !path_exists(files.drop) && same_filesystem(files.drop_dir, files.spool_dir);
            auto moved = quick ? rename_spool_into_drop(files, spool)
                               : move_spool_into_drop(files, spool);
            if (!moved) return moved.error();
        } else if (!path_exists(files.drop)) {
            if (auto made = create_empty_drop(files); !made) return made.error();
        }
    } // spool unlocked: the MTA may deliver while the session runs

    auto fd = open_own_file(files.drop, O_RDONLY);
    if (!fd) return fd.error();
    auto st = stat_fd(fd->get(), files.drop);
    if (!st) return st.error();
    auto index = index_mbox_file(fd->get(), static_cast<uint64_t>(st->st_size), files.drop);
    if (!index) return Error::classified(EILSEQ, "index", files.drop, index.error().message());
    drop.drop_fd_ = std::move(*fd);
    drop.index_ = std::move(*index);
    return drop;
}

namespace {

bool is_deleted(const std::vector<bool>& deleted, size_t i) {
    return i < deleted.size() && deleted[i];
}

// Copies the kept messages among [first, messages.size()) of the drop, with
// their separators, in runs; then what an MTA appended to the drop's inode
// after it was indexed (possible only for deliverers that skip dotlocks).
Status copy_kept(MboxWriter& writer, const MboxIndex& index, const std::vector<bool>& deleted,
                 size_t first, int drop_fd, const std::string& drop_path, uint64_t drop_size) {
    const auto& messages = index.messages;
    for (size_t i = first; i < messages.size();) {
        if (is_deleted(deleted, i)) {
            ++i;
            continue;
        }
        size_t run_end = i;
        while (run_end < messages.size() && !is_deleted(deleted, run_end)) ++run_end;
        uint64_t from = messages[i].from_line;
        uint64_t to = run_end < messages.size() ? messages[run_end].from_line : index.file_size;
        if (auto a = writer.append(drop_fd, from, to - from, drop_path); !a) return a;
        i = run_end;
    }
    if (drop_size > index.file_size)
        return writer.append(drop_fd, index.file_size, drop_size - index.file_size, drop_path);
    return {};
}

} // namespace

// Same filesystem: the drop becomes the new spool. Only the octets from the
// first deleted message on are rewritten (from a tail file built first), then
// the mail that arrived meanwhile is appended. A QUIT that deleted nothing
// appends the new mail and renames; DELE of all truncates to zero.
Status Maildrop::commit_in_place(const std::vector<bool>& deleted, const SpoolFile& spool) {
    const DropFiles files = DropFiles::for_settings(settings_);
    const auto& messages = index_.messages;
    auto drop_st = stat_fd(drop_fd_.get(), drop_path_);
    if (!drop_st) return drop_st.error();
    uint64_t drop_size = static_cast<uint64_t>(drop_st->st_size);
    size_t first = 0;
    while (first < messages.size() && !is_deleted(deleted, first)) ++first;
    uint64_t cut = first < messages.size() ? messages[first].from_line : index_.file_size;
    if (cut > drop_size) return Error::because("update", drop_path_, "drop file shrank");

    uint64_t tail_size = 0;
    if (auto gone = unlink_path(files.tail); !gone) return gone;
    if (first < messages.size() || drop_size > index_.file_size) {
        auto tail = create_exclusive(files.tail, 0600);
        if (!tail) return tail.error();
        MboxWriter writer(tail->get(), files.tail);
        if (auto c = copy_kept(writer, index_, deleted, first + 1, drop_fd_.get(), drop_path_,
                               drop_size);
            !c)
            return c;
        tail_size = writer.size();
        if (auto s = fsync_fd(tail->get(), files.tail); !s) return s;
    }
    uint64_t inode = spool.fd ? static_cast<uint64_t>(spool.st.st_ino) : 0;
    // Commit point (invariants 1 and 2): once the drop is renamed to
    // ".compact" the deletions stand and recovery redoes finish_compact.
    if (auto j = write_journal(files.journal, {"compact", cut, inode, tail_size}); !j) return j;
    if (auto r = rename_path(files.drop, files.compact); !r) return r;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    return finish_compact(files, Journal{"compact", cut, inode, tail_size});
}

Status Maildrop::commit(const std::vector<bool>& deleted) {
    const DropFiles files = DropFiles::for_settings(settings_);

    auto locked = lock_spool(files, settings_.locks);
    if (!locked) return locked.error();
    const SpoolFile& spool = locked->spool;
    if (same_filesystem(files.drop_dir, files.spool_dir)) {
        auto done = commit_in_place(deleted, spool);
        if (done) drop_fd_.reset();
        return done;
    }

    if (auto gone = unlink_path(files.spool_tmp); !gone) return gone;
    auto tmp = create_exclusive(files.spool_tmp, 0600);
    if (!tmp) return tmp.error();
    MboxWriter writer(tmp->get(), files.spool_tmp);
    auto drop_st = stat_fd(drop_fd_.get(), drop_path_);
    if (!drop_st) return drop_st.error();
    if (auto c = copy_kept(writer, index_, deleted, 0, drop_fd_.get(), drop_path_,
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
    drop_fd_.reset();
    return {};
}

} // namespace popper
