// The PROXY protocol, versions 1 and 2 (haproxy's doc/proxy-protocol.txt):
// the header a load balancer or TLS terminator (haproxy, nginx, stunnel)
// sends before the client's bytes, naming the client's real address. Only
// a parser here: which peers may send it, and reading it off a socket
// without reading a byte past it, are the listener's and pre-login side's.
//
// Strict, as the spec asks of a receiver: a header that is malformed in any
// way is an error (the connection is closed), never half-understood.
#pragma once

#include "popper/networks.h"
#include "popper/result.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace popper {

// v1: "PROXY TCP4|TCP6|UNKNOWN ..." CRLF, at most 107 octets with the CRLF.
inline constexpr size_t kProxyV1MaxOctets = 107;
// v2: a 16-octet fixed part, then as many octets as its length field says.
inline constexpr size_t kProxyV2FixedOctets = 16;
// Both versions are at least this long ("PROXY UNKNOWN\r\n"): reading this
// many octets first never waits for bytes a client would not send, since a
// POP3 client speaks only after the greeting.
inline constexpr size_t kProxyMinOctets = 15;

struct ProxyEndpoints {
    IpAddress source, destination;
    uint16_t source_port = 0, destination_port = 0;
};

struct ProxyHeader {
    size_t octets = 0; // the header's length: exactly what to consume
    // The client and the address it connected to; nullopt for v1 UNKNOWN
    // and v2 LOCAL or AF_UNSPEC: the connection's own endpoints apply.
    std::optional<ProxyEndpoints> endpoints;
    // v2 PP2_TYPE_SSL with the PP2_CLIENT_SSL bit: the client reached the
    // sender over TLS.
    bool client_ssl = false;
    int version = 0; // 1 or 2
};

// What the first octets of a connection say, as far as they have arrived.
struct ProxyParse {
    std::optional<ProxyHeader> header; // set when complete
    size_t need_octets = 0;            // otherwise: read up to this many in all
};

// Parses the start of `data`. A complete header: `header` set (octets past
// it are not looked at). Incomplete: `need_octets`, the total length to
// have before calling again (for v1, one octet more at a time, up to the
// limit). Error: not a valid header of either version.
Result<ProxyParse> parse_proxy_header(std::string_view data);

// How long a trusted sender has to send the whole header: haproxy and nginx
// send it with the connection, so a wait is a sender that will not.
inline constexpr std::chrono::seconds kProxyHeaderTimeout{3};

// Reads the header that starts connection `fd`, exactly: never an octet
// past it, which is the client's (parse_proxy_header's need_octets). Error:
// the connection closed or `limit` passed before it was complete, or it is
// not a valid header; the message says which, for the log.
Result<ProxyHeader> read_proxy_header(int fd, std::chrono::milliseconds limit);

} // namespace popper
