// One POP3 session (RFC 1939 states AUTHORIZATION, TRANSACTION, UPDATE) on a
// connected descriptor pair, and the loop that serves its commands. The
// pre-login process runs it until the login, the privileged process after
// it (popper/prelogin.h); a test can build one on a socketpair, dispatch
// command lines to it and read the reply bytes.
#pragma once

#include "popper/auth_policy.h"
#include "popper/command_line.h"
#include "popper/config.h"
#include "popper/credentials.h"
#include "popper/io.h"
#include "popper/line_reader.h"
#include "popper/maildrop.h"
#include "popper/policy_state.h"
#include "popper/reply_writer.h"
#include "popper/users_file.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace popper {

// The one place a session keeps who its client is. Every log line, process
// title, limit and policy reads it from here.
struct PeerInfo {
    // The client's address: "192.0.2.1", "::1", or "local" (not IP). The
    // socket's peer (peer_address_text) unless something that popperd
    // trusts to know better named the client: a PROXY header on a `proxy`
    // listener, or in inetd mode the environment of stunnel or tcpserver.
    std::string address;
    // The client reached us over TLS, terminated in front of popperd: the
    // PROXY v2 header's PP2_CLIENT_SSL bit, or `popperd -i -S`. What
    // allow_plaintext = tls asks.
    bool under_tls = false;
    // Accepted on a `listen ... proxy` socket from a trusted sender whose
    // address is `address` until the header names the client: the pre-login
    // side reads the header before the greeting.
    bool expects_proxy_header = false;
    // Accepted on a `pop2_listen` socket: the session speaks POP2.
    Protocol protocol = Protocol::pop3;
};

// " proto=pop2" for the connect and login lines of a POP2 session; nothing
// for POP3, whose lines stay as they were (fail2ban filters read them).
inline std::string_view protocol_log_field(const PeerInfo& peer) {
    return peer.protocol == Protocol::pop2 ? " proto=pop2" : "";
}

enum class Pop3State { authorization, transaction, update };

// Where a POP2 session is (RFC 937): the current message, which READ sets
// and ACKS/ACKD advance, and whether RETR sent it and awaits its ACK.
struct Pop2Position {
    uint32_t current = 1; // 1-based; may be past the last message
    bool sent = false;    // RETR sent it: only ACKS, ACKD, NACK or QUIT now
    bool read = false;    // READ answered a nonzero length for it: RETR may send it
};

struct SessionStats {
    uint64_t retrieved = 0;
    uint64_t retrieved_octets = 0;
    uint64_t deleted = 0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

struct Session {
    Session(const Config& c, PeerInfo p, int in_fd, int out_fd)
        : config(c), policy(auth_policy(c, p.under_tls)), peer(std::move(p)),
          reader(in_fd, kMaxCommandLineOctets), writer(out_fd, peer.protocol) {}

    const Config& config;
    AuthPolicy policy; // recomputed when a PROXY header says the client is under TLS
    PeerInfo peer;
    LineReader reader;
    ReplyWriter writer;
    Pop3State state = Pop3State::authorization;
    bool done = false;        // end the session after flushing
    std::string pending_user; // from USER, until PASS
    unsigned auth_failures = 0;
    std::string user;       // once logged in
    UserPolicy user_policy; // once logged in: the policy file's line for the user
    // With a policy file: the LOGIN-DELAY and EXPIRE times (policy_state.h),
    // loaded under the session lock, saved when the session ends.
    std::optional<PolicyState> policy_state;
    bool policy_state_changed = false; // a first retrieval not yet saved
    std::optional<Maildrop> maildrop;
    // Closed when the session ends, after the last reply: see
    // Maildrop::release_retired_file().
    UniqueFd retired_mail_file;
    std::vector<bool> deleted;
    uint32_t highest_accessed = 0; // RFC 1460 LAST
    Pop2Position pop2;             // a POP2 session's place in the mailbox
    // In the pre-login process: credentials go to the privileged process on
    // this channel, and a granted login is handed over on it. -1: they are
    // checked in this process (check_credentials), which then becomes the
    // mailbox owner; tests of the session alone do that.
    int auth_channel = -1;
    bool handed_over = false;          // the pre-login process passed the login on
    const AuthContext* auth = nullptr; // the login's APOP stamp and CRAM challenges
    SessionStats stats;
};

// Parses one command line (without its line ending) and runs its handler
// from the table of the session's state, or answers -ERR: an invalid line,
// an unknown command, a command of the other state, an argument too long.
// Replies stay in s.writer until flushed.
void dispatch_command(Session& s, const std::string& line);

// Reads and dispatches commands until the session ends (QUIT, the client
// gone, a timeout, SIGTERM), flushing replies whenever no pipelined command
// waits. Returns the exit status: kExitSaidShutdown once it has told the
// client the server is stopping.
inline constexpr int kExitSaidShutdown = 75; // sysexits.h EX_TEMPFAIL
int serve_commands(Session& s);

// The login, in the privileged process: becomes the mailbox owner, opens the
// maildrop and answers +OK in TRANSACTION; or answers -ERR and ends.
void enter_transaction(Session& s, const GrantedLogin& login);

// A session's client socket: no Nagle delay, and a send timeout.
void tune_socket(int fd, unsigned idle_timeout_s);

// Set by SIGTERM: a session puts the mail back and ends at the next command.
void request_session_shutdown();
bool session_shutdown_requested();

// Signals of a session process (listener child, inetd, systemd Accept=yes):
// SIGTERM/SIGINT end it gracefully (an UPDATE in progress completes first),
// SIGPIPE and SIGHUP are ignored so a vanished client cannot kill it mid-step.
void install_session_signals();
// What SIGTERM must wake: the client socket, and the pre-login child to
// pass the signal to (0: none).
void set_session_signal_targets(int client_fd, pid_t forward_to);

} // namespace popper
