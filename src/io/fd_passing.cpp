// Passing descriptors between processes (unix(7) SCM_RIGHTS): the listener
// hands a client connection to a pooled pre-login process this way.
#include "popper/io.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <sys/socket.h>

namespace popper {

namespace {
constexpr size_t kMaxPassedFds = 8;
} // namespace

Status send_with_fds(int sock, std::string_view message, std::span<const int> fds,
                     const std::string& what) {
    if (fds.size() > kMaxPassedFds)
        return Error::because("send", what, "too many descriptors");
    struct iovec iov {
        const_cast<char*>(message.data()), message.size()
    };
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    for (;;) {
        ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(message.size()))
            return {};
        if (n < 0 && errno == EINTR)
            continue;
        if (n >= 0)
            return Error::because("send", what, "message cut short");
        return Error::from_errno("send", what);
    }
}

Result<std::optional<MessageWithFds>> receive_with_fds(int sock, size_t max_octets, size_t max_fds,
                                                       const std::string& what) {
    auto buf = std::make_unique_for_overwrite<char[]>(max_octets + 1);
    struct iovec iov {
        buf.get(), max_octets + 1
    };
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return Error::from_errno("recv", what);
    MessageWithFds out;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            out.fds.emplace_back(fd); // owned from here, closed on any error below
        }
    }
    if (msg.msg_flags & MSG_CTRUNC)
        return Error::because("recv", what, "descriptors cut off");
    if (out.fds.size() > max_fds)
        return Error::because("recv", what, "too many descriptors");
    if (n == 0 && out.fds.empty())
        return std::optional<MessageWithFds>();
    if (static_cast<size_t>(n) > max_octets || (msg.msg_flags & MSG_TRUNC))
        return Error::because("recv", what, "message too large");
    out.message.assign(buf.get(), static_cast<size_t>(n));
    return std::optional<MessageWithFds>(std::move(out));
}

} // namespace popper
