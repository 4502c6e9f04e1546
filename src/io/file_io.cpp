#include "popper/io.h"

#include <fcntl.h>
#include <unistd.h>

namespace popper {

Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode) {
    for (;;) {
        int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
        if (fd >= 0)
            return UniqueFd(fd);
        if (errno != EINTR)
            return Error::from_errno("open", path);
    }
}

Result<UniqueFd> open_at(int dir_fd, const std::string& name, int flags, mode_t mode,
                         const std::string& shown_path) {
    for (;;) {
        int fd = ::openat(dir_fd, name.c_str(), flags | O_CLOEXEC, mode);
        if (fd >= 0)
            return UniqueFd(fd);
        if (errno != EINTR)
            return Error::from_errno("open", shown_path);
    }
}

Status write_all(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("write", path);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Status pwrite_all(int fd, std::string_view data, off_t offset, const std::string& path) {
    while (!data.empty()) {
        ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("write", path);
        }
        data.remove_prefix(static_cast<size_t>(n));
        offset += n;
    }
    return {};
}

Result<size_t> read_some(int fd, char* buf, size_t len, const std::string& path) {
    for (;;) {
        ssize_t n = ::read(fd, buf, len);
        if (n >= 0)
            return static_cast<size_t>(n);
        if (errno != EINTR)
            return Error::from_errno("read", path);
    }
}

Result<size_t> pread_full(int fd, char* buf, size_t len, off_t offset, const std::string& path) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = ::pread(fd, buf + done, len - done, offset + static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("read", path);
        }
        if (n == 0)
            break;
        done += static_cast<size_t>(n);
    }
    return done;
}

Result<struct stat> stat_fd(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return Error::from_errno("stat", path);
    return st;
}

Status fsync_fd(int fd, const std::string& path) {
    for (;;) {
        if (::fsync(fd) == 0)
            return {};
        if (errno != EINTR)
            return Error::from_errno("fsync", path);
    }
}

Status fsync_dir(const std::string& dir) {
    auto fd = open_file(dir, O_RDONLY | O_DIRECTORY);
    if (!fd)
        return fd.error();
    return fsync_fd(fd->get(), dir);
}

Status rename_path(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0)
        return Error::from_errno("rename", from + " to " + to);
    return {};
}

Status unlink_path(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return Error::from_errno("unlink", path);
    return {};
}

Status truncate_fd(int fd, off_t length, const std::string& path) {
    for (;;) {
        if (::ftruncate(fd, length) == 0)
            return {};
        if (errno != EINTR)
            return Error::from_errno("truncate", path);
    }
}

std::string dirname_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace popper
