// The session process, the privileged side of the boundary
// (popper/prelogin.h): it makes the login's challenges, starts or is given
// a pre-login process, answers its requests, and after a login serves the
// rest of the session as the mailbox owner.
#include "popper/prelogin.h"

#include "popper/auth_channel.h"
#include "popper/credentials.h"
#include "popper/listener.h"
#include "popper/log.h"
#include "popper/networks.h"
#include "popper/proc_title.h"
#include "popper/session.h"
#include "preauth_process.h"

#include <csignal>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h> // malloc_trim: glibc's; other libcs return freed pages themselves or not at all
#endif
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace popper {

namespace {

struct Login {
    GrantedLogin granted;
    std::string pending_input;
};

struct PreauthOutcome {
    std::optional<Login> login;
    bool said_goodbye = false;  // the pre-login process told the client we are stopping
    bool ended_cleanly = false; // it said how it ended (no login), rather than vanish
};

void announce_client(const PeerInfo& peer, const std::string& sender) {
    log_info("connect: addr=" + peer.address + " sender=" + sender +
             (peer.under_tls ? " tls=yes" : " tls=no"));
    set_proc_title("popperd: [" + peer.address + "] AUTH");
}

// The client a PROXY header named, reported by the pre-login process: from
// now on `peer` for every log line, title, limit and policy of the session.
// False: the connection ends (a report it had no business sending, or an
// address that is not one).
bool take_client_address(const ClientAddress& client, PeerInfo& peer, int admission, int channel) {
    auto ip = parse_ip_address(client.address);
    if (!peer.expects_proxy_header || !ip) {
        log_error("pre-login process reported a client it was not asked for: sender=" +
                  peer.address);
        return false;
    }
    const std::string sender = peer.address;
    peer.address = ip->text();
    peer.under_tls = client.under_tls;
    peer.expects_proxy_header = false;
    bool admitted = ask_admission(admission, peer.address);
    if (admitted)
        announce_client(peer, sender);
    else
        log_warning("connection refused: addr=" + peer.address +
                    " reason=max_sessions_per_ip sender=" + sender);
    return static_cast<bool>(send_auth_verdict(
        channel, {admitted, admitted ? std::string() : std::string("max_sessions_per_ip")}));
}

// Answers the pre-login process's requests until it hands over a logged-in
// session or ends the connection.
PreauthOutcome serve_auth_requests(const Config& config, const AuthContext& context, int channel,
                                   PeerInfo& peer, int admission) {
    PreauthOutcome outcome;
    std::optional<GrantedLogin> accepted;
    for (;;) {
        auto message = receive_auth_message(channel);
        if (!message) {
            if (message.error().errnum == EINTR)
                continue; // the handler did its part
            log_error("pre-login process: " + message.error().message());
            return outcome;
        }
        if (!*message)
            return outcome; // gone without a word: crashed or killed
        if ((*message)->ended) {
            outcome.said_goodbye = (*message)->ended->said_goodbye;
            outcome.ended_cleanly = true;
            return outcome;
        }
        if ((*message)->client) {
            if (!take_client_address(*(*message)->client, peer, admission, channel))
                return outcome;
            continue;
        }
        if (peer.expects_proxy_header) {
            log_error("pre-login process sent a request before the PROXY header's client");
            return outcome;
        }
        if ((*message)->request) {
            AuthVerdict verdict = check_credentials(config, context, *(*message)->request,
                                                    peer.address, peer.under_tls, accepted);
            if (auto sent = send_auth_verdict(channel, verdict); !sent)
                return outcome;
            continue;
        }
        const Handover& handover = *(*message)->handover;
        if (!accepted || accepted->entry.name != handover.user) {
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
                        PeerInfo peer, UniqueFd channel, pid_t own_child, int admission) {
    PreauthOutcome outcome = serve_auth_requests(config, context, channel.get(), peer, admission);
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
    enter_transaction(s, outcome.login->granted);
    // A held session may idle for idle_timeout: the heap pages that login
    // freed (crypt's 32 KiB scratch, the users file, the indexer's
    // buffers) go back to the kernel instead of staying dirty in each of
    // thousands of sessions (bench/NOTES.md, "Memory per held session").
#if defined(__GLIBC__)
    (void)::malloc_trim(0);
#endif
    int code = serve_commands(s);
    return code == kExitSaidShutdown ? 0 : code; // a clean stop, for inetd and systemd
}

void announce_connection(const Config& config, int out_fd, const PeerInfo& peer) {
    tune_socket(out_fd, config.idle_timeout_s);
    // From a proxy, the connection is announced with its client, once the
    // header names it (announce_client).
    if (peer.expects_proxy_header) {
        log_debug("connect: sender=" + peer.address + " (PROXY header expected)");
        set_proc_title("popperd: [" + peer.address + "] PROXY");
        return;
    }
    log_info("connect: addr=" + peer.address + (peer.under_tls ? " tls=yes" : "") +
             std::string(protocol_log_field(peer)));
    set_proc_title("popperd: [" + peer.address + "] AUTH");
}

} // namespace

int run_session(const Config& config, int in_fd, int out_fd, const PeerInfo& peer, int admission) {
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
        run_fresh_preauth(config, context, in_fd, out_fd, peer, pair[1]);
    }
    // The pre-login child owns the client until login: SIGTERM goes to it,
    // and it says goodbye.
    set_session_signal_targets(out_fd, child);
    ::close(pair[1]);
    return serve_after_preauth(config, context, in_fd, out_fd, peer, std::move(channel), child,
                               admission);
}

int run_session_with_pooled_preauth(const Config& config, int fd, const PeerInfo& peer,
                                    UniqueFd channel, int admission) {
    // The pooled process is not ours to signal: SIGTERM ends its reading
    // (shutdown of the socket we share) and it reports back. Set before
    // anything is logged, so that no signal after "connect" is missed.
    set_session_signal_targets(fd, 0);
    announce_connection(config, fd, peer);
    const AuthContext context = make_auth_context(config);
    if (auto sent =
            send_login_challenges(channel.get(), {context.apop_stamp, context.cram_challenges,
                                                  context.capa_policy_lines});
        !sent) {
        log_error("pre-login process: " + sent.error().message());
        return 1;
    }
    return serve_after_preauth(config, context, fd, fd, peer, std::move(channel), 0, admission);
}

} // namespace popper
