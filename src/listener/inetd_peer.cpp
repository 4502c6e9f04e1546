// Who the client is in inetd mode (popper/listener.h). When standard input
// is an inet socket from another host, its peer: the kernel knows best. When
// it is not (ucspi-tcp's tcpserver passes pipes), or is a loopback
// connection (stunnel's `exec`: Debian's stunnel4 connects the program by a
// TCP pair on 127.0.0.1, not the socketpair its manual suggests), a local
// relay accepted the client and names it in the environment: stunnel sets
// REMOTE_HOST, tcpserver TCPREMOTEIP. The environment is the starter's, as
// trusted as the descriptors it chose; the client cannot set it.
#include "popper/ip_address.h"
#include "popper/listener.h"
#include "popper/networks.h"

#include <cstdlib>

namespace popper {

PeerInfo inetd_peer(int fd, bool tls_terminated) {
    PeerInfo peer{.address = peer_address_text(fd), .under_tls = tls_terminated};
    static const NetworkList loopback = *parse_network_list("127.0.0.0/8, ::1");
    if (auto ip = peer_ip_address(fd); ip && !loopback.contains(*ip))
        return peer;
    for (const char* name : {"REMOTE_HOST", "TCPREMOTEIP"}) {
        const char* value = std::getenv(name);
        if (value == nullptr)
            continue;
        // Numeric only: a name (stunnel can be built to resolve) would be
        // a different thing to limit and ban by.
        if (auto ip = parse_ip_address(value)) {
            peer.address = ip->text();
            break;
        }
    }
    return peer;
}

} // namespace popper
