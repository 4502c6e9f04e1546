// libFuzzer target for the PROXY protocol header parser and the CIDR network
// lists of the config (see fuzz/run-fuzzers).
//
// Input: the first octets of a connection (or, when the first octet is '#',
// a network list as a config value). Checks, beyond not crashing: a header
// is never longer than the input nor, in version 1, than 107 octets; a
// reader that reads exactly what the parser asks for, as the pre-login side
// does, reaches the same verdict as one that had every octet at once, and
// never reads past the header; every network parsed prints as text that
// parses back to itself.
//
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//          fuzz/proxy_protocol_fuzz.cpp src/prelogin/proxy_protocol.cpp \
//          src/io/networks.cpp src/io/ip_address.cpp src/result/result.cpp
#include "popper/networks.h"
#include "popper/proxy_protocol.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

void check_network_list(std::string_view text) {
    auto list = popper::parse_network_list(text);
    if (!list)
        return;
    auto again = popper::parse_network_list(list->text());
    require(again && again->text() == list->text());
    for (const auto& network : list->networks)
        require(network.contains(network.base));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (!input.empty() && input[0] == '#') {
        check_network_list(input.substr(1));
        return 0;
    }
    auto whole = popper::parse_proxy_header(input);
    // Read as the pre-login side does: only as many octets as asked for.
    size_t have = 0;
    for (;;) {
        auto step = popper::parse_proxy_header(input.substr(0, have));
        if (!step) {
            require(!whole); // a prefix that is already wrong stays wrong
            break;
        }
        if (step->header) {
            require(step->header->octets == have); // never read past the header
            require(whole && whole->header && whole->header->octets == have);
            if (step->header->version == 1)
                require(have <= popper::kProxyV1MaxOctets);
            break;
        }
        require(step->need_octets > have);
        if (step->need_octets > size) {
            // The input ends before the header would: the whole input is
            // no complete header either.
            require(!whole || !whole->header);
            break;
        }
        have = step->need_octets;
    }
    return 0;
}
