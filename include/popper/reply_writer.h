// Every reply popperd writes goes through here, the session's and the lone
// -ERR lines of the listener and the privileged process alike. Replies are
// collected and written in as few system calls as possible: the session
// flushes only when no further pipelined command is waiting or when the
// buffer is large (RFC 2449 §6.6 PIPELINING). A message is encoded straight
// into the buffer (room/commit), so its status line, body and terminator
// leave in one write when they fit.
#pragma once

#include "popper/result.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace popper {

// Flush threshold: large writes, bounded memory per session.
inline constexpr size_t kReplyBufferOctets = 256 * 1024;

// The protocol a session speaks: POP3 (RFC 1939), or POP2 (RFC 937) on a
// `pop2_listen` socket. They share the session machinery; their status
// words differ.
enum class Protocol { pop3, pop2 };

class ReplyWriter {
public:
    explicit ReplyWriter(int fd, Protocol protocol = Protocol::pop3)
        : fd_(fd), pop2_(protocol == Protocol::pop2) {}

    // RFC 1939 "+OK"/"-ERR"; RFC 937 "+"/"-", so that a reply shared by both
    // protocols (a refused login, a timeout, a shutdown) reads right in each.
    void ok(std::string_view text) { line(pop2_ ? "+" : "+OK", text); }
    void err(std::string_view text) { line(pop2_ ? "-" : "-ERR", text); }
    void raw(std::string_view octets);
    // Space for `octets` more at the end of the buffer; commit() says how
    // much of it was filled.
    char* room(size_t octets);
    void commit(size_t octets) { size_ += octets; }
    size_t buffered() const { return size_; }

    // Writes out everything buffered; false when the client is gone.
    bool flush();
    bool flush_if_large() { return size_ < kReplyBufferOctets || flush(); }
    uint64_t octets_sent() const { return sent_; }

private:
    void line(std::string_view status, std::string_view text);
    int fd_;
    bool pop2_;
    std::unique_ptr<char[]> data_;
    size_t size_ = 0;
    size_t capacity_ = 0;
    uint64_t sent_ = 0;
};

// One "-ERR text" line written at once where no session is being served:
// the listener refusing a connection, a session process whose pre-login
// process is gone. False when it could not be written whole.
bool write_error_reply(int fd, std::string_view text);

} // namespace popper
