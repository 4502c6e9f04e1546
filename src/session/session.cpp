// The session loop: read a command, dispatch it by table, flush replies when
// no pipelined command waits, enforce the timeouts of each state.
#include "popper/session.h"

#include "popper/log.h"
#include "popper/proc_title.h"
#include "session_state.h"

#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace popper {

namespace {

volatile sig_atomic_t shutdown_requested = 0;

enum StateMask : unsigned { kAuth = 1, kTrans = 2 };

struct CommandEntry {
    const char* keyword;
    unsigned states;
    void (*handler)(Session&, const CommandLine&);
};

// RFC 1939 §§4-6, RFC 2449 §5 (CAPA in both states), RFC 1460 (LAST).
constexpr CommandEntry kCommands[] = {
    {"CAPA", kAuth | kTrans, handle_capa}, {"USER", kAuth, handle_user},
    {"PASS", kAuth, handle_pass},          {"QUIT", kAuth | kTrans, handle_quit},
    {"STAT", kTrans, handle_stat},         {"LIST", kTrans, handle_list},
    {"UIDL", kTrans, handle_uidl},         {"RETR", kTrans, handle_retr},
    {"TOP", kTrans, handle_top},           {"DELE", kTrans, handle_dele},
    {"NOOP", kTrans, handle_noop},         {"RSET", kTrans, handle_rset},
    {"LAST", kTrans, handle_last},         {"APOP", kAuth, handle_apop},
    {"AUTH", kAuth, handle_auth},
};

const CommandEntry* find_command(const std::string& keyword) {
    for (const auto& entry : kCommands)
        if (keyword == entry.keyword) return &entry;
    return nullptr;
}

void dispatch(Session& s, const std::string& line) {
    auto cmd = parse_command_line(line);
    if (!cmd) {
        s.writer.err("Invalid command line");
        return;
    }
    const CommandEntry* entry = find_command(cmd->keyword);
    if (entry == nullptr || (cmd->keyword == "LAST" && !s.config.enable_last)) {
        s.writer.err("Unknown command");
        return;
    }
    unsigned state = s.state == Pop3State::authorization ? kAuth : kTrans;
    if ((entry->states & state) == 0) {
        s.writer.err(state == kAuth ? "Not logged in" : "Already logged in");
        return;
    }
    for (const auto& arg : cmd->args) {
        if (arg.size() > kMaxArgumentOctets && cmd->keyword != "PASS") {
            s.writer.err("Argument too long");
            return;
        }
    }
    entry->handler(s, *cmd);
}

} // namespace

void tune_socket(int fd, unsigned idle_timeout_s) {
    int one = 1;
    // Replies are already batched; never let the last one wait for an ACK.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // A client that stops reading cannot hold the session forever.
    struct timeval tv {};
    tv.tv_sec = static_cast<time_t>(idle_timeout_s);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void request_session_shutdown() { shutdown_requested = 1; }

bool session_shutdown_requested() { return shutdown_requested != 0; }

namespace {

int signal_client_fd = -1;
volatile pid_t signal_forward_pid = 0;

// Async-signal-safe. Besides the flag, it wakes whatever the session is
// blocked in: a read of the client sees end of input, a write to a client
// that does not read gives up within a second, a privileged process waiting
// for its pre-login child passes the signal on.
void on_shutdown_signal(int) {
    int saved = errno;
    request_session_shutdown();
    if (signal_forward_pid > 0) {
        // The pre-login child owns the client until login: it says goodbye.
        ::kill(signal_forward_pid, SIGTERM);
    } else if (signal_client_fd >= 0) {
        ::shutdown(signal_client_fd, SHUT_RD);
        struct timeval tv {1, 0};
        ::setsockopt(signal_client_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    errno = saved;
}

} // namespace

void set_session_signal_targets(int client_fd, pid_t forward_to) {
    signal_client_fd = client_fd;
    signal_forward_pid = forward_to;
}

void install_session_signals() {
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_shutdown_signal;
    sa.sa_flags = 0; // no SA_RESTART: a blocked read must return
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
    sa.sa_handler = SIG_DFL;
    ::sigaction(SIGCHLD, &sa, nullptr);
}

void set_session_title(const Session& s) {
    switch (s.state) {
    case Pop3State::authorization: set_proc_title("popperd: [" + s.peer.address + "] AUTH"); break;
    case Pop3State::transaction:
        set_proc_title("popperd: " + s.user + " [" + s.peer.address + "] TRANSACTION");
        break;
    case Pop3State::update:
        set_proc_title("popperd: " + s.user + " [" + s.peer.address + "] UPDATE");
        break;
    }
}

void handle_capa(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty()) return s.writer.err("CAPA takes no argument");
    s.writer.ok("Capability list follows");
    s.writer.raw("TOP\r\n");
    if (s.state == Pop3State::authorization && s.policy.offered(LoginMechanism::user_pass))
        s.writer.raw("USER\r\n");
    if (s.state == Pop3State::authorization && !s.policy.sasl.empty()) {
        // RFC 5034 §3: only the mechanisms really offered.
        std::string sasl = "SASL";
        for (SaslMechanism m : s.policy.sasl) sasl += " " + std::string(sasl_mechanism_name(m));
        s.writer.raw(sasl + "\r\n");
    }
    s.writer.raw("UIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
    s.writer.raw("IMPLEMENTATION popperd\r\n.\r\n");
}

void log_logout(const Session& s, const char* how) {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                 s.stats.started)
                       .count();
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3f", seconds);
    log_info("logout: user=" + s.user + " addr=" + s.peer.address + " how=" + how +
             " retrieved=" + std::to_string(s.stats.retrieved) + "/" +
             std::to_string(s.stats.retrieved_octets) +
             " deleted=" + std::to_string(s.stats.deleted) + " seconds=" + secs +
             " peak_rss_kb=" + std::to_string(usage.ru_maxrss));
}

void abandon_session(Session& s, const char* why) {
    if (!s.maildrop) return;
    // Nothing is deleted: RFC 1939 §6 removes messages only in UPDATE.
    std::vector<bool> none(s.deleted.size(), false);
    if (auto put_back = s.maildrop->commit(none); !put_back) {
        log_error("returning mail to the spool for user=" + s.user +
                  " failed, it stays in the drop until the next login: " +
                  put_back.error().message());
    }
    s.maildrop.reset();
    s.stats.deleted = 0;
    log_logout(s, why);
}

int serve_commands(Session& s) {
    const Config& config = s.config;
    const PeerInfo& peer = s.peer;
    std::string line;
    while (!s.done) {
        if (!s.reader.has_buffered_line() && !s.writer.flush()) break;
        unsigned timeout_s = s.state == Pop3State::authorization ? config.auth_timeout_s
                                                                  : config.idle_timeout_s;
        if (shutdown_requested) {
            s.writer.err("[SYS/TEMP] Server shutting down");
            s.writer.flush();
            abandon_session(s, "shutdown");
            return kExitSaidShutdown;
        }
        ReadStatus got = s.reader.read_line(line, static_cast<int>(timeout_s) * 1000);
        switch (got) {
        case ReadStatus::line: dispatch(s, line); break;
        case ReadStatus::too_long: s.writer.err("Line too long"); break;
        case ReadStatus::interrupted: continue;
        case ReadStatus::timeout:
            // RFC 1939 §3: an autologout timer; nothing is deleted.
            s.writer.err("Disconnected for inactivity");
            s.writer.flush();
            log_info("timeout: user=" + (s.user.empty() ? s.pending_user : s.user) +
                     " addr=" + peer.address);
            abandon_session(s, "timeout");
            return 0;
        case ReadStatus::eof:
        case ReadStatus::error:
            if (shutdown_requested) continue; // our own shutdown(SHUT_RD): say goodbye
            abandon_session(s, "disconnected");
            return 0;
        }
        if (!s.writer.flush_if_large()) break;
    }
    s.writer.flush();
    abandon_session(s, "disconnected");
    return 0;
}

} // namespace popper
