#include "popper/proxy_protocol.h"

#include <charconv>
#include <cstring>
#include <netinet/in.h>
#include <string>

namespace popper {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr char kV2Signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r',
                                   '\n', 'Q',  'U',  'I',  'T',  '\n'};
constexpr uint8_t kCommandLocal = 0x0, kCommandProxy = 0x1;
constexpr uint8_t kFamilyUnspec = 0x00, kFamilyTcp4 = 0x11, kFamilyTcp6 = 0x21;
constexpr size_t kTcp4AddressOctets = 12, kTcp6AddressOctets = 36;
constexpr uint8_t kTypeSsl = 0x20;
constexpr uint8_t kClientSsl = 0x01;

Error bad(const std::string& why) {
    return Error::because("PROXY header", "", why);
}

bool is_prefix(std::string_view data, std::string_view whole) {
    return whole.substr(0, data.size()) == data.substr(0, whole.size());
}

// Decimal 0..65535, no sign, no leading zero (the spec's form, and the only
// one haproxy and nginx send).
std::optional<uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0'))
        return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > 65535)
        return std::nullopt;
    return static_cast<uint16_t>(value);
}

// "PROXY TCP4 192.0.2.1 198.51.100.1 56324 110\r\n": fields separated by
// exactly one space; the addresses of the protocol's family.
Result<ProxyHeader> parse_v1_line(std::string_view line, size_t octets) {
    ProxyHeader header{octets, std::nullopt, false, 1};
    std::string_view rest = line.substr(kV1Prefix.size());
    if (rest == "UNKNOWN" || rest.starts_with("UNKNOWN "))
        return header; // the rest is ignored
    std::string_view fields[5];
    for (size_t i = 0; i < 5; ++i) {
        const size_t space = rest.find(' ');
        if ((i < 4) != (space != std::string_view::npos))
            return bad("version 1 needs exactly five fields after PROXY");
        fields[i] = rest.substr(0, space);
        if (fields[i].empty())
            return bad("version 1 fields are separated by one space");
        rest = i < 4 ? rest.substr(space + 1) : std::string_view();
    }
    const bool v6 = fields[0] == "TCP6";
    if (!v6 && fields[0] != "TCP4")
        return bad("unknown protocol (TCP4, TCP6 or UNKNOWN)");
    auto source = parse_ip_address(fields[1]);
    auto destination = parse_ip_address(fields[2]);
    auto source_port = parse_port(fields[3]);
    auto destination_port = parse_port(fields[4]);
    // A TCP6 line may name IPv4-mapped addresses: they parse as IPv4.
    const bool v6_text = fields[1].find(':') != std::string_view::npos &&
                         fields[2].find(':') != std::string_view::npos;
    const bool v4_text = fields[1].find(':') == std::string_view::npos &&
                         fields[2].find(':') == std::string_view::npos;
    if (!source || !destination || (v6 ? !v6_text : !v4_text))
        return bad("addresses do not match the protocol " + std::string(fields[0]));
    if (!source_port || !destination_port)
        return bad("ports must be decimal 0 to 65535");
    header.endpoints = ProxyEndpoints{*source, *destination, *source_port, *destination_port};
    return header;
}

Result<ProxyParse> parse_v1(std::string_view data) {
    const size_t lf = data.find('\n');
    if (lf == std::string_view::npos) {
        if (data.size() >= kProxyV1MaxOctets)
            return bad("version 1 line longer than 107 octets");
        const size_t cr = data.find('\r');
        if ((cr != std::string_view::npos && cr + 1 != data.size()) ||
            data.find('\0') != std::string_view::npos)
            return bad("version 1 line has a control character");
        return ProxyParse{std::nullopt, data.size() + 1};
    }
    if (lf + 1 > kProxyV1MaxOctets)
        return bad("version 1 line longer than 107 octets");
    if (lf == 0 || data[lf - 1] != '\r')
        return bad("version 1 line must end with CRLF");
    const std::string_view line = data.substr(0, lf - 1);
    if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos)
        return bad("version 1 line has a control character");
    auto header = parse_v1_line(line, lf + 1);
    if (!header)
        return header.error();
    return ProxyParse{*header, 0};
}

uint16_t big_endian16(const unsigned char* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// The TLVs after the address block: each must fit; only PP2_TYPE_SSL is
// read (its first octet holds the client flags; then a 32-bit verify).
Result<bool> client_ssl_from_tlvs(const unsigned char* p, size_t length) {
    bool ssl = false;
    for (size_t at = 0; at < length;) {
        if (length - at < 3)
            return bad("version 2 TLV cut short");
        const uint8_t type = p[at];
        const size_t value_length = big_endian16(p + at + 1);
        if (length - at - 3 < value_length)
            return bad("version 2 TLV longer than the header");
        if (type == kTypeSsl) {
            if (value_length < 5)
                return bad("version 2 SSL TLV shorter than 5 octets");
            ssl = (p[at + 3] & kClientSsl) != 0;
        }
        at += 3 + value_length;
    }
    return ssl;
}

Result<ProxyParse> parse_v2(std::string_view data) {
    if (data.size() < kProxyV2FixedOctets)
        return ProxyParse{std::nullopt, kProxyV2FixedOctets};
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    if ((p[12] >> 4) != 2)
        return bad("version 2 signature with another version");
    const uint8_t command = p[12] & 0x0f;
    const uint8_t family = p[13];
    const size_t length = big_endian16(p + 14);
    const size_t total = kProxyV2FixedOctets + length;
    if (command != kCommandLocal && command != kCommandProxy)
        return bad("version 2 command is neither LOCAL nor PROXY");
    if (data.size() < total)
        return ProxyParse{std::nullopt, total};
    ProxyHeader header{total, std::nullopt, false, 2};
    if (command == kCommandLocal)
        return ProxyParse{header, 0}; // a health check: real endpoints
    size_t address_octets = 0;
    const unsigned char* a = p + kProxyV2FixedOctets;
    if (family == kFamilyTcp4) {
        address_octets = kTcp4AddressOctets;
        if (length < address_octets)
            return bad("version 2 TCP4 address block cut short");
        ProxyEndpoints e;
        std::memcpy(e.source.bytes.data(), a, 4);
        std::memcpy(e.destination.bytes.data(), a + 4, 4);
        e.source_port = big_endian16(a + 8);
        e.destination_port = big_endian16(a + 10);
        header.endpoints = e;
    } else if (family == kFamilyTcp6) {
        address_octets = kTcp6AddressOctets;
        if (length < address_octets)
            return bad("version 2 TCP6 address block cut short");
        in6_addr source{};
        in6_addr destination{};
        std::memcpy(&source, a, 16);
        std::memcpy(&destination, a + 16, 16);
        header.endpoints = ProxyEndpoints{ip_address_of(source), ip_address_of(destination),
                                          big_endian16(a + 32), big_endian16(a + 34)};
    } else if (family != kFamilyUnspec) {
        return bad("version 2 family is not TCP over IPv4 or IPv6");
    }
    auto ssl = client_ssl_from_tlvs(a + address_octets, length - address_octets);
    if (!ssl)
        return ssl.error();
    header.client_ssl = *ssl;
    return ProxyParse{header, 0};
}

} // namespace

Result<ProxyParse> parse_proxy_header(std::string_view data) {
    const std::string_view signature(kV2Signature, sizeof kV2Signature);
    if (data.size() >= kV1Prefix.size() ? data.starts_with(kV1Prefix) : is_prefix(data, kV1Prefix))
        return data.size() < kProxyMinOctets ? ProxyParse{std::nullopt, kProxyMinOctets}
                                             : parse_v1(data);
    if (data.size() >= signature.size() ? data.starts_with(signature) : is_prefix(data, signature))
        return parse_v2(data);
    return bad("neither a version 1 nor a version 2 PROXY header");
}

} // namespace popper
