#include "popper/line_reader.h"

#include <cerrno>
#include <poll.h>
#include <unistd.h>

namespace popper {

namespace {
// Read size per system call: enough for hundreds of pipelined commands.
constexpr size_t kReadChunk = 16384;
} // namespace

bool LineReader::has_buffered_line() const {
    return buffer_.find('\n') != std::string::npos || buffer_.size() > max_line_;
}

ReadStatus LineReader::take_line(std::string& line) {
    size_t lf = buffer_.find('\n');
    if (discarding_) {
        if (lf == std::string::npos) {
            buffer_.clear();
            return ReadStatus::eof; // caller reads more
        }
        buffer_.erase(0, lf + 1);
        discarding_ = false;
        return ReadStatus::too_long;
    }
    if (lf == std::string::npos) {
        if (buffer_.size() > max_line_) {
            // Report once the line ends, so the reply comes in order.
            buffer_.clear();
            discarding_ = true;
        }
        return ReadStatus::eof;
    }
    size_t end = lf;
    if (end > 0 && buffer_[end - 1] == '\r')
        --end;
    // The limit counts the CRLF (RFC 2449 §4); a bare LF counts as CRLF.
    if (end + 2 > max_line_) {
        buffer_.erase(0, lf + 1);
        return ReadStatus::too_long;
    }
    line.assign(buffer_, 0, end);
    buffer_.erase(0, lf + 1);
    return ReadStatus::line;
}

ReadStatus LineReader::read_line(std::string& line, int timeout_ms) {
    for (;;) {
        ReadStatus got = take_line(line);
        if (got != ReadStatus::eof)
            return got;
        struct pollfd pfd {
            fd_, POLLIN, 0
        };
        int ready = ::poll(&pfd, 1, timeout_ms);
        if (ready < 0)
            return errno == EINTR ? ReadStatus::interrupted : ReadStatus::error;
        if (ready == 0)
            return ReadStatus::timeout;
        char chunk[kReadChunk];
        ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                return ReadStatus::interrupted;
            if (errno == EAGAIN)
                continue;
            return ReadStatus::error;
        }
        if (n == 0)
            return ReadStatus::eof;
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

} // namespace popper
