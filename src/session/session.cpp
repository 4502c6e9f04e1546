// The session loop: read a command, dispatch it by the table of the
// session's state, flush replies when no pipelined command waits, enforce
// the timeouts of each state. Also what both states share: the capability
// list, the process title, a session's signals.
#include "popper/session.h"

#include "commands.h"
#include "popper/log.h"
#include "popper/proc_title.h"

#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace popper {

namespace {

volatile sig_atomic_t shutdown_requested = 0;
volatile sig_atomic_t takeover_requested = 0;

const Command* find_command(std::span<const Command> table, const Session& s,
                            const std::string& keyword) {
    for (const auto& command : table)
        if (keyword == command.keyword && (command.enabled == nullptr || command.enabled(s.config)))
            return &command;
    return nullptr;
}

} // namespace

// Each state's commands come from its own table (commands.h); a command of
// the other state gets the -ERR that says so.
void dispatch_command(Session& s, const std::string& line) {
    if (s.peer.protocol == Protocol::pop2)
        return dispatch_pop2_command(s, line);
    auto cmd = parse_command_line(line);
    if (!cmd)
        return s.writer.err("Invalid command line");
    const bool logged_in = s.state != Pop3State::authorization;
    const Command* command = find_command(
        logged_in ? transaction_commands() : authorization_commands(), s, cmd->keyword);
    if (command == nullptr) {
        auto other = logged_in ? authorization_commands() : transaction_commands();
        if (find_command(other, s, cmd->keyword) == nullptr)
            return s.writer.err("Unknown command");
        return s.writer.err(logged_in ? "Already logged in" : "Not logged in");
    }
    if (!command->long_arguments) {
        for (const auto& arg : cmd->args)
            if (arg.size() > kMaxArgumentOctets)
                return s.writer.err("Argument too long");
    }
    command->handler(s, *cmd);
}

void reply_capabilities(Session& s, const CommandLine& cmd, std::string_view login_lines) {
    if (!cmd.args.empty())
        return s.writer.err("CAPA takes no argument");
    s.writer.ok("Capability list follows");
    s.writer.raw("TOP\r\n");
    if (!login_lines.empty())
        s.writer.raw(login_lines);
    s.writer.raw("UIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
    s.writer.raw("IMPLEMENTATION popperd\r\n.\r\n");
}

void tune_socket(int fd, unsigned idle_timeout_s) {
    int one = 1;
    // Replies are already batched; never let the last one wait for an ACK.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // A client that stops reading cannot hold the session forever.
    struct timeval tv {};
    tv.tv_sec = static_cast<time_t>(idle_timeout_s);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void request_session_shutdown() {
    shutdown_requested = 1;
}

bool session_shutdown_requested() {
    return shutdown_requested != 0;
}

namespace {

int signal_client_fd = -1;
volatile pid_t signal_forward_pid = 0;

// Async-signal-safe. Wakes whatever the session is blocked in: a read of
// the client sees end of input, a write to a client that does not read
// gives up within a second, a privileged process waiting for its pre-login
// child passes the signal on.
void wake_session() {
    if (signal_forward_pid > 0) {
        // The pre-login child owns the client until login: it says goodbye.
        ::kill(signal_forward_pid, SIGTERM);
    } else if (signal_client_fd >= 0) {
        ::shutdown(signal_client_fd, SHUT_RD);
        struct timeval tv {
            1, 0
        };
        ::setsockopt(signal_client_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
}

void on_shutdown_signal(int) {
    int saved = errno;
    request_session_shutdown();
    wake_session();
    errno = saved;
}

// SIGUSR1, from a login of the same user with `takeover = yes`
// (login.cpp): like a shutdown, with its own goodbye. Only a logged-in
// session holds the session lock, so only it is ever sent this.
void on_takeover_signal(int) {
    int saved = errno;
    takeover_requested = 1;
    wake_session();
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
    sa.sa_handler = on_takeover_signal;
    ::sigaction(SIGUSR1, &sa, nullptr);
    sa.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
    sa.sa_handler = SIG_DFL;
    ::sigaction(SIGCHLD, &sa, nullptr);
}

void set_session_title(const Session& s) {
    switch (s.state) {
    case Pop3State::authorization:
        set_proc_title("popperd: [" + s.peer.address + "] AUTH");
        break;
    case Pop3State::transaction:
        set_proc_title("popperd: " + s.user + " [" + s.peer.address + "] TRANSACTION");
        break;
    case Pop3State::update:
        set_proc_title("popperd: " + s.user + " [" + s.peer.address + "] UPDATE");
        break;
    }
}

int serve_commands(Session& s) {
    const Config& config = s.config;
    const PeerInfo& peer = s.peer;
    std::string line;
    while (!s.done) {
        if (!s.reader.has_buffered_line() && !s.writer.flush())
            break;
        unsigned timeout_s =
            s.state == Pop3State::authorization ? config.auth_timeout_s : config.idle_timeout_s;
        if (shutdown_requested) {
            s.writer.err("[SYS/TEMP] Server shutting down");
            s.writer.flush();
            abandon_session(s, "shutdown");
            return kExitSaidShutdown;
        }
        if (takeover_requested && s.state == Pop3State::transaction) {
            // RFC 2449 §8.1.2 SYS/TEMP: the mail goes back, nothing deleted.
            s.writer.err("[SYS/TEMP] Session taken over by a new login of the same user");
            s.writer.flush();
            log_notice("session taken over: user=" + s.user + " addr=" + peer.address +
                       " pid=" + std::to_string(::getpid()));
            abandon_session(s, "taken-over");
            return 0;
        }
        ReadStatus got = s.reader.read_line(line, static_cast<int>(timeout_s) * 1000);
        switch (got) {
        case ReadStatus::line:
            dispatch_command(s, line);
            break;
        case ReadStatus::too_long:
            s.writer.err("Line too long");
            break;
        case ReadStatus::interrupted:
            continue;
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
            if (shutdown_requested || (takeover_requested && s.state == Pop3State::transaction))
                continue; // our own shutdown(SHUT_RD): say goodbye
            abandon_session(s, "disconnected");
            return 0;
        }
        if (!s.writer.flush_if_large())
            break;
    }
    s.writer.flush();
    abandon_session(s, "disconnected");
    return 0;
}

} // namespace popper
