// The channel between the pre-login process and the privileged one: what the
// privileged side accepts from a possibly compromised sender.
#include "popper/auth_channel.h"
#include "popper/io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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

TEST(AuthChannel, ClientAddressSaysWhetherTheClientIsUnderTls) {
    Channel c;
    ASSERT_TRUE(send_client_address(c.a.get(), {"2001:db8::7", true}));
    auto got = receive_auth_message(c.b.get());
    ASSERT_TRUE(got && *got && (*got)->client);
    EXPECT_EQ((*got)->client->address, "2001:db8::7");
    EXPECT_TRUE((*got)->client->under_tls);
    c.send_raw(std::string("CLIENT\0192.0.2.1\0maybe\0", 23));
    EXPECT_FALSE(receive_auth_message(c.b.get()));
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

TEST(AuthChannel, EndedSaysWhetherTheClientWasToldGoodbye) {
    for (bool said : {true, false}) {
        Channel c;
        ASSERT_TRUE(send_preauth_end(c.a.get(), {said}));
        auto got = receive_auth_message(c.b.get());
        ASSERT_TRUE(got && *got && (*got)->ended);
        EXPECT_EQ((*got)->ended->said_goodbye, said);
    }
    Channel c;
    c.send_raw(std::string("ENDED\0maybe\0", 12));
    EXPECT_FALSE(receive_auth_message(c.b.get()));
}

TEST(AuthChannel, LoginChallengesRoundTripWithAnyNumberOfCramChallenges) {
    for (size_t n : {0u, 1u, 3u, 1000u}) {
        Channel c;
        LoginChallenges sent{n % 2 ? "<1.2@host>" : "", {}, n % 3 ? "EXPIRE NEVER\r\n" : ""};
        for (size_t i = 0; i < n; ++i)
            sent.cram.push_back("<" + std::to_string(i) + ".9@host>");
        ASSERT_TRUE(send_login_challenges(c.a.get(), sent));
        auto got = receive_login_challenges(c.b.get());
        ASSERT_TRUE(got) << got.error().message();
        EXPECT_EQ(got->apop_stamp, sent.apop_stamp);
        EXPECT_EQ(got->cram, sent.cram);
        EXPECT_EQ(got->capa_policy_lines, sent.capa_policy_lines);
    }
}

TEST(AuthChannel, MalformedLoginChallengesAreErrorsAndEofSaysThePeerIsGone) {
    for (const std::string& bad : {std::string("CHALLENGES"), std::string("CHALLENGES\0", 11),
                                   std::string("CHALLENGES\0<a>\0", 15), std::string("OK\0\0", 4),
                                   std::string("CHALLENGES\0<a>", 14), std::string(300, '\0')}) {
        Channel c;
        c.send_raw(bad);
        EXPECT_FALSE(receive_login_challenges(c.b.get())) << "accepted: " << bad;
    }
    Channel c;
    c.a.reset();
    auto got = receive_login_challenges(c.b.get());
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message().find("privileged process gone"), std::string::npos);
}

// The same open file, seen through two descriptors.
bool same_file(int a, int b) {
    struct stat sa {
    }, sb{};
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

TEST(AuthChannel, ConnectionPassesBothDescriptorsAndThePeerAddress) {
    Channel control, client, channel;
    ASSERT_TRUE(send_preauth_connection(control.a.get(), client.a.get(), channel.a.get(),
                                        "2001:db8::1", true));
    auto got = receive_preauth_connection(control.b.get());
    ASSERT_TRUE(got && *got) << (got ? "EOF" : got.error().message());
    EXPECT_EQ((*got)->peer_address, "2001:db8::1");
    EXPECT_TRUE((*got)->expects_proxy_header);
    EXPECT_TRUE(same_file((*got)->client.get(), client.a.get()));
    EXPECT_TRUE(same_file((*got)->channel.get(), channel.a.get()));
    EXPECT_NE((*got)->client.get(), client.a.get()); // a new descriptor, ours to close
    EXPECT_TRUE(::fcntl((*got)->client.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(AuthChannel, ConnectionWithoutItsTwoDescriptorsIsRefusedAndWhatCameIsClosed) {
    Channel control, client;
    int one[] = {client.a.get()};
    ASSERT_TRUE(send_with_fds(control.a.get(), std::string("CONNECTION\0addr\0", 16), one, "t"));
    EXPECT_FALSE(receive_preauth_connection(control.b.get()));
    ASSERT_TRUE(send_with_fds(control.a.get(), std::string("CONNECTION\0addr\0", 16), {}, "t"));
    EXPECT_FALSE(receive_preauth_connection(control.b.get()));
    int three[] = {client.a.get(), client.a.get(), client.a.get()};
    ASSERT_TRUE(send_with_fds(control.a.get(), std::string("CONNECTION\0addr\0", 16), three, "t"));
    EXPECT_FALSE(receive_preauth_connection(control.b.get()));
    // None of the passed copies stayed open in this process: only ours is.
    int before = 0;
    for (int fd = 0; fd < 1024; ++fd)
        if (fd != client.a.get() && same_file(fd, client.a.get()))
            ++before;
    EXPECT_EQ(before, 0);
    control.a.reset();
    auto eof = receive_preauth_connection(control.b.get());
    ASSERT_TRUE(eof);
    EXPECT_FALSE(*eof);
}

TEST(AuthChannel, IdleReportAndEofAreTheOnlyReports) {
    Channel c;
    ASSERT_TRUE(send_preauth_idle(c.a.get()));
    auto idle = receive_preauth_report(c.b.get());
    ASSERT_TRUE(idle);
    EXPECT_TRUE(*idle);
    c.send_raw("BUSY");
    EXPECT_FALSE(receive_preauth_report(c.b.get()));
    c.a.reset();
    auto gone = receive_preauth_report(c.b.get());
    ASSERT_TRUE(gone);
    EXPECT_FALSE(*gone);
}

} // namespace
} // namespace popper
