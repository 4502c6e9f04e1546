// A POP3 client over a real TCP connection, strict about the wire: every
// line must end in CRLF, and every read is bounded by a receive timeout so a
// daemon that hangs fails the test instead of blocking it.
#pragma once

#include "support/wait_until.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace popper::test {

class PopClient {
public:
    // How long a read waits for the server: kDefaultWait, whole seconds.
    static inline const std::chrono::seconds kReceiveTimeout =
        std::chrono::duration_cast<std::chrono::seconds>(kDefaultWait);

    // Connects to address:port ("127.0.0.1", "::1"); throws when it cannot.
    explicit PopClient(uint16_t port, const std::string& address = "127.0.0.1");
    // Takes ownership of a connected socket.
    explicit PopClient(int connected_fd);
    PopClient(PopClient&& other) noexcept;
    PopClient& operator=(PopClient&&) = delete;
    PopClient(const PopClient&) = delete;
    ~PopClient();

    int fd() const { return fd_; }
    void send_raw(std::string_view bytes);
    // Sends `line` + CRLF and returns the status line.
    std::string command(std::string_view line);

    // The next line without its CRLF. At end of stream or after a timeout
    // (a test failure) an empty string, and closed() / failed() say which.
    std::string read_line();
    // A multi-line body as the wire carries it, dot-stuffed, through the
    // terminating ".\r\n" inclusive.
    std::string read_multiline_wire();
    // A multi-line body dot-unstuffed, without the terminating line: the
    // exact octets of the message (each line still ending in CRLF).
    std::string read_multiline();

    // Exactly `octets` octets (a POP2 RETR, RFC 937): fewer only when the
    // connection ends or times out first (a test failure).
    std::string read_octets(size_t octets);

    // USER and PASS; success when PASS answers +OK.
    ::testing::AssertionResult login(std::string_view user, std::string_view password);

    // True when the server closes the connection (EOF or reset) within
    // `timeout`; data that arrives meanwhile is discarded.
    bool wait_closed(std::chrono::milliseconds timeout = kReceiveTimeout);
    bool closed() const { return eof_; }
    bool failed() const { return failed_; }
    void close();

private:
    bool fill(); // reads more into buffer_; false at EOF, error or timeout
    // One line including its line end, "" when none could be read.
    std::string take_raw_line();

    int fd_ = -1;
    std::string buffer_;
    size_t pos_ = 0;
    bool eof_ = false;
    bool failed_ = false;
};

} // namespace popper::test
