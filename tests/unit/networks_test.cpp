// IP addresses and CIDR network lists as config keys name them.
#include "popper/networks.h"

#include <arpa/inet.h>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace popper {
namespace {

IpAddress ip(const char* text) {
    auto address = parse_ip_address(text);
    EXPECT_TRUE(address) << text;
    return address.value_or(IpAddress{});
}

TEST(IpAddress, ParsesStrictNumericFormsOnly) {
    EXPECT_EQ(ip("192.0.2.1").text(), "192.0.2.1");
    EXPECT_EQ(ip("2001:DB8::1").text(), "2001:db8::1");
    for (const char* bad : {"", "localhost", "192.0.2", "192.0.2.01", "192.0.2.256", "1.2.3.4 ",
                            "fe80::1%eth0", "::1/128", "2001:db8:::1"})
        EXPECT_FALSE(parse_ip_address(bad)) << bad;
}

TEST(IpAddress, AnIpv4MappedAddressIsTheIpv4AddressItMaps) {
    EXPECT_EQ(ip("::ffff:192.0.2.1"), ip("192.0.2.1"));
    EXPECT_EQ(ip("::ffff:192.0.2.1").text(), "192.0.2.1");
    EXPECT_TRUE(ip("::192.0.2.1").v6); // IPv4-compatible is not mapped
}

TEST(IpAddress, FromASocketAddressOfEitherFamily) {
    struct sockaddr_storage storage {};
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    ASSERT_EQ(::inet_pton(AF_INET6, "::ffff:127.0.0.2", &in6->sin6_addr), 1);
    EXPECT_EQ(ip_address_of(storage)->text(), "127.0.0.2");
    storage = {};
    auto* in4 = reinterpret_cast<struct sockaddr_in*>(&storage);
    in4->sin_family = AF_INET;
    ASSERT_EQ(::inet_pton(AF_INET, "10.1.2.3", &in4->sin_addr), 1);
    EXPECT_EQ(ip_address_of(storage)->text(), "10.1.2.3");
    storage = {};
    storage.ss_family = AF_UNIX;
    EXPECT_FALSE(ip_address_of(storage));
}

TEST(Network, ContainsExactlyTheAddressesOfItsPrefix) {
    auto net = parse_network("192.0.2.0/25");
    ASSERT_TRUE(net);
    EXPECT_TRUE(net->contains(ip("192.0.2.0")));
    EXPECT_TRUE(net->contains(ip("192.0.2.127")));
    EXPECT_FALSE(net->contains(ip("192.0.2.128")));
    EXPECT_TRUE(net->contains(ip("::ffff:192.0.2.5")));
    EXPECT_FALSE(net->contains(ip("2001:db8::1")));
    auto v6 = parse_network("2001:db8:8000::/33");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->contains(ip("2001:db8:ffff::1")));
    EXPECT_FALSE(v6->contains(ip("2001:db8:7fff::1")));
    auto all = parse_network("0.0.0.0/0");
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->contains(ip("203.0.113.9")));
    EXPECT_FALSE(all->contains(ip("::1")));
    auto host = parse_network("::1");
    ASSERT_TRUE(host);
    EXPECT_EQ(host->text(), "::1/128");
    EXPECT_TRUE(host->contains(ip("::1")));
}

TEST(Network, RejectsMalformedPrefixesAndHostBits) {
    for (const char* bad :
         {"192.0.2.0/33", "192.0.2.0/", "192.0.2.0/-1", "192.0.2.0/024", "192.0.2.0/2x", "::/129",
          "192.0.2.1/24", "2001:db8::1/64", "example.org/24", "/24"})
        EXPECT_FALSE(parse_network(bad)) << bad;
    auto error = parse_network("192.0.2.1/24");
    ASSERT_FALSE(error);
    EXPECT_EQ(error.error().message(),
              "network 192.0.2.1/24: has address bits set past the prefix length 24");
}

TEST(NetworkList, SeparatedByCommasOrBlanks) {
    auto list = parse_network_list(" 127.0.0.1, 10.0.0.0/8\t::1/128 ,, ");
    ASSERT_TRUE(list);
    EXPECT_EQ(list->text(), "127.0.0.1/32, 10.0.0.0/8, ::1/128");
    EXPECT_TRUE(list->contains(ip("10.200.0.1")));
    EXPECT_FALSE(list->contains(ip("127.0.0.2")));
    EXPECT_TRUE(parse_network_list("")->empty());
    EXPECT_FALSE(parse_network_list("127.0.0.1, nonsense"));
}

} // namespace
} // namespace popper
