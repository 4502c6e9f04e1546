// MD5 (RFC 1321), for UIDLs and APOP digests. Not for anything secret.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace popper {

class Md5 {
public:
    Md5();
    void update(std::string_view data);
    // Returns the digest of everything updated so far and resets the object.
    std::array<uint8_t, 16> finish();

private:
    void block(const uint8_t* p);
    uint32_t state_[4];
    uint64_t length_ = 0;
    uint8_t buffer_[64];
    size_t buffered_ = 0;
};

// digests[i] = the MD5 of inputs[i], for each i (digests is at least as long
// as inputs). Up to 16 inputs are hashed side by side in SIMD lanes, with
// AVX2 where the CPU has it, else SSE2 (POPPER_NO_AVX2 in the environment
// keeps to SSE2); one at a time on other CPUs. MD5 of one input is a chain of dependent
// additions that leaves most of a core idle; a few chains at once fill it,
// which is what the indexer does with the short header digests of many
// messages (src/mbox/header_digest.cpp).
void md5_each(std::span<const std::string_view> inputs, std::span<std::array<uint8_t, 16>> digests);

// 32 lowercase hex digits of the MD5 of `data`.
std::string md5_hex(std::string_view data);
// Lowercase hex, two digits per byte.
std::string to_hex(const uint8_t* data, size_t len);

} // namespace popper
