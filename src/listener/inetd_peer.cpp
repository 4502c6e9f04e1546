// Who the client is in inetd mode (popper/listener.h). When standard input
// is an inet socket, its peer. When it is not, the program that started us
// accepted the connection and names the client in the environment: stunnel's
// `exec` (a socketpair) sets REMOTE_HOST, ucspi-tcp's tcpserver (pipes)
// TCPREMOTEIP. Those are read only then: on a real socket the kernel knows
// better than any variable a user could set.
#include "popper/ip_address.h"
#include "popper/listener.h"
#include "popper/networks.h"

#include <cstdlib>

namespace popper {

PeerInfo inetd_peer(int fd, bool tls_terminated) {
    PeerInfo peer{.address = peer_address_text(fd), .under_tls = tls_terminated};
    if (peer_ip_address(fd))
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
