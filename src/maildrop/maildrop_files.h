// Private to the maildrop module: the files of one user's maildrop, checks
// that refuse hostile files, the journal, and an mbox appender.
#pragma once

#include "popper/io.h"
#include "popper/maildrop.h"
#include "popper/mbox_index.h"
#include "popper/result.h"

#include <string>
#include <sys/stat.h>
#include <vector>

namespace popper::maildrop_detail {

struct DropFiles {
    std::string drop_dir, drop, new_drop, moving, commit, compact, tail, journal, session,
        index_cache, uid_base, uidl_map;
    std::string spool, spool_dir, spool_tmp;

    static DropFiles for_settings(const MaildropSettings& settings);
};

struct SpoolFile {
    UniqueFd fd;       // empty when the spool does not exist
    struct stat st {}; // valid when fd is set
};
Result<SpoolFile> open_spool(const std::string& path);
// Opens an existing drop-side file read-only after the same checks.
Result<UniqueFd> open_own_file(const std::string& path, int flags);
bool path_exists(const std::string& path);

// A new file, 0600 (or `mode`), that must not exist: O_EXCL|O_NOFOLLOW.
Result<UniqueFd> create_exclusive(const std::string& path, mode_t mode);
// Gives the file open as `fd` the permission bits and group of `from` (we
// are the owner of both, so this needs no privilege).
Status copy_mode_and_group(int fd, const struct stat& from, const std::string& path);

struct Journal {
    std::string kind;         // "moving", "commit" or "compact"
    uint64_t spool_size = 0;  // moving/commit: spool octets taken; compact: truncate offset
    uint64_t spool_inode = 0; // the spool's inode when the step began (0: no spool)
    uint64_t tail_size = 0;   // compact: octets of the tail file
};
Status write_journal(const std::string& path, const Journal& journal);
Result<Journal> read_journal(const std::string& path, const std::string& expected_kind);

// The UidBase (uidl_format uw, dovecot) the mailbox's first message carried
// at an earlier login, "VALIDITY LAST\n": kept so that UIDLs stay when a
// session deletes that message. Untrusted: anything but a file of ours with
// two numbers is none ({}), never an error for the login.
UidBase read_uid_base(const std::string& path);
// Replaces the file, made durable before the session can delete the message
// that carried the base.
Status write_uid_base(const std::string& path, const std::string& dir, const UidBase& base);

// Lays the UIDLs of drop_dir/USER.uidl-map (popper/uidl_map.h) over the
// index of the drop open as `drop_fd`, and prunes the map. Trouble with the
// map or reading a header costs the mapping (logged), never the login.
void use_captured_uidls(const DropFiles& files, int drop_fd, MboxIndex& index);

// Appends byte ranges of other files to an mbox being built, inserting the
// empty line that RFC 4155 requires before a "From " line where the previous
// content did not end with one.
class MboxWriter {
public:
    MboxWriter(int fd, std::string path, uint64_t size = 0)
        : fd_(fd), path_(std::move(path)), size_(size) {}
    Status append(int in_fd, uint64_t offset, uint64_t length, const std::string& in_path);
    uint64_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    Status ensure_separator();
    int fd_;
    std::string path_;
    uint64_t size_ = 0;
};

// Appends the messages among [first, index.messages.size()) of the mbox
// open as `fd` whose `skip` flag is not set, with their separators, in runs
// of neighbours; then anything found after the indexed end of the file
// (`file_size` beyond index.file_size: kept rather than judged).
Status append_kept(MboxWriter& writer, const MboxIndex& index, const std::vector<bool>& skip,
                   size_t first, int fd, const std::string& path, uint64_t file_size);

// True when both paths live on one filesystem, so rename(2) can move files
// between them instead of copying.
bool same_filesystem(const std::string& dir_a, const std::string& dir_b);

// --- maildrop_rename.cpp: drop_dir on the spool's filesystem ---------------

// Login: the spool file becomes the drop; both directories synced.
Status rename_spool_into_drop(const DropFiles& files);
// QUIT that deleted nothing while no mail arrived: the drop becomes the
// spool again.
Status put_back_unchanged(const DropFiles& files);
// QUIT otherwise: the drop, cut at its first deleted message, gets the kept
// messages after it and then the mail that arrived (the spool, inode
// `spool_inode`, 0 for none), and replaces the spool; journal "compact".
Status commit_by_compaction(const DropFiles& files, int drop_fd, const MboxIndex& index,
                            const std::vector<bool>& deleted, uint64_t spool_inode);
// Update step "compact" (same filesystem): the drop, renamed ".compact", is
// cut at `journal.spool_size`, gets the tail file and then all of the spool
// appended, and replaces the spool. Idempotent: recovery calls it again.
Status finish_compact(const DropFiles& files, const Journal& journal);

// --- maildrop_copy.cpp: drop_dir elsewhere, or a drop left by a crash -----

// Login: the spool's mail (after a leftover drop's) is copied into a new
// drop, journaled ("moving"), and the spool loses it.
Status move_spool_into_drop(const DropFiles& files, const SpoolFile& spool);
// QUIT: the next spool (kept messages, then the mail that arrived) is built
// beside the spool and renamed over it; journal "commit". True when it holds
// exactly the drop's bytes (nothing deleted, nothing arrived).
Result<bool> commit_by_copy(const DropFiles& files, int drop_fd, const MboxIndex& index,
                            const std::vector<bool>& deleted, const SpoolFile& spool);
// Fills spool_tmp, the next spool: appends what the spool holds from octet
// `from` on, gives it times that keep shells' "new mail" notice right, and
// fsyncs it. Returns the spool size copied up to. (Mode and group are the
// caller's: the drop's, which carries the spool's of the login.)
Result<uint64_t> prepare_spool_tmp(const DropFiles& files, int tmp_fd, MboxWriter& writer,
                                   const SpoolFile& spool, uint64_t from, bool unread_mail);
// A new, empty spool_tmp (one a crash left is removed first), with the
// permission bits and group of `mode_of`.
Result<UniqueFd> create_spool_tmp(const DropFiles& files, const struct stat& mode_of);
// Renames spool_tmp over the spool and makes that durable.
Status install_spool_tmp(const DropFiles& files);

// Takes out of the spool its first `moved` octets, which the drop now holds:
// the spool is replaced by the rest of it, or removed when that is nothing
// (a spool that is gone makes a stale mail reader write nothing back).
Status cut_spool_prefix(const DropFiles& files, const SpoolFile& spool, uint64_t moved);

// --- maildrop_recovery.cpp, maildrop_echoes.cpp ------------------------------

// Recovers what a crashed session left (the spool lock must be held). After
// it, at most `drop` exists among the drop files.
Status recover(const DropFiles& files);

// Removes from the spool (locked by the caller) every message identical to
// one of the drop's, `drop_path` open as `drop_fd` (same From_ line and identifying
// headers, uid_digest, and the same body): a local reader's stale
// write-back of mail this session holds. Returns how many were removed;
// when any, the spool was replaced (relock it).
Result<size_t> remove_echoes_from_spool(const DropFiles& files, const SpoolFile& spool, int drop_fd,
                                        const std::string& drop_path, const MboxIndex& drop_index);

// True when both paths name the same inode.
bool same_inode(const std::string& a, const std::string& b);

} // namespace popper::maildrop_detail
