// What every bench tool shares: "--name value" flags after a mode word, fatal
// errors, a monotonic clock, and the machine-readable result line
//
//   bench name=ROW server=SERVER value=NUMBER unit=UNIT [key=value...]
//
// that bench/run collects (one line per measurement, on stdout).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

namespace bench {

// A failed check or a broken peer: the tool prints it and exits 1, so the
// harness (and the ctest smoke test) fails instead of printing a number.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Flags {
public:
    // argv[first..] as "--name value" or a bare "--name" (value "1").
    Flags(int argc, char** argv, int first) {
        for (int i = first; i < argc; ++i) {
            std::string key = argv[i];
            if (key.rfind("--", 0) != 0)
                throw Failure("unexpected argument: " + key);
            key.erase(0, 2);
            bool has_value = i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0;
            values_[key] = has_value ? argv[++i] : "1";
        }
    }
    bool has(const std::string& key) const { return values_.count(key) != 0; }
    std::string text(const std::string& key, const std::string& fallback = "") const {
        auto it = values_.find(key);
        return it == values_.end() ? fallback : it->second;
    }
    std::string required(const std::string& key) const {
        if (!has(key))
            throw Failure("missing --" + key);
        return text(key);
    }
    long long integer(const std::string& key, long long fallback) const {
        return has(key) ? std::stoll(text(key)) : fallback;
    }
    double real(const std::string& key, double fallback) const {
        return has(key) ? std::stod(text(key)) : fallback;
    }

private:
    std::map<std::string, std::string> values_;
};

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// One result line; `extra` is appended verbatim ("key=value ...").
inline void print_result(const std::string& name, const std::string& server, double value,
                         const std::string& unit, const std::string& extra = "") {
    std::printf("bench name=%s server=%s value=%.6g unit=%s%s%s\n", name.c_str(), server.c_str(),
                value, unit.c_str(), extra.empty() ? "" : " ", extra.c_str());
    std::fflush(stdout);
}

} // namespace bench
