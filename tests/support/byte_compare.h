// Comparing large byte strings (a 10 MB message, a whole spool) without
// gtest printing a diff of megabytes: the sizes, the first differing offset
// and a short excerpt of each side around it.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

namespace popper::test {

::testing::AssertionResult same_bytes(std::string_view expected, std::string_view actual);

} // namespace popper::test
