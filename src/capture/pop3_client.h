// Private to popperd-uidl: a POP3 client for the one conversation capture
// needs with the server popperd replaces (log in, UIDL, TOP, QUIT), over
// plain TCP (TLS through a local stunnel in client mode). Every read waits
// at most the timeout; every line and response is bounded.
#pragma once

#include "popper/io.h"
#include "popper/result.h"

#include <functional>
#include <string>
#include <string_view>

namespace popper::capture {

class Pop3Client {
public:
    // `host` a name or address; `port` a number or service name.
    static Result<Pop3Client> connect(const std::string& host, const std::string& port,
                                      int timeout_ms);

    // The greeting; an error unless it is +OK.
    Result<std::string> greeting();
    // Sends `line` and CRLF; returns the status line when it is +OK, an
    // error with the server's text when it is -ERR. `shown` stands for the
    // line in errors (a PASS must not be shown).
    Result<std::string> command(std::string_view line, std::string_view shown = {});
    // The body of a multi-line response after +OK: each line with its
    // dot-stuffing removed and without CRLF, to `line`, up to the ".".
    Status read_body(const std::function<void(std::string_view line)>& line);

    const std::string& peer() const { return peer_; }

private:
    Pop3Client(UniqueFd fd, std::string peer, int timeout_ms)
        : fd_(std::move(fd)), peer_(std::move(peer)), timeout_ms_(timeout_ms) {}
    Result<std::string_view> read_line();
    Status fill();

    UniqueFd fd_;
    std::string peer_; // "HOST:PORT", for errors
    int timeout_ms_;
    std::string buffer_;
    size_t start_ = 0; // of the unread octets in buffer_
};

// The longest line taken from the server: a header line may be long, but
// not this long.
inline constexpr size_t kMaxServerLineOctets = 1024 * 1024;

} // namespace popper::capture
