#include "support/in_process_session.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace popper::test {

namespace {

// [0]: the client's end, [1]: the session's.
std::pair<UniqueFd, UniqueFd> socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        throw std::runtime_error("socketpair failed");
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

} // namespace

Config config_of(const MailHost& host) {
    auto config = load_config(host.config_path());
    EXPECT_TRUE(config) << (config ? "" : config.error().message());
    return config ? *config : Config{};
}

InProcessSession::InProcessSession(const Config& config)
    : InProcessSession(config, make_auth_context(config)) {}

InProcessSession::InProcessSession(const Config& config, PeerInfo peer)
    : InProcessSession(config, make_auth_context(config), socket_pair(), std::move(peer)) {}

InProcessSession::InProcessSession(const Config& config, AuthContext context)
    : InProcessSession(config, std::move(context), socket_pair(), PeerInfo{"local"}) {}

InProcessSession::InProcessSession(const Config& config, AuthContext context,
                                   std::pair<UniqueFd, UniqueFd> client_and_server, PeerInfo peer)
    : client_(std::move(client_and_server.first)), server_(std::move(client_and_server.second)),
      context_(std::move(context)),
      session_(config, std::move(peer), server_.get(), server_.get()) {
    session_.auth = &context_;
}

std::string InProcessSession::command(std::string_view line) {
    dispatch_command(session_, std::string(line));
    EXPECT_TRUE(session_.writer.flush());
    return replies();
}

void InProcessSession::client_sends(std::string_view bytes) {
    ASSERT_EQ(::send(client_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
}

std::string InProcessSession::replies() {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(client_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

} // namespace popper::test
