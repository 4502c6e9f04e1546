// Which optional x86 instructions this CPU runs, asked once: the SIMD loops
// (mbox body scan, MD5 lanes) are compiled for AVX2 with a target attribute
// and chosen at run time, so one binary runs on every x86-64.
#pragma once

#include <cstdlib>

namespace popper {

// POPPER_NO_AVX2 in the environment keeps to SSE2: ctest runs the tests of
// those loops a second time so (tests/CMakeLists.txt), as machines with AVX2
// would otherwise never test the SSE2 ones.
inline bool cpu_has_avx2() {
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool has =
        __builtin_cpu_supports("avx2") && std::getenv("POPPER_NO_AVX2") == nullptr;
    return has;
#else
    return false;
#endif
}

} // namespace popper
