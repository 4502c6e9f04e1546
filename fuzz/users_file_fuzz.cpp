// libFuzzer entry point: arbitrary bytes as a users file, fed to
// parse_user_line line by line as find_user does. Beyond not crashing, every
// accepted entry must satisfy what the rest of the daemon relies on, and any
// line taken as a hash must yield a usable dummy crypt(3) setting.
//
// Build: clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Iinclude \
//          fuzz/users_file_fuzz.cpp src/auth/*.cpp src/io/*.cpp src/result/*.cpp \
//          src/log/*.cpp -lcrypt
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

void check_entry(const popper::UserEntry& entry) {
    require(popper::is_valid_user_name(entry.name));
    require(entry.name.find('/') == std::string::npos);
    require(!entry.uid || (*entry.uid != 0 && *entry.uid != static_cast<uid_t>(-1)));
    require(!entry.gid || (*entry.gid != 0 && *entry.gid != static_cast<gid_t>(-1)));
    require(entry.mailbox.empty() || entry.mailbox.front() == '/');
    for (const std::string* field :
         {&entry.name, &entry.hash, &entry.gecos, &entry.home, &entry.mailbox}) {
        require(field->find('\0') == std::string::npos);
        require(field->find(':') == std::string::npos);
        require(field->find('\n') == std::string::npos);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    std::string why;
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        // A hash from the file chooses the dummy setting: it must stay a setting.
        const std::string setting = popper::dummy_setting_like(line);
        require(!setting.empty() && setting.front() == '$');
        require(setting.find_first_of(std::string_view(":\n\0", 3)) == std::string::npos);
        if (auto entry = popper::parse_user_line(line, why)) {
            require(why.empty());
            check_entry(*entry);
        }
    }
    return 0;
}
