// Base64 for SASL: encode, and a strict decoder with no repair of bad input.
#include "popper/base64.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace popper {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> make_decode_table() {
    std::array<uint8_t, 256> table{};
    for (auto& entry : table)
        entry = kInvalid;
    for (uint8_t i = 0; i < 64; ++i)
        table[static_cast<unsigned char>(kAlphabet[i])] = i;
    return table;
}

constexpr std::array<uint8_t, 256> kDecode = make_decode_table();

// The octets decoded so far may be part of a password: wipe them before the
// error is returned.
Error malformed(std::string& partial, const char* why) {
    explicit_bzero(partial.data(), partial.size());
    return Error::because("base64", "", why);
}

} // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve(base64_encoded_size(bytes.size()));
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                           static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    const size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2)
            v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

Result<std::string> base64_decode(std::string_view text) {
    std::string out;
    if (text.size() % 4 != 0)
        return malformed(out, "length is not a multiple of 4");
    size_t padding = 0;
    if (!text.empty() && text.back() == '=')
        padding = text[text.size() - 2] == '=' ? 2 : 1;

    out.reserve(base64_decoded_max(text.size()));
    const size_t data_octets = text.size() - padding;
    uint32_t bits = 0;
    for (size_t i = 0; i < data_octets; ++i) {
        const uint8_t v = kDecode[static_cast<unsigned char>(text[i])];
        if (v == kInvalid)
            return malformed(out, text[i] == '=' ? "padding before the end" : "invalid character");
        bits = bits << 6 | v;
        if (i % 4 == 3) {
            out += static_cast<char>(bits >> 16);
            out += static_cast<char>((bits >> 8) & 0xff);
            out += static_cast<char>(bits & 0xff);
            bits = 0;
        }
    }
    // RFC 4648 §3.5: the bits padding leaves over must be zero, else two texts
    // would decode alike.
    if (padding == 2) {
        if ((bits & 0x0f) != 0)
            return malformed(out, "non-zero bits before padding");
        out += static_cast<char>(bits >> 4);
    } else if (padding == 1) {
        if ((bits & 0x03) != 0)
            return malformed(out, "non-zero bits before padding");
        out += static_cast<char>(bits >> 10);
        out += static_cast<char>((bits >> 2) & 0xff);
    }
    return out;
}

} // namespace popper
