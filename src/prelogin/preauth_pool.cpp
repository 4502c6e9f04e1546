#include "popper/preauth_pool.h"

#include "popper/auth_channel.h"
#include "popper/log.h"
#include "popper/session.h"
#include "preauth_process.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace popper {

PreauthPool::PreauthPool(std::function<void()> close_inherited)
    : close_inherited_(std::move(close_inherited)) {}

Result<PreauthPool::Process*> PreauthPool::spawn(const Config& config,
                                                 std::initializer_list<int> not_for_it) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        return Error::from_errno("socketpair", "pre-login control socket");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork", "pre-login process");
    if (pid == 0) {
        leave_listener();
        ours.reset();
        // The connection being handed is passed to it like any later one.
        for (int fd : not_for_it)
            ::close(fd);
        install_session_signals();
        run_preauth_process(config, std::move(theirs));
    }
    processes_.push_back({pid, std::move(ours), false, false, Clock::now()});
    return &processes_.back();
}

PreauthPool::Process* PreauthPool::idle_process() {
    for (auto& p : processes_)
        if (p.control && !p.busy && !p.retired)
            return &p;
    return nullptr;
}

Status PreauthPool::hand(const Config& config, int client_fd, int channel_fd,
                         const std::string& address, bool expects_proxy_header) {
    // An idle process may have exited since it reported; then a fresh one.
    for (int attempt = 0; attempt < 2; ++attempt) {
        Process* p = attempt == 0 ? idle_process() : nullptr;
        if (p == nullptr) {
            auto fresh = spawn(config, {client_fd, channel_fd});
            if (!fresh)
                return fresh.error();
            p = *fresh;
        }
        auto sent = send_preauth_connection(p->control.get(), client_fd, channel_fd, address,
                                            expects_proxy_header);
        if (sent) {
            p->busy = true;
            return {};
        }
        log_warning("pre-login process " + std::to_string(p->pid) + ": " + sent.error().message());
        p->retired = true;
        p->control.reset();
        if (attempt == 1)
            return sent;
    }
    return {};
}

void PreauthPool::add_poll_fds(std::vector<struct pollfd>& pfds) const {
    for (const auto& p : processes_)
        if (p.control)
            pfds.push_back({p.control.get(), POLLIN, 0});
}

void PreauthPool::handle_reports(const struct pollfd* pfds, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        // By descriptor: the pool may have changed since poll (SIGCHLD).
        auto it =
            std::find_if(processes_.begin(), processes_.end(),
                         [fd = pfds[i].fd](const Process& q) { return q.control.get() == fd; });
        if (it == processes_.end())
            continue;
        Process& p = *it;
        auto idle = receive_preauth_report(p.control.get());
        if (!idle) {
            // Not what a pre-login process says: taken over, or broken. It
            // is still our unreaped child, so the pid is its own.
            log_warning("pre-login process " + std::to_string(p.pid) + ": " +
                        idle.error().message() + "; killed");
            ::kill(p.pid, SIGKILL);
        }
        if (!idle || !*idle || p.retired) {
            p.control.reset(); // it exits at EOF, or has exited
            continue;
        }
        p.busy = false;
        p.idle_since = Clock::now();
    }
}

bool PreauthPool::forget(pid_t pid, int status) {
    auto it = std::find_if(processes_.begin(), processes_.end(),
                           [pid](const Process& p) { return p.pid == pid; });
    bool ours = it != processes_.end();
    if (ours)
        processes_.erase(it);
    if (ours && WIFSIGNALED(status))
        log_warning("pre-login process " + std::to_string(pid) + " killed by signal " +
                    std::to_string(WTERMSIG(status)));
    return ours;
}

void PreauthPool::retire_all() {
    for (auto& p : processes_) {
        p.retired = true;
        if (!p.busy)
            p.control.reset();
    }
}

int PreauthPool::retire_idle(Clock::time_point now) {
    Clock::duration next = Clock::duration::max();
    for (auto& p : processes_) {
        if (p.busy || !p.control)
            continue;
        auto age = now - p.idle_since;
        if (age >= kIdleLifetime)
            p.control.reset();
        else
            next = std::min<Clock::duration>(next, kIdleLifetime - age);
    }
    if (next == Clock::duration::max())
        return -1;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next).count());
}

std::vector<pid_t> PreauthPool::stop() {
    std::vector<pid_t> pids;
    for (const auto& p : processes_)
        pids.push_back(p.pid);
    processes_.clear();
    return pids;
}

void PreauthPool::leave_listener() const {
    close_inherited_();
    for (const auto& p : processes_)
        if (p.control)
            ::close(p.control.get());
}

} // namespace popper
