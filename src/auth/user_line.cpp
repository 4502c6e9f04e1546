// One line of the users file: name:hash:uid:gid:gecos:home:mailbox.
#include "popper/users_file.h"

#include <array>
#include <limits>

namespace popper {

namespace {

constexpr size_t kMinFields = 2; // name:hash; the rest may be omitted
constexpr size_t kMaxFields = 7; // name:hash:uid:gid:gecos:home:mailbox

// (uid_t)-1 means "leave unchanged" to setresuid(2)/setresgid(2): never an id.
constexpr uint64_t kMaxId = std::numeric_limits<uid_t>::max() - 1;
static_assert(std::numeric_limits<uid_t>::max() == std::numeric_limits<gid_t>::max());

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t") == std::string_view::npos;
}

bool is_comment(std::string_view line) {
    auto first = line.find_first_not_of(" \t");
    return first != std::string_view::npos && line[first] == '#';
}

// Splits on ':' into at most kMaxFields + 1 pieces (the extra one only to
// notice that there are too many). Returns the number of fields found.
size_t split_fields(std::string_view line, std::array<std::string_view, kMaxFields + 1>& fields) {
    size_t count = 0;
    for (;;) {
        auto colon = line.find(':');
        if (count == kMaxFields || colon == std::string_view::npos) {
            fields[count++] = line;
            return count;
        }
        fields[count++] = line.substr(0, colon);
        line.remove_prefix(colon + 1);
    }
}

// An empty field is "not given"; otherwise decimal digits only, in 1..kMaxId.
// `what` is "uid" or "gid".
bool parse_id(std::string_view text, const char* what, std::optional<uint64_t>& out,
              std::string& why) {
    out.reset();
    if (text.empty())
        return true;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            why = std::string(what) + " is not a decimal number";
            return false;
        }
        value = value * 10 + static_cast<uint64_t>(c - '0');
        if (value > kMaxId) {
            why = std::string(what) + " out of range";
            return false;
        }
    }
    if (value == 0) {
        why = std::string(what) + " 0 (root) may not own a mailbox";
        return false;
    }
    out = value;
    return true;
}

} // namespace

std::optional<UserEntry> parse_user_line(std::string_view line, std::string& why) {
    why.clear();
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (line.size() > kMaxUserLineOctets) {
        why = "line longer than " + std::to_string(kMaxUserLineOctets) + " octets";
        return std::nullopt;
    }
    if (is_blank(line) || is_comment(line))
        return std::nullopt;
    // crypt(3) and paths are C strings: a NUL would silently cut a field short.
    if (line.find('\0') != std::string_view::npos) {
        why = "NUL byte in line";
        return std::nullopt;
    }

    std::array<std::string_view, kMaxFields + 1> f{};
    const size_t count = split_fields(line, f);
    if (count < kMinFields) {
        why = "too few fields (want name:hash[:uid:gid:gecos:home:mailbox])";
        return std::nullopt;
    }
    if (count > kMaxFields) {
        why = "too many fields (want name:hash:uid:gid:gecos:home:mailbox)";
        return std::nullopt;
    }
    if (!is_valid_user_name(f[0])) {
        why = "invalid user name (want 1.." + std::to_string(kMaxUserNameOctets) +
              " of A-Z a-z 0-9 . _ @ + -, not starting with . or -)";
        return std::nullopt;
    }
    std::optional<uint64_t> uid;
    std::optional<uint64_t> gid;
    if (!parse_id(f[2], "uid", uid, why) || !parse_id(f[3], "gid", gid, why))
        return std::nullopt;
    const std::string_view mailbox = f[6];
    if (!mailbox.empty() && mailbox.front() != '/') {
        why = "mailbox is not an absolute path";
        return std::nullopt;
    }

    UserEntry entry;
    entry.name = f[0];
    entry.hash = f[1];
    if (uid)
        entry.uid = static_cast<uid_t>(*uid);
    if (gid)
        entry.gid = static_cast<gid_t>(*gid);
    entry.gecos = f[4];
    entry.home = f[5];
    entry.mailbox = mailbox;
    return entry;
}

} // namespace popper
