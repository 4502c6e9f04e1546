// The buffered line reader of mbox_line_reader.h.
#include "mbox_line_reader.h"

#include "body_scan.h"
#include "popper/io.h"
#include "popper/wire.h"

#include <algorithm>
#include <cstring>

namespace popper {
namespace {

// ^>+From  decided over a line that arrives in pieces (a line longer than the
// buffer); for whole lines is_escaped_from_line() is the rule.
class EscapedFromMatcher {
public:
    void feed(std::string_view piece) {
        static constexpr std::string_view kFrom = "From ";
        for (char c : piece) {
            if (state_ != State::open)
                return;
            if (matched_ == 0 && c == '>') {
                seen_arrow_ = true;
            } else if (seen_arrow_ && c == kFrom[matched_]) {
                if (++matched_ == kFrom.size())
                    state_ = State::yes;
            } else {
                state_ = State::no;
            }
        }
    }
    bool matched() const { return state_ == State::yes; }

private:
    enum class State { open, yes, no };
    State state_ = State::open;
    bool seen_arrow_ = false;
    size_t matched_ = 0;
};

// No larger than the data; at least room for a blank line and the "From "
// after it, whatever the caller asks.
size_t buffer_capacity(size_t asked, uint64_t data_size) {
    return static_cast<size_t>(std::max<uint64_t>(std::min<uint64_t>(asked, data_size), 16));
}

} // namespace

MboxLineReader::MboxLineReader(int fd, std::string_view data, uint64_t size, std::string path,
                               size_t buffer_octets)
    : fd_(fd), data_(data), size_(size), path_(std::move(path)),
      capacity_(buffer_capacity(buffer_octets, size)),
      storage_(new char[1 + capacity_ + kBodyScanPadding]()), buf_(storage_.get() + 1) {
    buf_[-1] = '\n';
}

size_t MboxLineReader::find_lf(size_t from) const {
    const void* lf = std::memchr(buf_ + from, '\n', end_ - from);
    if (lf == nullptr)
        return std::string_view::npos;
    return static_cast<size_t>(static_cast<const char*>(lf) - buf_);
}

// Moves the unread bytes to the front and reads until the buffer is full or
// the data ends.
void MboxLineReader::fill() {
    if (begin_ > 0) {
        std::memmove(buf_, buf_ + begin_, end_ - begin_);
        buf_offset_ += begin_;
        end_ -= begin_;
        begin_ = 0;
    }
    while (end_ < capacity_ && source_pos_ < size_ && !error_) {
        size_t want =
            static_cast<size_t>(std::min<uint64_t>(capacity_ - end_, size_ - source_pos_));
        size_t got = want;
        if (fd_ < 0) {
            std::memcpy(buf_ + end_, data_.data() + source_pos_, want);
        } else {
            auto read = pread_full(fd_, buf_ + end_, want, static_cast<off_t>(source_pos_), path_);
            if (!read) {
                error_ = read.error();
                return;
            }
            got = *read;
            if (got == 0) {
                error_ = Error::because("read", path_, "file shrank while being indexed");
                return;
            }
        }
        end_ += got;
        source_pos_ += got;
    }
}

bool MboxLineReader::next(MboxLine& line) {
    if (error_)
        return false;
    size_t lf = find_lf(begin_);
    if (lf == std::string_view::npos && source_pos_ < size_) {
        size_t searched = end_ - begin_;
        fill();
        if (error_)
            return false;
        lf = find_lf(searched);
    }
    size_t end = lf + 1;
    if (lf == std::string_view::npos) {
        if (begin_ == end_)
            return false;
        if (source_pos_ < size_)
            return next_long(line); // the buffer holds part of one line
        end = end_;                 // the last line, without LF
    }
    std::string_view text(buf_ + begin_, end - begin_);
    line.offset = buf_offset_ + begin_;
    line.length = text.size();
    line.head = text;
    line.has_lf = text.back() == '\n';
    line.crlf = line.has_lf && text.size() >= 2 && text[text.size() - 2] == '\r';
    line.escaped = text[0] == '>' && is_escaped_from_line(text);
    begin_ = end;
    return true;
}

// A line that does not fit in the buffer: stream it through, keeping its
// head, its last two octets and whether it is ^>+From .
bool MboxLineReader::next_long(MboxLine& line) {
    line.offset = buf_offset_ + begin_;
    line.length = 0;
    line.has_lf = false;
    long_head_.clear();
    EscapedFromMatcher escaped;
    char last = 0, before_last = 0;
    for (;;) {
        size_t lf = find_lf(begin_);
        size_t end = lf == std::string_view::npos ? end_ : lf + 1;
        std::string_view piece(buf_ + begin_, end - begin_);
        line.length += piece.size();
        escaped.feed(piece);
        size_t head_room = kLongLineHeadOctets - std::min(long_head_.size(), kLongLineHeadOctets);
        long_head_.append(piece.substr(0, head_room));
        before_last = piece.size() >= 2 ? piece[piece.size() - 2] : last;
        last = piece.back();
        begin_ = end;
        if (lf != std::string_view::npos)
            break;
        fill();
        if (error_)
            return false;
        if (begin_ == end_)
            break; // the data ended inside this line
    }
    line.head = long_head_;
    line.has_lf = last == '\n';
    line.crlf = line.has_lf && before_last == '\r';
    line.escaped = escaped.matched();
    return true;
}

uint64_t MboxLineReader::skip_body_lines() {
    uint64_t octets = 0;
    for (;;) {
        // Lines whose next kBodyScanLookahead octets are in the buffer.
        size_t room = end_ - begin_ > kBodyScanLookahead ? end_ - kBodyScanLookahead - begin_ : 0;
        if (const void* lf = memrchr(buf_ + begin_, '\n', room); lf != nullptr) {
            size_t limit = static_cast<size_t>(static_cast<const char*>(lf) - buf_) + 1;
            BodyRun run = scan_body_lines(buf_, begin_, limit);
            octets += run.pop_octets;
            begin_ = run.end;
            if (run.end < limit)
                return octets; // a separator
        }
        // begin_ == 0: nothing taken since the buffer was filled (a long line).
        if (source_pos_ == size_ || begin_ == 0 || error_)
            return octets;
        fill();
    }
}

bool MboxLineReader::begins_with(std::string_view prefix) {
    if (end_ - begin_ < prefix.size() && source_pos_ < size_)
        fill();
    return std::string_view(buf_ + begin_, end_ - begin_).starts_with(prefix);
}

} // namespace popper
