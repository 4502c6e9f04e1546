#include "popper/io.h"

#include <unistd.h>
#include <vector>

namespace popper {

namespace {

// Used when the kernel cannot copy between these files (EXDEV on old
// kernels, EINVAL/EOPNOTSUPP on some filesystems).
Status copy_through_buffer(int in, off_t offset, off_t len, int out, off_t out_offset,
                           const std::string& in_path, const std::string& out_path) {
    constexpr size_t kChunk = 1 << 20;
    std::vector<char> buf(kChunk);
    while (len > 0) {
        size_t want = len < static_cast<off_t>(kChunk) ? static_cast<size_t>(len) : kChunk;
        auto got = pread_full(in, buf.data(), want, offset, in_path);
        if (!got)
            return got.error();
        if (*got == 0)
            return Error::because("read", in_path, "file shrank during copy");
        auto wrote = pwrite_all(out, {buf.data(), *got}, out_offset, out_path);
        if (!wrote)
            return wrote;
        offset += static_cast<off_t>(*got);
        out_offset += static_cast<off_t>(*got);
        len -= static_cast<off_t>(*got);
    }
    return {};
}

} // namespace

Status copy_range(int in, off_t offset, off_t len, int out, off_t out_offset,
                  const std::string& in_path, const std::string& out_path) {
    while (len > 0) {
        loff_t in_off = offset;
        loff_t out_off = out_offset;
        ssize_t n = ::copy_file_range(in, &in_off, out, &out_off, static_cast<size_t>(len), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)
                return copy_through_buffer(in, offset, len, out, out_offset, in_path, out_path);
            return Error::from_errno("copy", in_path + " to " + out_path);
        }
        if (n == 0)
            return Error::because("copy", in_path, "file shrank during copy");
        offset += n;
        out_offset += n;
        len -= n;
    }
    return {};
}

} // namespace popper
