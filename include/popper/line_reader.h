// Reading CRLF (or bare LF) terminated lines from a client with a bounded
// buffer and a timeout; over-long lines are reported and discarded without
// being buffered.
#pragma once

#include <string>
#include <utility>

namespace popper {

enum class ReadStatus { line, too_long, eof, timeout, interrupted, error };

class LineReader {
public:
    LineReader(int fd, size_t max_line_octets) : fd_(fd), max_line_(max_line_octets) {}

    // Waits at most `timeout_ms` for a whole line. The line excludes CRLF/LF.
    // `interrupted` means a signal arrived (the caller checks its flags).
    ReadStatus read_line(std::string& line, int timeout_ms);
    // True when a whole line (or an over-long one) is already buffered, so
    // the caller may answer it before flushing replies: pipelining.
    bool has_buffered_line() const;
    // SASL continuation lines may be longer than commands (RFC 5034 §4).
    void set_max_line(size_t max_line_octets) { max_line_ = max_line_octets; }
    // Moves already-read input between processes (privilege separation).
    std::string take_buffered() { return std::exchange(buffer_, {}); }
    void prime(std::string input) { buffer_ = std::move(input); }

private:
    ReadStatus take_line(std::string& line);
    int fd_;
    size_t max_line_;
    std::string buffer_;
    bool discarding_ = false; // skipping the rest of an over-long line
};

} // namespace popper
