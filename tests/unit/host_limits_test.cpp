// host_limits: what max_sessions needs, the warnings when the host has less,
// and the soft limits raised towards the need.
#include "popper/host_limits.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace popper {
namespace {

Config config_with(unsigned max_sessions, unsigned preauth_process_connections = 1) {
    Config config;
    config.max_sessions = max_sessions;
    config.preauth_process_connections = preauth_process_connections;
    return config;
}

HostLimits roomy_host() {
    HostLimits limits;
    limits.nofile_soft = limits.nofile_hard = 1 << 20;
    limits.nproc_soft = limits.nproc_hard = 1 << 20;
    limits.pid_max = 4194304;
    return limits;
}

TEST(HostLimits, TwoProcessesPerSessionPlusTheRestOfRoot) {
    SessionNeeds needs = session_needs(config_with(10000), 2);
    EXPECT_EQ(needs.processes, 2u * 10000 + 200);
    // The listener closes each client after the fork: its descriptors do not
    // grow with sessions.
    EXPECT_LT(needs.listener_files, 100u);
}

TEST(HostLimits, PooledPreloginCostsTheListenerADescriptorPerSession) {
    SessionNeeds needs = session_needs(config_with(10000, 100), 1);
    EXPECT_GT(needs.listener_files, 10000u);
}

TEST(HostLimits, RoomyHostGivesNoWarning) {
    EXPECT_TRUE(
        host_limit_warnings(session_needs(config_with(10000), 1), roomy_host(), 10000).empty());
}

TEST(HostLimits, EachShortLimitIsOneWarningWithBothNumbers) {
    HostLimits limits = roomy_host();
    limits.nproc_soft = 4096;
    limits.pid_max = 32768;
    limits.tasks_max = 4915; // systemd's default TasksMax: 15% of pid_max
    auto warnings = host_limit_warnings(session_needs(config_with(20000), 1), limits, 20000);
    ASSERT_EQ(warnings.size(), 3u);
    EXPECT_EQ(warnings[0], "RLIMIT_NPROC is 4096, needs 40200 for max_sessions=20000: raise the "
                           "hard limit (LimitNPROC= in the systemd unit, ulimit -Hu)");
    EXPECT_NE(warnings[1].find("kernel.pid_max is 32768, needs 40200"), std::string::npos);
    EXPECT_NE(warnings[2].find("pids.max is 4915, needs 40200"), std::string::npos);
    EXPECT_NE(warnings[2].find("TasksMax="), std::string::npos);
}

TEST(HostLimits, CapabilityExemptsFromNproc) {
    HostLimits limits = roomy_host();
    limits.nproc_soft = 10;
    limits.nproc_exempt = true;
    EXPECT_TRUE(host_limit_warnings(session_needs(config_with(500), 1), limits, 500).empty());
}

TEST(HostLimits, ShortDescriptorLimitNamesLimitNOFILE) {
    HostLimits limits = roomy_host();
    limits.nofile_soft = 1024;
    auto warnings = host_limit_warnings(session_needs(config_with(5000, 10), 1), limits, 5000);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("RLIMIT_NOFILE is 1024, needs 5033"), std::string::npos);
    EXPECT_NE(warnings[0].find("LimitNOFILE="), std::string::npos);
}

TEST(HostLimits, SoftLimitRaisedToTheNeedNotBeyondTheHardLimit) {
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 300)
        GTEST_SKIP() << "hard RLIMIT_NOFILE below 300";
    rlimit low = saved;
    low.rlim_cur = 64;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    SessionNeeds needs;
    needs.listener_files = 300;
    HostLimits limits = raise_host_limits(needs);
    EXPECT_EQ(limits.nofile_soft, 300u); // what is needed, not the hard limit
    SessionNeeds beyond;
    beyond.listener_files = UINT64_MAX - 1;
    limits = raise_host_limits(beyond);
    EXPECT_EQ(limits.nofile_soft, limits.nofile_hard);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

} // namespace
} // namespace popper
