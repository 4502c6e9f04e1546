// Bounded polling: every wait in the tests ends, so a hang fails a test
// instead of blocking ctest.
#pragma once

#include <chrono>
#include <thread>

namespace popper::test {

using namespace std::chrono_literals;

// Long enough for a loaded CI machine, short enough to fail fast.
inline constexpr std::chrono::milliseconds kDefaultWait = 10s;
inline constexpr std::chrono::milliseconds kPollInterval = 5ms;

// Calls `done` until it returns true or `timeout` passes; returns its last answer.
template <class Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds timeout = kDefaultWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(kPollInterval);
    }
}

} // namespace popper::test
