// The listener's pool of pre-login processes (preauth_process_connections >
// 1): instead of a fresh pre-login process per connection, each pooled one
// serves connections one after another, passed to it over its control socket.
// Saves a fork, a sandbox entry and an exit per connection.
#pragma once

#include "popper/config.h"
#include "popper/io.h"
#include "popper/result.h"

#include <chrono>
#include <functional>
#include <initializer_list>
#include <poll.h>
#include <string>
#include <sys/types.h>
#include <vector>

namespace popper {

class PreauthPool {
public:
    using Clock = std::chrono::steady_clock;
    // How long an idle process waits for a connection before it is retired,
    // so the pool shrinks after a burst.
    static constexpr std::chrono::seconds kIdleLifetime{60};

    // `close_inherited` runs in each forked process: it closes what only the
    // listener may hold (listening sockets, the signal pipe).
    explicit PreauthPool(std::function<void()> close_inherited);
    PreauthPool(const PreauthPool&) = delete;
    PreauthPool& operator=(const PreauthPool&) = delete;
    // Closing the control sockets retires every process.
    ~PreauthPool() = default;

    // Passes the client and its auth channel to an idle process, or to a new
    // one. The descriptors stay ours to close. `expects_proxy_header`: the
    // connection came on a `proxy` listener and `address` is the sender's.
    Status hand(const Config& config, int client_fd, int channel_fd, const std::string& address,
                bool expects_proxy_header);

    // The control sockets, to be polled for reports; handle_reports() takes
    // the same slice of the poll set back.
    void add_poll_fds(std::vector<struct pollfd>& pfds) const;
    void handle_reports(const struct pollfd* pfds, size_t count);
    // A child exited; true when it was one of the pool's (logged if killed).
    bool forget(pid_t pid, int status);
    // SIGHUP: no process of the old configuration takes another connection.
    void retire_all();
    // Retires processes idle for kIdleLifetime; returns how long poll may
    // sleep before the next one is due (-1: none idle).
    int retire_idle(Clock::time_point now);
    // Shutdown: closes every control socket (idle processes exit now, busy
    // ones after their connection) and returns the pids to wait for.
    std::vector<pid_t> stop();
    // In any process forked from the listener (session or pre-login): closes
    // what only the listener may hold, the control sockets included.
    void leave_listener() const;

private:
    // Kept until reaped (forget()); a closed control socket means it is on
    // its way out.
    struct Process {
        pid_t pid = 0;
        UniqueFd control;
        bool busy = false;
        bool retired = false; // exits instead of serving again
        Clock::time_point idle_since;
    };
    Result<Process*> spawn(const Config& config, std::initializer_list<int> not_for_it);
    Process* idle_process();

    std::function<void()> close_inherited_;
    std::vector<Process> processes_;
};

} // namespace popper
