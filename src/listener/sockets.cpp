#include "popper/listener.h"

#include "popper/ip_address.h"

#include <arpa/inet.h>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace popper {

namespace {

// Pending connections the kernel queues while the listener forks. A login
// storm (bench/run scale: 2,000 clients within a second) outruns 511, and a
// dropped SYN costs the client a 1 s retransmit; the kernel caps this at
// net.core.somaxconn (4096 since Linux 5.4).
constexpr int kListenBacklog = 4096;
// sd_listen_fds(3): passed descriptors start at 3.
constexpr int kSystemdFirstFd = 3;

Result<ListeningSocket> bind_one(const ListenAddress& address) {
    struct sockaddr_storage addr {};
    socklen_t len = 0;
    int family = AF_INET;
    auto* in = reinterpret_cast<struct sockaddr_in*>(&addr);
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&addr);
    if (::inet_pton(AF_INET, address.host.c_str(), &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(address.port);
        len = sizeof *in;
    } else if (::inet_pton(AF_INET6, address.host.c_str(), &in6->sin6_addr) == 1) {
        family = AF_INET6;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(address.port);
        len = sizeof *in6;
    } else {
        return Error::because("listen", address.text, "not an IP address");
    }
    UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        return Error::from_errno("socket", address.text);
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // [::]:110 and 0.0.0.0:110 are separate lines in the config.
    if (family == AF_INET6)
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), len) != 0)
        return Error::from_errno("bind", address.text);
    if (::listen(fd.get(), kListenBacklog) != 0)
        return Error::from_errno("listen", address.text);
    std::string name = local_address_text(fd.get());
    return ListeningSocket{std::move(fd), name, address.proxy};
}

} // namespace

Result<std::vector<ListeningSocket>> bind_listeners(const Config& config) {
    std::vector<ListeningSocket> sockets;
    for (const auto& address : config.listen) {
        auto bound = bind_one(address);
        if (!bound)
            return bound.error();
        sockets.push_back(std::move(*bound));
    }
    for (const auto& address : config.pop2_listen) {
        auto bound = bind_one(address);
        if (!bound)
            return bound.error();
        bound->protocol = Protocol::pop2;
        sockets.push_back(std::move(*bound));
    }
    return sockets;
}

// The name a socket bound to `address` has (local_address_text).
std::string bound_name(const ListenAddress& address) {
    std::string host =
        address.host.find(':') != std::string::npos ? "[" + address.host + "]" : address.host;
    return host + ":" + std::to_string(address.port);
}

// A socket systemd passes is bound to an address that a `listen ... proxy`
// line may name: then it is a proxy listener too (the unit's ListenStream
// and the conf file say the same thing, and the PROXY header is required).
bool marked_proxy(const Config& config, const std::string& name) {
    for (const auto& address : config.listen)
        if (address.proxy && bound_name(address) == name)
            return true;
    return false;
}

// Likewise a socket bound to a `pop2_listen` address serves POP2.
bool marked_pop2(const Config& config, const std::string& name) {
    for (const auto& address : config.pop2_listen)
        if (bound_name(address) == name)
            return true;
    return false;
}

InheritedSockets take_systemd_sockets(const Config& config) {
    InheritedSockets inherited;
    const char* pid_text = std::getenv("LISTEN_PID");
    const char* fds_text = std::getenv("LISTEN_FDS");
    if (pid_text == nullptr || fds_text == nullptr)
        return inherited;
    bool ours = std::strtol(pid_text, nullptr, 10) == ::getpid();
    long count = std::strtol(fds_text, nullptr, 10);
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (!ours || count <= 0 || count > 64)
        return inherited;
    for (int fd = kSystemdFirstFd; fd < kSystemdFirstFd + count; ++fd) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        int listening = 0;
        socklen_t len = sizeof listening;
        if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0)
            continue;
        if (listening) {
            std::string name = local_address_text(fd);
            bool proxy = marked_proxy(config, name);
            Protocol protocol = marked_pop2(config, name) ? Protocol::pop2 : Protocol::pop3;
            inherited.listening.push_back({UniqueFd(fd), std::move(name), proxy, protocol});
        } else if (inherited.connection_fd < 0) {
            inherited.connection_fd = fd;
        }
    }
    return inherited;
}

} // namespace popper
