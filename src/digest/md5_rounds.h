// The MD5 compression function (RFC 1321 §3.4), written once for any word
// type that has uint32_t's operators: uint32_t for one message (md5.cpp),
// a vector of uint32_t lanes for several at a time (md5_lanes.cpp). The
// round constants are the T[i] = floor(abs(sin(i)) * 2^32) table of §3.4.
#pragma once

#include <cstdint>

namespace popper::md5_detail {

inline constexpr uint32_t kSine[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

// Per-round left-rotation amounts (RFC 1321 §3.4, S11..S44).
inline constexpr int kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                   5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                   4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                   6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

// The initial state (RFC 1321 §3.3, words A, B, C, D).
inline constexpr uint32_t kInitialState[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

inline uint32_t load_le32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

inline void store_le32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v >> 16);
    p[3] = static_cast<uint8_t>(v >> 24);
}

// One MD5 operation (§3.4): a = b + ((a + f + X[k] + T[i]) <<< s), then the
// roles of a, b, c, d rotate. The loops are unrolled, which turns the
// rotation into register renaming and the table look-ups into constants.
template <class Word>
[[gnu::always_inline]] inline void md5_step(Word& a, Word& b, Word& c, Word& d, const Word& f,
                                            const Word& word, int i) {
    Word sum = a + f + kSine[i] + word;
    a = d;
    d = c;
    c = b;
    b = b + ((sum << kShift[i]) | (sum >> (32 - kShift[i])));
}

// Adds the compression of the 16 words `x` to `state`. Always inlined, so
// that its caller's target (SSE2, AVX2) decides the instructions.
template <class Word>
[[gnu::always_inline]] inline void md5_compress(Word (&state)[4], const Word (&x)[16]) {
    Word a = state[0], b = state[1], c = state[2], d = state[3];
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
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

} // namespace popper::md5_detail
