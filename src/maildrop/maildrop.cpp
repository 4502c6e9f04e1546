// Opening a maildrop (spool -> drop) and committing a session (UPDATE).
// Comments name the invariant of DESIGN.md each ordering protects.
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

Status create_empty_drop(const DropFiles& files) {
    auto fresh = create_exclusive(files.drop, 0600);
    if (!fresh) return fresh.error();
    return fsync_dir(files.drop_dir);
}

// Smaller mailboxes are indexed at every login: a cache would save less
// than its file costs.
constexpr uint64_t kIndexCacheMinOctets = 1024 * 1024;

// A spool served in place that has not changed since the last login (same
// inode, size, mtime and ctime: a session that deletes nothing leaves it so)
// loads its index from U.pop.index instead of reading the whole mailbox.
// The cache is checked by load_index_cache and never trusted otherwise;
// trouble with it costs a scan, never the login.
Result<MboxIndex> index_served_spool(const DropFiles& files, int fd, const struct stat& st) {
    const bool cacheable = static_cast<uint64_t>(st.st_size) >= kIndexCacheMinOctets;
    if (cacheable) {
        auto cached = load_index_cache(files.index_cache, fd, st);
        if (!cached)
            log_warning("index cache ignored, indexing the mailbox: " + cached.error().message());
        else if (*cached) {
            log_debug("index of " + files.spool + " loaded from " + files.index_cache);
            return std::move(**cached);
        }
    } else if (auto gone = unlink_path(files.index_cache); !gone) {
        log_warning("stale index cache: " + gone.error().message());
    }
    auto index = index_mbox_file(fd, static_cast<uint64_t>(st.st_size), files.spool);
    if (!index) return Error::classified(EILSEQ, "index", files.spool, index.error().message());
    if (cacheable) {
        if (auto saved = save_index_cache(files.index_cache, *index, st); !saved)
            log_warning("index cache not saved: " + saved.error().message());
        else
            log_debug("index of " + files.spool + " saved to " + files.index_cache);
    }
    return index;
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
        SpoolFile& spool = locked->spool;
        if (spool.fd && spool.st.st_size > 0) {
            if (auto m = check_is_mbox(spool, files.spool); !m) return m.error();
        }
        if (!path_exists(files.drop) && same_filesystem(files.drop_dir, files.spool_dir)) {
            // Served in place: nothing is written, so a session that deletes
            // nothing costs no disk write and leaves no state to recover.
            drop.in_place_ = true;
            drop.drop_path_ = files.spool;
            if (spool.fd) {
                drop.spool_at_open_ = spool.st;
                drop.drop_fd_ = std::move(spool.fd); // the lock keeps its number until released
            }
        } else if (spool.fd && spool.st.st_size > 0) {
            if (auto moved = move_spool_into_drop(files, spool); !moved) return moved.error();
        } else if (!path_exists(files.drop)) {
            if (auto made = create_empty_drop(files); !made) return made.error();
        }
    } // spool unlocked: the MTA may deliver while the session runs

    if (drop.in_place_) {
        if (!drop.drop_fd_) return drop; // no spool: an empty mailbox
        auto index = index_served_spool(files, drop.drop_fd_.get(), drop.spool_at_open_);
        if (!index) return index.error();
        drop.index_ = std::move(*index);
        return drop;
    }
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

// Same filesystem: the drop (or the spool served in place) becomes the new
// spool. Only the octets from the first deleted message on are rewritten
// (from a tail file built first), then the mail that arrived meanwhile is
// appended: what an MTA appended to this inode after it was indexed goes
// into the tail file, what it wrote to a new spool is appended last.
// `spool_inode`: the spool that finish_compact must find at the spool's path
// (0: none, or any that an MTA made after the rename).
Status Maildrop::commit_in_place(const std::vector<bool>& deleted, uint64_t spool_inode,
                                 const std::string& renamed_from) {
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
    // With nothing kept before the cut the tail becomes the spool (see
    // finish_compact), so it is made even when empty.
    if (first < messages.size() || drop_size > index_.file_size || cut == 0) {
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
    // Commit point (invariants 1 and 2): once the file is renamed to
    // ".compact" the deletions stand and recovery redoes finish_compact.
    if (auto j = write_journal(files.journal, {"compact", cut, spool_inode, tail_size}); !j)
        return j;
    if (auto r = rename_path(renamed_from, files.compact); !r) return r;
    if (auto s = fsync_dir(files.drop_dir); !s) return s;
    return finish_compact(files, Journal{"compact", cut, spool_inode, tail_size});
}

namespace {

bool same_times(const struct timespec& a, const struct timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// Boundaries checked when a spool served in place changed during the
// session, besides the first and last message and the edges of what QUIT
// keeps: enough to catch any rewrite that moved messages, at a bounded cost
// (a pread each; all 100,000 of a 1 GB mailbox took ~100 ms here).
constexpr size_t kSampledBoundaries = 4096;
// The last message's identity is re-read up to this many octets.
constexpr size_t kLastMessageCheckOctets = 1024 * 1024;

Result<bool> from_line_at(int fd, uint64_t offset, const std::string& path) {
    // "\nFrom " (the separator's empty line ends there), "From " at 0.
    char buf[6] = {};
    const bool at_start = offset == 0;
    auto got = pread_full(fd, buf, at_start ? 5 : 6, static_cast<off_t>(at_start ? 0 : offset - 1),
                          path);
    if (!got) return got.error();
    return std::string_view(buf, *got) ==
           (at_start ? std::string_view("From ") : std::string_view("\nFrom "));
}

// Served in place, under the spool lock at QUIT: are the spool's first N
// octets still the mailbox the session indexed? An MTA only appends; a
// mail reader that rewrote the spool meanwhile (it holds no session lock)
// moved or replaced messages, and deleting by the old offsets would cut the
// wrong mail. Untouched (same size and times) needs no reading. Otherwise
// messages must still start where the index says (at every boundary QUIT
// cuts at, the first and last, and a sample), what follows N must begin a
// message, and the last message must still be the same message (its
// From_ line and identifying headers: a reader that expunged it and an MTA
// that delivered in its place would leave every boundary where it was).
Status check_spool_unchanged(const SpoolFile& locked, int served_fd, const struct stat& at_open,
                             const MboxIndex& index, const std::vector<bool>& deleted,
                             const std::string& path) {
    auto refuse = [&path](const std::string& why) {
        return Error::classified(EILSEQ, "update", path, why + "; nothing deleted");
    };
    if (!locked.fd || locked.st.st_ino != at_open.st_ino || locked.st.st_dev != at_open.st_dev)
        return refuse("the spool was replaced during the session");
    const uint64_t now_size = static_cast<uint64_t>(locked.st.st_size);
    if (now_size < index.file_size) return refuse("the spool shrank during the session");
    if (locked.st.st_size == at_open.st_size && same_times(locked.st.st_mtim, at_open.st_mtim) &&
        same_times(locked.st.st_ctim, at_open.st_ctim))
        return {};
    const auto& messages = index.messages;
    const size_t count = messages.size();
    const size_t stride = std::max<size_t>(1, count / kSampledBoundaries);
    for (size_t i = 0; i < count; ++i) {
        bool edge = i == 0 || i + 1 == count || i % stride == 0 ||
                    is_deleted(deleted, i) != is_deleted(deleted, i - 1);
        if (!edge) continue;
        auto ok = from_line_at(served_fd, messages[i].from_line, path);
        if (!ok) return ok.error();
        if (!*ok) return refuse("the spool was rewritten during the session");
    }
    if (now_size > index.file_size) {
        auto ok = from_line_at(served_fd, index.file_size, path);
        if (!ok) return ok.error();
        if (!*ok) return refuse("the spool was rewritten during the session");
    }
    if (count > 0) {
        const MessageEntry& last = messages[count - 1];
        const uint64_t length =
            std::min<uint64_t>(index.file_size - last.from_line, kLastMessageCheckOctets);
        std::string bytes(static_cast<size_t>(length), '\0');
        auto got = pread_full(served_fd, bytes.data(), bytes.size(),
                              static_cast<off_t>(last.from_line), path);
        if (!got) return got.error();
        bytes.resize(*got);
        auto again = index_mbox_bytes(bytes, path);
        if (!again || again->messages.size() == 0 ||
            again->messages[0].uid_digest != last.uid_digest)
            return refuse("the spool's last message changed during the session");
    }
    return {};
}

} // namespace

Status Maildrop::commit_served_in_place(const std::vector<bool>& deleted) {
    const DropFiles files = DropFiles::for_settings(settings_);
    bool any = false;
    for (size_t i = 0; i < index_.messages.size() && !any; ++i) any = is_deleted(deleted, i);
    if (!any || !drop_fd_) return {}; // nothing was written, nothing to undo
    auto locked = lock_spool(files, settings_.locks);
    if (!locked) return locked.error();
    if (auto same = check_spool_unchanged(locked->spool, drop_fd_.get(), spool_at_open_, index_,
                                          deleted, files.spool);
        !same)
        return same;
    // The spool itself is renamed to ".compact": at the spool's path
    // finish_compact can then only find a spool an MTA made since (inode 0).
    return commit_in_place(deleted, 0, files.spool);
}

Status Maildrop::commit(const std::vector<bool>& deleted) {
    if (in_place_) {
        auto done = commit_served_in_place(deleted);
        if (done) retired_file_ = std::move(drop_fd_);
        return done;
    }
    const DropFiles files = DropFiles::for_settings(settings_);

    auto locked = lock_spool(files, settings_.locks);
    if (!locked) return locked.error();
    const SpoolFile& spool = locked->spool;
    if (same_filesystem(files.drop_dir, files.spool_dir)) {
        uint64_t inode = spool.fd ? static_cast<uint64_t>(spool.st.st_ino) : 0;
        auto done = commit_in_place(deleted, inode, files.drop);
        if (done) retired_file_ = std::move(drop_fd_);
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
