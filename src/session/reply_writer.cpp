#include "popper/reply_writer.h"

#include "popper/session.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace popper {

namespace {
// First allocation: every reply of a session without RETR, LIST or UIDL of
// a large mailbox fits, in one small heap block.
constexpr size_t kInitialReplyOctets = 2048;
} // namespace

char* ReplyWriter::room(size_t octets) {
    if (capacity_ - size_ < octets) {
        size_t capacity = std::max({size_ + octets, 2 * capacity_, kInitialReplyOctets});
        auto grown = std::make_unique_for_overwrite<char[]>(capacity);
        if (size_ > 0)
            std::memcpy(grown.get(), data_.get(), size_);
        data_ = std::move(grown);
        capacity_ = capacity;
    }
    return data_.get() + size_;
}

void ReplyWriter::raw(std::string_view octets) {
    std::memcpy(room(octets.size()), octets.data(), octets.size());
    commit(octets.size());
}

void ReplyWriter::line(std::string_view status, std::string_view text) {
    char* out = room(status.size() + 1 + text.size() + 2);
    std::memcpy(out, status.data(), status.size());
    size_t n = status.size();
    if (!text.empty()) {
        out[n++] = ' ';
        std::memcpy(out + n, text.data(), text.size());
        n += text.size();
    }
    out[n++] = '\r';
    out[n++] = '\n';
    commit(n);
}

bool ReplyWriter::flush() {
    std::string_view rest(data_.get(), size_);
    bool ok = true;
    while (!rest.empty()) {
        ssize_t n = ::write(fd_, rest.data(), rest.size());
        if (n > 0) {
            rest.remove_prefix(static_cast<size_t>(n));
            sent_ += static_cast<uint64_t>(n);
        } else if (n < 0 && errno != EINTR) {
            ok = false; // gone, or stopped reading for the whole send timeout
            break;
        }
        // A shutdown does not wait on a client that does not read.
        if (!rest.empty() && session_shutdown_requested()) {
            ok = false;
            break;
        }
    }
    size_ = 0;
    return ok;
}

bool write_error_reply(int fd, std::string_view text) {
    ReplyWriter reply(fd);
    reply.err(text);
    return reply.flush();
}

} // namespace popper
