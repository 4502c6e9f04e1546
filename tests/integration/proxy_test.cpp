// A `listen ... proxy` socket over real TCP: the PROXY header (v1, v2) names
// the client for the log, the process title, max_sessions_per_ip and
// allow_plaintext = tls; and every way a header can be wrong, late or from
// the wrong peer closes the connection with a log line naming the sender.
#include "support/popperd_test.h"

#include <string>
#include <sys/socket.h>

namespace popper::test {
namespace {

// haproxy's doc/proxy-protocol.txt, section 2.2.
const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);
constexpr char kV2Proxy = 0x21, kV2Local = 0x20, kV2Tcp4 = 0x11, kV2Unspec = 0x00;
constexpr char kPp2TypeSsl = 0x20, kPp2ClientSsl = 0x01;

std::string be16(unsigned v) {
    return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

std::string v2_header(char command, char family, const std::string& body) {
    return kV2Signature + command + family + be16(static_cast<unsigned>(body.size())) + body;
}

// TCP4 from 192.0.2.7:51000 to 127.0.0.1:110, with the SSL TLV if `ssl`.
std::string v2_tcp4(bool ssl) {
    std::string body = std::string("\xc0\x00\x02\x07\x7f\x00\x00\x01", 8) + be16(51000) + be16(110);
    if (ssl) {
        // PP2_TYPE_SSL: client bits, a 4-octet verify result, no sub-TLVs.
        std::string value = std::string(1, kPp2ClientSsl) + std::string(4, '\0');
        body += std::string(1, kPp2TypeSsl) + be16(static_cast<unsigned>(value.size())) + value;
    }
    return v2_header(kV2Proxy, kV2Tcp4, body);
}

std::string v1_tcp4(const std::string& client) {
    return "PROXY TCP4 " + client + " 127.0.0.1 51000 110\r\n";
}

class Proxy : public PopperdTest {
protected:
    Proxy() {
        host.set_config("listen", "127.0.0.1:0 proxy");
        host.set_config("proxy_trusted_networks", "127.0.0.0/8");
    }

    // A connection that sends `header`, then reads the greeting.
    PopClient connect_with(const std::string& header) {
        PopClient client = daemon().connect();
        client.send_raw(header);
        EXPECT_EQ(client.read_line(), kGreeting);
        return client;
    }

    // Nothing is written to a connection refused for its header: it closes.
    void expect_closed_silently(PopClient& client, const std::string& logged) {
        EXPECT_EQ(client.read_line(), "");
        EXPECT_TRUE(client.closed());
        EXPECT_TRUE(daemon().wait_for_log(logged)) << daemon().log_text();
    }
};

TEST_F(Proxy, V1NamesTheClientForTheLogAndTheLogin) {
    PopClient client = connect_with(v1_tcp4("192.0.2.7"));
    EXPECT_TRUE(client.login(kUser, kPassword));
    EXPECT_TRUE(daemon().wait_for_log("connect: addr=192.0.2.7 sender=127.0.0.1 tls=no"));
    EXPECT_TRUE(daemon().wait_for_log("login: user=alice addr=192.0.2.7"));
    EXPECT_EQ(client.command("QUIT"), bye_reply(0));
}

TEST_F(Proxy, ProcessTitleShowsTheClientNotTheProxy) {
    PopClient client = connect_with(v1_tcp4("198.51.100.9"));
    auto pid = daemon().session_pid();
    ASSERT_TRUE(pid);
    EXPECT_TRUE(wait_until([&] { return process_title(*pid) == "popperd: [198.51.100.9] AUTH"; }))
        << process_title(*pid);
}

TEST_F(Proxy, CommandsSentWithTheHeaderAreServed) {
    // The header and the first command in one segment: the reader must not
    // take a byte past the header.
    PopClient client = daemon().connect();
    client.send_raw(v1_tcp4("192.0.2.7") + "NOOP\r\n");
    EXPECT_EQ(client.read_line(), kGreeting);
    EXPECT_EQ(client.read_line(), "-ERR Not logged in");
}

TEST_F(Proxy, V2NamesTheClientAndItsSslBitAllowsPlaintextUnderTls) {
    host.set_config("allow_plaintext", "tls");
    PopClient tls = connect_with(v2_tcp4(true));
    EXPECT_TRUE(tls.login(kUser, kPassword));
    EXPECT_TRUE(daemon().wait_for_log("connect: addr=192.0.2.7 sender=127.0.0.1 tls=yes"));
    EXPECT_EQ(tls.command("QUIT"), bye_reply(0));

    PopClient clear = connect_with(v2_tcp4(false));
    EXPECT_EQ(clear.command("USER alice"),
              "-ERR [AUTH] Plaintext authentication disallowed on non-secure (TLS) connections");
    EXPECT_EQ(clear.command("CAPA"), "+OK Capability list follows");
    std::string capa = clear.read_multiline();
    EXPECT_EQ(capa.find("USER"), std::string::npos) << capa;
}

TEST_F(Proxy, V2LocalKeepsTheSendersAddress) {
    PopClient client = connect_with(v2_header(kV2Local, kV2Unspec, ""));
    EXPECT_TRUE(daemon().wait_for_log("connect: addr=127.0.0.1 sender=127.0.0.1 tls=no"));
    EXPECT_EQ(client.command("QUIT"), "+OK Bye");
}

TEST_F(Proxy, MaxSessionsPerIpCountsTheClientTheHeaderNames) {
    host.set_config("max_sessions_per_ip", "1");
    PopClient first = connect_with(v1_tcp4("192.0.2.7"));
    PopClient second = daemon().connect();
    second.send_raw(v1_tcp4("192.0.2.7"));
    EXPECT_EQ(second.read_line(), "-ERR [SYS/TEMP] Too many connections from your address");
    EXPECT_TRUE(second.wait_closed());
    EXPECT_TRUE(daemon().wait_for_log(
        "connection refused: addr=192.0.2.7 reason=max_sessions_per_ip sender=127.0.0.1"));
    // Another client behind the same proxy is not counted with it.
    PopClient other = connect_with(v1_tcp4("192.0.2.8"));
    EXPECT_EQ(first.command("QUIT"), "+OK Bye");
    EXPECT_TRUE(first.wait_closed());
    EXPECT_TRUE(wait_until([&] {
        PopClient again = daemon().connect();
        again.send_raw(v1_tcp4("192.0.2.7"));
        return again.read_line() == kGreeting;
    }));
}

TEST_F(Proxy, SigtermStopsTheDaemonWhileASenderHasNotSentItsHeader) {
    PopClient waiting = daemon().connect();
    PopClient admitted = connect_with(v1_tcp4("192.0.2.7"));
    EXPECT_TRUE(daemon().wait_for_log("connect: addr=192.0.2.7"));
    // The header wait is bounded (3 s), so the stop is too.
    EXPECT_EQ(daemon().stop(), 0);
    EXPECT_TRUE(waiting.wait_closed());
    EXPECT_EQ(admitted.read_line(), "-ERR [SYS/TEMP] Server shutting down");
}

// --- refused ---------------------------------------------------------------

TEST_F(Proxy, AForgedHeaderFromAnUntrustedPeerIsClosedBeforeAByteIsRead) {
    host.set_config("proxy_trusted_networks", "127.0.0.2, ::1");
    PopClient client = daemon().connect();
    client.send_raw(v1_tcp4("192.0.2.7"));
    expect_closed_silently(client, "connection closed: PROXY header not accepted from "
                                   "sender=127.0.0.1: not in proxy_trusted_networks");
    EXPECT_TRUE(daemon().log_lines_with("addr=192.0.2.7").empty()) << daemon().log_text();
}

TEST_F(Proxy, ATrustedPeerThatSendsNoHeaderIsClosedAfterThreeSeconds) {
    PopClient client = daemon().connect();
    expect_closed_silently(client,
                           "connection closed: PROXY header: none within 3000 ms (0 octets came): "
                           "sender=127.0.0.1");
}

TEST_F(Proxy, ATruncatedV2HeaderIsClosed) {
    PopClient client = daemon().connect();
    client.send_raw(v2_tcp4(false).substr(0, 20));
    ::shutdown(client.fd(), SHUT_WR);
    expect_closed_silently(client, "connection closed: PROXY header: connection closed in the "
                                   "header (20 octets): sender=127.0.0.1");
}

TEST_F(Proxy, AV1LineOver107OctetsIsClosed) {
    PopClient client = daemon().connect();
    client.send_raw("PROXY UNKNOWN " + std::string(100, 'x') + "\r\n");
    expect_closed_silently(client, "sender=127.0.0.1");
    EXPECT_EQ(daemon().log_lines_with("connection closed: PROXY header:").size(), 1u)
        << daemon().log_text();
}

TEST_F(Proxy, AMalformedV1LineIsClosed) {
    PopClient client = daemon().connect();
    client.send_raw("PROXY TCP4 192.0.2.300 127.0.0.1 1 2\r\n");
    expect_closed_silently(client, "sender=127.0.0.1");
    EXPECT_EQ(daemon().log_lines_with("connection closed: PROXY header:").size(), 1u);
}

TEST_F(Proxy, APlainPop3ClientOnAProxyListenerIsClosed) {
    PopClient client = daemon().connect();
    client.send_raw("USER alice\r\nPASS wonderland\r\n");
    expect_closed_silently(client, "sender=127.0.0.1");
}

class Unmarked : public PopperdTest {};

TEST_F(Unmarked, APROXYLineIsJustABadCommand) {
    // Five arguments: RFC 2449 §3 and our parser allow fewer; a client
    // hoping to name another address gets what any malformed line gets.
    PopClient client = connect();
    EXPECT_EQ(client.command("PROXY TCP4 192.0.2.7 127.0.0.1 51000 110"),
              "-ERR Invalid command line");
    EXPECT_TRUE(client.login(kUser, kPassword));
    EXPECT_TRUE(daemon().wait_for_log("login: user=alice addr=127.0.0.1"));
    EXPECT_TRUE(daemon().log_lines_with("192.0.2.7").empty());
}

} // namespace
} // namespace popper::test
