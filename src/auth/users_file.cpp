// Reading the users file at login: bounded read, line by line, first match wins.
#include "popper/users_file.h"
#include "popper/io.h"
#include "popper/log.h"
#include "popper/users_file_edit.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>

namespace popper {

namespace {

// The whole file, or an error naming it. Bounded even if the file grows while
// it is read; a FIFO or device is refused instead of blocking the login.
Result<std::string> read_users_file(const std::string& path) {
    auto file = read_text_file(path, kMaxUsersFileOctets, true);
    if (!file)
        return file.error();
    return std::move(file->text);
}

} // namespace

Result<UserLookup> lookup_user(const std::string& users_file, std::string_view name) {
    auto text = read_users_file(users_file);
    if (!text)
        return text.error();

    UserLookup found;
    for_each_entry(*text, "users file", users_file, parse_user_line, [&](UserEntry& entry) {
        if (found.scheme_like.empty() && !entry.hash.empty() && !entry.disabled())
            found.scheme_like = entry.hash;
        // First match wins.
        if (!found.entry && entry.name == name)
            found.entry = std::move(entry);
    });
    return found;
}

Result<std::optional<UserEntry>> find_user(const std::string& users_file, std::string_view name) {
    auto found = lookup_user(users_file, name);
    if (!found)
        return found.error();
    return std::move(found->entry);
}

void MalformedLineLog::warn(size_t line_number, const std::string& why) {
    if (++count_ <= kMaxUsersFileWarningsPerRead)
        log_warning(label_ + " " + path_ + ":" + std::to_string(line_number) + ": " + why);
}

void MalformedLineLog::finish() const {
    if (count_ > kMaxUsersFileWarningsPerRead)
        log_warning(label_ + " " + path_ + ": " +
                    std::to_string(count_ - kMaxUsersFileWarningsPerRead) +
                    " more malformed lines not shown");
}

} // namespace popper
