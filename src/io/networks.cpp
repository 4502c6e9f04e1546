#include "popper/networks.h"

#include "popper/ip_address.h"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <netinet/in.h>

namespace popper {

namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

} // namespace

IpAddress ip_address_of(const struct in6_addr& in6) {
    IpAddress address;
    if (std::memcmp(in6.s6_addr, kMappedPrefix, sizeof kMappedPrefix) == 0) {
        std::memcpy(address.bytes.data(), in6.s6_addr + 12, 4);
        return address;
    }
    address.v6 = true;
    std::memcpy(address.bytes.data(), in6.s6_addr, 16);
    return address;
}

namespace {

unsigned width(const IpAddress& address) {
    return address.v6 ? 128 : 32;
}

bool is_separator(char c) {
    return c == ',' || c == ' ' || c == '\t';
}

} // namespace

std::string IpAddress::text() const {
    if (v6) {
        struct in6_addr in6 {};
        std::memcpy(in6.s6_addr, bytes.data(), 16);
        return ip_text(in6);
    }
    struct in_addr in {};
    std::memcpy(&in, bytes.data(), 4);
    return ip_text(in);
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN)
        return std::nullopt;
    const std::string copy(text); // inet_pton wants a terminated string
    struct in_addr in {};
    if (::inet_pton(AF_INET, copy.c_str(), &in) == 1) {
        IpAddress address;
        std::memcpy(address.bytes.data(), &in, 4);
        return address;
    }
    struct in6_addr in6 {};
    if (::inet_pton(AF_INET6, copy.c_str(), &in6) == 1)
        return ip_address_of(in6);
    return std::nullopt;
}

std::optional<IpAddress> peer_ip_address(int fd) {
    struct sockaddr_storage address {};
    socklen_t length = sizeof address;
    if (::getpeername(fd, reinterpret_cast<struct sockaddr*>(&address), &length) != 0)
        return std::nullopt;
    return ip_address_of(address);
}

std::optional<IpAddress> ip_address_of(const struct sockaddr_storage& address) {
    if (address.ss_family == AF_INET) {
        IpAddress ip;
        const auto* in = reinterpret_cast<const struct sockaddr_in*>(&address);
        std::memcpy(ip.bytes.data(), &in->sin_addr, 4);
        return ip;
    }
    if (address.ss_family == AF_INET6)
        return ip_address_of(reinterpret_cast<const struct sockaddr_in6*>(&address)->sin6_addr);
    return std::nullopt;
}

bool Network::contains(const IpAddress& address) const {
    if (address.v6 != base.v6)
        return false;
    const unsigned whole = prefix_bits / 8, rest = prefix_bits % 8;
    if (std::memcmp(address.bytes.data(), base.bytes.data(), whole) != 0)
        return false;
    if (rest == 0)
        return true;
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (address.bytes[whole] & mask) == base.bytes[whole];
}

std::string Network::text() const {
    return base.text() + "/" + std::to_string(prefix_bits);
}

Result<Network> parse_network(std::string_view text) {
    const auto slash = text.find('/');
    auto address = parse_ip_address(text.substr(0, slash));
    if (!address)
        return Error::because("network", std::string(text), "not a numeric IP address");
    Network network{*address, width(*address)};
    if (slash == std::string_view::npos)
        return network;
    const std::string_view bits = text.substr(slash + 1);
    unsigned prefix = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() ||
        (bits.size() > 1 && bits[0] == '0') || prefix > width(*address))
        return Error::because("network", std::string(text),
                              "prefix length must be 0 to " + std::to_string(width(*address)));
    network.prefix_bits = prefix;
    // The host part must be zero: 192.0.2.1/24 is a typo, not a network.
    for (unsigned bit = prefix; bit < width(*address); ++bit) {
        if (address->bytes[bit / 8] & (0x80 >> (bit % 8)))
            return Error::because("network", std::string(text),
                                  "has address bits set past the prefix length " +
                                      std::to_string(prefix));
    }
    return network;
}

bool NetworkList::contains(const IpAddress& address) const {
    for (const auto& network : networks)
        if (network.contains(address))
            return true;
    return false;
}

std::string NetworkList::text() const {
    std::string out;
    for (const auto& network : networks) {
        if (!out.empty())
            out += ", ";
        out += network.text();
    }
    return out;
}

Result<NetworkList> parse_network_list(std::string_view text) {
    NetworkList list;
    size_t at = 0;
    while (at < text.size()) {
        while (at < text.size() && is_separator(text[at]))
            ++at;
        size_t end = at;
        while (end < text.size() && !is_separator(text[end]))
            ++end;
        if (end > at) {
            auto network = parse_network(text.substr(at, end - at));
            if (!network)
                return network.error();
            list.networks.push_back(*network);
        }
        at = end;
    }
    return list;
}

} // namespace popper
