// The channel between the pre-login process and the privileged one: what the
// privileged side accepts from a possibly compromised sender.
#include "popper/auth_channel.h"
#include "popper/io.h"

#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>

namespace popper {
namespace {

struct Channel {
    UniqueFd a, b;
    Channel() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
    void send_raw(const std::string& bytes) {
        ASSERT_EQ(::send(a.get(), bytes.data(), bytes.size(), 0),
                  static_cast<ssize_t>(bytes.size()));
    }
};

TEST(AuthChannel, RequestRoundTripsWithNulFreeFields) {
    Channel c;
    ASSERT_TRUE(send_auth_request(c.a.get(), {"CRAM-MD5", "alice", "digest", "<1.2@h>"}));
    auto got = receive_auth_message(c.b.get());
    ASSERT_TRUE(got && *got && (*got)->request);
    EXPECT_EQ((*got)->request->mechanism, "CRAM-MD5");
    EXPECT_EQ((*got)->request->user, "alice");
    EXPECT_EQ((*got)->request->secret, "digest");
    EXPECT_EQ((*got)->request->challenge, "<1.2@h>");
}

TEST(AuthChannel, HandoverKeepsPipelinedBytesVerbatim) {
    Channel c;
    std::string pending("STAT\r\nRETR 1\r\n\0binary", 20);
    ASSERT_TRUE(send_handover(c.a.get(), {"alice", pending}));
    auto got = receive_auth_message(c.b.get());
    ASSERT_TRUE(got && *got && (*got)->handover);
    EXPECT_EQ((*got)->handover->pending_input, pending);
}

TEST(AuthChannel, MalformedMessagesAreErrors) {
    for (const std::string& bad :
         {std::string("garbage"), std::string("REQUEST\0PASS\0alice", 18),
          std::string("REQUEST\0PASS\0alice\0\0secret", 26), std::string("HANDOVER\0alice", 14),
          std::string("\0\0\0\0", 4), std::string(1, '\xff')}) {
        Channel c;
        c.send_raw(bad);
        auto got = receive_auth_message(c.b.get());
        EXPECT_FALSE(got) << "accepted: " << bad;
    }
}

TEST(AuthChannel, OversizedMessageIsRefused) {
    Channel c;
    c.send_raw("REQUEST" + std::string(kMaxAuthMessageOctets + 10, 'x'));
    EXPECT_FALSE(receive_auth_message(c.b.get()));
}

TEST(AuthChannel, PeerGoneIsEndOfMessagesNotAnError) {
    Channel c;
    c.a.reset();
    auto got = receive_auth_message(c.b.get());
    ASSERT_TRUE(got);
    EXPECT_FALSE(*got);
}

TEST(AuthChannel, VerdictOtherThanOkOrNoIsAnError) {
    Channel c;
    c.send_raw(std::string("MAYBE\0\0", 7));
    EXPECT_FALSE(receive_auth_verdict(c.b.get()));
}

} // namespace
} // namespace popper
