// HMAC-MD5 (RFC 2104), for CRAM-MD5 (RFC 2195). Checked against RFC 2202 §2.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace popper {

// HMAC-MD5 of `message` under `key`; a key longer than MD5's 64-octet block
// is first hashed, as RFC 2104 §2 says.
std::array<uint8_t, 16> hmac_md5(std::string_view key, std::string_view message);
// The same as 32 lowercase hex digits.
std::string hmac_md5_hex(std::string_view key, std::string_view message);

// Whether a client's `given` digest (32 hex digits, either case: RFC 1939 and
// RFC 2195 ask for lowercase, some clients send uppercase) equals `expected`
// (lowercase hex, as md5_hex and hmac_md5_hex give it). Constant-time in the
// digits, for APOP and CRAM-MD5.
bool hex_digest_matches(std::string_view expected, std::string_view given);

} // namespace popper
