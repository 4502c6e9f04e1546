// Numeric IP addresses as text, exactly as inet_ntop(3) writes them: dotted
// decimal for IPv4; for IPv6 lowercase hex groups without leading zeros, the
// first longest run of two or more zero groups as "::" (RFC 5952), and the
// IPv4-mapped and -compatible forms with a dotted tail ("::ffff:192.0.2.1").
//
// Why not inet_ntop: glibc's formats each number with sprintf, which maps
// vfprintf's code into the listener, a process that has no other use for it
// (bench/NOTES.md).
#pragma once

#include <netinet/in.h>
#include <string>

namespace popper {

std::string ip_text(const struct in_addr& address);
std::string ip_text(const struct in6_addr& address);

} // namespace popper
