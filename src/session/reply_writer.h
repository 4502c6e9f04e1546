// Replies are collected and written in as few system calls as possible: the
// session flushes only when no further pipelined command is waiting or when
// the buffer is large (RFC 2449 §6.6 PIPELINING).
#pragma once

#include "popper/result.h"

#include <string>
#include <string_view>

namespace popper {

// Flush threshold: large writes, bounded memory per session.
inline constexpr size_t kReplyBufferOctets = 256 * 1024;

class ReplyWriter {
public:
    explicit ReplyWriter(int fd) : fd_(fd) {}

    void ok(std::string_view text) { line("+OK", text); }
    void err(std::string_view text) { line("-ERR", text); }
    void raw(std::string_view octets) { buffer_.append(octets); }
    std::string& buffer() { return buffer_; }

    // Writes out everything buffered; false when the client is gone.
    bool flush();
    bool flush_if_large() { return buffer_.size() < kReplyBufferOctets || flush(); }
    uint64_t octets_sent() const { return sent_; }

private:
    void line(std::string_view status, std::string_view text);
    int fd_;
    std::string buffer_;
    uint64_t sent_ = 0;
};

} // namespace popper
