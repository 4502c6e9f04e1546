// libFuzzer entry point: arbitrary bytes as a policy file, parsed whole as
// each login does. Beyond not crashing, a parsed file must name only valid
// users (or `*`), once each, within the documented ranges, and its CAPA
// lines must be CRLF-terminated capability lines.
//
// Build: fuzz/run-fuzzers (or clang++ -std=c++20 -fsanitize=fuzzer,address,undefined
//          -Iinclude fuzz/policy_file_fuzz.cpp src/*/*.cpp -lcrypt)
#include "popper/user_policy.h"
#include "popper/users_file.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto file = popper::parse_policy_file(text, "fuzz");
    if (!file)
        return 0;
    for (size_t i = 0; i < file->lines.size(); ++i) {
        const auto& line = file->lines[i];
        require(line.name == "*" || popper::is_valid_user_name(line.name));
        for (size_t j = 0; j < i; ++j)
            require(file->lines[j].name != line.name);
        const popper::UserPolicy policy = file->policy_for(line.name);
        require(policy.login_delay_s <= popper::kMaxLoginDelayS);
        require(!policy.expire_days || *policy.expire_days <= popper::kMaxExpireDays);
        (void)policy.admits("192.0.2.1");
        (void)policy.admits("2001:db8::1");
        const std::string capa = popper::policy_capability_lines(policy, true, true);
        require(capa.size() >= 2 && capa.substr(capa.size() - 2) == "\r\n");
        require(capa.find('\0') == std::string::npos);
    }
    return 0;
}
