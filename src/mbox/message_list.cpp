// MessageList: MessageEntry array in an anonymous mapping grown by mremap
// (why: see mbox_index.h).
#include "popper/mbox_index.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

namespace popper {
namespace {

size_t page_octets() {
    static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    return page;
}

size_t whole_pages(size_t octets) {
    size_t page = page_octets();
    if (octets > SIZE_MAX - page)
        throw std::bad_alloc();
    return (octets + page - 1) / page * page;
}

} // namespace

MessageList::MessageList(const MessageList& other) {
    reserve(other.size_);
    if (other.size_ > 0)
        std::memcpy(data_, other.data_, other.size_ * sizeof(MessageEntry));
    size_ = other.size_;
}

MessageList& MessageList::operator=(const MessageList& other) {
    if (this != &other) {
        MessageList copy(other);
        *this = std::move(copy);
    }
    return *this;
}

MessageList::MessageList(MessageList&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      mapped_octets_(std::exchange(other.mapped_octets_, 0)) {}

MessageList& MessageList::operator=(MessageList&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        mapped_octets_ = std::exchange(other.mapped_octets_, 0);
    }
    return *this;
}

MessageList::~MessageList() {
    release();
}

void MessageList::release() {
    if (data_ != nullptr)
        ::munmap(data_, mapped_octets_);
    data_ = nullptr;
    size_ = 0;
    mapped_octets_ = 0;
}

// Room for at least `count` entries. The mapping doubles, so a list built by
// push_back is remapped about log2(size) times; mremap moves the pages.
void MessageList::reserve(size_t count) {
    if (count > SIZE_MAX / sizeof(MessageEntry))
        throw std::bad_alloc();
    size_t wanted = count * sizeof(MessageEntry);
    if (wanted <= mapped_octets_)
        return;
    size_t octets = whole_pages(
        std::max(wanted, mapped_octets_ <= SIZE_MAX / 2 ? mapped_octets_ * 2 : mapped_octets_));
    void* p = data_ == nullptr ? ::mmap(nullptr, octets, PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                               : ::mremap(data_, mapped_octets_, octets, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
        throw std::bad_alloc();
    data_ = static_cast<MessageEntry*>(p);
    mapped_octets_ = octets;
}

void MessageList::push_back(const MessageEntry& entry) {
    reserve(size_ + 1);
    data_[size_++] = entry;
}

void MessageList::resize(size_t count) {
    if (count < size_) {
        // Keep the promise that bytes past size() are zero.
        std::memset(static_cast<void*>(data_ + count), 0, (size_ - count) * sizeof(MessageEntry));
    } else {
        reserve(count);
    }
    size_ = count;
}

const MessageEntry& MessageList::at(size_t i) const {
    if (i >= size_)
        throw std::out_of_range("message " + std::to_string(i) + " of " + std::to_string(size_));
    return data_[i];
}

} // namespace popper
