// popperd at (small) scale over real sockets: 1,000 logged-in sessions held
// while a storm of 300 more arrives beyond max_sessions, then SIGTERM. It
// checks answers and cleanup, never times (bench/run scale measures those):
// every session answered, refusals are -ERR [SYS/TEMP] and never a reset or
// a silent close, the per-IP and total limits hold at that count, SIGTERM
// says goodbye to each session, every child is reaped and every mailbox is
// intact. Needs descriptors for 1,300 clients: exits 77 (skipped) when
// RLIMIT_NOFILE cannot be raised that far.
#include "support/popperd_test.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace popper::test {
namespace {

constexpr size_t kHeld = 1000;
constexpr size_t kStorm = 300;
// max_sessions leaves room for half the storm: the other half is refused.
constexpr size_t kMaxSessions = kHeld + kStorm / 2;
constexpr std::string_view kPass = "scale-secret";
const std::string kRefusedTotal = "-ERR [SYS/TEMP] Too many connections, try again later";
const std::string kRefusedPerIp = "-ERR [SYS/TEMP] Too many connections from your address";
const std::string kShuttingDown = "-ERR [SYS/TEMP] Server shutting down";

std::string held_user(size_t i) {
    return "h" + std::to_string(i);
}
std::string storm_user(size_t i) {
    return "s" + std::to_string(i);
}

std::string mailbox() {
    return mbox_entry("a@example.org", "Subject: one\n\nfirst\n") +
           mbox_entry("b@example.org", "Subject: two\n\nsecond\n");
}

// A connection to the daemon from `source` (any address of 127/8 is ours on
// Linux), so that one test can be two clients' addresses.
PopClient connect_from(const char* source, uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in from{}, to{};
    from.sin_family = to.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons(port);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
        throw std::runtime_error(std::string("connect from ") + source + ": " +
                                 std::strerror(errno));
    return PopClient(fd);
}

class Scale : public PopperdTest {
protected:
    void SetUp() override {
        for (size_t i = 0; i < kHeld; ++i) {
            host.add_user(held_user(i), kPass);
            host.write_spool(held_user(i), mailbox());
        }
        for (size_t i = 0; i < kStorm; ++i) {
            host.add_user(storm_user(i), kPass);
            host.write_spool(storm_user(i), mailbox());
        }
        host.set_config("max_sessions", std::to_string(kMaxSessions));
        host.set_config("max_sessions_per_ip", std::to_string(kHeld));
    }
};

TEST_F(Scale, ThousandHeldSessionsAStormBeyondTheLimitsAndSigtermCleanUp) {
    // 1,000 sessions from 127.0.0.1, each logged in and holding its drop.
    std::vector<PopClient> held;
    held.reserve(kHeld);
    for (size_t i = 0; i < kHeld; ++i) {
        held.push_back(connect_from("127.0.0.1", daemon().port()));
        ASSERT_TRUE(held.back().read_line().starts_with("+OK")) << "greeting of session " << i;
        ASSERT_TRUE(held.back().login(held_user(i), kPass)) << held_user(i);
    }
    // The per-IP limit at 1,000: the next from 127.0.0.1 is refused.
    {
        PopClient over = connect_from("127.0.0.1", daemon().port());
        EXPECT_EQ(over.read_line(), kRefusedPerIp);
        EXPECT_TRUE(over.wait_closed());
        EXPECT_FALSE(over.failed());
    }
    // The storm, from another address: every connection made before any
    // reply is read. The first 150 fit under max_sessions; the rest must be
    // refused with [SYS/TEMP], never reset or closed without a word.
    std::vector<PopClient> storm;
    storm.reserve(kStorm);
    for (size_t i = 0; i < kStorm; ++i)
        storm.push_back(connect_from("127.0.0.2", daemon().port()));
    // Every first line before any login: then the listener has decided on
    // all 300 while the 1,000 are still held.
    std::vector<std::string> first(kStorm);
    for (size_t i = 0; i < kStorm; ++i)
        first[i] = storm[i].read_line();
    size_t served = 0, refused = 0;
    for (size_t i = 0; i < kStorm; ++i) {
        if (first[i].starts_with("+OK")) {
            ++served;
            EXPECT_TRUE(storm[i].login(storm_user(i), kPass)) << storm_user(i);
            EXPECT_TRUE(storm[i].command("STAT").starts_with("+OK 2 "));
            EXPECT_EQ(storm[i].command("QUIT"), bye_reply(2));
        } else {
            ++refused;
            EXPECT_EQ(first[i], kRefusedTotal) << "storm client " << i;
        }
        EXPECT_TRUE(storm[i].wait_closed()) << "storm client " << i;
        EXPECT_FALSE(storm[i].failed()) << "storm client " << i;
    }
    EXPECT_EQ(served, kMaxSessions - kHeld);
    EXPECT_EQ(refused, kStorm - served);
    // The served ones have ended: once the listener has reaped them, among
    // 1,000 other children, their slots take new connections again.
    EXPECT_TRUE(wait_until([&] {
        PopClient again = connect_from("127.0.0.2", daemon().port());
        return again.read_line().starts_with("+OK");
    }));
    // Every held session still answers.
    for (size_t i = 0; i < kHeld; ++i)
        ASSERT_TRUE(held[i].command("STAT").starts_with("+OK 2 ")) << held_user(i);
    // SIGTERM: the listener ends all of them and exits 0 once each is reaped.
    std::vector<std::string> connects = daemon().log_lines_with(": connect: addr=");
    EXPECT_EQ(daemon().stop(), 0);
    for (size_t i = 0; i < kHeld; ++i) {
        EXPECT_EQ(held[i].read_line(), kShuttingDown) << held_user(i);
        EXPECT_TRUE(held[i].wait_closed()) << held_user(i);
    }
    // No session process is left: each pid that logged a connect is gone
    // (or, reused meanwhile, not a popperd).
    size_t left = 0;
    for (const std::string& line : connects) {
        size_t open = line.find("popperd[");
        if (open == std::string::npos)
            continue;
        std::string pid = line.substr(open + 8, line.find(']', open) - open - 8);
        std::string title = process_title(static_cast<pid_t>(std::stol(pid)));
        left += title.starts_with("popperd");
    }
    EXPECT_EQ(left, 0u);
    EXPECT_GE(connects.size(), kHeld + served);
    // Every mailbox as it was: nothing was deleted, and no drop is left.
    for (size_t i = 0; i < kHeld; ++i) {
        EXPECT_EQ(host.read_spool(held_user(i)), mailbox()) << held_user(i);
        EXPECT_FALSE(path_exists(host.drop_path(held_user(i)))) << held_user(i);
    }
    for (size_t i = 0; i < kStorm; ++i)
        EXPECT_EQ(host.read_spool(storm_user(i)), mailbox()) << storm_user(i);
}

} // namespace
} // namespace popper::test

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // Our clients' sockets, the daemon's log and room for the test's files.
    const rlim_t need = popper::test::kHeld + popper::test::kStorm + 200;
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < need) {
        limit.rlim_cur = need;
        if (limit.rlim_max < need)
            limit.rlim_max = need; // root only
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            std::printf("skipped: RLIMIT_NOFILE cannot be raised to %lu\n",
                        static_cast<unsigned long>(need));
            return 77;
        }
    }
    return RUN_ALL_TESTS();
}
