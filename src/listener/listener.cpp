// The accept loop: one forked child per connection, limits enforced before
// any protocol byte, signals delivered through a self-pipe.
#include "popper/listener.h"

#include "popper/host_limits.h"
#include "popper/ip_address.h"
#include "popper/log.h"
#include "popper/networks.h"
#include "popper/preauth_pool.h"
#include "popper/prelogin.h"
#include "popper/privileges.h"
#include "popper/proc_title.h"
#include "popper/reply_writer.h"
#include "popper/session.h"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace popper {

namespace {

int signal_pipe_write = -1;

void on_signal(int signo) {
    int saved = errno;
    unsigned char byte = static_cast<unsigned char>(signo);
    (void)!::write(signal_pipe_write, &byte, 1);
    errno = saved;
}

void install(int signo, void (*handler)(int)) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: poll must wake up
    ::sigaction(signo, &sa, nullptr);
}

struct Children {
    // The client address of each session: empty for a session of a `proxy`
    // listener until its PROXY header names the client (admit()).
    std::map<pid_t, std::string> address_of;
    std::map<std::string, unsigned> count_at;
    // Sessions of `proxy` listeners waiting to be admitted: the listener's
    // end of each one's admission socket; and that of the session being
    // started, not yet in the map.
    std::map<pid_t, UniqueFd> admission;
    UniqueFd starting_admission;
    PreauthPool* pool = nullptr;

    void add(pid_t pid, const std::string& address) {
        address_of[pid] = address;
        if (!address.empty())
            ++count_at[address];
    }
    void forget(std::map<pid_t, std::string>::iterator it) {
        if (!it->second.empty() && --count_at[it->second] == 0)
            count_at.erase(it->second);
        admission.erase(it->first);
        address_of.erase(it);
    }
    // Leaves the listener: a session process must not hold another one's
    // admission socket.
    void close_admission_sockets() const {
        for (const auto& [pid, fd] : admission)
            ::close(fd.get());
        if (starting_admission)
            ::close(starting_admission.get());
    }
    // A session of a `proxy` listener asks for its client, the address its
    // PROXY header named: counted from now on, or refused (max_sessions_per_ip).
    void admit(pid_t pid, unsigned max_per_ip) {
        auto socket = admission.find(pid);
        auto child = address_of.find(pid);
        if (socket == admission.end() || child == address_of.end())
            return;
        char buf[kMaxAdmissionOctets];
        ssize_t n = ::recv(socket->second.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return;
        std::optional<IpAddress> ip;
        if (n > 0)
            ip = parse_ip_address(std::string_view(buf, static_cast<size_t>(n)));
        if (ip) {
            std::string address = ip->text();
            bool ok = count_at[address] < max_per_ip;
            if (ok) {
                child->second = address;
                ++count_at[address];
            } else if (count_at[address] == 0) {
                count_at.erase(address);
            }
            char answer = ok ? 'y' : 'n';
            (void)::send(socket->second.get(), &answer, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        admission.erase(socket); // one question per session
    }
    void reap() {
        for (;;) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0)
                return;
            auto it = address_of.find(pid);
            if (it == address_of.end()) {
                if (pool != nullptr)
                    pool->forget(pid, status);
                continue;
            }
            if (WIFSIGNALED(status))
                log_warning("session process " + std::to_string(pid) + " killed by signal " +
                            std::to_string(WTERMSIG(status)));
            forget(it);
        }
    }
};

// Answered by the listener itself, before forking: RFC 3206 [SYS/TEMP].
// Never waits for the client: what does not fit at once is dropped.
void refuse(int fd, const char* why) {
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    (void)write_error_reply(fd, std::string("[SYS/TEMP] ") + why);
}

std::string listener_title(const std::vector<ListeningSocket>& sockets) {
    std::string title = "popperd: listening on";
    for (size_t i = 0; i < sockets.size(); ++i)
        title += (i ? ", " : " ") + sockets[i].name;
    return title;
}

// A session process: the pre-login part in a child of its own, or in a
// pooled process the listener hands the connection to. `admission`: the
// session's end of its admission socket (a `proxy` listener), or none; ours
// is closed at once, so that no pooled process forked later inherits it.
pid_t start_session(const Config& config, int fd, const PeerInfo& peer, UniqueFd admission,
                    PreauthPool& pool) {
    const std::string& address = peer.address;
    // POP2 always gets a fresh pre-login process: the pool's hand-over
    // message names no protocol, and POP2 is too rare to be worth one.
    if (config.preauth_process_connections <= 1 || peer.protocol == Protocol::pop2) {
        pid_t pid = ::fork();
        if (pid == 0) {
            pool.leave_listener();
            install_session_signals();
            ::_exit(run_session(config, fd, fd, peer, admission.get()));
        }
        return pid;
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        return -1;
    UniqueFd privileged_end(pair[0]), preauth_end(pair[1]);
    pid_t pid = ::fork();
    if (pid == 0) {
        pool.leave_listener();
        preauth_end.reset();
        install_session_signals();
        ::_exit(run_session_with_pooled_preauth(config, fd, peer, std::move(privileged_end),
                                                admission.get()));
    }
    if (pid < 0)
        return pid;
    privileged_end.reset(); // the session process's, not ours
    admission.reset();
    // Failing here, the session process sees its channel close and tells
    // the client.
    if (auto handed = pool.hand(config, fd, preauth_end.get(), address, peer.expects_proxy_header);
        !handed)
        log_error("no pre-login process for addr=" + address + ": " + handed.error().message());
    return pid;
}

bool trusted_sender(const Config& config, int fd) {
    auto sender = peer_ip_address(fd);
    return sender && config.proxy_trusted_networks.contains(*sender);
}

bool admission_pair(UniqueFd& ours, UniqueFd& theirs) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        return false;
    ours = UniqueFd(pair[0]);
    theirs = UniqueFd(pair[1]);
    return true;
}

bool reload(Config& config, const std::string& config_path) {
    auto fresh = load_config(config_path);
    if (!fresh) {
        log_error("SIGHUP: keeping the old configuration: " + fresh.error().message());
        return false;
    }
    if (running_as_root()) {
        auto ids = remember_account_ids(fresh->unprivileged_user, fresh->mail_privileged_group);
        if (!ids) {
            log_error("SIGHUP: keeping the old configuration: " + ids.error().message());
            return false;
        }
    }
    bool same = fresh->listen.size() == config.listen.size();
    for (size_t i = 0; same && i < fresh->listen.size(); ++i)
        same = fresh->listen[i].text == config.listen[i].text &&
               fresh->listen[i].proxy == config.listen[i].proxy;
    same = same && fresh->pop2_listen == config.pop2_listen;
    if (!same)
        log_warning("SIGHUP: listen addresses changed; they apply after a restart");
    config = std::move(*fresh);
    log_open(config.log, config.log_level);
    log_notice("SIGHUP: configuration re-read from " + config_path);
    return true;
}

} // namespace

bool ask_admission(int admission, const std::string& address) {
    if (admission < 0)
        return true;
    if (::send(admission, address.data(), address.size(), MSG_NOSIGNAL) < 0)
        return false;
    char answer = 0;
    for (;;) {
        ssize_t n = ::recv(admission, &answer, 1, 0);
        // SIGTERM: the listener is stopping and closes the socket anyway.
        if (n < 0 && errno == EINTR && !session_shutdown_requested())
            continue;
        return n == 1 && answer == 'y';
    }
}

int run_listener(Config config, const std::string& config_path,
                 std::vector<ListeningSocket> sockets) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        log_error(std::string("pipe: ") + std::strerror(errno));
        return 1;
    }
    UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
    signal_pipe_write = pipe_write.get();
    install(SIGCHLD, on_signal);
    install(SIGTERM, on_signal);
    install(SIGINT, on_signal);
    install(SIGHUP, on_signal);
    ::signal(SIGPIPE, SIG_IGN);

    set_proc_title(listener_title(sockets));
    std::string limits = "max_sessions=" + std::to_string(config.max_sessions) +
                         " max_sessions_per_ip=" + std::to_string(config.max_sessions_per_ip);
    for (const auto& s : sockets)
        log_notice("listening on " + s.name + (s.proxy ? " proxy" : "") +
                   (s.protocol == Protocol::pop2 ? " pop2" : "") + " " + limits);
    raise_and_check_host_limits(config, sockets.size());

    for (const auto& s : sockets)
        ::fcntl(s.fd.get(), F_SETFL, O_NONBLOCK);
    Children children;
    // What a forked process must not keep of the listener's.
    auto close_inherited = [&sockets, &pipe_read, &children] {
        for (const auto& s : sockets)
            ::close(s.fd.get());
        ::close(pipe_read.get());
        ::close(signal_pipe_write);
        children.close_admission_sockets();
    };
    PreauthPool pool(close_inherited);
    children.pool = &pool;
    std::vector<struct pollfd> pfds;
    bool stopping = false;
    while (!stopping) {
        pfds.clear();
        pfds.push_back({pipe_read.get(), POLLIN, 0});
        for (const auto& s : sockets)
            pfds.push_back({s.fd.get(), POLLIN, 0});
        const size_t pool_first = pfds.size();
        pool.add_poll_fds(pfds);
        const size_t admission_first = pfds.size();
        std::vector<pid_t> asking;
        for (const auto& [pid, fd] : children.admission) {
            pfds.push_back({fd.get(), POLLIN, 0});
            asking.push_back(pid);
        }
        int timeout_ms = pool.retire_idle(PreauthPool::Clock::now());
        if (::poll(pfds.data(), pfds.size(), timeout_ms) < 0 && errno != EINTR) {
            log_error(std::string("poll: ") + std::strerror(errno));
            return 1;
        }
        pool.handle_reports(pfds.data() + pool_first, admission_first - pool_first);
        for (size_t i = 0; i < asking.size(); ++i)
            if (pfds[admission_first + i].revents & (POLLIN | POLLHUP | POLLERR))
                children.admit(asking[i], config.max_sessions_per_ip);
        if (pfds[0].revents & POLLIN) {
            unsigned char signals[64];
            ssize_t n = ::read(pipe_read.get(), signals, sizeof signals);
            for (ssize_t i = 0; i < n; ++i) {
                if (signals[i] == SIGCHLD)
                    children.reap();
                if (signals[i] == SIGTERM || signals[i] == SIGINT)
                    stopping = true;
                if (signals[i] == SIGHUP && reload(config, config_path))
                    pool.retire_all();
            }
        }
        for (size_t i = 1; i < pool_first && !stopping; ++i) {
            if (!(pfds[i].revents & POLLIN))
                continue;
            UniqueFd client(::accept4(pfds[i].fd, nullptr, nullptr, SOCK_CLOEXEC));
            if (!client)
                continue;
            const bool proxy = sockets[i - 1].proxy;
            std::string address = peer_address_text(client.get());
            if (proxy && !trusted_sender(config, client.get())) {
                // Before a byte is read: an untrusted peer's header would
                // let it choose the address we log, limit and ban.
                log_warning("connection closed: PROXY header not accepted from sender=" + address +
                            ": not in proxy_trusted_networks");
                continue;
            }
            if (children.address_of.size() >= config.max_sessions) {
                log_warning("connection refused: addr=" + address + " reason=max_sessions");
                refuse(client.get(), "Too many connections, try again later");
                continue;
            }
            // A proxy's sessions are counted per client once its header
            // names it: the session process asks (Children::admit).
            if (!proxy && children.count_at[address] >= config.max_sessions_per_ip) {
                log_warning("connection refused: addr=" + address + " reason=max_sessions_per_ip");
                refuse(client.get(), "Too many connections from your address");
                continue;
            }
            UniqueFd theirs;
            if (proxy && !admission_pair(children.starting_admission, theirs)) {
                log_error(std::string("socketpair: ") + std::strerror(errno));
                continue;
            }
            PeerInfo peer{.address = address,
                          .expects_proxy_header = proxy,
                          .protocol = sockets[i - 1].protocol};
            pid_t pid = start_session(config, client.get(), peer, std::move(theirs), pool);
            UniqueFd ours = std::move(children.starting_admission);
            if (pid < 0) {
                log_error(std::string("cannot start a session: ") + std::strerror(errno));
                refuse(client.get(), "Server busy, try again later");
                continue;
            }
            children.add(pid, proxy ? std::string() : address);
            if (proxy)
                children.admission[pid] = std::move(ours);
        }
    }
    // SIGTERM: stop accepting; each session puts its mail back (or finishes
    // the UPDATE it is in) and exits.
    sockets.clear();
    log_notice("shutting down: " + std::to_string(children.address_of.size()) +
               " sessions still running");
    for (const auto& [pid, address] : children.address_of)
        ::kill(pid, SIGTERM);
    // A session still waiting to be admitted reads the end of file: not
    // admitted, it ends instead of waiting for a listener that stopped.
    children.admission.clear();
    // Pooled pre-login processes see their control socket close; a busy one
    // ends with its connection (its session process shuts the reading down).
    std::vector<pid_t> preauth = pool.stop();
    bool preauth_killed = false;
    while (!children.address_of.empty() || !preauth.empty()) {
        if (children.address_of.empty() && !preauth_killed) {
            // Every session has ended, so no pre-login process has a client
            // left: one still here is stuck (stopped, or not ours any more).
            for (pid_t pid : preauth)
                ::kill(pid, SIGKILL);
            preauth_killed = true;
        }
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, 0);
        if (pid < 0 && errno != EINTR)
            break;
        if (pid <= 0)
            continue;
        if (auto it = children.address_of.find(pid); it != children.address_of.end())
            children.forget(it);
        std::erase(preauth, pid);
    }
    log_notice("stopped");
    return 0;
}

} // namespace popper
