#include "support/pop_client.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace popper::test {

namespace {

// Large reads keep a 10 MB RETR quick.
constexpr size_t kReadChunk = 256 * 1024;

void set_timeouts(int fd) {
    struct timeval tv {};
    tv.tv_sec = PopClient::kReceiveTimeout.count();
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool ends_with_crlf(std::string_view line) {
    return line.ends_with("\r\n");
}

// Every LF on the wire must end a CRLF (RFC 1939 §3); reports the first that does not.
void expect_crlf_line_ends(std::string_view wire) {
    for (size_t lf = wire.find('\n'); lf != std::string_view::npos; lf = wire.find('\n', lf + 1)) {
        if (lf == 0 || wire[lf - 1] != '\r') {
            ADD_FAILURE() << "line in multi-line response not ended by CRLF at octet " << lf;
            return;
        }
    }
}

} // namespace

PopClient::PopClient(uint16_t port, const std::string& address) {
    struct sockaddr_storage addr {};
    socklen_t len = 0;
    auto* in = reinterpret_cast<struct sockaddr_in*>(&addr);
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&addr);
    if (::inet_pton(AF_INET, address.c_str(), &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        len = sizeof *in;
    } else if (::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        len = sizeof *in6;
    } else {
        throw std::invalid_argument("not an IP address: " + address);
    }
    fd_ = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    set_timeouts(fd_);
    if (::connect(fd_, reinterpret_cast<struct sockaddr*>(&addr), len) != 0) {
        std::string why = std::strerror(errno);
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("connect " + address + ":" + std::to_string(port) + ": " + why);
    }
}

PopClient::PopClient(int connected_fd) : fd_(connected_fd) {
    set_timeouts(fd_);
}

PopClient::PopClient(PopClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)), pos_(other.pos_),
      eof_(other.eof_), failed_(other.failed_) {}

PopClient::~PopClient() {
    close();
}

void PopClient::close() {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

void PopClient::send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ADD_FAILURE() << "send to popperd failed: " << std::strerror(errno);
            failed_ = true;
            return;
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
}

std::string PopClient::command(std::string_view line) {
    send_raw(std::string(line) + "\r\n");
    return read_line();
}

bool PopClient::fill() {
    if (eof_ || failed_ || fd_ < 0)
        return false;
    if (pos_ > 0) {
        buffer_.erase(0, pos_);
        pos_ = 0;
    }
    const size_t old = buffer_.size();
    buffer_.resize(old + kReadChunk);
    ssize_t n;
    do {
        n = ::recv(fd_, buffer_.data() + old, kReadChunk, 0);
    } while (n < 0 && errno == EINTR);
    buffer_.resize(old + static_cast<size_t>(n > 0 ? n : 0));
    if (n > 0)
        return true;
    if (n == 0 || errno == ECONNRESET) {
        eof_ = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        ADD_FAILURE() << "no answer from popperd within " << kReceiveTimeout.count() << " s";
        failed_ = true;
    } else {
        ADD_FAILURE() << "recv from popperd failed: " << std::strerror(errno);
        failed_ = true;
    }
    return false;
}

std::string PopClient::take_raw_line() {
    size_t scan_from = pos_;
    for (;;) {
        size_t lf = buffer_.find('\n', scan_from);
        if (lf != std::string::npos) {
            std::string line = buffer_.substr(pos_, lf + 1 - pos_);
            pos_ = lf + 1;
            return line;
        }
        const size_t unread = buffer_.size() - pos_;
        if (!fill()) {
            std::string partial = buffer_.substr(pos_);
            pos_ = buffer_.size();
            if (!partial.empty())
                ADD_FAILURE() << "connection ended inside a line: \"" << partial << "\"";
            return partial;
        }
        scan_from = pos_ + unread; // fill() moved the unread data to the front
    }
}

std::string PopClient::read_line() {
    std::string line = take_raw_line();
    if (line.empty())
        return line;
    if (!ends_with_crlf(line)) {
        ADD_FAILURE() << "line not ended by CRLF: \"" << line << "\"";
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
            line.pop_back();
        return line;
    }
    line.resize(line.size() - 2);
    return line;
}

std::string PopClient::read_octets(size_t octets) {
    while (buffer_.size() - pos_ < octets) {
        if (!fill()) {
            ADD_FAILURE() << "connection ended after " << buffer_.size() - pos_ << " of " << octets
                          << " octets";
            break;
        }
    }
    std::string out = buffer_.substr(pos_, octets);
    pos_ += out.size();
    return out;
}

std::string PopClient::read_multiline_wire() {
    // The response ends at the first line that is a lone "." (RFC 1939 §3):
    // found in bulk, so a 10 MB RETR is not read line by line.
    static constexpr std::string_view kEnd = "\n.\r\n";
    size_t scan_from = pos_;
    for (;;) {
        std::string_view unread(buffer_.data() + pos_, buffer_.size() - pos_);
        size_t length = std::string_view::npos;
        if (unread.starts_with(".\r\n")) {
            length = 3;
        } else if (size_t at = unread.find(kEnd, scan_from - pos_); at != std::string_view::npos) {
            length = at + kEnd.size();
        }
        if (length != std::string_view::npos) {
            std::string wire(unread.substr(0, length));
            pos_ += length;
            expect_crlf_line_ends(wire);
            return wire;
        }
        const size_t unread_size = unread.size();
        if (!fill()) {
            std::string wire = buffer_.substr(pos_);
            pos_ = buffer_.size();
            ADD_FAILURE() << "multi-line response ended without \".\\r\\n\" after " << wire.size()
                          << " octets";
            return wire;
        }
        // fill() moved the unread data to the front; a terminator may straddle.
        scan_from = pos_ + (unread_size > kEnd.size() ? unread_size - kEnd.size() : 0);
    }
}

std::string PopClient::read_multiline() {
    std::string wire = read_multiline_wire();
    std::string body;
    body.reserve(wire.size());
    size_t pos = 0;
    while (pos < wire.size()) {
        size_t end = wire.find('\n', pos);
        end = end == std::string::npos ? wire.size() : end + 1;
        std::string_view line(wire.data() + pos, end - pos);
        pos = end;
        if (line == ".\r\n")
            break;
        if (line.starts_with('.'))
            line.remove_prefix(1); // RFC 1939 §3 byte-stuffing
        body += line;
    }
    return body;
}

::testing::AssertionResult PopClient::login(std::string_view user, std::string_view password) {
    std::string user_reply = command("USER " + std::string(user));
    std::string pass_reply = command("PASS " + std::string(password));
    if (pass_reply.starts_with("+OK"))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "login as " << user << ": USER answered \"" << user_reply << "\", PASS answered \""
           << pass_reply << "\"";
}

bool PopClient::wait_closed(std::chrono::milliseconds timeout) {
    if (eof_)
        return true;
    if (fd_ < 0)
        return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char scratch[4096];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return false;
        struct pollfd pfd {
            fd_, POLLIN, 0
        };
        int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return false;
        ssize_t n = ::recv(fd_, scratch, sizeof scratch, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            eof_ = true;
            return true;
        }
    }
}

} // namespace popper::test
