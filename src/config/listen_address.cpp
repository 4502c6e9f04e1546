// Listen addresses: "127.0.0.1:110", "[::1]:110", "*:110". Numeric only:
// the daemon binds before DNS is trustworthy, and a name could mean several.
#include "config_values.h"
#include "popper/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace popper {

namespace {

constexpr unsigned kMaxPort = 65535;

Result<uint16_t> parse_port(std::string_view text) {
    auto port = conf::parse_count(text, 0, kMaxPort);
    if (!port)
        return Error::because("", "", "port " + port.error().detail);
    return static_cast<uint16_t>(*port);
}

// The address in inet_ntop's canonical spelling (ip_text, which keeps
// printf's code out of the listener), or empty if `text` is not one.
std::string canonical_address(int family, std::string_view text) {
    if (text.find('\0') != std::string_view::npos)
        return {};
    std::string host(text);
    if (family == AF_INET) {
        struct in_addr v4 {};
        return ::inet_pton(family, host.c_str(), &v4) == 1 ? ip_text(v4) : std::string();
    }
    struct in6_addr v6 {};
    return ::inet_pton(family, host.c_str(), &v6) == 1 ? ip_text(v6) : std::string();
}

} // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
    using conf::shown;
    // "ADDR:PORT proxy": the one word a listen line may carry after the
    // address.
    bool proxy = false;
    if (size_t blank = text.find_first_of(" \t"); blank != std::string_view::npos) {
        std::string_view word = text.substr(blank);
        while (!word.empty() && (word.front() == ' ' || word.front() == '\t'))
            word.remove_prefix(1);
        if (word != "proxy")
            return Error::because("", "", shown(word) + " after the address is not \"proxy\"");
        proxy = true;
        text = text.substr(0, blank);
    }
    std::string_view host;
    std::string_view rest;
    int family = AF_INET;
    if (!text.empty() && text[0] == '[') {
        size_t close = text.find(']');
        if (close == std::string_view::npos) {
            return Error::because("", "", shown(text) + " has '[' without ']'");
        }
        host = text.substr(1, close - 1);
        rest = text.substr(close + 1);
        family = AF_INET6;
    } else {
        size_t colon = text.rfind(':');
        host = text.substr(0, colon == std::string_view::npos ? text.size() : colon);
        rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
        if (host.find(':') != std::string_view::npos) {
            return Error::because(
                "", "", shown(text) + ": write an IPv6 address in brackets, as [::1]:110");
        }
    }
    if (rest.empty() || rest[0] != ':') {
        return Error::because("", "", shown(text) + " has no ':port'");
    }
    auto port = parse_port(rest.substr(1));
    if (!port)
        return port.error();

    std::string canonical =
        family == AF_INET && host == "*" ? std::string("0.0.0.0") : canonical_address(family, host);
    if (canonical.empty()) {
        return Error::because("", "",
                              shown(host) + " is not a numeric " +
                                  (family == AF_INET ? "IPv4 address or *" : "IPv6 address"));
    }
    return ListenAddress{canonical, *port, std::string(text), proxy};
}

} // namespace popper
