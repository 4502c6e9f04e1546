// The indexer's bulk path through message bodies. A body line matters to the
// index only by its POP3 octets (its length, +1 for an LF stored without CR,
// -1 if it matches ^>+From ) and by whether it is the empty line of a
// separator (an empty line followed by "From "); so instead of one call per
// line, the lines of a buffer are counted 64 octets at a time (LFs, CRLFs
// and line starts with '>' or 'F' found with SIMD compares), and only those
// line starts are looked at one by one.
#pragma once

#include <cstddef>
#include <cstdint>

namespace popper {

// Octets that must be readable after `limit`: whether the line at `limit`
// begins "From " decides whether the line before it is a separator's.
inline constexpr size_t kBodyScanLookahead = 5;
// Octets past the data that the block loads may read (never use).
inline constexpr size_t kBodyScanPadding = 64;

struct BodyRun {
    uint64_t pop_octets = 0; // of the lines taken, as pop_line_octets() sums them
    size_t end = 0;          // one past the last line taken
};

// Takes the lines of buf[begin, limit), which are whole lines (buf[limit - 1]
// is an LF) of a message body, up to the first empty line that is followed
// by "From " (which, with the rest, is left to the line-by-line path).
// buf[begin - 1] must be readable and '\n' (the end of the line before, or a
// stand-in); buf[limit, limit + kBodyScanLookahead) must be data and up to
// kBodyScanPadding octets after that readable.
BodyRun scan_body_lines(const char* buf, size_t begin, size_t limit);

} // namespace popper
