#include "maildrop_files.h"

#include "popper/temp_file.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace popper::maildrop_detail {

DropFiles DropFiles::for_settings(const MaildropSettings& settings) {
    DropFiles f;
    f.drop_dir = settings.drop_dir;
    std::string base = settings.drop_dir + "/" + settings.user;
    f.drop = base + ".pop";
    f.new_drop = base + ".pop.new";
    f.moving = base + ".pop.moving";
    f.commit = base + ".pop.commit";
    f.compact = base + ".pop.compact";
    f.tail = base + ".pop.tail";
    f.journal = base + ".pop.journal";
    f.index_cache = base + ".pop.index";
    f.uid_base = base + ".uidbase";
    f.uidl_map = base + ".uidl-map";
    f.session = base + ".session";
    f.spool = settings.spool_path;
    f.spool_dir = dirname_of(settings.spool_path);
    f.spool_tmp = f.spool_dir + "/." + basename_of(settings.spool_path) + ".popperd-new";
    return f;
}

Result<UniqueFd> open_own_file(const std::string& path, int flags) {
    // O_NONBLOCK: opening a FIFO planted in our place must not hang.
    auto fd = open_file(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (!fd) {
        if (fd.error().errnum == ELOOP)
            return Error::permanent("refuse", path, "is a symlink");
        struct stat st {};
        if ((fd.error().errnum == EACCES || fd.error().errnum == EISDIR) &&
            ::lstat(path.c_str(), &st) == 0) {
            // Say which rule the file breaks rather than "Permission denied".
            if (auto ok = check_own_regular_file(st, path); !ok)
                return ok.error();
        }
        return fd.error();
    }
    auto st = stat_fd(fd->get(), path);
    if (!st)
        return st.error();
    if (auto ok = check_own_regular_file(*st, path); !ok)
        return ok.error();
    int fl = ::fcntl(fd->get(), F_GETFL);
    if (fl >= 0)
        ::fcntl(fd->get(), F_SETFL, fl & ~O_NONBLOCK);
    return std::move(*fd);
}

Result<SpoolFile> open_spool(const std::string& path) {
    SpoolFile spool;
    auto fd = open_own_file(path, O_RDWR);
    if (!fd) {
        if (fd.error().errnum == ENOENT)
            return spool;
        return fd.error();
    }
    auto st = stat_fd(fd->get(), path);
    if (!st)
        return st.error();
    spool.fd = std::move(*fd);
    spool.st = *st;
    return spool;
}

bool path_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

Result<UniqueFd> create_exclusive(const std::string& path, mode_t mode) {
    return open_file(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
}

Status copy_mode_and_group(int fd, const struct stat& from, const std::string& path) {
    if (::fchmod(fd, from.st_mode & 07777) != 0)
        return Error::from_errno("chmod", path);
    struct stat now {};
    if (::fstat(fd, &now) == 0 && now.st_gid != from.st_gid &&
        ::fchown(fd, static_cast<uid_t>(-1), from.st_gid) != 0)
        return Error::from_errno("chown", path);
    return {};
}

bool same_inode(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    return ::lstat(a.c_str(), &sa) == 0 && ::lstat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

Status write_journal(const std::string& path, const Journal& journal) {
    // Only read while a .moving or .commit file exists, and written only when
    // neither does: a torn journal is never consulted.
    char line[128];
    int len = std::snprintf(line, sizeof line, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                            journal.kind.c_str(), journal.spool_size, journal.spool_inode,
                            journal.tail_size);
    if (auto gone = unlink_path(path); !gone)
        return gone;
    auto fd = create_exclusive(path, 0600);
    if (!fd)
        return fd.error();
    if (auto w = write_all(fd->get(), {line, static_cast<size_t>(len)}, path); !w)
        return w;
    return fsync_fd(fd->get(), path);
}

Result<Journal> read_journal(const std::string& path, const std::string& expected_kind) {
    auto fd = open_own_file(path, O_RDONLY);
    if (!fd)
        return fd.error();
    char buf[128] = {};
    auto got = read_some(fd->get(), buf, sizeof buf - 1, path);
    if (!got)
        return got.error();
    char kind[16] = {};
    unsigned long long size = 0, inode = 0, tail = 0;
    if (std::sscanf(buf, "%15s %llu %llu %llu", kind, &size, &inode, &tail) != 4 ||
        expected_kind != kind)
        return Error::permanent("read journal", path,
                                "does not describe a '" + expected_kind + "' step");
    return Journal{kind, size, inode, tail};
}

UidBase read_uid_base(const std::string& path) {
    auto fd = open_own_file(path, O_RDONLY);
    if (!fd)
        return {};
    char buf[64] = {};
    auto got = read_some(fd->get(), buf, sizeof buf - 1, path);
    if (!got)
        return {};
    unsigned long long validity = 0, last = 0;
    char end = 0;
    if (std::sscanf(buf, "%llu %llu%c", &validity, &last, &end) != 3 || end != '\n' ||
        validity == 0)
        return {};
    return UidBase{validity, last};
}

Status write_uid_base(const std::string& path, const std::string& dir, const UidBase& base) {
    char line[64];
    int len =
        std::snprintf(line, sizeof line, "%" PRIu64 " %" PRIu64 "\n", base.validity, base.last);
    auto temp = TempFile::create_beside(path);
    if (!temp)
        return temp.error();
    if (auto w = write_all(temp->fd(), {line, static_cast<size_t>(len)}, temp->path()); !w)
        return w;
    if (auto synced = fsync_fd(temp->fd(), temp->path()); !synced)
        return synced;
    if (auto renamed = temp->commit_as(path); !renamed)
        return renamed;
    return fsync_dir(dir);
}

Status MboxWriter::ensure_separator() {
    if (size_ == 0)
        return {};
    char tail[2] = {};
    size_t want = size_ >= 2 ? 2 : 1;
    auto got = pread_full(fd_, tail, want, static_cast<off_t>(size_ - want), path_);
    if (!got)
        return got.error();
    bool ends_blank = want == 2 && tail[0] == '\n' && tail[1] == '\n';
    // "\n\r\n" also ends with an empty line; checking the last two octets
    // "\r\n" is not enough, so look one further back.
    if (!ends_blank && want == 2 && tail[0] == '\r' && tail[1] == '\n' && size_ >= 3) {
        char before = 0;
        auto one = pread_full(fd_, &before, 1, static_cast<off_t>(size_ - 3), path_);
        if (!one)
            return one.error();
        ends_blank = before == '\n';
    }
    if (ends_blank)
        return {};
    std::string pad = tail[want - 1] == '\n' ? "\n" : "\n\n";
    if (auto w = pwrite_all(fd_, pad, static_cast<off_t>(size_), path_); !w)
        return w;
    size_ += pad.size();
    return {};
}

Status MboxWriter::append(int in_fd, uint64_t offset, uint64_t length, const std::string& in_path) {
    if (length == 0)
        return {};
    if (auto sep = ensure_separator(); !sep)
        return sep;
    auto copied = copy_range(in_fd, static_cast<off_t>(offset), static_cast<off_t>(length), fd_,
                             static_cast<off_t>(size_), in_path, path_);
    if (!copied)
        return copied;
    size_ += length;
    return {};
}

Status append_kept(MboxWriter& writer, const MboxIndex& index, const std::vector<bool>& skip,
                   size_t first, int fd, const std::string& path, uint64_t file_size) {
    const auto& messages = index.messages;
    auto skipped = [&skip](size_t i) { return i < skip.size() && skip[i]; };
    for (size_t i = first; i < messages.size();) {
        if (skipped(i)) {
            ++i;
            continue;
        }
        size_t run_end = i;
        while (run_end < messages.size() && !skipped(run_end))
            ++run_end;
        uint64_t from = messages[i].from_line;
        uint64_t to = run_end < messages.size() ? messages[run_end].from_line : index.file_size;
        if (auto a = writer.append(fd, from, to - from, path); !a)
            return a;
        i = run_end;
    }
    if (file_size > index.file_size)
        return writer.append(fd, index.file_size, file_size - index.file_size, path);
    return {};
}

bool same_filesystem(const std::string& dir_a, const std::string& dir_b) {
    struct stat a {
    }, b{};
    return ::stat(dir_a.c_str(), &a) == 0 && ::stat(dir_b.c_str(), &b) == 0 && a.st_dev == b.st_dev;
}

} // namespace popper::maildrop_detail
