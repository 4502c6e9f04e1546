// 64 octets at a time: the SIMD primitive shared by the wire encoder (line
// ends to convert) and the mbox indexer (line ends and line starts to count).
// SSE2 is the x86-64 baseline, so every x86-64 build has it; other targets
// use the scalar loop, which gives the same masks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace popper {

inline constexpr size_t kOctetBlockOctets = 64;

// Bit i of a mask is octet i of the block.
class OctetBlock {
public:
    // The 64 octets at `p`, which need not be aligned.
    static OctetBlock load(const char* p) {
        OctetBlock b;
#ifdef __SSE2__
        for (int i = 0; i < 4; ++i)
            b.v_[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p) + i);
#else
        std::memcpy(b.octets_, p, kOctetBlockOctets);
#endif
        return b;
    }

    void store(char* out) const {
#ifdef __SSE2__
        for (int i = 0; i < 4; ++i)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out) + i, v_[i]);
#else
        std::memcpy(out, octets_, kOctetBlockOctets);
#endif
    }

    // Which octets equal `c`.
    uint64_t mask_of(char c) const {
#ifdef __SSE2__
        const __m128i want = _mm_set1_epi8(c);
        uint64_t mask = 0;
        for (int i = 0; i < 4; ++i) {
            auto bits = static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v_[i], want)));
            mask |= static_cast<uint64_t>(bits) << (16 * i);
        }
        return mask;
#else
        uint64_t mask = 0;
        for (size_t i = 0; i < kOctetBlockOctets; ++i)
            mask |= static_cast<uint64_t>(octets_[i] == c) << i;
        return mask;
#endif
    }

#ifdef __SSE2__
    __m128i vector(int i) const {
        return v_[i];
    }

private:
    __m128i v_[4];
#else
private:
    char octets_[kOctetBlockOctets];
#endif
};

// The lowest `n` bits (n <= 64).
inline uint64_t low_bits(size_t n) {
    return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
}

} // namespace popper
