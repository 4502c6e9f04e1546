// Comparing secrets without leaking, through timing, where they first differ.
#include "popper/users_file.h"

namespace popper {

bool constant_time_equals(std::string_view a, std::string_view b) {
    // The lengths are public (a crypt string's length follows from its scheme);
    // the bytes are not, so every byte of the longer one is visited.
    const size_t n = a.size() > b.size() ? a.size() : b.size();
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
        const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
        diff |= static_cast<unsigned>(x ^ y);
    }
    // volatile keeps the compiler from turning the loop into an early exit.
    volatile unsigned result = diff;
    return result == 0;
}

} // namespace popper
