// Name-service lookups of the two accounts every session needs as root: the
// pre-login user and the mail group. See remember_account_ids in
// popper/privileges.h for why they are looked up once, in a child.
#pragma once

#include "popper/result.h"

#include <optional>
#include <string>
#include <sys/types.h>

namespace popper::account_ids {

struct Account {
    uid_t uid = 0;
    gid_t gid = 0;
    bool is_fallback = false; // `user` does not exist: these are nobody's
};

// The pre-login account: `user`, else nobody. Refuses root.
Result<Account> preauth_account(const std::string& user);
// The gid of `group`, nullopt when there is no such group (or `group` is
// empty). `user` only names the session in errors.
Result<std::optional<gid_t>> group_id(const std::string& group, const std::string& user);

} // namespace popper::account_ids
