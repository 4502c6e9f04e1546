// What stops a host at scale, checked when the listener starts: the
// descriptor and process limits (raised where we may), kernel.pid_max and
// the cgroup's task limit (systemd's TasksMax), each against what
// max_sessions needs. A shortfall is a warning with the numbers, at start,
// not a failed fork at session 4,000.
#pragma once

#include "popper/config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace popper {

// What max_sessions costs in descriptors and processes. A session is two
// processes until login (the privileged session process and its pre-login
// child, both forked as root) and one after; the listener closes each
// client's socket once it has forked, so its own descriptors grow only with
// pooled pre-login processes (one control socket each, at most one process
// per connection in pre-login).
struct SessionNeeds {
    uint64_t listener_files = 0; // RLIMIT_NOFILE of the listener
    uint64_t processes = 0;      // RLIMIT_NPROC of root, kernel.pid_max, TasksMax
};
SessionNeeds session_needs(const Config& config, size_t listening_sockets);

// The limits in force; nullopt where the host does not say (no cgroup v2
// pids controller, no /proc).
struct HostLimits {
    uint64_t nofile_soft = 0, nofile_hard = 0; // RLIM_INFINITY as UINT64_MAX
    uint64_t nproc_soft = 0, nproc_hard = 0;
    bool nproc_exempt = false; // CAP_SYS_ADMIN or CAP_SYS_RESOURCE: the kernel skips RLIMIT_NPROC
    std::optional<uint64_t> pid_max;   // /proc/sys/kernel/pid_max
    std::optional<uint64_t> tasks_max; // pids.max of our cgroup ("max": nullopt)
};

// Raises the soft RLIMIT_NOFILE and RLIMIT_NPROC towards `needs`, never
// above the hard limit (an unprivileged process may do that much; more than
// needed is not taken, since every session inherits the limits), then reads
// every limit. Failures to raise are not errors: the warnings say the rest.
HostLimits raise_host_limits(const SessionNeeds& needs);

// One line per limit below what `needs` asks for, with both numbers and
// the setting that fixes it; empty when the host can hold max_sessions.
std::vector<std::string> host_limit_warnings(const SessionNeeds& needs, const HostLimits& limits,
                                             unsigned max_sessions);

// The listener's start: raise_host_limits, then each warning logged, and
// one info line with the limits in force.
void raise_and_check_host_limits(const Config& config, size_t listening_sockets);

} // namespace popper
