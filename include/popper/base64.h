// Base64 (RFC 4648 §4) as SASL carries it (RFC 4422 §3, RFC 5034 §4): the
// standard alphabet, '=' padding, no line breaks. The decoder is strict, so a
// client's malformed line is an error the session answers with -ERR, never
// something quietly repaired.
#pragma once

#include "popper/result.h"

#include <string>
#include <string_view>

namespace popper {

// Encodes with padding, no line breaks. "" encodes to "".
std::string base64_encode(std::string_view bytes);

// Decodes strictly: the length must be a multiple of 4; only A-Z a-z 0-9 + /;
// '=' only as the last one or two characters of the text; the bits that
// padding leaves over must be zero (RFC 4648 §3.5), so each text has exactly
// one decoding. Whitespace, line breaks, NUL and every other octet are
// errors. "" decodes to "". Errors: op "base64", detail saying what is wrong
// (never echoing the input, which may hold a password).
Result<std::string> base64_decode(std::string_view text);

// Octets that base64_decode yields for a text of `text_octets` characters at
// most, and the text length that carries `decoded_octets` octets.
constexpr size_t base64_decoded_max(size_t text_octets) {
    return text_octets / 4 * 3;
}
constexpr size_t base64_encoded_size(size_t decoded_octets) {
    return (decoded_octets + 2) / 3 * 4;
}

} // namespace popper
