#include "popper/ip_address.h"

#include <cstdint>
#include <cstring>

namespace popper {

namespace {

void append_decimal(std::string& out, unsigned value) {
    if (value >= 100) out += static_cast<char>('0' + value / 100);
    if (value >= 10) out += static_cast<char>('0' + value / 10 % 10);
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
        if (i > 0) out += '.';
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
    for (int i = 0; i < 8; ++i) groups[i] = unsigned{bytes[2 * i]} << 8 | bytes[2 * i + 1];
    // The first longest run of zero groups, if at least two long, becomes "::".
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (groups[i] != 0) {
            ++i;
            continue;
        }
        int len = 0;
        while (i + len < 8 && groups[i + len] == 0) ++len;
        if (len > best_len) {
            best = i;
            best_len = len;
        }
        i += len;
    }
    if (best_len < 2) best = -1;

    std::string out;
    for (int i = 0; i < 8; ++i) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best) out += ':';
            continue;
        }
        if (i > 0) out += ':';
        // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d).
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && groups[5] == 0xffff))) {
            append_ipv4(out, bytes + 12);
            return out;
        }
        append_hex(out, groups[i]);
    }
    if (best >= 0 && best + best_len == 8) out += ':';
    return out;
}

} // namespace popper
