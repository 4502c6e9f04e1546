// One connection, two processes (privilege separation, after popa3d and
// qmail's checkpassword): a pre-login process, chrooted and unprivileged,
// speaks POP3 until the client has sent credentials; the privileged process
// checks them, and after success becomes the mailbox owner and serves the
// rest of the session. Only typed messages of auth_channel.h pass between.
// The pre-login process is the privileged one's own child, or (with
// preauth_process_connections > 1) a pooled process of the listener that
// serves connections one after another.
#include "popper/auth_channel.h"
#include "popper/log.h"
#include "popper/privileges.h"
#include "popper/prelogin.h"
#include "popper/proc_title.h"
#include "popper/session.h"

#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace popper {

namespace {

// The pre-login side of one connection, in either kind of pre-login process.
void serve_preauth_connection(const Config& config, const AuthContext& context, int in_fd,
                              int out_fd, const PeerInfo& peer, int channel) {
    Session s(config, peer, in_fd, out_fd);
    s.auth_channel = channel;
    s.auth = &context;
    set_proc_title("popperd: [" + peer.address + "] AUTH (pre-login)");
    // RFC 1939 §7: the stamp in the greeting announces APOP.
    s.writer.ok(context.apop_stamp.empty() ? "popperd ready" : "popperd ready " + context.apop_stamp);
    int code = serve_commands(s);
    if (!s.handed_over) (void)send_preauth_end(channel, {code == kExitSaidShutdown});
}

// Both kinds of pre-login process, once forked (as root).
bool enter_sandbox(const Config& config) {
    auto sandboxed = enter_preauth_sandbox(config.unprivileged_user, config.preauth_chroot);
    if (!sandboxed) log_error("pre-login sandbox: " + sandboxed.error().message());
    return static_cast<bool>(sandboxed);
}

[[noreturn]] void run_preauth(const Config& config, const AuthContext& context, int in_fd,
                              int out_fd, const PeerInfo& peer, int channel) {
    if (!enter_sandbox(config)) {
        (void)write_error_reply(out_fd, "[SYS/TEMP] Internal error");
        ::_exit(1);
    }
    serve_preauth_connection(config, context, in_fd, out_fd, peer, channel);
    ::_exit(0);
}

struct Login {
    UserEntry entry;
    std::string pending_input;
};

struct PreauthOutcome {
    std::optional<Login> login;
    bool said_goodbye = false; // the pre-login process told the client we are stopping
    bool ended_cleanly = false; // it said how it ended (no login), rather than vanish
};

// Answers the pre-login process's requests until it hands over a logged-in
// session or ends the connection.
PreauthOutcome serve_auth_requests(const Config& config, const AuthContext& context,
                                   int channel) {
    PreauthOutcome outcome;
    std::optional<UserEntry> accepted;
    for (;;) {
        auto message = receive_auth_message(channel);
        if (!message) {
            if (message.error().errnum == EINTR) continue; // the handler did its part
            log_error("pre-login process: " + message.error().message());
            return outcome;
        }
        if (!*message) return outcome; // gone without a word: crashed or killed
        if ((*message)->ended) {
            outcome.said_goodbye = (*message)->ended->said_goodbye;
            outcome.ended_cleanly = true;
            return outcome;
        }
        if ((*message)->request) {
            AuthVerdict verdict = check_credentials(config, context, *(*message)->request, accepted);
            if (auto sent = send_auth_verdict(channel, verdict); !sent) return outcome;
            continue;
        }
        const Handover& handover = *(*message)->handover;
        if (!accepted || accepted->name != handover.user) {
            log_error("pre-login process handed over a session it was not granted");
            return outcome;
        }
        outcome.login = Login{std::move(*accepted), handover.pending_input};
        return outcome;
    }
}

// The privileged side once the pre-login process runs: checks credentials,
// then serves the logged-in session itself.
int serve_after_preauth(const Config& config, const AuthContext& context, int in_fd, int out_fd,
                        const PeerInfo& peer, UniqueFd channel, pid_t own_child) {
    PreauthOutcome outcome = serve_auth_requests(config, context, channel.get());
    if (own_child > 0) {
        int status = 0;
        while (::waitpid(own_child, &status, 0) < 0 && errno == EINTR) {
        }
    }
    set_session_signal_targets(out_fd, 0);
    if (!outcome.login) {
        // Stopping, and the pre-login process ended without telling the
        // client (the signal reached it late, or not at all): say it here.
        if (session_shutdown_requested() && !outcome.said_goodbye)
            (void)write_error_reply(out_fd, "[SYS/TEMP] Server shutting down");
        else if (!outcome.ended_cleanly)
            (void)write_error_reply(out_fd, "[SYS/TEMP] Internal error, try again later");
        return 0;
    }
    channel.reset();
    Session s(config, peer, in_fd, out_fd);
    s.reader.prime(std::move(outcome.login->pending_input));
    enter_transaction(s, outcome.login->entry);
    int code = serve_commands(s);
    return code == kExitSaidShutdown ? 0 : code; // a clean stop, for inetd and systemd
}

void announce_connection(const Config& config, int out_fd, const PeerInfo& peer) {
    tune_socket(out_fd, config.idle_timeout_s);
    log_info("connect: addr=" + peer.address);
    set_proc_title("popperd: [" + peer.address + "] AUTH");
}

} // namespace

int run_session(const Config& config, int in_fd, int out_fd, const PeerInfo& peer) {
    announce_connection(config, out_fd, peer);
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
    // The pre-login child owns the client until login: SIGTERM goes to it,
    // and it says goodbye.
    set_session_signal_targets(out_fd, child);
    ::close(pair[1]);
    return serve_after_preauth(config, context, in_fd, out_fd, peer, std::move(channel), child);
}

int run_session_with_pooled_preauth(const Config& config, int fd, const PeerInfo& peer,
                                    UniqueFd channel) {
    // The pooled process is not ours to signal: SIGTERM ends its reading
    // (shutdown of the socket we share) and it reports back. Set before
    // anything is logged, so that no signal after "connect" is missed.
    set_session_signal_targets(fd, 0);
    announce_connection(config, fd, peer);
    const AuthContext context = make_auth_context(config);
    if (auto sent = send_login_challenges(channel.get(), {context.apop_stamp,
                                                          context.cram_challenges});
        !sent) {
        log_error("pre-login process: " + sent.error().message());
        return 1;
    }
    return serve_after_preauth(config, context, fd, fd, peer, std::move(channel), 0);
}

namespace {

// One connection the listener passed; its descriptors close on return.
void serve_pooled_connection(const Config& config, PreauthConnection c) {
    auto challenges = receive_login_challenges(c.channel.get());
    if (!challenges) {
        // Its session process is gone: nobody to check credentials.
        log_error("pre-login process: " + challenges.error().message());
        return;
    }
    std::vector<bool> unused(challenges->cram.size(), false);
    const AuthContext context{std::move(challenges->apop_stamp), std::move(challenges->cram),
                              std::move(unused)};
    set_session_signal_targets(c.client.get(), 0);
    serve_preauth_connection(config, context, c.client.get(), c.client.get(),
                             PeerInfo{c.peer_address}, c.channel.get());
    set_session_signal_targets(-1, 0);
}

} // namespace

[[noreturn]] void run_preauth_process(const Config& config, UniqueFd control) {
    if (!enter_sandbox(config)) ::_exit(1);
    for (unsigned served = 0; served < config.preauth_process_connections;) {
        set_proc_title("popperd: pre-login (idle)");
        auto connection = receive_preauth_connection(control.get());
        if (!connection && connection.error().errnum == EINTR) {
            if (session_shutdown_requested()) break;
            continue;
        }
        if (!connection) {
            log_error("pre-login process: " + connection.error().message());
            break;
        }
        if (!*connection) break; // retired by the listener
        ++served;
        // Idle again after every connection, served or not: the listener
        // counts this process busy until it says so.
        serve_pooled_connection(config, std::move(**connection));
        if (session_shutdown_requested()) break;
        if (served < config.preauth_process_connections && !send_preauth_idle(control.get()))
            break;
    }
    ::_exit(0);
}

} // namespace popper
