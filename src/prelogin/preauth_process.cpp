// The pre-login process (popper/prelogin.h): unprivileged and chrooted, it
// sends the greeting and serves the AUTHORIZATION state of each connection
// it is given (src/session/authorization.cpp), passing the credentials to
// the session process. Forked fresh for one connection, or pooled by the
// listener for several.
#include "preauth_process.h"

#include "popper/auth_channel.h"
#include "popper/log.h"
#include "popper/networks.h"
#include "popper/preauth_sandbox.h"
#include "popper/proc_title.h"
#include "popper/proxy_protocol.h"
#include "popper/session.h"

#include <unistd.h>

namespace popper {

namespace {

// A connection of a `proxy` listener: the header first, then the client it
// names, which the session process must admit (max_sessions_per_ip). Here,
// unprivileged, because the header is the client's bytes as much as its
// commands are. nullopt: the connection is to be closed, said and logged.
std::optional<PeerInfo> take_proxy_header(int in_fd, int out_fd, const PeerInfo& sender,
                                          int channel) {
    auto header = read_proxy_header(in_fd, kProxyHeaderTimeout);
    if (!header) {
        // Nothing is said to the sender: it is a proxy, and what it would
        // pass on to the client would be a protocol error of its own.
        log_warning("connection closed: " + header.error().message() +
                    ": sender=" + sender.address);
        return std::nullopt;
    }
    PeerInfo client = sender;
    client.expects_proxy_header = false;
    client.under_tls = header->client_ssl;
    // v1 UNKNOWN, v2 LOCAL: the sender speaks for itself (a health check).
    if (header->endpoints)
        client.address = header->endpoints->source.text();
    if (!send_client_address(channel, {client.address, client.under_tls}))
        return std::nullopt;
    auto admitted = receive_auth_verdict(channel);
    if (!admitted)
        return std::nullopt;
    if (!admitted->ok) {
        (void)write_error_reply(out_fd, "[SYS/TEMP] Too many connections from your address");
        return std::nullopt;
    }
    return client;
}

// The pre-login side of one connection, in either kind of pre-login process.
void serve_preauth_connection(const Config& config, const AuthContext& context, int in_fd,
                              int out_fd, const PeerInfo& accepted, int channel) {
    PeerInfo peer = accepted;
    if (accepted.expects_proxy_header) {
        set_proc_title("popperd: [" + accepted.address + "] PROXY (pre-login)");
        auto client = take_proxy_header(in_fd, out_fd, accepted, channel);
        if (!client) {
            (void)send_preauth_end(channel, {false});
            return;
        }
        peer = std::move(*client);
    }
    Session s(config, peer, in_fd, out_fd);
    s.auth_channel = channel;
    s.auth = &context;
    set_proc_title("popperd: [" + peer.address + "] AUTH (pre-login)");
    // RFC 937: "+ POP2 server ready" (HELO logs in, no APOP). RFC 1939 §7:
    // the stamp in the greeting announces APOP.
    if (peer.protocol == Protocol::pop2)
        s.writer.ok("POP2 popperd ready");
    else
        s.writer.ok(context.apop_stamp.empty() ? "popperd ready"
                                               : "popperd ready " + context.apop_stamp);
    int code = serve_commands(s);
    if (!s.handed_over)
        (void)send_preauth_end(channel, {code == kExitSaidShutdown});
}

// Both kinds of pre-login process, once forked (as root).
bool enter_sandbox(const Config& config) {
    auto sandboxed = enter_preauth_sandbox(config.unprivileged_user, config.preauth_chroot);
    if (!sandboxed)
        log_error("pre-login sandbox: " + sandboxed.error().message());
    return static_cast<bool>(sandboxed);
}

// One connection the listener passed; its descriptors close on return.
void serve_pooled_connection(const Config& config, PreauthConnection c) {
    auto challenges = receive_login_challenges(c.channel.get());
    if (!challenges) {
        // Its session process is gone: nobody to check credentials.
        log_error("pre-login process: " + challenges.error().message());
        return;
    }
    std::vector<bool> unused(challenges->cram.size(), false);
    const AuthContext context{std::move(challenges->apop_stamp),
                              std::move(challenges->capa_policy_lines), std::move(challenges->cram),
                              std::move(unused)};
    set_session_signal_targets(c.client.get(), 0);
    serve_preauth_connection(
        config, context, c.client.get(), c.client.get(),
        PeerInfo{.address = c.peer_address, .expects_proxy_header = c.expects_proxy_header},
        c.channel.get());
    set_session_signal_targets(-1, 0);
}

} // namespace

[[noreturn]] void run_fresh_preauth(const Config& config, const AuthContext& context, int in_fd,
                                    int out_fd, const PeerInfo& peer, int channel) {
    if (!enter_sandbox(config)) {
        (void)write_error_reply(out_fd, "[SYS/TEMP] Internal error");
        ::_exit(1);
    }
    serve_preauth_connection(config, context, in_fd, out_fd, peer, channel);
    ::_exit(0);
}

[[noreturn]] void run_preauth_process(const Config& config, UniqueFd control) {
    if (!enter_sandbox(config))
        ::_exit(1);
    for (unsigned served = 0; served < config.preauth_process_connections;) {
        set_proc_title("popperd: pre-login (idle)");
        auto connection = receive_preauth_connection(control.get());
        if (!connection && connection.error().errnum == EINTR) {
            if (session_shutdown_requested())
                break;
            continue;
        }
        if (!connection) {
            log_error("pre-login process: " + connection.error().message());
            break;
        }
        if (!*connection)
            break; // retired by the listener
        ++served;
        // Idle again after every connection, served or not: the listener
        // counts this process busy until it says so.
        serve_pooled_connection(config, std::move(**connection));
        if (session_shutdown_requested())
            break;
        if (served < config.preauth_process_connections && !send_preauth_idle(control.get()))
            break;
    }
    ::_exit(0);
}

} // namespace popper
