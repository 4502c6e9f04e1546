// The PROXY protocol header (haproxy's doc/proxy-protocol.txt), v1 and v2:
// what a load balancer says of the real client, parsed strictly.
#include "popper/proxy_protocol.h"

#include <chrono>
#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace popper {
namespace {

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string be16(unsigned v) {
    return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

std::string v2(char ver_cmd, char family, const std::string& body) {
    return kSig + ver_cmd + family + be16(static_cast<unsigned>(body.size())) + body;
}

std::string tcp4_block() {
    return std::string("\xc0\x00\x02\x01", 4) + std::string("\xc6\x33\x64\x01", 4) + be16(56324) +
           be16(110);
}

ProxyHeader complete(const std::string& data) {
    auto parsed = parse_proxy_header(data);
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message());
    if (!parsed || !parsed->header) {
        ADD_FAILURE() << "incomplete";
        return {};
    }
    return *parsed->header;
}

TEST(ProxyV1, Tcp4NamesTheClientAndTheHeaderLength) {
    const std::string line = "PROXY TCP4 192.0.2.1 198.51.100.1 56324 110\r\n";
    ProxyHeader h = complete(line + "USER alice\r\n");
    EXPECT_EQ(h.version, 1);
    EXPECT_EQ(h.octets, line.size());
    ASSERT_TRUE(h.endpoints);
    EXPECT_EQ(h.endpoints->source.text(), "192.0.2.1");
    EXPECT_EQ(h.endpoints->destination.text(), "198.51.100.1");
    EXPECT_EQ(h.endpoints->source_port, 56324);
    EXPECT_EQ(h.endpoints->destination_port, 110);
    EXPECT_FALSE(h.client_ssl);
}

TEST(ProxyV1, Tcp6AndUnknown) {
    ProxyHeader h = complete("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n");
    ASSERT_TRUE(h.endpoints);
    EXPECT_EQ(h.endpoints->source.text(), "2001:db8::1");
    EXPECT_EQ(h.endpoints->destination_port, 65535);
    EXPECT_FALSE(complete("PROXY UNKNOWN\r\n").endpoints);
    EXPECT_FALSE(complete("PROXY UNKNOWN ffff:f...f 1 2 whatever\r\n").endpoints);
}

TEST(ProxyV1, AsksForMoreOneOctetAtATimeUntilTheLineEnds) {
    auto none = parse_proxy_header("");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->need_octets, kProxyMinOctets);
    auto part = parse_proxy_header("PROXY TCP4 192.0.2.1");
    ASSERT_TRUE(part);
    EXPECT_FALSE(part->header);
    EXPECT_EQ(part->need_octets, 21u);
    auto cr = parse_proxy_header("PROXY TCP4 192.0.2.1 198.51.100.1 1 2\r");
    ASSERT_TRUE(cr);
    EXPECT_FALSE(cr->header);
}

TEST(ProxyV1, RejectsEveryMalformedLine) {
    const char* bad[] = {
        "PROXY TCP4 192.0.2.1 198.51.100.1 56324 110\n",     // LF without CR
        "PROXY TCP4  192.0.2.1 198.51.100.1 56324 110\r\n",  // two spaces
        "PROXY TCP4 192.0.2.1 198.51.100.1 56324\r\n",       // a field missing
        "PROXY TCP4 192.0.2.1 198.51.100.1 56324 110 9\r\n", // one too many
        "PROXY TCP4 2001:db8::1 2001:db8::2 1 2\r\n",        // family mismatch
        "PROXY TCP6 192.0.2.1 198.51.100.1 1 2\r\n",         // family mismatch
        "PROXY TCP4 192.0.2.1 198.51.100.1 65536 110\r\n",   // port out of range
        "PROXY TCP4 192.0.2.1 198.51.100.1 0110 110\r\n",    // leading zero
        "PROXY TCP4 192.0.2.1 198.51.100.1 -1 110\r\n",      // sign
        "PROXY UDP4 192.0.2.1 198.51.100.1 1 2\r\n",         // not TCP
        "PROXY TCP4 host.example 198.51.100.1 1 2\r\n",      // a name
        "PROXY TCP4 192.0.2.1 198.51.100.1 1 2\rX\r\n",      // CR inside
        "proxy TCP4 192.0.2.1 198.51.100.1 1 2\r\n",         // lowercase
        "USER alice\r\n",                                    // no header at all
    };
    for (const char* line : bad)
        EXPECT_FALSE(parse_proxy_header(line)) << line;
    EXPECT_FALSE(parse_proxy_header(std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\0\r\n", 33)));
}

TEST(ProxyV1, NoLongerThan107Octets) {
    std::string longest = "PROXY UNKNOWN ";
    longest += std::string(kProxyV1MaxOctets - longest.size() - 2, 'x') + "\r\n";
    ASSERT_EQ(longest.size(), kProxyV1MaxOctets);
    EXPECT_EQ(complete(longest).octets, kProxyV1MaxOctets);
    std::string over = "PROXY UNKNOWN " + std::string(kProxyV1MaxOctets, 'x');
    EXPECT_FALSE(parse_proxy_header(over.substr(0, kProxyV1MaxOctets)));
    EXPECT_FALSE(parse_proxy_header(over + "\r\n"));
}

TEST(ProxyV2, Tcp4Tcp6AndTheLengthThatCoversTlvs) {
    const std::string tcp4 = v2('\x21', '\x11', tcp4_block());
    ProxyHeader h = complete(tcp4 + "+more");
    EXPECT_EQ(h.version, 2);
    EXPECT_EQ(h.octets, tcp4.size());
    ASSERT_TRUE(h.endpoints);
    EXPECT_EQ(h.endpoints->source.text(), "192.0.2.1");
    EXPECT_EQ(h.endpoints->source_port, 56324);
    EXPECT_EQ(h.endpoints->destination_port, 110);

    std::string block6(16, '\0');
    block6[0] = '\x20';
    block6[1] = '\x01';
    block6[15] = '\x01';
    block6 += std::string(10, '\0') + "\xff\xff" + std::string("\x7f\x00\x00\x02", 4);
    block6 += be16(40000) + be16(110);
    ProxyHeader h6 = complete(v2('\x21', '\x21', block6));
    ASSERT_TRUE(h6.endpoints);
    EXPECT_EQ(h6.endpoints->source.text(), "2001::1");
    EXPECT_EQ(h6.endpoints->destination.text(), "127.0.0.2"); // IPv4-mapped
}

TEST(ProxyV2, TheSslTlvSaysWhetherTheClientUsedTls) {
    const std::string ssl_on = std::string("\x20", 1) + be16(5) + std::string("\x01\0\0\0\0", 5);
    const std::string noop = std::string("\x04", 1) + be16(3) + "abc";
    EXPECT_TRUE(complete(v2('\x21', '\x11', tcp4_block() + noop + ssl_on)).client_ssl);
    const std::string ssl_off = std::string("\x20", 1) + be16(5) + std::string("\x00\0\0\0\0", 5);
    EXPECT_FALSE(complete(v2('\x21', '\x11', tcp4_block() + ssl_off)).client_ssl);
}

TEST(ProxyV2, LocalAndUnspecMeanTheConnectionsOwnEndpoints) {
    ProxyHeader local = complete(v2('\x20', '\x00', ""));
    EXPECT_FALSE(local.endpoints);
    EXPECT_EQ(local.octets, kProxyV2FixedOctets);
    EXPECT_FALSE(complete(v2('\x20', '\x11', tcp4_block())).endpoints); // LOCAL ignores the block
    EXPECT_FALSE(complete(v2('\x21', '\x00', "")).endpoints);
}

TEST(ProxyV2, WaitsForTheFixedPartThenForTheWholeLength) {
    const std::string whole = v2('\x21', '\x11', tcp4_block());
    for (size_t n = 0; n < whole.size(); ++n) {
        auto parsed = parse_proxy_header(whole.substr(0, n));
        ASSERT_TRUE(parsed) << n;
        EXPECT_FALSE(parsed->header) << n;
        EXPECT_GT(parsed->need_octets, n) << n;
        EXPECT_LE(parsed->need_octets, whole.size()) << n;
        if (n >= kProxyV2FixedOctets) {
            EXPECT_EQ(parsed->need_octets, whole.size()) << n;
        }
    }
}

TEST(ProxyV2, RejectsEveryMalformedHeader) {
    const std::string block = tcp4_block();
    EXPECT_FALSE(parse_proxy_header(v2('\x11', '\x11', block))); // version 1 in v2 form
    EXPECT_FALSE(parse_proxy_header(v2('\x22', '\x11', block))); // command 2
    EXPECT_FALSE(parse_proxy_header(v2('\x21', '\x12', block))); // UDP
    EXPECT_FALSE(parse_proxy_header(v2('\x21', '\x31', block))); // AF_UNIX
    EXPECT_FALSE(parse_proxy_header(v2('\x21', '\x11', block.substr(0, 11)))); // cut short
    EXPECT_FALSE(parse_proxy_header(v2('\x21', '\x21', block)));               // 12 octets for TCP6
    EXPECT_FALSE(parse_proxy_header(v2('\x21', '\x11', block + "\x20\x00")));  // TLV cut
    EXPECT_FALSE(parse_proxy_header(
        v2('\x21', '\x11', block + std::string("\x20\x00\x09", 3) + "short"))); // TLV overruns
    EXPECT_FALSE(parse_proxy_header(
        v2('\x21', '\x11', block + std::string("\x20\x00\x02", 3) + "ab"))); // SSL TLV too short
    std::string wrong_sig = v2('\x21', '\x11', block);
    wrong_sig[11] = 'X';
    EXPECT_FALSE(parse_proxy_header(wrong_sig));
}

// read_proxy_header on a socket pair: the sender's end and ours.
struct Connection {
    int sender = -1, ours = -1;
    Connection() {
        int pair[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
        sender = pair[0];
        ours = pair[1];
    }
    ~Connection() {
        ::close(sender);
        ::close(ours);
    }
    void send(const std::string& bytes) const {
        EXPECT_EQ(::write(sender, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    std::string rest() const {
        ::shutdown(sender, SHUT_WR);
        std::string out;
        char buf[256];
        for (ssize_t n; (n = ::read(ours, buf, sizeof buf)) > 0;)
            out.append(buf, static_cast<size_t>(n));
        return out;
    }
};

constexpr std::chrono::milliseconds kLimit{2000};

TEST(ReadProxyHeader, TakesExactlyTheHeaderAndLeavesTheClientsBytes) {
    for (const std::string& header :
         {std::string("PROXY TCP4 192.0.2.1 198.51.100.1 56324 110\r\n"),
          v2('\x21', '\x11', tcp4_block() + std::string("\x20\x00\x05\x01\0\0\0\0", 8))}) {
        Connection c;
        c.send(header + "CAPA\r\nUSER alice\r\n");
        auto read = read_proxy_header(c.ours, kLimit);
        ASSERT_TRUE(read) << read.error().message();
        EXPECT_EQ(read->octets, header.size());
        ASSERT_TRUE(read->endpoints);
        EXPECT_EQ(read->endpoints->source.text(), "192.0.2.1");
        EXPECT_EQ(c.rest(), "CAPA\r\nUSER alice\r\n");
    }
}

TEST(ReadProxyHeader, SaysWhatWentWrong) {
    {
        Connection c;
        auto read = read_proxy_header(c.ours, std::chrono::milliseconds(50));
        ASSERT_FALSE(read);
        EXPECT_EQ(read.error().message(), "PROXY header: none within 50 ms (0 octets came)");
    }
    {
        Connection c;
        c.send("PROXY TCP4 192.0.2.1");
        ::shutdown(c.sender, SHUT_WR);
        auto read = read_proxy_header(c.ours, kLimit);
        ASSERT_FALSE(read);
        EXPECT_EQ(read.error().message(),
                  "PROXY header: connection closed in the header (20 octets)");
    }
    {
        Connection c;
        c.send("USER alice\r\nPASS wonderland\r\n");
        EXPECT_FALSE(read_proxy_header(c.ours, kLimit));
    }
}

} // namespace
} // namespace popper
