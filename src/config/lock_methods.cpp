// The lock_methods list: which of dotlock, fcntl and flock guard the spool.
#include "config_values.h"

#include <algorithm>
#include <array>

namespace popper::conf {

namespace {

struct LockMethodName {
    LockMethod method;
    std::string_view name;
};

constexpr std::array<LockMethodName, 3> kNames = {{
    {LockMethod::dotlock, "dotlock"},
    {LockMethod::fcntl, "fcntl"},
    {LockMethod::flock, "flock"},
}};

bool is_separator(char c) {
    return c == ' ' || c == '\t' || c == ',';
}

} // namespace

Result<std::vector<LockMethod>> parse_lock_methods(std::string_view text) {
    std::vector<LockMethod> methods;
    size_t pos = 0;
    while (pos < text.size()) {
        if (is_separator(text[pos])) {
            ++pos;
            continue;
        }
        size_t end = pos;
        while (end < text.size() && !is_separator(text[end]))
            ++end;
        std::string_view word = text.substr(pos, end - pos);
        pos = end;
        auto known = std::find_if(kNames.begin(), kNames.end(),
                                  [&](const LockMethodName& n) { return n.name == word; });
        if (known == kNames.end()) {
            return Error::because("", "",
                                  shown(word) + " is not a lock method (dotlock, fcntl or flock)");
        }
        if (std::find(methods.begin(), methods.end(), known->method) != methods.end()) {
            return Error::because("", "", shown(word) + " is listed twice");
        }
        methods.push_back(known->method);
    }
    if (methods.empty()) {
        return Error::because("", "", "no lock method given (dotlock, fcntl or flock)");
    }
    return methods;
}

std::string format_lock_methods(const std::vector<LockMethod>& methods) {
    std::string out;
    for (LockMethod method : methods) {
        if (!out.empty())
            out += ' ';
        out += kNames[static_cast<size_t>(method)].name;
    }
    return out;
}

} // namespace popper::conf
