#include "popper/ip_address.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cstring>
#include <random>

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
            if (g == 5 && rng() % 8 == 0) value = 0xffff;
            bytes[2 * g] = static_cast<uint8_t>(value >> 8);
            bytes[2 * g + 1] = static_cast<uint8_t>(value);
        }
        ASSERT_EQ(ip_text(address), libc_text(AF_INET6, &address));
        struct in_addr v4 = ipv4(bytes[12], bytes[13], bytes[14], bytes[15]);
        ASSERT_EQ(ip_text(v4), libc_text(AF_INET, &v4));
    }
}

} // namespace
} // namespace popper
