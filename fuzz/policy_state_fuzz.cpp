// libFuzzer entry point: arbitrary bytes as drop_dir/USER.state, which the
// user owns and so may have written. Beyond not crashing, a parsed state
// must hold only what its format allows and read back from its own text.
//
// Build: fuzz/run-fuzzers (or clang++ -std=c++20 -fsanitize=fuzzer,address,undefined
//          -Iinclude fuzz/policy_state_fuzz.cpp src/*/*.cpp -lcrypt)
#include "popper/policy_state.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto state = popper::parse_policy_state({reinterpret_cast<const char*>(data), size});
    if (!state)
        return 0;
    require(!state->last_login_s || *state->last_login_s >= 0);
    for (const auto& [uidl, time] : state->first_retrieved) {
        require(time >= 0);
        require(!uidl.empty() && uidl.size() <= popper::kMaxUidlOctets);
        for (char c : uidl)
            require(c > ' ' && c < 0x7f);
    }
    require(popper::parse_policy_state(popper::format_policy_state(*state)) == *state);
    return 0;
}
