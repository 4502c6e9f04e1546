// Private to popperd-uidl: capturing the UIDLs of the server popperd
// replaces, per account, into drop_dir/USER.uidl-map (popper/uidl_map.h).
#pragma once

#include "popper/config.h"
#include "popper/result.h"
#include "popper/uidl_map.h"

#include <optional>
#include <string>
#include <vector>

namespace popper::capture {

// Whom to log in as on the old server.
struct Account {
    std::string name;     // the user, on both servers
    std::string password; // empty with a master user
};

struct Master {
    std::string user;     // logs in as NAME<separator>USER (Dovecot's master users)
    std::string password; // from a file
    std::string separator = "*";
};

struct OldServer {
    std::string host;
    std::string port = "110";
    int timeout_ms = 30'000;
    std::optional<Master> master;
};

// The accounts file: "NAME PASSWORD" per line (the password is the rest of
// the line), or "NAME" alone with a master user; '#' comments and blank
// lines. It holds passwords: refused when group or others may read it.
Result<std::vector<Account>> read_accounts(const std::string& path, bool master);
// A file holding one password on its first line, under the same rule.
Result<std::string> read_password_file(const std::string& path);

// Logs in to the old server as `account`, lists UIDL and each message's
// TOP n 0, and returns the map (state "captured"), in the old server's
// order. Messages with an invalid UIDL are left out (`skipped`). Deletes
// nothing: QUIT after no DELE.
Result<UidlMap> capture_account(const OldServer& server, const Account& account, size_t& skipped);

// The account popperd serves `name`'s mailbox as; an error when popperd
// does not know `name`.
Result<FileOwner> mailbox_owner_of(const Config& config, const std::string& name);
std::string uidl_map_path(const Config& config, const std::string& name);

// drop_dir/NAME.uidl-map for `name`, written for its mailbox owner (from
// the configuration's users); an error when popperd does not know `name`.
Status store_map(const Config& config, const std::string& name, const UidlMap& map,
                 std::string& path);

} // namespace popper::capture
