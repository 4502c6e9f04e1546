// APOP (RFC 1939 §7): the greeting's timestamp, the digest check, and the
// secrets file it needs. Secrets are kept apart from the users file (which
// holds only crypt(3) hashes) in `name:secret` lines, re-read at each login.
// CRAM-MD5 (include/popper/sasl.h) uses the same secrets and stamp shape.
#pragma once

#include "popper/result.h"

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace popper {

// A shared secret is typed by a person and sent by a client: 1024 octets is
// far beyond any of them and keeps a line of the file bounded.
inline constexpr size_t kMaxApopSecretOctets = 1024;
// Read whole at each login, like the users file: bound what a runaway file costs.
inline constexpr size_t kMaxApopSecretsFileOctets = size_t{16} << 20;
// Random octets in a stamp: 64 bits make a repeated stamp (a replayable
// digest) practically impossible even with pid and time reused.
inline constexpr size_t kApopStampRandomOctets = 8;

// "<pid.time.random@host>" (RFC 1939 §7: a msg-id, unique per greeting).
// `random_hex` is printed as given; `host` keeps only A-Z a-z 0-9 . - (any
// other octet could break the msg-id or the greeting line) and is
// "localhost" when nothing is left.
std::string make_apop_stamp(pid_t pid, time_t time, std::string_view random_hex,
                            std::string_view host);
// make_apop_stamp with this process's pid, the time now and
// kApopStampRandomOctets from getrandom(2). Fails only if getrandom does.
Result<std::string> new_apop_stamp(std::string_view host);

// RFC 1939 §7: whether `digest_hex` (32 hex digits, either case) is
// MD5(stamp + secret). Constant-time in the digest; for an unknown user call
// it with any dummy secret, so the work is the same.
bool verify_apop(std::string_view secret, std::string_view stamp, std::string_view digest_hex);

struct ApopSecret {
    std::string name;
    std::string secret;
    ~ApopSecret(); // wipes the secret
    ApopSecret() = default;
    ApopSecret(const ApopSecret&) = default;
    ApopSecret(ApopSecret&&) noexcept = default;
    ApopSecret& operator=(const ApopSecret&) = default;
    ApopSecret& operator=(ApopSecret&&) noexcept = default;
};

// One line of the secrets file (without newline; one trailing '\r' is
// tolerated): `name:secret`. The name is a valid user name
// (is_valid_user_name); the secret is everything after the first ':', taken
// verbatim (':' and spaces included), 1..kMaxApopSecretOctets octets, no NUL
// or CR. Blank lines and '#' comments: nullopt with `why` empty. Malformed:
// nullopt with `why` saying what is wrong, never echoing the secret.
std::optional<ApopSecret> parse_apop_secret_line(std::string_view line, std::string& why);

// The secret of `name`, read afresh from the file: nullopt when the file has
// no such (well-formed) line; the first line wins. The whole file is scanned
// whatever the name. Malformed lines are logged (warning, "apop secrets file
// PATH:LINE: why") and skipped. A missing, unreadable, non-regular or
// oversized file is an error.
Result<std::optional<std::string>> find_apop_secret(const std::string& path, std::string_view name);

// For a file that holds secrets or access policy (the APOP secrets, the
// policy file): it must be a regular file (not a symlink), with no group or
// other permission bits (0600 or stricter), owned by root — or, when popperd
// is not running as root (tests, private setups), by root or the effective
// user. Otherwise an error naming the file (`label PATH`) and the problem;
// at startup popperd then refuses to start.
Status check_secret_file_permissions(const std::string& label, const std::string& path);

} // namespace popper
