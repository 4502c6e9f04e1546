// MD5 (RFC 1321), for UIDLs and APOP digests. Not for anything secret.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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
    void block(const uint8_t *p);
    uint32_t state_[4];
    uint64_t length_ = 0;
    uint8_t buffer_[64];
    size_t buffered_ = 0;
};

// 32 lowercase hex digits of the MD5 of `data`.
std::string md5_hex(std::string_view data);
// Lowercase hex, two digits per byte.
std::string to_hex(const uint8_t *data, size_t len);

} // namespace popper
