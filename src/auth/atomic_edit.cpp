// Reading a small text file whole, and replacing one under a lock by rename.
#include "popper/io.h"
#include "popper/temp_file.h"
#include "popper/users_file_edit.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

namespace popper {

namespace {

constexpr auto kLockRetryInterval = std::chrono::milliseconds(20);

// An fcntl write lock on `PATH.lock`, held for the life of the object. Open
// file description locks (F_OFD_SETLK) also serialize threads of one process
// and are not dropped when some other descriptor of the file is closed.
class EditLock {
public:
    static Result<EditLock> acquire(const std::string& path) {
        const std::string lock_path = path + ".lock";
        auto fd = open_file(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY, 0600);
        if (!fd)
            return fd.error();
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(kEditLockTimeoutMs);
        for (;;) {
            struct flock lock {};
            lock.l_type = F_WRLCK;
            lock.l_whence = SEEK_SET;
            if (::fcntl(fd->get(), kSetLock, &lock) == 0)
                return EditLock(std::move(*fd));
            if (errno != EAGAIN && errno != EACCES && errno != EINTR)
                return Error::from_errno("lock", lock_path);
            if (std::chrono::steady_clock::now() >= deadline)
                return Error::in_use("lock", lock_path,
                                     "held by another editor for " +
                                         std::to_string(kEditLockTimeoutMs / 1000) + " s");
            std::this_thread::sleep_for(kLockRetryInterval);
        }
    }

private:
#ifdef F_OFD_SETLK
    static constexpr int kSetLock = F_OFD_SETLK;
#else
    static constexpr int kSetLock = F_SETLK;
#endif
    explicit EditLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_; // closing it releases the lock
};

// The old file, or an empty one to be created with `create_mode`.
Result<TextFile> read_for_edit(const std::string& path, std::optional<mode_t> create_mode) {
    auto file = read_text_file(path, kMaxUsersFileOctets);
    if (file || file.error().errnum != ENOENT || !create_mode)
        return file;
    TextFile fresh;
    fresh.st.st_mode = S_IFREG | *create_mode;
    fresh.st.st_uid = ::geteuid();
    fresh.st.st_gid = ::getegid();
    return fresh;
}

// Mode and owner of the old file onto the new one before it is visible.
Status copy_mode_and_owner(const TempFile& temp, const struct stat& old) {
    if (::fchmod(temp.fd(), old.st_mode & 07777) != 0)
        return Error::from_errno("chmod", temp.path());
    auto now = stat_fd(temp.fd(), temp.path());
    if (!now)
        return now.error();
    if ((now->st_uid != old.st_uid || now->st_gid != old.st_gid) &&
        ::fchown(temp.fd(), old.st_uid, old.st_gid) != 0)
        return Error::from_errno("chown", temp.path());
    // chown may clear set-id bits: set the mode again, after it.
    if (::fchmod(temp.fd(), old.st_mode & 07777) != 0)
        return Error::from_errno("chmod", temp.path());
    return {};
}

Status replace_file(const std::string& path, const struct stat& old, std::string_view text) {
    return replace_file_durably(
        path, text, [&](const TempFile& temp) { return copy_mode_and_owner(temp, old); });
}

} // namespace

Result<TextFile> read_text_file(const std::string& path, size_t max_octets, bool follow_symlinks) {
    auto fd =
        open_file(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | (follow_symlinks ? 0 : O_NOFOLLOW));
    if (!fd) {
        if (fd.error().errnum == ELOOP)
            return Error::permanent("open", path, "is a symbolic link");
        return fd.error();
    }
    auto st = stat_fd(fd->get(), path);
    if (!st)
        return st.error();
    if (!S_ISREG(st->st_mode))
        return Error::because("read", path, "not a regular file");
    const auto too_large = [&] {
        return Error::because("read", path,
                              "larger than " + std::to_string(max_octets) + " octets");
    };
    if (static_cast<uint64_t>(st->st_size) > max_octets)
        return too_large();

    TextFile file;
    file.st = *st;
    std::string& text = file.text;
    text.resize(static_cast<size_t>(st->st_size) + 1);
    size_t used = 0;
    for (;;) {
        if (used == text.size()) {
            if (used > max_octets)
                return too_large();
            text.resize(std::min(used * 2 + 4096, max_octets + 1));
        }
        auto n = read_some(fd->get(), text.data() + used, text.size() - used, path);
        if (!n)
            return n.error();
        if (*n == 0)
            break;
        used += *n;
    }
    if (used > max_octets)
        return too_large();
    text.resize(used);
    return file;
}

Result<bool> edit_text_file(const std::string& path, const TextEdit& edit,
                            std::optional<mode_t> create_mode) {
    auto lock = EditLock::acquire(path);
    if (!lock)
        return lock.error();
    auto old = read_for_edit(path, create_mode);
    if (!old)
        return old.error();
    auto text = edit(old->text);
    if (!text) {
        Error error = text.error();
        if (error.path.empty())
            error.path = path;
        return error;
    }
    if (*text == old->text)
        return false;
    if (auto replaced = replace_file(path, old->st, *text); !replaced)
        return replaced.error();
    return true;
}

} // namespace popper
