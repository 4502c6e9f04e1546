// One connection, two processes (privilege separation, after popa3d and
// qmail's checkpassword): a pre-login child, chrooted and unprivileged,
// speaks POP3 until the client has sent credentials; the privileged parent
// checks them, and after success becomes the mailbox owner and serves the
// rest of the session. Only typed messages of auth_channel.h pass between.
#include "popper/auth_channel.h"
#include "popper/log.h"
#include "popper/privileges.h"
#include "popper/proc_title.h"
#include "popper/session.h"
#include "session_state.h"

#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace popper {

namespace {

[[noreturn]] void run_preauth(const Config& config, const AuthContext& context, int in_fd,
                              int out_fd, const PeerInfo& peer, int channel) {
    if (auto sandboxed = enter_preauth_sandbox(config.unprivileged_user, config.preauth_chroot);
        !sandboxed) {
        log_error("pre-login sandbox: " + sandboxed.error().message());
        (void)!::write(out_fd, "-ERR [SYS/TEMP] Internal error\r\n", 32);
        ::_exit(1);
    }
    Session s(config, peer, in_fd, out_fd);
    s.auth_channel = channel;
    s.auth = &context;
    set_proc_title("popperd: [" + peer.address + "] AUTH (pre-login)");
    // RFC 1939 §7: the stamp in the greeting announces APOP.
    s.writer.ok(context.apop_stamp.empty() ? "popperd ready" : "popperd ready " + context.apop_stamp);
    ::_exit(serve_commands(s));
}

struct Login {
    UserEntry entry;
    std::string pending_input;
};

// Answers the pre-login child's requests until it hands over a logged-in
// session or goes away.
std::optional<Login> serve_auth_requests(const Config& config, const AuthContext& context,
                                         int channel) {
    std::optional<UserEntry> accepted;
    for (;;) {
        auto message = receive_auth_message(channel);
        if (!message) {
            if (message.error().errnum == EINTR) continue; // the handler told the child
            log_error("pre-login process: " + message.error().message());
            return std::nullopt;
        }
        if (!*message) return std::nullopt; // child ended: QUIT, timeout, failures
        if ((*message)->request) {
            AuthVerdict verdict = check_credentials(config, context, *(*message)->request, accepted);
            if (auto sent = send_auth_verdict(channel, verdict); !sent) return std::nullopt;
            continue;
        }
        const Handover& handover = *(*message)->handover;
        if (!accepted || accepted->name != handover.user) {
            log_error("pre-login process handed over a session it was not granted");
            return std::nullopt;
        }
        return Login{std::move(*accepted), handover.pending_input};
    }
}

} // namespace

int run_session(const Config& config, int in_fd, int out_fd, const PeerInfo& peer) {
    tune_socket(out_fd, config.idle_timeout_s);
    log_info("connect: addr=" + peer.address);
    set_proc_title("popperd: [" + peer.address + "] AUTH");
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        log_error(std::string("socketpair: ") + std::strerror(errno));
        return 1;
    }
    UniqueFd channel(pair[0]);
    const AuthContext context = make_auth_context(config);
    pid_t child = ::fork();
    if (child < 0) {
        log_error(std::string("fork: ") + std::strerror(errno));
        ::close(pair[1]);
        return 1;
    }
    if (child == 0) {
        channel.reset();
        set_session_signal_targets(out_fd, 0);
        run_preauth(config, context, in_fd, out_fd, peer, pair[1]);
    }
    set_session_signal_targets(out_fd, child);
    ::close(pair[1]);
    auto login = serve_auth_requests(config, context, channel.get());
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    set_session_signal_targets(out_fd, 0);
    if (!login) {
        // Stopping, and the child ended without telling the client (the
        // signal reached it late, or not at all): say it here.
        bool said = WIFEXITED(status) && WEXITSTATUS(status) == kExitSaidShutdown;
        if (session_shutdown_requested() && !said) {
            static constexpr char kBye[] = "-ERR [SYS/TEMP] Server shutting down\r\n";
            (void)!::write(out_fd, kBye, sizeof kBye - 1);
        }
        return 0;
    }
    channel.reset();
    Session s(config, peer, in_fd, out_fd);
    s.reader.prime(std::move(login->pending_input));
    enter_transaction(s, login->entry);
    int code = serve_commands(s);
    return code == kExitSaidShutdown ? 0 : code; // a clean stop, for inetd and systemd
}

} // namespace popper
