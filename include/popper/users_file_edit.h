// Changing the users file and the APOP secrets file safely while popperd
// reads them: every edit is a locked read-modify-write that replaces the file
// by rename, so a reader sees the old file or the new one, never a mix, and a
// crash or error leaves the old one. Used by popper-passwd.
#pragma once

#include "popper/result.h"
#include "popper/users_file.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace popper {

// How long an edit waits for another editor's lock before giving up.
inline constexpr unsigned kEditLockTimeoutMs = 10000;

// A whole text file and what fstat said of it.
struct TextFile {
    std::string text;
    struct stat st {};
};

// Reads a regular file whole: at most `max_octets` (a bigger or growing file
// is an error), refusing symlinks (O_NOFOLLOW) and FIFOs or devices, so a
// planted link or pipe can neither redirect nor stall the reader. A missing
// file is an error with errnum ENOENT. `follow_symlinks` lets a reader that
// only reads (the users file at login) accept an admin's symlink.
Result<TextFile> read_text_file(const std::string& path, size_t max_octets,
                                bool follow_symlinks = false);

// Calls f(line, line_number) for each line of `text`, without its LF,
// numbered from 1: one line splitter for the users and secrets files.
template <class F> void for_each_line(std::string_view text, F&& f) {
    size_t line_number = 0;
    while (!text.empty()) {
        const auto newline = text.find('\n');
        const std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        f(line, ++line_number);
    }
}

// Logs "LABEL PATH:LINE: WHY" for malformed lines, at most
// kMaxUsersFileWarningsPerRead per read, then how many more there were.
class MalformedLineLog {
public:
    MalformedLineLog(std::string label, const std::string& path)
        : label_(std::move(label)), path_(path) {}
    void warn(size_t line_number, const std::string& why);
    void finish() const;

private:
    std::string label_;
    const std::string& path_;
    size_t count_ = 0;
};

// Calls f(entry) for each line of `text` that parse(line, why) reads as an
// entry (a std::optional); a line it refuses with a reason in `why` is
// logged as malformed ("LABEL PATH:LINE: WHY", MalformedLineLog), one it
// refuses without a reason (blank, comment) is skipped. Every line is read
// whatever f finds, so a lookup's time does not reveal where a name is.
template <class Parse, class F>
void for_each_entry(std::string_view text, const std::string& label, const std::string& path,
                    Parse&& parse, F&& f) {
    MalformedLineLog malformed(label, path);
    std::string why;
    for_each_line(text, [&](std::string_view line, size_t line_number) {
        auto entry = parse(line, why);
        if (entry)
            f(*entry);
        else if (!why.empty())
            malformed.warn(line_number, why);
    });
    malformed.finish();
}

// What an edit does to a file's text: the new text, or an error that
// abandons the edit. Its errors may leave `path` empty: the file is filled in.
using TextEdit = std::function<Result<std::string>(const std::string& old_text)>;

// Replaces `path` with edit(its text), atomically:
//  1. locks the sibling `PATH.lock` (fcntl write lock, open file description
//     locks where the system has them; created 0600 and left in place) for
//     up to kEditLockTimeoutMs, so concurrent edits are serialized;
//  2. reads the file (read_text_file, at most kMaxUsersFileOctets); a missing
//     file reads as "" when `create_mode` is given, else is an error;
//  3. writes the new text to a temporary `.NAME.XXXXXX` in the same
//     directory with the old file's mode and owner (`create_mode` and our
//     own ids for a new file), fsyncs it, renames it over `path`, and fsyncs
//     the directory.
// On any error `path` is untouched and no temporary file is left. Returns
// false, writing nothing, when the edit leaves the text as it was.
Result<bool> edit_text_file(const std::string& path, const TextEdit& edit,
                            std::optional<mode_t> create_mode = std::nullopt);

// ---- the users file's text (pure: no I/O) --------------------------------
// A user's lines are those whose first field is the name. Every other line
// (comments, blank and malformed lines, other users) is kept byte for byte.
// Errors name what is wrong, with op "users file" and no path.

// `name:hash:uid:gid:gecos:home:mailbox`, trailing empty fields left out.
std::string format_user_line(const UserEntry& entry);
// Appends the entry's line. Refuses a name that already has a line, and an
// entry that parse_user_line would not read back as given (bad name, uid 0,
// relative mailbox, ':' or newline in a field, empty hash).
Result<std::string> users_text_add(std::string_view text, const UserEntry& entry);
// Sets the hash of every line of `name`. A disabled account stays disabled:
// its '!' is kept in front of the new hash.
Result<std::string> users_text_set_hash(std::string_view text, std::string_view name,
                                        std::string_view hash);
// disabled: puts '!' in front of the hash (unchanged when already disabled by
// '!' or '*'); enabled: removes leading '!'s, refusing when no usable hash
// remains (empty, or a '*' placeholder): set a password instead.
Result<std::string> users_text_set_disabled(std::string_view text, std::string_view name,
                                            bool disabled);
// Removes every line of `name`, well-formed or not.
Result<std::string> users_text_delete(std::string_view text, std::string_view name);

// ---- the APOP secrets file's text (pure: no I/O) ---------------------------
// Replaces the first line of `name` (removing any later ones) or appends
// `name:secret`. The secret must be what parse_apop_secret_line accepts.
Result<std::string> secrets_text_set(std::string_view text, std::string_view name,
                                     std::string_view secret);
// Removes every line of `name`; unchanged text when there is none.
Result<std::string> secrets_text_clear(std::string_view text, std::string_view name);

// ---- whole-file operations (edit_text_file + the above) --------------------
// The users file is created 0600 by add_user when missing; the secrets file
// 0600 by set_apop_secret. The others need the file to exist.
Status add_user(const std::string& users_file, const UserEntry& entry);
Status set_user_hash(const std::string& users_file, std::string_view name, std::string_view hash);
// false when the user was already in that state.
Result<bool> set_user_disabled(const std::string& users_file, std::string_view name, bool disabled);
Status delete_user(const std::string& users_file, std::string_view name);
Status set_apop_secret(const std::string& secrets_file, std::string_view name,
                       std::string_view secret);
// false when the user had no secret (or the file does not exist).
Result<bool> clear_apop_secret(const std::string& secrets_file, std::string_view name);

// A crypt(3) hash of `password` with the strongest scheme this libcrypt
// prefers (crypt_gensalt with no prefix: yescrypt on Debian 12; SHA-512
// where the library has no default) and a random salt from the kernel.
// Refuses an empty password or one holding NUL, CR or LF.
Result<std::string> make_password_hash(const std::string& password);

} // namespace popper
