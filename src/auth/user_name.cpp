// Which user names may reach a path or a log line at all.
#include "popper/users_file.h"

namespace popper {

namespace {

bool is_name_octet(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '@' || c == '+' || c == '-';
}

} // namespace

bool is_valid_user_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxUserNameOctets)
        return false;
    // A leading '.' could make "." or ".."; a leading '-' could be read as an option.
    if (name.front() == '.' || name.front() == '-')
        return false;
    for (char c : name) {
        if (!is_name_octet(c))
            return false;
    }
    return true;
}

} // namespace popper
