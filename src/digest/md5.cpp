// MD5 as specified by RFC 1321 (§3.1-3.5); the round constants are the
// T[i] = floor(abs(sin(i)) * 2^32) table of §3.4.
#include "popper/md5.h"

#include <algorithm>
#include <cstring>

namespace popper {
namespace {

constexpr uint32_t kSine[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

// Per-round left-rotation amounts (RFC 1321 §3.4, S11..S44).
constexpr int kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                            5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                            4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                            6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

uint32_t rotate_left(uint32_t x, int n) {
    return (x << n) | (x >> (32 - n));
}

uint32_t load_le32(const uint8_t *p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void store_le32(uint8_t *p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v >> 16);
    p[3] = static_cast<uint8_t>(v >> 24);
}

// One MD5 operation (RFC 1321 §3.4): a = b + ((a + f + X[k] + T[i]) <<< s),
// then the roles of a, b, c, d rotate. The loops are unrolled, which turns
// the rotation into register renaming.
void md5_step(uint32_t &a, uint32_t &b, uint32_t &c, uint32_t &d, uint32_t f, uint32_t word,
              int i) {
    uint32_t sum = a + f + kSine[i] + word;
    a = d;
    d = c;
    c = b;
    b = b + rotate_left(sum, kShift[i]);
}

} // namespace

Md5::Md5() : state_{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}, buffer_{} {}

void Md5::block(const uint8_t *p) {
    uint32_t x[16];
    for (int i = 0; i < 16; ++i)
        x[i] = load_le32(p + 4 * i);
    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) // F = (b & c) | (~b & d), in fewer operations
        md5_step(a, b, c, d, d ^ (b & (c ^ d)), x[i], i);
#pragma GCC unroll 16
    for (int i = 16; i < 32; ++i) // G = (b & d) | (c & ~d), likewise
        md5_step(a, b, c, d, c ^ (d & (b ^ c)), x[(5 * i + 1) % 16], i);
#pragma GCC unroll 16
    for (int i = 32; i < 48; ++i) // H
        md5_step(a, b, c, d, b ^ c ^ d, x[(3 * i + 5) % 16], i);
#pragma GCC unroll 16
    for (int i = 48; i < 64; ++i) // I
        md5_step(a, b, c, d, c ^ (b | ~d), x[(7 * i) % 16], i);
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
}

void Md5::update(std::string_view data) {
    const auto *p = reinterpret_cast<const uint8_t *>(data.data());
    size_t n = data.size();
    length_ += n;
    if (buffered_ > 0) {
        size_t take = std::min(n, sizeof buffer_ - buffered_);
        std::memcpy(buffer_ + buffered_, p, take);
        buffered_ += take;
        p += take;
        n -= take;
        if (buffered_ < sizeof buffer_)
            return;
        block(buffer_);
        buffered_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        block(p);
    if (n > 0)
        std::memcpy(buffer_, p, n);
    buffered_ = n;
}

std::array<uint8_t, 16> Md5::finish() {
    // RFC 1321 §3.1-3.2: a 1 bit, zeros to 56 mod 64, then the bit length.
    uint64_t bits = length_ * 8;
    static constexpr uint8_t kPadding[64] = {0x80};
    size_t pad = buffered_ < 56 ? 56 - buffered_ : 120 - buffered_;
    update(std::string_view(reinterpret_cast<const char *>(kPadding), pad));
    uint8_t length_le[8];
    for (int i = 0; i < 8; ++i)
        length_le[i] = static_cast<uint8_t>(bits >> (8 * i));
    update(std::string_view(reinterpret_cast<const char *>(length_le), sizeof length_le));
    std::array<uint8_t, 16> digest;
    for (int i = 0; i < 4; ++i)
        store_le32(digest.data() + 4 * i, state_[i]);
    *this = Md5();
    return digest;
}

std::string md5_hex(std::string_view data) {
    Md5 md5;
    md5.update(data);
    auto digest = md5.finish();
    return to_hex(digest.data(), digest.size());
}

std::string to_hex(const uint8_t *data, size_t len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex(2 * len, '\0');
    for (size_t i = 0; i < len; ++i) {
        hex[2 * i] = kDigits[data[i] >> 4];
        hex[2 * i + 1] = kDigits[data[i] & 0xf];
    }
    return hex;
}

} // namespace popper
