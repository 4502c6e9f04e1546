// The commands of each POP3 state, a file per state, and what those files
// share; session.cpp dispatches by the tables.
//
//   authorization.cpp  USER PASS APOP AUTH CAPA QUIT, before login, run by
//                      the pre-login process
//   login.cpp          the login: the mailbox owner and the maildrop
//   transaction.cpp    STAT LIST UIDL RETR TOP DELE NOOP RSET LAST CAPA, and
//                      QUIT, which leads to
//   update.cpp         QUIT's UPDATE, and the mail put back when a session
//                      ends without it
//   pop2.cpp           POP2 (RFC 937): HELO FOLD READ RETR ACKS ACKD NACK
//                      QUIT over the same login, maildrop and UPDATE
#pragma once

#include "popper/command_line.h"
#include "popper/config.h"
#include "popper/session.h"
#include "popper/wire.h"

#include <span>
#include <string_view>

namespace popper {

struct Command {
    const char* keyword;
    void (*handler)(Session&, const CommandLine&);
    // Arguments may be longer than kMaxArgumentOctets.
    bool long_arguments = false;
    // Offered only when the config says so; nullptr: always.
    bool (*enabled)(const Config&) = nullptr;
};

// The commands of each state, in its own file.
std::span<const Command> authorization_commands();
std::span<const Command> transaction_commands();

// The commands of a POP2 session, in place of both tables. In pop2.cpp.
void dispatch_pop2_command(Session& s, const std::string& line);

// Sends `request` to be checked (by the privileged process, or here without
// one) and logs in, or answers the failure. In authorization.cpp.
void submit_credentials(Session& s, AuthRequest request);
// The -ERR [AUTH] of a password login that allow_plaintext refuses. In
// authorization.cpp.
void refuse_plaintext(Session& s);

// RETR and TOP: `status` (none for POP2) then the message as `encoder`
// gives it. False when the session must end (the client is gone, or the
// drop could not be read). In transaction.cpp.
bool send_message(Session& s, const MessageEntry& m, WireEncoder encoder,
                  std::optional<std::string_view> status);
// A RETR's bookkeeping: first retrieval, statistics, LAST.
void count_retrieval(Session& s, size_t index);

// CAPA in either state (RFC 2449 §5): the capability list, with
// `login_lines`: USER and SASL before login, LOGIN-DELAY and EXPIRE with a
// policy file. In session.cpp.
void reply_capabilities(Session& s, const CommandLine& cmd, std::string_view login_lines);
// QUIT in TRANSACTION: the UPDATE state. In update.cpp.
void handle_quit(Session& s, const CommandLine& cmd);
// Puts every message back in the spool without deleting any: a connection
// that ends without QUIT (RFC 1939 §6) or a server shutdown. In update.cpp.
void abandon_session(Session& s, const char* why);
// LOGIN-DELAY and EXPIRE with a policy file (RFC 2449 §6.5, §6.6). In
// policy.cpp. Before the maildrop opens: answers -ERR [LOGIN-DELAY] and
// returns true when the user's last login is too recent.
bool refuse_early_login(Session& s);
// Once the maildrop is open (under the session lock): loads the state and
// records this login.
void start_policy_state(Session& s);
// A RETR of message `index` (0-based): its first retrieval, if it is one.
void note_retrieval(Session& s, size_t index);
// At QUIT: marks in `deleting` the messages whose expire time has come,
// saves the state of the messages that stay, and returns how many expired.
size_t add_expired(Session& s, std::vector<bool>& deleting);
// Saves the state of the messages not in `gone` (the session's retrievals
// included), when it changed.
void save_policy_state_for(Session& s, const std::vector<bool>& gone);
// The process title for the session's state. In session.cpp.
void set_session_title(const Session& s);

} // namespace popper
