#include "popper/io.h"
#include "popper/ip_address.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

namespace popper {
namespace {

std::string libc_text(int family, const void* bytes) {
    char text[INET6_ADDRSTRLEN];
    return ::inet_ntop(family, bytes, text, sizeof text);
}

struct in6_addr ipv6(const char* text) {
    struct in6_addr address {};
    EXPECT_EQ(::inet_pton(AF_INET6, text, &address), 1) << text;
    return address;
}

struct in_addr ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    struct in_addr address {};
    const uint8_t bytes[4] = {a, b, c, d};
    std::memcpy(&address, bytes, sizeof bytes);
    return address;
}

TEST(IpAddress, WritesIpv4AsDottedDecimal) {
    EXPECT_EQ(ip_text(ipv4(192, 0, 2, 1)), "192.0.2.1");
    EXPECT_EQ(ip_text(ipv4(0, 0, 0, 0)), "0.0.0.0");
    EXPECT_EQ(ip_text(ipv4(255, 10, 100, 9)), "255.10.100.9");
}

TEST(IpAddress, ShortensTheFirstLongestRunOfZeroGroups) {
    EXPECT_EQ(ip_text(ipv6("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
    EXPECT_EQ(ip_text(ipv6("2001:db8:0:1:0:0:0:1")), "2001:db8:0:1::1");
    EXPECT_EQ(ip_text(ipv6("::")), "::");
    EXPECT_EQ(ip_text(ipv6("::1")), "::1");
    EXPECT_EQ(ip_text(ipv6("fe80::")), "fe80::");
    EXPECT_EQ(ip_text(ipv6("2001:DB8:0:0:0:0:0:0AB")), "2001:db8::ab");
}

TEST(IpAddress, WritesIpv4MappedAndCompatibleAddressesWithADottedTail) {
    EXPECT_EQ(ip_text(ipv6("::ffff:192.0.2.1")), "::ffff:192.0.2.1");
    EXPECT_EQ(ip_text(ipv6("::192.0.2.1")), "::192.0.2.1");
}

TEST(IpAddress, SpellsEveryAddressAsInetNtopDoes) {
    std::mt19937 rng(5952);
    for (int i = 0; i < 200000; ++i) {
        struct in6_addr address {};
        uint8_t* bytes = address.s6_addr;
        // Mostly zero groups, so that runs of every length and place occur.
        for (int g = 0; g < 8; ++g) {
            unsigned kind = rng() % 4;
            unsigned value = kind == 0 ? rng() % 0x10000 : kind == 1 ? rng() % 16 : 0;
            if (g == 5 && rng() % 8 == 0)
                value = 0xffff;
            bytes[2 * g] = static_cast<uint8_t>(value >> 8);
            bytes[2 * g + 1] = static_cast<uint8_t>(value);
        }
        ASSERT_EQ(ip_text(address), libc_text(AF_INET6, &address));
        struct in_addr v4 = ipv4(bytes[12], bytes[13], bytes[14], bytes[15]);
        ASSERT_EQ(ip_text(v4), libc_text(AF_INET, &v4));
    }
}

// `host` and `port` as a socket address; its length in `len`.
struct sockaddr_storage socket_address(const char* host, uint16_t port, socklen_t& len) {
    struct sockaddr_storage address {};
    auto* in = reinterpret_cast<struct sockaddr_in*>(&address);
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&address);
    if (::inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        len = sizeof *in;
    } else {
        EXPECT_EQ(::inet_pton(AF_INET6, host, &in6->sin6_addr), 1) << host;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        len = sizeof *in6;
    }
    return address;
}

// A TCP socket listening on `listen_host` (the kernel picks the port), and
// the server's end of a connection to it from `connect_host`. `server` is
// empty when this machine lacks the addresses.
struct TcpConnection {
    UniqueFd listening, client, server;
    uint16_t port = 0;
};

TcpConnection connect_tcp(const char* listen_host, const char* connect_host, bool v6only = true) {
    TcpConnection c;
    socklen_t len = 0;
    struct sockaddr_storage address = socket_address(listen_host, 0, len);
    c.listening = UniqueFd(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int only = v6only ? 1 : 0;
    if (address.ss_family == AF_INET6)
        ::setsockopt(c.listening.get(), IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
    auto* addr = reinterpret_cast<struct sockaddr*>(&address);
    if (::bind(c.listening.get(), addr, len) != 0 || ::listen(c.listening.get(), 1) != 0 ||
        ::getsockname(c.listening.get(), addr, &len) != 0)
        return c;
    // sin_port and sin6_port sit at the same offset.
    c.port = ntohs(reinterpret_cast<struct sockaddr_in*>(&address)->sin_port);
    struct sockaddr_storage to = socket_address(connect_host, c.port, len);
    c.client = UniqueFd(::socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(c.client.get(), reinterpret_cast<struct sockaddr*>(&to), len) != 0)
        return c;
    c.server = UniqueFd(::accept4(c.listening.get(), nullptr, nullptr, SOCK_CLOEXEC));
    return c;
}

TEST(SocketAddress, Ipv4PeerIsTheAddressAndTheListeningSocketHasItsPort) {
    TcpConnection c = connect_tcp("127.0.0.1", "127.0.0.1");
    ASSERT_TRUE(c.server);
    EXPECT_EQ(peer_address_text(c.server.get()), "127.0.0.1");
    EXPECT_EQ(local_address_text(c.listening.get()), "127.0.0.1:" + std::to_string(c.port));
}

TEST(SocketAddress, Ipv6AddressWithAPortIsInBrackets) {
    TcpConnection c = connect_tcp("::1", "::1");
    if (!c.server)
        GTEST_SKIP() << "no IPv6 loopback here";
    EXPECT_EQ(peer_address_text(c.server.get()), "::1");
    EXPECT_EQ(local_address_text(c.listening.get()), "[::1]:" + std::to_string(c.port));
}

TEST(SocketAddress, Ipv4ClientOfADualStackSocketIsNamedByItsIpv4Address) {
    TcpConnection c = connect_tcp("::", "127.0.0.1", false);
    if (!c.server)
        GTEST_SKIP() << "no dual-stack IPv6 here";
    EXPECT_EQ(peer_address_text(c.server.get()), "127.0.0.1");
}

TEST(SocketAddress, UnixSocketsAndPipesAreLocal) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    UniqueFd a(pair[0]), b(pair[1]);
    EXPECT_EQ(peer_address_text(a.get()), "local");
    EXPECT_EQ(local_address_text(a.get()), "unix");
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd in(pipe_fds[0]), out(pipe_fds[1]);
    EXPECT_EQ(peer_address_text(in.get()), "local");
    EXPECT_EQ(local_address_text(in.get()), "?");
}

} // namespace
} // namespace popper
