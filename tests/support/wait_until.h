// Bounded polling: every wait in the tests ends, so a hang fails a test
// instead of blocking ctest.
#pragma once

#include <chrono>
#include <cstdlib>
#include <thread>

namespace popper::test {

using namespace std::chrono_literals;

// `base` times POPPER_TEST_TIME_SCALE (a number, default 1; values below 1
// are taken as 1), for a machine slower or busier than the defaults allow
// for. Every bound on a wait in the tests goes through it. A wait ends as
// soon as what it waits for happens, so a generous bound costs a passing test
// nothing: only a failure takes longer to report.
inline std::chrono::milliseconds scaled_wait(std::chrono::milliseconds base) {
    const char* text = std::getenv("POPPER_TEST_TIME_SCALE");
    const double scale = text ? std::strtod(text, nullptr) : 1.0;
    if (!(scale > 1.0))
        return base;
    return std::chrono::milliseconds(
        static_cast<std::chrono::milliseconds::rep>(static_cast<double>(base.count()) * scale));
}

// Generous for a busy 2-core machine (a login there can take several times
// as long as alone), and still well inside ctest's limit for a test.
inline const std::chrono::milliseconds kDefaultWait = scaled_wait(30s);
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
