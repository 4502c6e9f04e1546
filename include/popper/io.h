// The io layer: owned file descriptors and mappings, and system calls that are
// retried on EINTR, complete short transfers, and report errors with the path.
#pragma once

#include "popper/result.h"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/types.h>
#include <vector>

namespace popper {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd();

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release();
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// open(2) with O_CLOEXEC added; the error names the path.
Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode = 0);
// openat(2) relative to a directory descriptor; the error names `shown_path`.
Result<UniqueFd> open_at(int dir_fd, const std::string& name, int flags, mode_t mode,
                         const std::string& shown_path);

Status write_all(int fd, std::string_view data, const std::string& path);
Status pwrite_all(int fd, std::string_view data, off_t offset, const std::string& path);
// Reads up to `len` bytes, retrying EINTR. Returns 0 at end of file.
Result<size_t> read_some(int fd, char* buf, size_t len, const std::string& path);
Result<size_t> pread_full(int fd, char* buf, size_t len, off_t offset, const std::string& path);
Result<struct stat> stat_fd(int fd, const std::string& path);
// Refuses anything but a regular file with one link owned by us: a symlink,
// FIFO, directory or another user's file is never followed or overwritten.
Status check_own_regular_file(const struct stat& st, const std::string& path);

Status fsync_fd(int fd, const std::string& path);
// Opens a directory and fsyncs it, making a rename or unlink inside it durable.
Status fsync_dir(const std::string& dir);
Status rename_path(const std::string& from, const std::string& to);
// Unlinks; a missing file is not an error.
Status unlink_path(const std::string& path);
Status truncate_fd(int fd, off_t length, const std::string& path);

// Copies [offset, offset+len) of `in` to the current end of `out` (opened
// O_APPEND is not required; it writes at `out_offset`). Kernel-side with
// copy_file_range, falling back to pread/pwrite where the kernel refuses.
Status copy_range(int in, off_t offset, off_t len, int out, off_t out_offset,
                  const std::string& in_path, const std::string& out_path);

// One datagram on a SOCK_SEQPACKET socket with descriptors attached
// (SCM_RIGHTS, unix(7)); `what` names the socket in errors.
Status send_with_fds(int sock, std::string_view message, std::span<const int> fds,
                     const std::string& what);
struct MessageWithFds {
    std::string message;
    std::vector<UniqueFd> fds;
};
// nullopt at end of file. A longer message, or more descriptors than
// `max_fds`, is an error (the descriptors that came are closed). EINTR is
// returned as an error with errnum EINTR, for the caller to check its flags.
Result<std::optional<MessageWithFds>> receive_with_fds(int sock, size_t max_octets, size_t max_fds,
                                                       const std::string& what);

std::string dirname_of(const std::string& path);
std::string basename_of(const std::string& path);

} // namespace popper
