// Per-user policy: the `policy_file` (popperd.conf(5)), one line per user,
// `NAME: key=value ...`, with `*` for everyone's default. It says from where
// a user may log in (allow_from, deny_from: CIDR lists), how often
// (login_delay: RFC 2449 §6.5 LOGIN-DELAY) and how long retrieved mail stays
// on the server (expire: RFC 2449 §6.6 EXPIRE). Read afresh at each login by
// the privileged process, like the users file; it is 0600 root, like the
// APOP secrets, since it tells an attacker which addresses get in.
//
// A file with any malformed line is refused whole (file:line in the error),
// and logins are refused while it is: skipping a broken `deny_from` line
// would let in whom the admin meant to keep out.
#pragma once

#include "popper/networks.h"
#include "popper/result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace popper {

// A policy line is a name and a few short CIDR lists; longer is garbage.
inline constexpr size_t kMaxPolicyLineOctets = 8192;
// Read whole at each login, like the users file: bound what a runaway file costs.
inline constexpr size_t kMaxPolicyFileOctets = size_t{16} << 20;
// Ranges catch typos rather than encode policy: a day between logins and
// ten years of retention are beyond any ISP's rule.
inline constexpr unsigned kMaxLoginDelayS = 24 * 3600;
inline constexpr unsigned kMaxExpireDays = 3650;

struct UserPolicy {
    NetworkList allow_from;              // empty: any address
    NetworkList deny_from;               // empty: none
    unsigned login_delay_s = 0;          // 0: none
    std::optional<unsigned> expire_days; // nullopt: never (EXPIRE NEVER)

    // Whether a client at `address` (PeerInfo::address: "192.0.2.1", "::1",
    // or "local" for a connection with no IP address) may log in: in
    // allow_from when that is set, and not in deny_from. A non-IP address
    // is in no network: refused by any allow_from, never by deny_from.
    bool admits(std::string_view address) const;
};

// One line, as written: which keys it set (unset keys come from `*`).
struct PolicyLine {
    std::string name; // a valid user name, or "*"
    std::optional<NetworkList> allow_from;
    std::optional<NetworkList> deny_from;
    std::optional<unsigned> login_delay_s;
    std::optional<std::optional<unsigned>> expire_days;
};

// Parses one line (without its LF; one trailing '\r' is tolerated).
// Blank lines and '#' comments: nullopt with `why` empty. Malformed: nullopt
// with `why` saying what is wrong. Keys: allow_from=LIST, deny_from=LIST
// (networks separated by commas, no blanks), login_delay=SECONDS,
// expire=DAYS|never; each at most once per line.
std::optional<PolicyLine> parse_policy_line(std::string_view line, std::string& why);

struct PolicyFile {
    std::vector<PolicyLine> lines; // at most one per name

    // The policy of `name`: the built-in defaults, then the `*` line's keys,
    // then the user's own.
    UserPolicy policy_for(std::string_view name) const;
    UserPolicy default_policy() const { return policy_for("*"); }
    // Whether any user's login_delay or expire differs from the default's,
    // which CAPA before login says with USER (RFC 2449 §6.5, §6.6).
    bool login_delay_varies() const;
    bool expire_varies() const;
};

// The whole text; the first malformed line or repeated name is an error
// "SOURCE:LINE: why".
Result<PolicyFile> parse_policy_file(std::string_view text, const std::string& source);
// Reads `path` (at most kMaxPolicyFileOctets, a regular file, mode and owner
// as check_secret_file_permissions wants) and parses it.
Result<PolicyFile> load_policy_file(const std::string& path);

// The capability lines (RFC 2449 §6.5, §6.6), CRLF-terminated:
// "LOGIN-DELAY 900\r\nEXPIRE 30\r\n"; `per_user` adds USER to the ones
// marked varying. A zero delay is not advertised; expire nullopt is NEVER.
std::string policy_capability_lines(const UserPolicy& policy, bool delay_varies = false,
                                    bool expire_varies = false);

} // namespace popper
