#include "reply_writer.h"

#include "popper/io.h"

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
    if (buffer_.empty()) return true;
    auto written = write_all(fd_, buffer_, "client");
    sent_ += buffer_.size();
    buffer_.clear();
    return written.has_value();
}

} // namespace popper
