// IP addresses as values and lists of networks in CIDR notation, as config
// keys name them ("192.0.2.0/24, 2001:db8::/32, 127.0.0.1"), and the check of
// a client's address against such a list. An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1, how a dual-stack socket shows an IPv4 client) is the
// IPv4 address it maps, so it matches IPv4 networks and prints as one.
#pragma once

#include "popper/result.h"

#include <array>
#include <cstdint>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <vector>

namespace popper {

struct IpAddress {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{}; // IPv4: the first 4, network order

    // 192.0.2.1, 2001:db8::1 (ip_text, as inet_ntop writes them).
    std::string text() const;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Strict numeric forms only (inet_pton(3)): no names, no leading zeros in
// IPv4, no zone index. IPv4-mapped IPv6 becomes IPv4.
std::optional<IpAddress> parse_ip_address(std::string_view text);
// An IPv6 address as found on the wire (IPv4-mapped becomes IPv4).
IpAddress ip_address_of(const struct in6_addr& address);
// The address of an AF_INET or AF_INET6 socket address; nullopt otherwise.
std::optional<IpAddress> ip_address_of(const struct sockaddr_storage& address);
// The client at the other end of connected socket `fd` (getpeername);
// nullopt when `fd` is not an IP socket.
std::optional<IpAddress> peer_ip_address(int fd);

struct Network {
    IpAddress base; // with the bits past prefix_bits zero
    unsigned prefix_bits = 0;

    bool contains(const IpAddress& address) const;
    std::string text() const; // "192.0.2.0/24"
    friend bool operator==(const Network&, const Network&) = default;
};

// "ADDRESS/BITS" or a bare address (all bits). Host bits set in ADDRESS
// ("192.0.2.1/24") are an error: a typo for /32 or for .0 must not widen
// or narrow a list silently.
Result<Network> parse_network(std::string_view text);

// Networks separated by commas and/or blanks; empty text is an empty list.
struct NetworkList {
    std::vector<Network> networks;

    bool contains(const IpAddress& address) const;
    bool empty() const { return networks.empty(); }
    std::string text() const; // "192.0.2.0/24, ::1/128"
    friend bool operator==(const NetworkList&, const NetworkList&) = default;
};
Result<NetworkList> parse_network_list(std::string_view text);

} // namespace popper
