// popperd-uidl's commands: capture_options.h.
#include "capture_options.h"

#include "popper/mbox_index.h"
#include "popper/users_file.h"

#include <unistd.h>

namespace popper::capture {

int run_capture(const Options& o, const Config& config) {
    OldServer server = o.server;
    if (server.master) {
        auto password = read_password_file(o.master_password_file);
        if (!password) {
            say(password.error().message());
            return kExitError;
        }
        server.master->password = std::move(*password);
    }
    auto accounts = read_accounts(o.accounts_file, server.master.has_value());
    if (!accounts) {
        say(accounts.error().message());
        return kExitError;
    }
    int status = 0;
    // One account's failure (a wrong password, a user popperd does not
    // know) leaves the others to be captured; the exit status tells.
    for (const Account& account : *accounts) {
        size_t skipped = 0;
        auto map = capture_account(server, account, skipped);
        if (!map) {
            say(account.name + ": " + map.error().message());
            status = kExitError;
            continue;
        }
        std::string note = std::to_string(map->entries.size()) + " UIDLs captured";
        if (skipped)
            note += ", " + std::to_string(skipped) + " invalid UIDLs (RFC 1939 §7) left out";
        if (o.dry_run) {
            std::printf("# %s: %s\n%s", account.name.c_str(), note.c_str(),
                        format_uidl_map(*map).c_str());
            continue;
        }
        std::string path;
        if (auto stored = store_map(config, account.name, *map, path); !stored) {
            say(account.name + ": " + stored.error().message());
            status = kExitError;
            continue;
        }
        std::printf("%s: %s -> %s\n", account.name.c_str(), note.c_str(), path.c_str());
    }
    std::fflush(stdout);
    return status;
}

namespace {

// Read as a session of `user` will: as the mailbox owner, whose file it
// must be (check_own_regular_file). Run by root, the effective ids are
// the owner's for the read; anyone else reads as themselves.
Result<std::optional<UidlMap>> read_as_owner(const Config& config, const std::string& user,
                                             const std::string& path) {
    if (::geteuid() != 0)
        return read_uidl_map(path);
    auto owner = mailbox_owner_of(config, user);
    if (!owner)
        return owner.error();
    if (::setegid(owner->gid) != 0 || ::seteuid(owner->uid) != 0)
        return Error::from_errno("become the owner of", path);
    auto map = read_uidl_map(path);
    if (::seteuid(0) != 0 || ::setegid(0) != 0)
        return Error::from_errno("become root again after reading", path);
    return map;
}

} // namespace

int run_check(const Options& o, const Config& config) {
    int status = 0;
    for (const std::string& user : o.users) {
        if (!is_valid_user_name(user)) {
            say(user.substr(0, 64) + ": not a valid user name");
            status = kExitError;
            continue;
        }
        const std::string path = uidl_map_path(config, user);
        auto map = read_as_owner(config, user, path);
        if (!map) {
            say(user + ": " + map.error().message());
            status = kExitError;
            continue;
        }
        if (!*map) {
            std::printf("%s: no UIDL map (%s)\n", user.c_str(), path.c_str());
            continue;
        }
        std::printf("%s: %zu captured UIDLs, %s (%s)\n", user.c_str(), (*map)->entries.size(),
                    (*map)->matched ? "matched by a login" : "no login has matched them yet",
                    path.c_str());
    }
    std::fflush(stdout);
    return status;
}

} // namespace popper::capture
