// HMAC (RFC 2104 §2) over the project's MD5: H(K ^ opad, H(K ^ ipad, text)).
#include "popper/hmac_md5.h"
#include "popper/md5.h"
#include "popper/users_file.h"

#include <cstring>

namespace popper {

namespace {

constexpr size_t kBlockOctets = 64; // MD5's block size: B in RFC 2104
constexpr uint8_t kInnerPad = 0x36;
constexpr uint8_t kOuterPad = 0x5c;

std::string_view as_view(const uint8_t* bytes, size_t len) {
    return {reinterpret_cast<const char*>(bytes), len};
}

} // namespace

std::array<uint8_t, 16> hmac_md5(std::string_view key, std::string_view message) {
    // The key is a password: every copy of it is wiped before returning.
    uint8_t block[kBlockOctets] = {};
    std::array<uint8_t, 16> hashed_key{};
    if (key.size() > kBlockOctets) {
        Md5 md5;
        md5.update(key);
        hashed_key = md5.finish();
        std::memcpy(block, hashed_key.data(), hashed_key.size());
    } else {
        std::memcpy(block, key.data(), key.size());
    }

    uint8_t pad[kBlockOctets];
    for (size_t i = 0; i < kBlockOctets; ++i)
        pad[i] = block[i] ^ kInnerPad;
    Md5 inner;
    inner.update(as_view(pad, sizeof pad));
    inner.update(message);
    const std::array<uint8_t, 16> inner_digest = inner.finish();

    for (size_t i = 0; i < kBlockOctets; ++i)
        pad[i] = block[i] ^ kOuterPad;
    Md5 outer;
    outer.update(as_view(pad, sizeof pad));
    outer.update(as_view(inner_digest.data(), inner_digest.size()));

    explicit_bzero(block, sizeof block);
    explicit_bzero(pad, sizeof pad);
    explicit_bzero(hashed_key.data(), hashed_key.size());
    return outer.finish();
}

std::string hmac_md5_hex(std::string_view key, std::string_view message) {
    const std::array<uint8_t, 16> digest = hmac_md5(key, message);
    return to_hex(digest.data(), digest.size());
}

bool hex_digest_matches(std::string_view expected, std::string_view given) {
    // Lowercase the client's digits into a copy of the same length; a non-hex
    // octet becomes one that can never match (expected is lowercase hex).
    std::string lowered(given);
    for (char& c : lowered) {
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            c = 'x';
    }
    return constant_time_equals(expected, lowered);
}

} // namespace popper
