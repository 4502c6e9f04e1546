// popper-passwd's edits: lines of the users file and the APOP secrets file,
// applied through edit_text_file; and new crypt(3) hashes.
#include "popper/users_file_edit.h"

#include "popper/apop.h"
#include "popper/sasl.h"

#include <crypt.h>
#include <cstring>
#include <memory>
#include <sys/random.h>
#include <vector>

namespace popper {

namespace {

constexpr mode_t kNewFileMode = 0600; // both files hold credentials

struct Line {
    std::string_view text; // without its '\n'
    bool has_newline;
};

std::vector<Line> split_lines(std::string_view text) {
    std::vector<Line> lines;
    while (!text.empty()) {
        const size_t newline = text.find('\n');
        if (newline == std::string_view::npos) {
            lines.push_back({text, false});
            break;
        }
        lines.push_back({text.substr(0, newline), true});
        text.remove_prefix(newline + 1);
    }
    return lines;
}

// Whether a line belongs to `name`: its first field is the name. Names never
// start with '#' or a blank, so comments and blank lines never match.
bool is_line_of(std::string_view line, std::string_view name) {
    return line.size() > name.size() && line.substr(0, name.size()) == name &&
           line[name.size()] == ':';
}

void append_line(std::string& out, std::string_view line, bool newline = true) {
    out.append(line);
    if (newline)
        out += '\n';
}

// `text` with `line` appended as a line of its own.
std::string with_line_appended(std::string_view text, std::string_view line) {
    std::string out(text);
    if (!out.empty() && out.back() != '\n')
        out += '\n';
    append_line(out, line);
    return out;
}

Error users_error(std::string detail) {
    return Error::because("users file", "", std::move(detail));
}

Error secrets_error(std::string detail) {
    return Error::because("apop secrets file", "", std::move(detail));
}

bool has_line_break_or_nul(std::string_view s) {
    return s.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos;
}

// The line with its hash (second field) replaced by `change(old hash)`.
using HashChange = std::function<Result<std::string>(std::string_view old_hash)>;

Result<std::string> change_hash_in_line(std::string_view line, const HashChange& change) {
    const bool cr = !line.empty() && line.back() == '\r';
    if (cr)
        line.remove_suffix(1);
    const size_t hash_start = line.find(':') + 1;
    const size_t hash_end = std::min(line.find(':', hash_start), line.size());
    auto hash = change(line.substr(hash_start, hash_end - hash_start));
    if (!hash)
        return hash.error();
    std::string out(line.substr(0, hash_start));
    out += *hash;
    out += line.substr(hash_end);
    if (cr)
        out += '\r';
    return out;
}

// Applies `change` to the hash of every line of `name`; each must be a
// well-formed line (a malformed one is for a human to fix).
Result<std::string> change_user_hash(std::string_view text, std::string_view name,
                                     const HashChange& change) {
    if (!is_valid_user_name(name))
        return users_error("invalid user name");
    std::string out;
    size_t matched = 0;
    size_t number = 0;
    std::string why;
    for (const Line& line : split_lines(text)) {
        ++number;
        if (!is_line_of(line.text, name)) {
            append_line(out, line.text, line.has_newline);
            continue;
        }
        if (!parse_user_line(line.text, why))
            return users_error("line " + std::to_string(number) + " for " + std::string(name) +
                               " is malformed (" + why + "): fix it by hand");
        auto changed = change_hash_in_line(line.text, change);
        if (!changed)
            return changed.error();
        append_line(out, *changed, line.has_newline);
        ++matched;
    }
    if (matched == 0)
        return users_error("no user " + std::string(name));
    return out;
}

bool is_disabled_hash(std::string_view hash) {
    return !hash.empty() && (hash[0] == '!' || hash[0] == '*');
}

// Every line except those of `name`; `removed` counts the others.
std::string without_lines_of(std::string_view text, std::string_view name, size_t& removed) {
    std::string out;
    removed = 0;
    for (const Line& line : split_lines(text)) {
        if (is_line_of(line.text, name))
            ++removed;
        else
            append_line(out, line.text, line.has_newline);
    }
    return out;
}

Result<std::string> random_setting() {
#ifdef CRYPT_GENSALT_IMPLEMENTS_DEFAULT_PREFIX
    // libxcrypt: no prefix = its preferred scheme and cost; no random bytes =
    // it draws them from the kernel itself (CRYPT_GENSALT_IMPLEMENTS_AUTO_ENTROPY).
    char out[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn(nullptr, 0, nullptr, 0, out, sizeof out) != nullptr && out[0] == '$')
        return std::string(out);
#endif
    // SHA-512 crypt with 16 salt characters from the kernel's random bytes.
    static constexpr char kCrypt64[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char random[16];
    if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random))
        return Error::from_errno("getrandom", "");
    std::string setting = "$6$";
    for (unsigned char byte : random)
        setting += kCrypt64[byte & 63];
    return setting + "$";
}

struct CryptScratch {
    crypt_data data{};
    ~CryptScratch() { explicit_bzero(&data, sizeof data); }
};

} // namespace

std::string format_user_line(const UserEntry& entry) {
    std::vector<std::string> fields = {
        entry.name,
        entry.hash,
        entry.uid ? std::to_string(*entry.uid) : "",
        entry.gid ? std::to_string(*entry.gid) : "",
        entry.gecos,
        entry.home,
        entry.mailbox,
    };
    while (fields.size() > 2 && fields.back().empty())
        fields.pop_back();
    std::string line;
    for (const std::string& field : fields) {
        if (!line.empty())
            line += ':';
        line += field;
    }
    return line;
}

Result<std::string> users_text_add(std::string_view text, const UserEntry& entry) {
    if (!is_valid_user_name(entry.name))
        return users_error("invalid user name (want 1.." + std::to_string(kMaxUserNameOctets) +
                           " of A-Z a-z 0-9 . _ @ + -, not starting with . or -)");
    if (entry.hash.empty() || entry.hash.find(':') != std::string::npos)
        return users_error("empty hash or ':' in hash");
    for (const std::string* field : {&entry.gecos, &entry.home, &entry.mailbox}) {
        if (field->find(':') != std::string::npos || has_line_break_or_nul(*field))
            return users_error("':', NUL or line break in a field");
    }
    const std::string line = format_user_line(entry);
    std::string why;
    auto back = parse_user_line(line, why);
    if (!back)
        return users_error(why.empty() ? "not an entry" : why);
    if (back->uid != entry.uid || back->gid != entry.gid || back->home != entry.home ||
        back->mailbox != entry.mailbox || back->gecos != entry.gecos || back->hash != entry.hash)
        return users_error("entry would not read back as given");
    for (const Line& existing : split_lines(text)) {
        if (is_line_of(existing.text, entry.name))
            return users_error("user " + entry.name + " already exists");
    }
    return with_line_appended(text, line);
}

Result<std::string> users_text_set_hash(std::string_view text, std::string_view name,
                                        std::string_view hash) {
    if (hash.empty() || is_disabled_hash(hash) || hash.find(':') != std::string_view::npos ||
        has_line_break_or_nul(hash))
        return users_error("not a usable hash");
    return change_user_hash(text, name, [&](std::string_view old) -> Result<std::string> {
        // passwd does not re-enable an account: the '!'s stay in front.
        const size_t bangs = std::min(old.find_first_not_of('!'), old.size());
        return std::string(old.substr(0, bangs)) + std::string(hash);
    });
}

Result<std::string> users_text_set_disabled(std::string_view text, std::string_view name,
                                            bool disabled) {
    return change_user_hash(text, name, [&](std::string_view old) -> Result<std::string> {
        if (disabled)
            return is_disabled_hash(old) ? std::string(old) : "!" + std::string(old);
        const size_t bangs = std::min(old.find_first_not_of('!'), old.size());
        const std::string_view hash = old.substr(bangs);
        if (hash.empty() || hash[0] == '*')
            return users_error("user " + std::string(name) +
                               " has no password to enable: set one with passwd");
        return std::string(hash);
    });
}

Result<std::string> users_text_delete(std::string_view text, std::string_view name) {
    if (!is_valid_user_name(name))
        return users_error("invalid user name");
    size_t removed = 0;
    std::string out = without_lines_of(text, name, removed);
    if (removed == 0)
        return users_error("no user " + std::string(name));
    return out;
}

Result<std::string> secrets_text_set(std::string_view text, std::string_view name,
                                     std::string_view secret) {
    const std::string line = std::string(name) + ":" + std::string(secret);
    std::string why;
    if (secret.find('\n') != std::string_view::npos || (!secret.empty() && secret.back() == '\r') ||
        !parse_apop_secret_line(line, why))
        return secrets_error(why.empty() ? "secret holds a line break" : why);
    std::string out;
    bool replaced = false;
    for (const Line& existing : split_lines(text)) {
        if (!is_line_of(existing.text, name)) {
            append_line(out, existing.text, existing.has_newline);
        } else if (!replaced) {
            append_line(out, line);
            replaced = true;
        }
    }
    return replaced ? out : with_line_appended(out, line);
}

Result<std::string> secrets_text_clear(std::string_view text, std::string_view name) {
    if (!is_valid_user_name(name))
        return secrets_error("invalid user name");
    size_t removed = 0;
    return without_lines_of(text, name, removed);
}

Status add_user(const std::string& users_file, const UserEntry& entry) {
    auto edited = edit_text_file(
        users_file, [&](const std::string& text) { return users_text_add(text, entry); },
        kNewFileMode);
    return edited ? Status() : Status(edited.error());
}

Status set_user_hash(const std::string& users_file, std::string_view name, std::string_view hash) {
    auto edited = edit_text_file(
        users_file, [&](const std::string& text) { return users_text_set_hash(text, name, hash); });
    return edited ? Status() : Status(edited.error());
}

Result<bool> set_user_disabled(const std::string& users_file, std::string_view name,
                               bool disabled) {
    return edit_text_file(users_file, [&](const std::string& text) {
        return users_text_set_disabled(text, name, disabled);
    });
}

Status delete_user(const std::string& users_file, std::string_view name) {
    auto edited = edit_text_file(
        users_file, [&](const std::string& text) { return users_text_delete(text, name); });
    return edited ? Status() : Status(edited.error());
}

Status set_apop_secret(const std::string& secrets_file, std::string_view name,
                       std::string_view secret) {
    auto edited = edit_text_file(
        secrets_file, [&](const std::string& text) { return secrets_text_set(text, name, secret); },
        kNewFileMode);
    return edited ? Status() : Status(edited.error());
}

Result<bool> clear_apop_secret(const std::string& secrets_file, std::string_view name) {
    return edit_text_file(
        secrets_file, [&](const std::string& text) { return secrets_text_clear(text, name); },
        kNewFileMode);
}

Result<std::string> make_password_hash(const std::string& password) {
    if (password.empty() || has_line_break_or_nul(password))
        return Error::because("hash password", "", "empty, or holding NUL or a line break");
    auto setting = random_setting();
    if (!setting)
        return setting.error();
    auto scratch = std::make_unique<CryptScratch>();
    const char* hash = crypt_r(password.c_str(), setting->c_str(), &scratch->data);
    if (hash == nullptr || hash[0] != '$')
        return Error::from_errno("crypt", *setting);
    return std::string(hash);
}

} // namespace popper
