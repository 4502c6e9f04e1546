// Reading a PROXY header off the client socket, in the pre-login process
// (popper/proxy_protocol.h): as many octets as the parser asks for and no
// more, so that what the client sends after it reaches the command reader.
#include "popper/proxy_protocol.h"

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <string>
#include <unistd.h>

namespace popper {

namespace {

Error header_error(std::string detail) {
    return Error::because("PROXY header", "", std::move(detail));
}

} // namespace

Result<ProxyHeader> read_proxy_header(int fd, std::chrono::milliseconds limit) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + limit;
    std::string data;
    size_t want = kProxyMinOctets;
    for (;;) {
        while (data.size() < want) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0)
                return header_error("none within " + std::to_string(limit.count()) + " ms (" +
                                    std::to_string(data.size()) + " octets came)");
            struct pollfd p {
                fd, POLLIN, 0
            };
            int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR)
                continue;
            if (ready < 0)
                return Error::from_errno("poll", "PROXY header");
            if (ready == 0)
                continue; // the deadline check above reports it
            char buf[256];
            size_t room = std::min(want - data.size(), sizeof buf);
            ssize_t n = ::read(fd, buf, room);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return Error::from_errno("read", "PROXY header");
            if (n == 0)
                return header_error(data.empty() ? "connection closed before a header"
                                                 : "connection closed in the header (" +
                                                       std::to_string(data.size()) + " octets)");
            data.append(buf, static_cast<size_t>(n));
        }
        auto parsed = parse_proxy_header(data);
        if (!parsed)
            return parsed.error();
        if (parsed->header)
            return *parsed->header;
        want = parsed->need_octets;
    }
}

} // namespace popper
