// Reading the users file at login: bounded read, line by line, first match wins.
#include "popper/users_file.h"
#include "popper/io.h"
#include "popper/log.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>

namespace popper {

namespace {

Error too_large(const std::string &path) {
    return Error::because("read", path,
                          "users file larger than " + std::to_string(kMaxUsersFileOctets >> 20) +
                              " MiB");
}

// The whole file, or an error naming it. Bounded even if the file grows while
// it is read; a FIFO or device is refused instead of blocking the login.
Result<std::string> read_users_file(const std::string &path) {
    auto fd = open_file(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (!fd)
        return fd.error();
    auto st = stat_fd(fd->get(), path);
    if (!st)
        return st.error();
    if (!S_ISREG(st->st_mode))
        return Error::because("read", path, "not a regular file");
    if (static_cast<uint64_t>(st->st_size) > kMaxUsersFileOctets)
        return too_large(path);

    std::string text(static_cast<size_t>(st->st_size) + 1, '\0');
    size_t used = 0;
    for (;;) {
        if (used == text.size()) {
            if (used > kMaxUsersFileOctets)
                return too_large(path);
            text.resize(std::min(used * 2 + 4096, kMaxUsersFileOctets + 1));
        }
        auto n = read_some(fd->get(), text.data() + used, text.size() - used, path);
        if (!n)
            return n.error();
        if (*n == 0)
            break;
        used += *n;
    }
    if (used > kMaxUsersFileOctets)
        return too_large(path);
    text.resize(used);
    return text;
}

// Logs "users file PATH:LINE: WHY", at most kMaxUsersFileWarningsPerRead times.
class MalformedLineLog {
public:
    explicit MalformedLineLog(const std::string &path) : path_(path) {}
    void warn(size_t line_number, const std::string &why) {
        if (++count_ <= kMaxUsersFileWarningsPerRead)
            log_warning("users file " + path_ + ":" + std::to_string(line_number) + ": " + why);
    }
    void finish() const {
        if (count_ > kMaxUsersFileWarningsPerRead)
            log_warning("users file " + path_ + ": " +
                        std::to_string(count_ - kMaxUsersFileWarningsPerRead) +
                        " more malformed lines not shown");
    }

private:
    const std::string &path_;
    size_t count_ = 0;
};

} // namespace

Result<UserLookup> lookup_user(const std::string &users_file, std::string_view name) {
    auto text = read_users_file(users_file);
    if (!text)
        return text.error();

    UserLookup found;
    MalformedLineLog malformed(users_file);
    std::string_view rest = *text;
    size_t line_number = 0;
    std::string why;
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        ++line_number;

        auto entry = parse_user_line(line, why);
        if (!entry) {
            if (!why.empty())
                malformed.warn(line_number, why);
            continue;
        }
        if (found.scheme_like.empty() && !entry->hash.empty() && !entry->disabled())
            found.scheme_like = entry->hash;
        // First match wins; keep scanning so timing does not reveal the position.
        if (!found.entry && entry->name == name)
            found.entry = std::move(*entry);
    }
    malformed.finish();
    return found;
}

Result<std::optional<UserEntry>> find_user(const std::string &users_file, std::string_view name) {
    auto found = lookup_user(users_file, name);
    if (!found)
        return found.error();
    return std::move(found->entry);
}

} // namespace popper
