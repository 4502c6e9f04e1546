// The users file: passwd-style `name:hash:uid:gid:gecos:home:mailbox` lines,
// re-read at each login. Malformed lines are logged with file:line, skipped.
#pragma once

#include "popper/result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace popper {

// RFC 1939 does not bound user names; we do, to keep paths and logs sane.
inline constexpr size_t kMaxUserNameOctets = 64;
// A passwd line is a few hundred octets; anything longer is garbage, not an entry.
inline constexpr size_t kMaxUserLineOctets = 4096;
// Read whole at each login: bound the memory and time a runaway file can cost.
inline constexpr size_t kMaxUsersFileOctets = size_t{16} << 20;
// A broken file is re-read at every login: warn about this many lines per read,
// then once more with the count of the rest, so the log is not flooded.
inline constexpr size_t kMaxUsersFileWarningsPerRead = 20;

struct UserEntry {
    std::string name;
    std::string hash;         // crypt(3) string; leading '!' or '*' = disabled
    std::optional<uid_t> uid; // empty: the spool file's owner
    std::optional<gid_t> gid; // empty: the spool file's group owner's gid
    std::string gecos;
    std::string home;
    std::string mailbox; // empty: spool_dir/name

    bool disabled() const { return !hash.empty() && (hash[0] == '!' || hash[0] == '*'); }
};

// A name we accept at all: 1..kMaxUserNameOctets octets of [A-Za-z0-9._@+-],
// not starting with '.' or '-', so no '/', '..', space or control character
// can reach a path. Case is significant, as in passwd.
bool is_valid_user_name(std::string_view name);

// Finds `name` in the users file. nullopt when absent. An unreadable file is
// an error; malformed lines are logged (warning) and skipped.
Result<std::optional<UserEntry>> find_user(const std::string& users_file, std::string_view name);

// What one read of the users file tells a login.
struct UserLookup {
    std::optional<UserEntry> entry; // the first well-formed line with the name, or nullopt
    // The hash of the first well-formed, enabled entry in the file, for
    // verify_dummy when `entry` is absent: an unknown user then costs the
    // scheme and cost this site really uses. Empty when the file has none.
    std::string scheme_like;
};

// find_user, also reporting `scheme_like`. The whole file is always scanned,
// so the time taken does not depend on where (or whether) the name appears,
// and every malformed line is reported at every read.
Result<UserLookup> lookup_user(const std::string& users_file, std::string_view name);

// `users = system`: the Unix account `name` (getpwnam_r, and getspnam_r for
// the hash when the passwd entry defers to /etc/shadow), as popa3d does. The
// mailbox is left empty (spool_dir/name); root's account is never returned.
// A locked shadow hash ('!' or '*') makes the entry disabled().
Result<UserLookup> lookup_system_user(std::string_view name);

// Parses one line (without newline; one trailing '\r' is tolerated).
// Format: name:hash[:uid[:gid[:gecos[:home[:mailbox]]]]] — at least 2, at most
// 7 fields; omitted trailing fields are empty. uid/gid: empty or decimal
// without sign in 1..2^32-2 (0 is root, 2^32-1 is "unchanged" to setresuid).
// mailbox: empty or an absolute path. No NUL byte; at most kMaxUserLineOctets.
// Blank lines and '#' comments are not entries: nullopt with `why` empty.
// Malformed lines: nullopt with `why` saying what is wrong (never echoing
// the line, which may hold a hash).
std::optional<UserEntry> parse_user_line(std::string_view line, std::string& why);

// crypt(3) verification, constant-time comparison. A disabled or malformed
// hash never matches. A disabled or empty hash still costs one dummy crypt
// (see verify_dummy), so it cannot be told from a wrong password by timing.
// A password holding a NUL byte never matches (crypt would see a prefix).
bool verify_password(const std::string& hash, const std::string& password);
// Does the same work as verify_password for a user that does not exist, with
// a dummy hash of the same scheme as `scheme_like` (or the default scheme),
// so unknown users cost the same as wrong passwords. Always false.
bool verify_dummy(const std::string& scheme_like, const std::string& password);

// The crypt(3) setting verify_dummy uses for `scheme_like`: the same scheme
// and cost ("$6$rounds=N$", "$2b$12$", "$y$j9T$", "$5$", "$1$") with a fixed
// salt; a leading '!'/'*' is ignored. Unknown or empty: the library's default
// scheme (yescrypt on Debian 12), else SHA-512.
std::string dummy_setting_like(std::string_view scheme_like);
// How many dummy crypt computations this process has run (verify_dummy, and
// verify_password on a disabled or empty hash). For tests and diagnostics.
uint64_t dummy_verifications_performed();

// Equal length and equal bytes, in time that depends only on the lengths.
// For hashes and digests (crypt results, APOP MD5) compared with secrets.
bool constant_time_equals(std::string_view a, std::string_view b);

} // namespace popper
