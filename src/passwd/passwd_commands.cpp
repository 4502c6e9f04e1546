// popper-passwd's commands (passwd_commands.h).
#include "passwd_commands.h"

#include "secret_prompt.h"

#include "popper/sasl.h"
#include "popper/users_file_edit.h"

#include <cerrno>
#include <string_view>
#include <unistd.h>

namespace popper::passwd {
namespace {

// The users file as it is now ("" when missing), for a dry run of an edit
// before the password is asked for.
Result<std::string> current_text(const std::string& path) {
    auto file = read_text_file(path, kMaxUsersFileOctets);
    if (!file && file.error().errnum == ENOENT)
        return std::string();
    if (!file)
        return file.error();
    return std::move(file->text);
}

// add and passwd check that the edit would succeed before asking for the
// password: an unknown or existing user is told at once, not after typing.
Status dry_run(const Options& o, const std::string& users_file) {
    auto text = current_text(users_file);
    if (!text)
        return text.error();
    // A placeholder hash: the real one costs a slow crypt and a typed password.
    constexpr std::string_view kPlaceholder = "$placeholder$";
    Result<std::string> edited = std::string();
    if (o.command == Command::add) {
        UserEntry probe = o.entry;
        probe.name = o.user;
        probe.hash = kPlaceholder;
        edited = users_text_add(*text, probe);
    } else {
        edited = users_text_set_hash(*text, o.user, kPlaceholder);
    }
    if (!edited) {
        Error error = edited.error();
        error.path = users_file;
        return error;
    }
    return {};
}

// The dry run, then a password read and hashed.
Result<std::string> checked_new_hash(const Options& o, const std::string& users_file) {
    if (auto s = dry_run(o, users_file); !s)
        return s.error();
    auto password = read_secret(o.from_stdin, "password", o.user);
    if (!password)
        return password.error();
    auto hash = make_password_hash(*password);
    wipe_secret(*password);
    return hash;
}

Status set_disabled(const Options& o, const std::string& users_file, bool disable) {
    auto changed = set_user_disabled(users_file, o.user, disable);
    if (!changed)
        return changed.error();
    if (!*changed)
        say("user " + o.user + " was already " + (disable ? "disabled" : "enabled"));
    return {};
}

} // namespace

Status add_user_command(const Options& o, const Files& files) {
    auto hash = checked_new_hash(o, files.users_file);
    if (!hash)
        return hash.error();
    UserEntry entry = o.entry;
    entry.name = o.user;
    entry.hash = *hash;
    return add_user(files.users_file, entry);
}

Status passwd_command(const Options& o, const Files& files) {
    auto hash = checked_new_hash(o, files.users_file);
    if (!hash)
        return hash.error();
    return set_user_hash(files.users_file, o.user, *hash);
}

Status disable_command(const Options& o, const Files& files) {
    return set_disabled(o, files.users_file, true);
}

Status enable_command(const Options& o, const Files& files) {
    return set_disabled(o, files.users_file, false);
}

Status delete_command(const Options& o, const Files& files) {
    if (auto s = delete_user(files.users_file, o.user); !s)
        return s;
    // A secret left behind would outlive the account.
    if (::access(files.apop_file.c_str(), F_OK) != 0)
        return {};
    auto cleared = clear_apop_secret(files.apop_file, o.user);
    if (!cleared)
        return cleared.error();
    return {};
}

Status apop_command(const Options& o, const Files& files) {
    if (o.clear) {
        auto cleared = clear_apop_secret(files.apop_file, o.user);
        if (!cleared)
            return cleared.error();
        if (!*cleared)
            say("user " + o.user + " had no APOP secret in " + files.apop_file);
        return {};
    }
    auto secret = read_secret(o.from_stdin, "APOP secret", o.user);
    if (!secret)
        return secret.error();
    Status status = set_apop_secret(files.apop_file, o.user, *secret);
    wipe_secret(*secret);
    return status;
}

Status run_command(const Options& o, const Files& files) {
    switch (o.command) {
    case Command::add:
        return add_user_command(o, files);
    case Command::passwd:
        return passwd_command(o, files);
    case Command::disable:
        return disable_command(o, files);
    case Command::enable:
        return enable_command(o, files);
    case Command::remove:
        return delete_command(o, files);
    case Command::apop:
        return apop_command(o, files);
    }
    return {};
}

} // namespace popper::passwd
