#include "popper/io.h"

#include <sys/mman.h>
#include <unistd.h>
#include <utility>

namespace popper {

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), base_len_(std::exchange(other.base_len_, 0)),
      data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
    if (this != &other) {
        if (base_) ::munmap(base_, base_len_);
        base_ = std::exchange(other.base_, nullptr);
        base_len_ = std::exchange(other.base_len_, 0);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

MappedRegion::~MappedRegion() {
    if (base_) ::munmap(base_, base_len_);
}

Result<MappedRegion> MappedRegion::map(int fd, off_t offset, size_t len, const std::string& path) {
    MappedRegion region;
    if (len == 0) return region;
    static const off_t page = ::sysconf(_SC_PAGESIZE);
    off_t aligned = offset - offset % page;
    size_t lead = static_cast<size_t>(offset - aligned);
    void* base = ::mmap(nullptr, len + lead, PROT_READ, MAP_SHARED, fd, aligned);
    if (base == MAP_FAILED) return Error::from_errno("mmap", path);
    region.base_ = base;
    region.base_len_ = len + lead;
    region.data_ = static_cast<const char*>(base) + lead;
    region.size_ = len;
    return region;
}

void MappedRegion::drop_pages_before(size_t offset) {
    if (!base_ || offset == 0) return;
    static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    size_t end = static_cast<size_t>(data_ - static_cast<const char*>(base_)) + offset;
    if (end > base_len_) end = base_len_;
    end -= end % page;
    if (end > 0) ::madvise(base_, end, MADV_DONTNEED);
}

} // namespace popper
