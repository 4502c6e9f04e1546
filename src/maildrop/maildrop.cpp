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
    if (!locked.fd)
        return exists;
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
            if (!delivering)
                return delivering.error();
            spool = open_spool(files.spool);
            delivering->release();
            if (!spool)
                return spool.error();
        }
        auto lock = SpoolLock::acquire(files.spool, spool->fd ? spool->fd.get() : -1, settings);
        if (!lock)
            return lock.error();
        if (spool_was_replaced(files, *spool))
            continue;
        if (spool->fd) {
            // Sizes seen before the lock are stale: an MTA may have been
            // half-way through a delivery.
            auto st = stat_fd(spool->fd.get(), files.spool);
            if (!st)
                return st.error();
            spool->st = *st;
        }
        return LockedSpool{std::move(*spool), std::move(*lock)};
    }
    return Error::in_use("lock", files.spool, "spool keeps being replaced");
}

Status check_is_mbox(const SpoolFile& spool, const std::string& path) {
    char head[5] = {};
    auto got = pread_full(spool.fd.get(), head, sizeof head, 0, path);
    if (!got)
        return got.error();
    if (*got != sizeof head || std::string_view(head, sizeof head) != "From ")
        return Error::permanent("refuse", path, "not an mbox file (does not begin with \"From \")");
    return {};
}

// Smaller mailboxes are indexed at every login: a cache would save less
// than its file costs.
constexpr uint64_t kIndexCacheMinOctets = 1024 * 1024;

// The index of the spool open as `fd` (fstat `st`, taken under its lock),
// from U.pop.index when that was saved for exactly this state of the file
// (inode, size, mtime, ctime: see Maildrop::put_back_unchanged). Trouble
// with the cache costs a scan, never the login.
std::optional<MboxIndex> cached_index(const DropFiles& files, int fd, const struct stat& st,
                                      UidlFormat format) {
    if (static_cast<uint64_t>(st.st_size) < kIndexCacheMinOctets)
        return std::nullopt;
    auto cached = load_index_cache(files.index_cache, fd, st, format);
    if (!cached) {
        log_warning("index cache ignored, indexing the mailbox: " + cached.error().message());
        return std::nullopt;
    }
    if (*cached)
        log_debug("index of " + files.spool + " loaded from " + files.index_cache);
    return std::move(*cached);
}

// The cache follows the file: after a QUIT that left the mailbox as the
// session indexed it, stamped with the spool's state now (a write of its
// stat block when the session loaded it from the cache, a whole save
// otherwise), so that the next login can skip the scan; removed for a
// mailbox too small to need one.
void save_cache_for(const DropFiles& files, const MboxIndex& index,
                    const std::optional<struct stat>& cached_for, const struct stat& st) {
    if (static_cast<uint64_t>(st.st_size) < kIndexCacheMinOctets) {
        if (auto gone = unlink_path(files.index_cache); !gone)
            log_warning("stale index cache: " + gone.error().message());
        return;
    }
    if (cached_for) {
        auto restamped = restamp_index_cache(files.index_cache, *cached_for, st);
        if (restamped) {
            log_debug("index cache " + files.index_cache + " restamped");
            return;
        }
        log_warning("index cache not restamped, saving it: " + restamped.error().message());
    }
    if (auto saved = save_index_cache(files.index_cache, index, st); !saved)
        log_warning("index cache not saved: " + saved.error().message());
    else
        log_debug("index of " + files.spool + " saved to " + files.index_cache);
}

bool has_uid_base(UidlFormat format) {
    return format == UidlFormat::uw || format == UidlFormat::dovecot;
}

UidlOptions uidl_options(const MaildropSettings& settings, const DropFiles& files) {
    UidlOptions options;
    options.format = settings.uidl_format;
    if (has_uid_base(settings.uidl_format))
        options.remembered = read_uid_base(files.uid_base);
    return options;
}

// The UidBase the first message carries, kept for the login after a
// session deleted that message (UW and Dovecot would have moved the header
// on; popperd writes no header). Not keeping it costs UIDLs, never mail.
void keep_uid_base(const DropFiles& files, const MboxIndex& index) {
    if (!has_uid_base(index.uidl_format) || index.uid_base.validity == 0)
        return;
    if (read_uid_base(files.uid_base) == index.uid_base)
        return;
    if (auto kept = write_uid_base(files.uid_base, files.drop_dir, index.uid_base); !kept)
        log_warning("UID validity not kept: " + kept.error().message());
}

} // namespace

std::optional<pid_t> Maildrop::holder(const MaildropSettings& settings) {
    return session_lock_holder(DropFiles::for_settings(settings).session);
}

Result<Maildrop> Maildrop::open(const MaildropSettings& settings) {
    const DropFiles files = DropFiles::for_settings(settings);
    Maildrop drop;
    drop.settings_ = settings;
    drop.drop_path_ = files.drop;

    auto session = take_session_lock(files.session);
    if (!session)
        return session.error();
    auto session_st = stat_fd(session->get(), files.session);
    if (!session_st)
        return session_st.error();
    if (auto own = check_own_regular_file(*session_st, files.session); !own)
        return own.error();
    drop.session_lock_ = std::move(*session);

    std::optional<MboxIndex> index;
    struct stat cached_for {};
    {
        auto locked = lock_spool(files, settings.locks);
        if (!locked)
            return locked.error();
        if (auto r = recover(files); !r)
            return r.error();
        if (spool_was_replaced(files, locked->spool)) {
            // Recovery installed a new spool: lock that one instead.
            locked->lock.release();
            locked = lock_spool(files, settings.locks);
            if (!locked)
                return locked.error();
        }
        SpoolFile& spool = locked->spool;
        const bool has_mail = spool.fd && spool.st.st_size > 0;
        if (has_mail) {
            if (auto m = check_is_mbox(spool, files.spool); !m)
                return m.error();
        }
        const bool had_drop = path_exists(files.drop);
        if (has_mail && !had_drop && same_filesystem(files.drop_dir, files.spool_dir)) {
            // The bytes do not change with the name: a cache made for the
            // spool as it is now is the drop's index.
            index = cached_index(files, spool.fd.get(), spool.st, settings.uidl_format);
            cached_for = spool.st;
            if (auto moved = rename_spool_into_drop(files); !moved)
                return moved.error();
            drop.drop_fd_ = std::move(spool.fd); // the lock keeps its number until released
        } else if (has_mail) {
            if (!had_drop)
                index = cached_index(files, spool.fd.get(), spool.st, settings.uidl_format);
            cached_for = spool.st;
            if (auto moved = move_spool_into_drop(files, spool); !moved)
                return moved.error();
        }
    } // spool unlocked: the MTA may deliver while the session runs

    if (!drop.drop_fd_ && path_exists(files.drop)) {
        auto fd = open_own_file(files.drop, O_RDONLY);
        if (!fd)
            return fd.error();
        drop.drop_fd_ = std::move(*fd);
    }
    if (!drop.drop_fd_)
        return drop; // no mail: nothing to serve or put back
    auto st = stat_fd(drop.drop_fd_.get(), files.drop);
    if (!st)
        return st.error();
    if (index && index->file_size == static_cast<uint64_t>(st->st_size)) {
        drop.index_ = std::move(*index);
        drop.cached_for_ = cached_for;
        use_captured_uidls(files, drop.drop_fd_.get(), drop.index_);
        return drop;
    }
    auto scanned = index_mbox_file(drop.drop_fd_.get(), static_cast<uint64_t>(st->st_size),
                                   files.drop, uidl_options(settings, files));
    if (!scanned)
        return Error::permanent("index", files.drop, scanned.error().message());
    drop.index_ = std::move(*scanned);
    keep_uid_base(files, drop.index_);
    use_captured_uidls(files, drop.drop_fd_.get(), drop.index_);
    return drop;
}

namespace {

bool any_deleted(const std::vector<bool>& deleted) {
    return std::find(deleted.begin(), deleted.end(), true) != deleted.end();
}

} // namespace

Status Maildrop::commit(const std::vector<bool>& deleted) {
    if (!drop_fd_)
        return {}; // an empty mailbox: nothing was taken
    const DropFiles files = DropFiles::for_settings(settings_);

    auto locked = lock_spool(files, settings_.locks);
    if (!locked)
        return locked.error();
    // A local reader that read the mailbox before this login may have
    // written its stale copy back: those messages are in the drop already.
    auto echoes =
        remove_echoes_from_spool(files, locked->spool, drop_fd_.get(), drop_path_, index_);
    if (!echoes)
        return echoes.error();
    if (*echoes > 0) {
        locked->lock.release();
        locked = lock_spool(files, settings_.locks); // the cleaned spool
        if (!locked)
            return locked.error();
    }
    const SpoolFile& spool = locked->spool;
    const bool new_mail = spool.fd && spool.st.st_size > 0;
    if (!same_filesystem(files.drop_dir, files.spool_dir)) {
        auto unchanged = commit_by_copy(files, drop_fd_.get(), index_, deleted, spool);
        if (!unchanged)
            return unchanged.error();
        drop_fd_.reset();
        struct stat st {};
        if (*unchanged && ::stat(files.spool.c_str(), &st) == 0)
            save_cache_for(files, index_, cached_for_, st);
        return {};
    }
    auto drop_st = stat_fd(drop_fd_.get(), drop_path_);
    if (!drop_st)
        return drop_st.error();
    if (!any_deleted(deleted) && !new_mail &&
        static_cast<uint64_t>(drop_st->st_size) == index_.file_size) {
        if (auto back = put_back_unchanged(files); !back)
            return back;
        // The cache follows the file: stamped with the state it has now.
        if (auto st = stat_fd(drop_fd_.get(), files.spool))
            save_cache_for(files, index_, cached_for_, *st);
    } else {
        const uint64_t inode = spool.fd ? static_cast<uint64_t>(spool.st.st_ino) : 0;
        if (auto done = commit_by_compaction(files, drop_fd_.get(), index_, deleted, inode); !done)
            return done;
    }
    retired_file_ = std::move(drop_fd_);
    return {};
}

} // namespace popper
