// What one POP3 session knows, shared by the files of the session module.
#pragma once

#include "popper/command_line.h"
#include "popper/config.h"
#include "popper/line_reader.h"
#include "popper/maildrop.h"
#include "popper/session.h"
#include "reply_writer.h"

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
        : config(c), peer(std::move(p)), reader(in_fd, kMaxCommandLineOctets), writer(out_fd) {}

    const Config& config;
    PeerInfo peer;
    LineReader reader;
    ReplyWriter writer;
    Pop3State state = Pop3State::authorization;
    bool done = false;              // end the session after flushing
    std::string pending_user;       // from USER, until PASS
    unsigned auth_failures = 0;
    std::string user;               // once logged in
    std::optional<Maildrop> maildrop;
    std::vector<bool> deleted;
    uint32_t highest_accessed = 0;  // RFC 1460 LAST
    SessionStats stats;
};

void set_session_title(const Session& s);

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

// Puts every message back in the spool without deleting any: a connection
// that ends without QUIT (RFC 1939 §6) or a server shutdown.
void abandon_session(Session& s, const char* why);
void log_logout(const Session& s, const char* how);

} // namespace popper
