// The accept loop: one forked child per connection, limits enforced before
// any protocol byte, signals delivered through a self-pipe.
#include "popper/listener.h"

#include "popper/host_limits.h"
#include "popper/ip_address.h"
#include "popper/log.h"
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
    std::map<pid_t, std::string> address_of;
    std::map<std::string, unsigned> count_at;
    PreauthPool* pool = nullptr;

    void add(pid_t pid, const std::string& address) {
        address_of[pid] = address;
        ++count_at[address];
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
            if (--count_at[it->second] == 0)
                count_at.erase(it->second);
            address_of.erase(it);
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
// pooled process the listener hands the connection to.
pid_t start_session(const Config& config, int fd, const std::string& address, PreauthPool& pool) {
    if (config.preauth_process_connections <= 1) {
        pid_t pid = ::fork();
        if (pid == 0) {
            pool.leave_listener();
            install_session_signals();
            ::_exit(run_session(config, fd, fd, PeerInfo{address}));
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
        ::_exit(run_session_with_pooled_preauth(config, fd, PeerInfo{address},
                                                std::move(privileged_end)));
    }
    if (pid < 0)
        return pid;
    privileged_end.reset(); // the session process's, not ours
    // Failing here, the session process sees its channel close and tells
    // the client.
    if (auto handed = pool.hand(config, fd, preauth_end.get(), address); !handed)
        log_error("no pre-login process for addr=" + address + ": " + handed.error().message());
    return pid;
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
        same = fresh->listen[i].text == config.listen[i].text;
    if (!same)
        log_warning("SIGHUP: listen addresses changed; they apply after a restart");
    config = std::move(*fresh);
    log_open(config.log, config.log_level);
    log_notice("SIGHUP: configuration re-read from " + config_path);
    return true;
}

} // namespace

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
        log_notice("listening on " + s.name + " " + limits);
    raise_and_check_host_limits(config, sockets.size());

    for (const auto& s : sockets)
        ::fcntl(s.fd.get(), F_SETFL, O_NONBLOCK);
    // What a forked process must not keep of the listener's.
    auto close_inherited = [&sockets, &pipe_read] {
        for (const auto& s : sockets)
            ::close(s.fd.get());
        ::close(pipe_read.get());
        ::close(signal_pipe_write);
    };
    PreauthPool pool(close_inherited);
    Children children;
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
        int timeout_ms = pool.retire_idle(PreauthPool::Clock::now());
        if (::poll(pfds.data(), pfds.size(), timeout_ms) < 0 && errno != EINTR) {
            log_error(std::string("poll: ") + std::strerror(errno));
            return 1;
        }
        pool.handle_reports(pfds.data() + pool_first, pfds.size() - pool_first);
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
            std::string address = peer_address_text(client.get());
            if (children.address_of.size() >= config.max_sessions) {
                log_warning("connection refused: addr=" + address + " reason=max_sessions");
                refuse(client.get(), "Too many connections, try again later");
                continue;
            }
            if (children.count_at[address] >= config.max_sessions_per_ip) {
                log_warning("connection refused: addr=" + address + " reason=max_sessions_per_ip");
                refuse(client.get(), "Too many connections from your address");
                continue;
            }
            pid_t pid = start_session(config, client.get(), address, pool);
            if (pid < 0) {
                log_error(std::string("cannot start a session: ") + std::strerror(errno));
                refuse(client.get(), "Server busy, try again later");
                continue;
            }
            children.add(pid, address);
        }
    }
    // SIGTERM: stop accepting; each session puts its mail back (or finishes
    // the UPDATE it is in) and exits.
    sockets.clear();
    log_notice("shutting down: " + std::to_string(children.address_of.size()) +
               " sessions still running");
    for (const auto& [pid, address] : children.address_of)
        ::kill(pid, SIGTERM);
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
        children.address_of.erase(pid);
        std::erase(preauth, pid);
    }
    log_notice("stopped");
    return 0;
}

} // namespace popper
