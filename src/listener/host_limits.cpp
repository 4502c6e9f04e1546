// The host's limits against max_sessions (include/popper/host_limits.h).
#include "popper/host_limits.h"

#include "popper/io.h"
#include "popper/log.h"

#include <cstdlib>
#include <fcntl.h>
#include <string_view>
#include <sys/resource.h>

namespace popper {

namespace {

// The listener's own descriptors besides its listening sockets: stdio, the
// log, the signal pipe, the client being forked for, and what libc opens
// (NSS at a reload) with room to spare.
constexpr uint64_t kListenerBaseFiles = 32;
// Root's processes that are not ours (init, daemons, cron jobs) and the
// listener itself: RLIMIT_NPROC counts every process of the real uid.
constexpr uint64_t kOtherProcesses = 200;
// Linux capabilities that exempt a fork from RLIMIT_NPROC (kernel/fork.c).
constexpr int kCapSysResource = 24;
constexpr int kCapSysAdmin = 21;
// Small /proc and /sys files: one read is all of them.
constexpr size_t kSmallFileOctets = 4096;

uint64_t as_u64(rlim_t value) {
    return value == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(value);
}

std::string limit_text(uint64_t value) {
    return value == UINT64_MAX ? "unlimited" : std::to_string(value);
}

// The file's text, or empty when it cannot be read.
std::string read_small_file(const std::string& path) {
    auto fd = open_file(path, O_RDONLY | O_CLOEXEC);
    if (!fd)
        return {};
    std::string text(kSmallFileOctets, '\0');
    auto n = read_some(fd->get(), text.data(), text.size(), path);
    text.resize(n ? *n : 0);
    return text;
}

std::optional<uint64_t> parse_count(std::string_view text) {
    if (text.empty() || text[0] < '0' || text[0] > '9')
        return std::nullopt;
    return std::strtoull(std::string(text).c_str(), nullptr, 10);
}

// The value of "Field:\t..." in /proc/self/status.
std::string status_field(const std::string& status, std::string_view field) {
    size_t at = status.find("\n" + std::string(field) + ":");
    if (at == std::string::npos)
        return {};
    size_t start = status.find_first_not_of(" \t", at + field.size() + 2);
    size_t end = status.find('\n', start);
    return start == std::string::npos ? std::string() : status.substr(start, end - start);
}

bool has_effective_capability(int cap) {
    std::string hex = status_field(read_small_file("/proc/self/status"), "CapEff");
    uint64_t mask = hex.empty() ? 0 : std::strtoull(hex.c_str(), nullptr, 16);
    return (mask >> cap) & 1;
}

// pids.max of our own cgroup (v2: the "0::/path" line of /proc/self/cgroup),
// which systemd's TasksMax sets; nullopt when unlimited or unknown.
std::optional<uint64_t> cgroup_tasks_max() {
    std::string cgroups = read_small_file("/proc/self/cgroup");
    size_t at = cgroups.rfind("0::", 0) == 0 ? 0 : cgroups.find("\n0::");
    if (at == std::string::npos)
        return std::nullopt;
    at += cgroups[at] == '\n' ? 4 : 3;
    std::string path = cgroups.substr(at, cgroups.find('\n', at) - at);
    // The nearest limited ancestor wins; the root cgroup has no pids.max.
    for (;;) {
        auto max = parse_count(read_small_file("/sys/fs/cgroup" + path + "/pids.max"));
        if (max)
            return max;
        if (path.empty() || path == "/")
            return std::nullopt;
        path = path.substr(0, path.rfind('/'));
    }
}

// Raises the soft limit to min(need, hard) when it is below need.
void raise_soft(int resource, uint64_t need) {
    rlimit limit{};
    if (::getrlimit(resource, &limit) != 0 || as_u64(limit.rlim_cur) >= need)
        return;
    limit.rlim_cur = as_u64(limit.rlim_max) < need ? limit.rlim_max : static_cast<rlim_t>(need);
    (void)::setrlimit(resource, &limit); // what we could not get, the warnings report
}

} // namespace

SessionNeeds session_needs(const Config& config, size_t listening_sockets) {
    SessionNeeds needs;
    uint64_t sessions = config.max_sessions;
    needs.listener_files = kListenerBaseFiles + listening_sockets +
                           (config.preauth_process_connections > 1 ? sessions : 0);
    needs.processes = 2 * sessions + kOtherProcesses;
    return needs;
}

HostLimits raise_host_limits(const SessionNeeds& needs) {
    raise_soft(RLIMIT_NOFILE, needs.listener_files);
    raise_soft(RLIMIT_NPROC, needs.processes);
    HostLimits limits;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limits.nofile_soft = as_u64(limit.rlim_cur);
        limits.nofile_hard = as_u64(limit.rlim_max);
    }
    if (::getrlimit(RLIMIT_NPROC, &limit) == 0) {
        limits.nproc_soft = as_u64(limit.rlim_cur);
        limits.nproc_hard = as_u64(limit.rlim_max);
    }
    limits.nproc_exempt =
        has_effective_capability(kCapSysAdmin) || has_effective_capability(kCapSysResource);
    limits.pid_max = parse_count(read_small_file("/proc/sys/kernel/pid_max"));
    limits.tasks_max = cgroup_tasks_max();
    return limits;
}

std::vector<std::string> host_limit_warnings(const SessionNeeds& needs, const HostLimits& limits,
                                             unsigned max_sessions) {
    std::vector<std::string> warnings;
    const std::string why = " for max_sessions=" + std::to_string(max_sessions);
    auto shortfall = [&](const std::string& what, uint64_t need, uint64_t have,
                         const std::string& fix) {
        warnings.push_back(what + " is " + limit_text(have) + ", needs " + std::to_string(need) +
                           why + ": " + fix);
    };
    if (limits.nofile_soft < needs.listener_files)
        shortfall("RLIMIT_NOFILE", needs.listener_files, limits.nofile_soft,
                  "raise the hard limit (LimitNOFILE= in the systemd unit, ulimit -Hn)");
    if (!limits.nproc_exempt && limits.nproc_soft < needs.processes)
        shortfall("RLIMIT_NPROC", needs.processes, limits.nproc_soft,
                  "raise the hard limit (LimitNPROC= in the systemd unit, ulimit -Hu)");
    if (limits.pid_max && *limits.pid_max < needs.processes)
        shortfall("kernel.pid_max", needs.processes, *limits.pid_max,
                  "raise it (sysctl kernel.pid_max)");
    if (limits.tasks_max && *limits.tasks_max < needs.processes)
        shortfall("the cgroup's pids.max", needs.processes, *limits.tasks_max,
                  "raise TasksMax= in the systemd unit");
    return warnings;
}

void raise_and_check_host_limits(const Config& config, size_t listening_sockets) {
    SessionNeeds needs = session_needs(config, listening_sockets);
    HostLimits limits = raise_host_limits(needs);
    for (const std::string& warning : host_limit_warnings(needs, limits, config.max_sessions))
        log_warning(warning);
    auto optional_text = [](const std::optional<uint64_t>& v) {
        return v ? limit_text(*v) : std::string("unknown");
    };
    log_info("host limits: RLIMIT_NOFILE=" + limit_text(limits.nofile_soft) +
             " RLIMIT_NPROC=" + (limits.nproc_exempt ? "exempt" : limit_text(limits.nproc_soft)) +
             " pid_max=" + optional_text(limits.pid_max) +
             " tasks_max=" + (limits.tasks_max ? limit_text(*limits.tasks_max) : "max") +
             " needed_files=" + std::to_string(needs.listener_files) +
             " needed_processes=" + std::to_string(needs.processes));
}

} // namespace popper
