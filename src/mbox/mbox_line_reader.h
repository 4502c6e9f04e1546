// Reads an mbox line by line through one fixed buffer: pread from the drop
// file (or copies from memory), so indexing a 1 GB mailbox touches a few MiB
// of memory, maps nothing, and a file that shrinks underneath gives an error
// instead of SIGBUS. Lines longer than the buffer are streamed through it.
#pragma once

#include "popper/result.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace popper {

// What the indexer needs to know about one line of the mbox.
struct MboxLine {
    uint64_t offset = 0;   // where the line starts in the mbox
    uint64_t length = 0;   // octets, LF included
    std::string_view head; // the line, or its first kLongLineHeadOctets if longer than the buffer
    bool has_lf = false;   // only the last line of the data may lack one
    bool crlf = false;     // ends "\r\n"
    bool escaped = false;  // matches ^>+From  (mboxrd)
};

// How much of a line longer than the buffer is kept in MboxLine::head: all
// that the UIDL digest ever reads of a line.
inline constexpr size_t kLongLineHeadOctets = 64 * 1024;

class MboxLineReader {
public:
    // Reads the first `size` bytes of `fd`, or of `data` when fd < 0.
    MboxLineReader(int fd, std::string_view data, uint64_t size, std::string path,
                   size_t buffer_octets);

    // The next line; false at the end of the data or after an error. The
    // returned head stays valid until the next call to next() or begins_with().
    bool next(MboxLine& line);
    // Whether the data right after the last line returned begins with `prefix`.
    bool begins_with(std::string_view prefix);
    // Inside a message body, at a line start: takes the lines that follow in
    // bulk (body_scan.h) and returns their POP3 octets, stopping before an
    // empty line followed by "From ", before the last few lines of the data
    // and before a line longer than the buffer: next() returns those.
    uint64_t skip_body_lines();
    // Where the next line starts in the mbox.
    uint64_t offset() const { return buf_offset_ + begin_; }
    // True when every byte has been returned.
    bool at_end() const { return begin_ == end_ && source_pos_ == size_; }
    const std::optional<Error>& error() const { return error_; }

private:
    size_t find_lf(size_t from) const;
    void fill();
    bool next_long(MboxLine& line);

    int fd_;
    std::string_view data_;
    uint64_t size_;
    std::string path_;
    size_t capacity_;
    // capacity_ octets at buf_, after one '\n' (the line end before a line
    // at buf_[0], as the body scan wants) and before kBodyScanPadding octets.
    std::unique_ptr<char[]> storage_;
    char* buf_;
    size_t begin_ = 0;        // first byte of buf_ not yet returned
    size_t end_ = 0;          // one past the last byte read into buf_
    uint64_t buf_offset_ = 0; // mbox offset of buf_[0]
    uint64_t source_pos_ = 0; // mbox offset of the next byte to read
    std::string long_head_;
    std::optional<Error> error_;
};

} // namespace popper
