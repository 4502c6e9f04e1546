// md5_each (md5.h): MD5 of several inputs side by side, one per SIMD lane.
//
// The compression function of md5_rounds.h runs on vectors of uint32_t
// (GCC/Clang vector extensions), lane l holding a word of the input in lane
// l. Each lane walks its input's blocks, then its padded tail of 1 or 2
// blocks (RFC 1321 §3.1-3.2), then takes the next input not yet started;
// lanes left without one hash a block of zeros and are ignored. Inputs of
// unequal length so keep every lane busy until the last few.
#include "popper/cpu_features.h"
#include "popper/md5.h"

#include "md5_rounds.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace popper {
namespace {

using md5_detail::kInitialState;
using md5_detail::load_le32;
using md5_detail::store_le32;
using Digest = std::array<uint8_t, 16>;

void md5_one_by_one(std::span<const std::string_view> inputs, std::span<Digest> digests) {
    Md5 md5;
    for (size_t i = 0; i < inputs.size(); ++i) {
        md5.update(inputs[i]);
        digests[i] = md5.finish();
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define POPPER_MD5_LANES 1

constexpr size_t kBlockOctets = 64;

// One lane's input: its whole blocks in place, the rest copied into `tail`
// with the padding and the bit length.
struct LaneInput {
    const uint8_t* data = nullptr;
    size_t whole_blocks = 0;
    size_t blocks = 0; // whole blocks + 1 or 2 tail blocks; 0: the lane is idle
    size_t next_block = 0;
    size_t input = 0; // its index in md5_each's inputs
    uint8_t tail[2 * kBlockOctets];

    void start(std::string_view bytes, size_t index) {
        data = reinterpret_cast<const uint8_t*>(bytes.data());
        whole_blocks = bytes.size() / kBlockOctets;
        size_t rest = bytes.size() % kBlockOctets;
        size_t tail_octets = rest < 56 ? kBlockOctets : 2 * kBlockOctets;
        std::memset(tail, 0, sizeof tail);
        if (rest > 0)
            std::memcpy(tail, data + whole_blocks * kBlockOctets, rest);
        tail[rest] = 0x80;
        uint64_t bits = static_cast<uint64_t>(bytes.size()) * 8;
        for (size_t i = 0; i < 8; ++i)
            tail[tail_octets - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
        blocks = whole_blocks + tail_octets / kBlockOctets;
        next_block = 0;
        input = index;
    }

    const uint8_t* block() const {
        static constexpr uint8_t kIdleBlock[kBlockOctets] = {};
        if (next_block >= blocks)
            return kIdleBlock;
        if (next_block < whole_blocks)
            return data + next_block * kBlockOctets;
        return tail + (next_block - whole_blocks) * kBlockOctets;
    }
};

// The lane scheduler, for a vector type of Lanes uint32_t. Always inlined,
// so that the vector code is compiled for the caller's target.
template <class Vector, size_t Lanes>
[[gnu::always_inline]] inline void md5_lanes(std::span<const std::string_view> inputs,
                                             std::span<Digest> digests) {
    static_assert(sizeof(Vector) == Lanes * sizeof(uint32_t));
    LaneInput lanes[Lanes];
    alignas(sizeof(Vector)) uint32_t state[4][Lanes];
    alignas(sizeof(Vector)) uint32_t words[16][Lanes];
    size_t started = 0, busy = 0;
    auto start_next = [&](size_t lane) {
        lanes[lane].blocks = 0;
        if (started == inputs.size())
            return;
        lanes[lane].start(inputs[started], started);
        ++started;
        ++busy;
        for (size_t j = 0; j < 4; ++j)
            state[j][lane] = kInitialState[j];
    };
    for (size_t lane = 0; lane < Lanes; ++lane)
        start_next(lane);
    while (busy > 0) {
        for (size_t lane = 0; lane < Lanes; ++lane) {
            const uint8_t* block = lanes[lane].block();
            for (size_t k = 0; k < 16; ++k)
                words[k][lane] = load_le32(block + 4 * k);
        }
        Vector s[4], x[16];
        std::memcpy(s, state, sizeof s);
        std::memcpy(x, words, sizeof x);
        md5_detail::md5_compress(s, x);
        std::memcpy(state, s, sizeof s);
        for (size_t lane = 0; lane < Lanes; ++lane) {
            LaneInput& in = lanes[lane];
            if (in.blocks == 0 || ++in.next_block < in.blocks)
                continue;
            Digest& digest = digests[in.input];
            for (size_t j = 0; j < 4; ++j)
                store_le32(digest.data() + 4 * j, state[j][lane]);
            --busy;
            start_next(lane);
        }
    }
}

// 16 lanes, in 4 SSE2 or 2 AVX2 registers per word: the steps of one
// register depend on each other, so interleaving independent ones hides
// their latency. 16 is the fastest on SSE2 and close to AVX2's best
// (bench/NOTES.md).
typedef uint32_t U32x16 __attribute__((vector_size(64)));
constexpr size_t kLanes = 16;

// SSE2 is part of x86-64.
void md5_sse2(std::span<const std::string_view> inputs, std::span<Digest> digests) {
    md5_lanes<U32x16, kLanes>(inputs, digests);
}

__attribute__((target("avx2"))) void md5_avx2(std::span<const std::string_view> inputs,
                                              std::span<Digest> digests) {
    md5_lanes<U32x16, kLanes>(inputs, digests);
}

#endif

} // namespace

void md5_each(std::span<const std::string_view> inputs, std::span<Digest> digests) {
    digests = digests.first(inputs.size());
#ifdef POPPER_MD5_LANES
    if (inputs.size() > 1) {
        if (cpu_has_avx2())
            md5_avx2(inputs, digests);
        else
            md5_sse2(inputs, digests);
        return;
    }
#endif
    md5_one_by_one(inputs, digests);
}

} // namespace popper
