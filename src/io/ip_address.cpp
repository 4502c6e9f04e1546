#include "popper/ip_address.h"

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <optional>
#include <sys/socket.h>

namespace popper {

namespace {

void append_decimal(std::string& out, unsigned value) {
    if (value >= 100)
        out += static_cast<char>('0' + value / 100);
    if (value >= 10)
        out += static_cast<char>('0' + value / 10 % 10);
    out += static_cast<char>('0' + value % 10);
}

void append_hex(std::string& out, unsigned value) {
    static constexpr char kDigits[] = "0123456789abcdef";
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned digit = (value >> shift) & 0xf;
        if (digit != 0 || started || shift == 0) {
            out += kDigits[digit];
            started = true;
        }
    }
}

void append_ipv4(std::string& out, const uint8_t* bytes) {
    for (int i = 0; i < 4; ++i) {
        if (i > 0)
            out += '.';
        append_decimal(out, bytes[i]);
    }
}

} // namespace

std::string ip_text(const struct in_addr& address) {
    uint8_t bytes[4];
    std::memcpy(bytes, &address, sizeof bytes);
    std::string out;
    append_ipv4(out, bytes);
    return out;
}

// The same steps as glibc's inet_ntop6, so that both spell every address alike.
std::string ip_text(const struct in6_addr& address) {
    const uint8_t* bytes = address.s6_addr;
    unsigned groups[8];
    for (int i = 0; i < 8; ++i)
        groups[i] = unsigned{bytes[2 * i]} << 8 | bytes[2 * i + 1];
    // The first longest run of zero groups, if at least two long, becomes "::".
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (groups[i] != 0) {
            ++i;
            continue;
        }
        int len = 0;
        while (i + len < 8 && groups[i + len] == 0)
            ++len;
        if (len > best_len) {
            best = i;
            best_len = len;
        }
        i += len;
    }
    if (best_len < 2)
        best = -1;

    std::string out;
    for (int i = 0; i < 8; ++i) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                out += ':';
            continue;
        }
        if (i > 0)
            out += ':';
        // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d).
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && groups[5] == 0xffff))) {
            append_ipv4(out, bytes + 12);
            return out;
        }
        append_hex(out, groups[i]);
    }
    if (best >= 0 && best + best_len == 8)
        out += ':';
    return out;
}

namespace {

// One end of a socket as text, with ":port" when asked (an IPv6 address then
// in brackets); nullopt when the address is neither IPv4 nor IPv6.
std::optional<std::string> address_text(const struct sockaddr_storage& address, bool with_port) {
    std::string host;
    uint16_t port = 0;
    bool bracket = false;
    if (address.ss_family == AF_INET) {
        const auto& in = reinterpret_cast<const struct sockaddr_in&>(address);
        host = ip_text(in.sin_addr);
        port = ntohs(in.sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const struct sockaddr_in6&>(address);
        port = ntohs(in6.sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
            struct in_addr in {};
            std::memcpy(&in, &in6.sin6_addr.s6_addr[12], sizeof in);
            host = ip_text(in);
        } else {
            host = ip_text(in6.sin6_addr);
            bracket = true;
        }
    } else {
        return std::nullopt;
    }
    if (!with_port)
        return host;
    return (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

} // namespace

std::string peer_address_text(int fd) {
    struct sockaddr_storage address {};
    socklen_t len = sizeof address;
    if (::getpeername(fd, reinterpret_cast<struct sockaddr*>(&address), &len) != 0)
        return "local";
    return address_text(address, false).value_or("local");
}

std::string local_address_text(int fd) {
    struct sockaddr_storage address {};
    socklen_t len = sizeof address;
    if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&address), &len) != 0)
        return "?";
    return address_text(address, true).value_or("unix");
}

} // namespace popper
