// The client of an inetd-mode session (popperd -i): the socket's peer, or
// behind stunnel and ucspi-tcp the address their environment names.
#include "popper/listener.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace popper {
namespace {

// Sets environment variables for one test and restores their absence.
struct Environment {
    explicit Environment(std::initializer_list<std::pair<const char*, const char*>> values) {
        for (auto [name, value] : values) {
            ::setenv(name, value, 1);
            names.push_back(name);
        }
    }
    ~Environment() {
        for (const char* name : names)
            ::unsetenv(name);
    }
    std::vector<const char*> names;
};

struct SocketPair {
    int fds[2] = {-1, -1};
    SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }
    ~SocketPair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
};

TEST(InetdPeer, OnASocketPairTheEnvironmentNamesTheClient) {
    SocketPair pair;
    {
        Environment env({{"REMOTE_HOST", "192.0.2.4"}, {"REMOTE_PORT", "40000"}});
        PeerInfo peer = inetd_peer(pair.fds[0], true);
        EXPECT_EQ(peer.address, "192.0.2.4");
        EXPECT_TRUE(peer.under_tls);
        EXPECT_FALSE(peer.expects_proxy_header);
    }
    {
        Environment env({{"TCPREMOTEIP", "2001:db8::9"}});
        EXPECT_EQ(inetd_peer(pair.fds[0], false).address, "2001:db8::9");
        EXPECT_FALSE(inetd_peer(pair.fds[0], false).under_tls);
    }
}

TEST(InetdPeer, ANameOrNothingInTheEnvironmentLeavesLocal) {
    SocketPair pair;
    EXPECT_EQ(inetd_peer(pair.fds[0], false).address, "local");
    Environment env({{"REMOTE_HOST", "client.example.org"}});
    EXPECT_EQ(inetd_peer(pair.fds[0], false).address, "local");
}

} // namespace
} // namespace popper
