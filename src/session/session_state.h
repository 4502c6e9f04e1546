// What one POP3 session knows, shared by the files of the session module.
#pragma once

#include "popper/auth_channel.h"
#include "popper/auth_policy.h"
#include "popper/credentials.h"
#include "popper/command_line.h"
#include "popper/config.h"
#include "popper/line_reader.h"
#include "popper/maildrop.h"
#include "popper/session.h"
#include "popper/users_file.h"
#include "popper/reply_writer.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace popper {

enum class Pop3State { authorization, transaction, update };

struct SessionStats {
    uint64_t retrieved = 0;
    uint64_t retrieved_octets = 0;
    uint64_t deleted = 0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

struct Session {
    Session(const Config& c, PeerInfo p, int in_fd, int out_fd)
        : config(c), policy(auth_policy(c)), peer(std::move(p)),
          reader(in_fd, kMaxCommandLineOctets), writer(out_fd) {}

    const Config& config;
    const AuthPolicy policy;
    PeerInfo peer;
    LineReader reader;
    ReplyWriter writer;
    Pop3State state = Pop3State::authorization;
    bool done = false;              // end the session after flushing
    std::string pending_user;       // from USER, until PASS
    unsigned auth_failures = 0;
    std::string user;               // once logged in
    std::optional<Maildrop> maildrop;
    // Closed when the session ends, after the last reply: see
    // Maildrop::release_retired_file().
    UniqueFd retired_mail_file;
    std::vector<bool> deleted;
    uint32_t highest_accessed = 0;  // RFC 1460 LAST
    int auth_channel = -1;          // set in the pre-login process only
    bool handed_over = false;       // the pre-login process passed the login on
    const AuthContext* auth = nullptr; // the login's APOP stamp and CRAM challenges
    SessionStats stats;
};

void set_session_title(const Session& s);
void tune_socket(int fd, unsigned idle_timeout_s);
// What SIGTERM must wake: the client socket, and the pre-login child to
// pass the signal to (0: none).
void set_session_signal_targets(int client_fd, pid_t forward_to);
// The command loop of either process; returns the exit status:
// kExitSaidShutdown once it has told the client the server is stopping.
inline constexpr int kExitSaidShutdown = 75; // sysexits.h EX_TEMPFAIL
int serve_commands(Session& s);

// Sends credentials to the privileged process and answers the client.
void submit_credentials(Session& s, AuthRequest request);
void fail_login(Session& s, const std::string& name, const char* reason);
// Becomes the mailbox owner, opens the maildrop and answers the PASS.
void enter_transaction(Session& s, const UserEntry& entry);

// Command handlers: one per keyword, in their own files.
void handle_capa(Session& s, const CommandLine& cmd);
void handle_user(Session& s, const CommandLine& cmd);
void handle_pass(Session& s, const CommandLine& cmd);
void handle_quit(Session& s, const CommandLine& cmd);
void handle_stat(Session& s, const CommandLine& cmd);
void handle_list(Session& s, const CommandLine& cmd);
void handle_uidl(Session& s, const CommandLine& cmd);
void handle_retr(Session& s, const CommandLine& cmd);
void handle_top(Session& s, const CommandLine& cmd);
void handle_dele(Session& s, const CommandLine& cmd);
void handle_noop(Session& s, const CommandLine& cmd);
void handle_rset(Session& s, const CommandLine& cmd);
void handle_last(Session& s, const CommandLine& cmd);
void handle_apop(Session& s, const CommandLine& cmd);
void handle_auth(Session& s, const CommandLine& cmd);

// Puts every message back in the spool without deleting any: a connection
// that ends without QUIT (RFC 1939 §6) or a server shutdown.
void abandon_session(Session& s, const char* why);
void log_logout(const Session& s, const char* how);

} // namespace popper
