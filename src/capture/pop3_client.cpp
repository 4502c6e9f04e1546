// The capture's POP3 client: pop3_client.h.
#include "pop3_client.h"

#include <cerrno>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace popper::capture {

namespace {

// Waits until `fd` is ready for `events`; an error naming `what` after
// `timeout_ms`.
Status wait_for(int fd, short events, int timeout_ms, const std::string& what) {
    pollfd p{fd, events, 0};
    for (;;) {
        int n = ::poll(&p, 1, timeout_ms);
        if (n > 0)
            return {};
        if (n == 0)
            return Error::because("wait for", what,
                                  "no answer within " + std::to_string(timeout_ms / 1000) + " s");
        if (errno != EINTR)
            return Error::from_errno("poll", what);
    }
}

Result<UniqueFd> connect_one(const addrinfo& ai, int timeout_ms, const std::string& what) {
    UniqueFd fd(
        ::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai.ai_protocol));
    if (!fd)
        return Error::from_errno("socket", what);
    if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            return Error::from_errno("connect", what);
        if (auto ready = wait_for(fd.get(), POLLOUT, timeout_ms, what); !ready)
            return ready.error();
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            return Error::from_errno("connect", what);
        if (err != 0)
            return Error::from_errno("connect", what, err);
    }
    return fd;
}

} // namespace

Result<Pop3Client> Pop3Client::connect(const std::string& host, const std::string& port,
                                       int timeout_ms) {
    const std::string what =
        (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        return Error::because("resolve", what, ::gai_strerror(rc));
    Error last = Error::because("connect", what, "no address");
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
        auto fd = connect_one(*ai, timeout_ms, what);
        if (fd) {
            ::freeaddrinfo(found);
            return Pop3Client(std::move(*fd), what, timeout_ms);
        }
        last = fd.error();
    }
    ::freeaddrinfo(found);
    return last;
}

Status Pop3Client::fill() {
    if (start_ > 0 && start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
    }
    if (auto ready = wait_for(fd_.get(), POLLIN, timeout_ms_, peer_); !ready)
        return ready;
    char chunk[16384];
    for (;;) {
        ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
        if (n > 0) {
            buffer_.append(chunk, static_cast<size_t>(n));
            return {};
        }
        if (n == 0)
            return Error::because("read from", peer_, "the server closed the connection");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return {}; // woken without data: poll again
        return Error::from_errno("read from", peer_);
    }
}

Result<std::string_view> Pop3Client::read_line() {
    for (;;) {
        size_t eol = buffer_.find('\n', start_);
        if (eol != std::string::npos) {
            std::string_view line(buffer_.data() + start_, eol - start_);
            start_ = eol + 1;
            if (line.ends_with('\r'))
                line.remove_suffix(1);
            return line;
        }
        if (buffer_.size() - start_ > kMaxServerLineOctets)
            return Error::because("read from", peer_,
                                  "a line longer than " + std::to_string(kMaxServerLineOctets) +
                                      " octets");
        if (start_ > 0) {
            buffer_.erase(0, start_);
            start_ = 0;
        }
        if (auto more = fill(); !more)
            return more.error();
    }
}

Result<std::string> Pop3Client::greeting() {
    auto line = read_line();
    if (!line)
        return line.error();
    if (!line->starts_with("+OK"))
        return Error::because("greeting of", peer_, "not +OK: " + std::string(*line));
    return std::string(*line);
}

Result<std::string> Pop3Client::command(std::string_view line, std::string_view shown) {
    std::string out(line);
    out += "\r\n";
    if (auto sent = write_all(fd_.get(), out, peer_); !sent)
        return sent.error();
    auto status = read_line();
    if (!status)
        return status.error();
    if (!status->starts_with("+OK"))
        return Error::because(std::string(shown.empty() ? line : shown), peer_,
                              "server said: " + std::string(*status));
    return std::string(*status);
}

Status Pop3Client::read_body(const std::function<void(std::string_view line)>& line) {
    for (;;) {
        auto got = read_line();
        if (!got)
            return got.error();
        std::string_view text = *got;
        if (text == ".")
            return {};
        if (text.starts_with('.'))
            text.remove_prefix(1); // RFC 1939 §3: byte-stuffed
        line(text);
    }
}

} // namespace popper::capture
