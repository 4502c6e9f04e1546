// MD5 as specified by RFC 1321 (§3.1-3.5), one message at a time; the
// compression function is md5_rounds.h.
#include "popper/md5.h"

#include "md5_rounds.h"

#include <algorithm>
#include <cstring>

namespace popper {
using md5_detail::load_le32;
using md5_detail::store_le32;

Md5::Md5()
    : state_{md5_detail::kInitialState[0], md5_detail::kInitialState[1],
             md5_detail::kInitialState[2], md5_detail::kInitialState[3]},
      buffer_{} {}

void Md5::block(const uint8_t* p) {
    uint32_t x[16];
    for (int i = 0; i < 16; ++i)
        x[i] = load_le32(p + 4 * i);
    md5_detail::md5_compress(state_, x);
}

void Md5::update(std::string_view data) {
    const auto* p = reinterpret_cast<const uint8_t*>(data.data());
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
    update(std::string_view(reinterpret_cast<const char*>(kPadding), pad));
    uint8_t length_le[8];
    for (int i = 0; i < 8; ++i)
        length_le[i] = static_cast<uint8_t>(bits >> (8 * i));
    update(std::string_view(reinterpret_cast<const char*>(length_le), sizeof length_le));
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

std::string to_hex(const uint8_t* data, size_t len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex(2 * len, '\0');
    for (size_t i = 0; i < len; ++i) {
        hex[2 * i] = kDigits[data[i] >> 4];
        hex[2 * i + 1] = kDigits[data[i] & 0xf];
    }
    return hex;
}

} // namespace popper
