#include "support/byte_compare.h"

#include <algorithm>
#include <string>

namespace popper::test {

namespace {

// Octets shown on each side of the first difference.
constexpr size_t kExcerptOctets = 40;

std::string excerpt(std::string_view bytes, size_t at) {
    size_t from = at > kExcerptOctets ? at - kExcerptOctets : 0;
    std::string shown;
    for (char c : bytes.substr(from, 2 * kExcerptOctets)) {
        if (c == '\r') {
            shown += "\\r";
        } else if (c == '\n') {
            shown += "\\n";
        } else {
            shown += c;
        }
    }
    return "\"" + shown + "\"";
}

} // namespace

::testing::AssertionResult same_bytes(std::string_view expected, std::string_view actual) {
    if (expected == actual)
        return ::testing::AssertionSuccess();
    size_t common = std::min(expected.size(), actual.size());
    size_t at = static_cast<size_t>(
        std::mismatch(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(common),
                      actual.begin())
            .first -
        expected.begin());
    return ::testing::AssertionFailure() << "expected " << expected.size() << " octets, got "
                                         << actual.size() << "; first difference at octet " << at
                                         << "\n  expected near it: " << excerpt(expected, at)
                                         << "\n  actual near it:   " << excerpt(actual, at);
}

} // namespace popper::test
