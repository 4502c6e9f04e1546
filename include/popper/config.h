// The conf file: `key = value` lines, `#` comments. Parsing, defaults,
// validation with file:line errors, and printing the effective config (-n).
#pragma once

#include "popper/log.h"
#include "popper/networks.h"
#include "popper/result.h"
#include "popper/uidl_format.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace popper {

inline constexpr int kExitConfigError = 78; // sysexits.h EX_CONFIG
// A conf file line is a key and a path or a short list; anything longer is
// not a conf file (and a bound keeps garbage input cheap to reject).
inline constexpr size_t kMaxConfigLineOctets = 4096;
// load_config reads at most this much, so `-c /dev/zero` (or any huge file)
// fails at once instead of filling memory.
inline constexpr size_t kMaxConfigFileOctets = 1024 * 1024;

struct ListenAddress {
    std::string host;  // "127.0.0.1", "::1", "0.0.0.0", "::"
    uint16_t port = 0; // 0 asks the kernel for an ephemeral port (tests)
    std::string text;  // as written: "127.0.0.1:110", "[::1]:110"
    // `listen = ADDR:PORT proxy`: every connection starts with a PROXY
    // protocol header (popper/proxy_protocol.h) from proxy_trusted_networks.
    bool proxy = false;

    bool operator==(const ListenAddress&) const = default;
};

// Parses "addr:port", "[v6addr]:port" or "*:port" (= 0.0.0.0), optionally
// followed by the word "proxy". `host` is the address in inet_ntop's
// canonical form. Errors carry only a detail text.
Result<ListenAddress> parse_listen_address(std::string_view text);

enum class LockMethod { dotlock, fcntl, flock };

// allow_plaintext: whether the mechanisms that send the password itself
// (USER/PASS, SASL PLAIN and LOGIN) are offered; `tls` only on a session
// known to be under TLS (PeerInfo::under_tls).
enum class AllowPlaintext { no, yes, tls };

struct Config {
    std::string source_path; // file the values came from, empty for defaults

    // Any `listen` line in the file replaces this whole list.
    std::vector<ListenAddress> listen = {{"0.0.0.0", 110, "0.0.0.0:110"}, {"::", 110, "[::]:110"}};
    // `pop2_listen` (repeatable): where POP2 (RFC 937, port 109) is served,
    // for the clients that still speak it. Empty, the default: no POP2.
    // Behind no proxy: a PROXY header is POP3's front door only.
    std::vector<ListenAddress> pop2_listen;
    // The senders a `listen ... proxy` socket accepts a PROXY header from
    // (haproxy, nginx, stunnel in front of us); anyone else is closed on
    // before a byte is read. Empty: a proxy listener accepts nobody.
    NetworkList proxy_trusted_networks;
    std::string users_file = "/etc/popperd/users";
    std::string spool_dir = "/var/mail";
    std::string drop_dir = "/var/lib/popperd/drop";
    // Whose UIDLs to list: popperd's own, or those of the server popperd
    // replaces, so that clients leaving mail on the server fetch nothing twice.
    UidlFormat uidl_format = UidlFormat::popperd;
    std::string pidfile = "/run/popperd.pid";

    // RFC 1939 §3: the autologout timer must be at least 10 minutes. Shorter
    // values are accepted for tests only (popperd.conf(5) says so).
    unsigned idle_timeout_s = 600;
    // Before login a shorter limit, as Dovecot's login timeout.
    unsigned auth_timeout_s = 180;
    unsigned max_sessions = 500;
    unsigned max_sessions_per_ip = 50;
    // How long a login waits for a spool lock held by an MTA or MUA.
    unsigned lock_timeout_s = 30;
    // A dotlock older than this whose owner cannot be shown alive is broken.
    unsigned dotlock_stale_s = 600;
    std::vector<LockMethod> lock_methods = {LockMethod::dotlock, LockMethod::fcntl};

    LogTarget log = LogTarget::syslog;
    LogLevel log_level = LogLevel::info;

    bool enable_last = false;                   // RFC 1460 LAST, for old clients
    std::string mail_privileged_group = "mail"; // empty: none
    // Privilege separation (started as root): the process that reads the
    // network before login runs as this user, chrooted into this directory.
    std::string unprivileged_user = "popper"; // falls back to nobody, with a warning
    std::string preauth_chroot = "/var/lib/popperd/empty";
    // 1: a fresh pre-login process for every connection. More: the listener
    // keeps a pool of pre-login processes, each serving up to this many
    // connections one after another (faster; a process taken over by an
    // attacker would see the credentials of the connections it serves later).
    unsigned preauth_process_connections = 1;

    // Authentication (RFC 1939 §7 APOP, RFC 5034 AUTH).
    bool system_users = false; // users = system: Unix accounts instead of users_file
    bool apop = false;
    std::string apop_secrets_file = "/etc/popperd/apop-secrets"; // name:secret, 0600 root
    // Per-user policy (popper/user_policy.h): where from, how often, how long
    // mail stays. Empty: none (anyone with a password, EXPIRE NEVER).
    std::string policy_file;
    // A login whose mailbox another session holds ends that session (it puts
    // the mail back) instead of getting [IN-USE]: the locked-out user whose
    // client lost its connection need not wait for the idle timeout.
    bool takeover = false;

    AllowPlaintext allow_plaintext = AllowPlaintext::yes; // USER/PASS and SASL PLAIN, LOGIN
    std::vector<std::string> auth_mechanisms = {"PLAIN", "LOGIN"}; // SASL, upper case
    unsigned auth_failure_delay_ms = 2000;                         // delay after each failed login
    unsigned max_auth_failures = 3;                                // disconnect after this many

    bool operator==(const Config&) const = default;
};

// Reads and validates a conf file. Errors read "FILE:LINE: message"; a file
// that cannot be read gives "open FILE: reason".
Result<Config> load_config(const std::string& path);
// Same, from text already in memory; `source` names it in errors.
Result<Config> parse_config(const std::string& text, const std::string& source);
// Every key with its effective value, in conf-file syntax (popperd -n);
// parse_config reads the output back to an equal Config.
std::string format_config(const Config& config);

} // namespace popper
