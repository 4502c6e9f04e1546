#include "reply_writer.h"

#include "session_state.h"

#include <cerrno>
#include <unistd.h>

namespace popper {

void ReplyWriter::line(std::string_view status, std::string_view text) {
    buffer_.append(status);
    if (!text.empty()) {
        buffer_ += ' ';
        buffer_.append(text);
    }
    buffer_.append("\r\n");
}

bool ReplyWriter::flush() {
    std::string_view rest = buffer_;
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
    buffer_.clear();
    return ok;
}

} // namespace popper
