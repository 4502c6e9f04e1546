// The AUTHORIZATION state's commands (src/session/authorization.cpp) in the
// test process, credentials checked in process: USER/PASS sequencing, what
// CAPA and AUTH offer, the failure count. Every login here fails, so no
// maildrop is ever opened.
#include "popper/base64.h"
#include "support/in_process_session.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <string>

namespace popper::test {
namespace {

using namespace std::string_literals;

constexpr const char* kAuthFailed = "-ERR [AUTH] Authentication failed\r\n";

using Authorization = InProcessTest;

TEST_F(Authorization, PassWithoutUserIsRefused) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("PASS wonderland"), "-ERR Send USER first\r\n");
}

TEST_F(Authorization, FailedPassForgetsTheUserAndLeavesTheStateAsItWas) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("USER alice"), "+OK Send your password\r\n");
    EXPECT_EQ(s.command("PASS not-the-password"), kAuthFailed);
    EXPECT_EQ(s.command("PASS wonderland"), "-ERR Send USER first\r\n");
    EXPECT_EQ(s.session().state, Pop3State::authorization);
    EXPECT_FALSE(s.session().done);
}

TEST_F(Authorization, LastUserBeforePassCounts) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("USER alice"), "+OK Send your password\r\n");
    EXPECT_EQ(s.command("USER bob"), "+OK Send your password\r\n");
    EXPECT_EQ(s.session().pending_user, "bob");
    EXPECT_EQ(s.command("PASS wonderland"), kAuthFailed);
}

TEST_F(Authorization, UnknownUserGetsTheAnswersOfAWrongPassword) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("USER nobody-here"), "+OK Send your password\r\n");
    EXPECT_EQ(s.command("PASS wonderland"), kAuthFailed);
}

TEST_F(Authorization, TheLastAllowedFailureClosesTheConnection) {
    config.max_auth_failures = 2;
    InProcessSession s(config);
    s.command("USER alice");
    EXPECT_EQ(s.command("PASS x"), kAuthFailed);
    s.command("USER alice");
    EXPECT_EQ(s.command("PASS y"), "-ERR [AUTH] Authentication failed, closing connection\r\n");
    EXPECT_TRUE(s.session().done);
}

TEST_F(Authorization, NoPlaintextRefusesUserAndPass) {
    config.allow_plaintext = AllowPlaintext::no;
    InProcessSession s(config);
    EXPECT_EQ(s.command("USER alice"), "-ERR [AUTH] Plaintext authentication disallowed\r\n");
    EXPECT_EQ(s.command("PASS wonderland"), "-ERR [AUTH] Plaintext authentication disallowed\r\n");
}

TEST_F(Authorization, CapaListsUserAndTheOfferedSaslMechanisms) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("CAPA"), "+OK Capability list follows\r\nTOP\r\nUSER\r\n"
                                 "SASL PLAIN LOGIN\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
                                 "PIPELINING\r\nIMPLEMENTATION popperd\r\n.\r\n");
    EXPECT_EQ(s.command("CAPA x"), "-ERR CAPA takes no argument\r\n");
}

TEST_F(Authorization, CapaWithoutPlaintextOffersNeitherUserNorPlainNorLogin) {
    config.allow_plaintext = AllowPlaintext::no;
    config.auth_mechanisms = {"CRAM-MD5", "PLAIN", "LOGIN"};
    InProcessSession s(config);
    EXPECT_EQ(s.command("CAPA"), "+OK Capability list follows\r\nTOP\r\nSASL CRAM-MD5\r\n"
                                 "UIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
                                 "PIPELINING\r\nIMPLEMENTATION popperd\r\n.\r\n");
    EXPECT_EQ(s.command("AUTH"), "+OK Supported SASL mechanisms follow\r\nCRAM-MD5\r\n.\r\n");
    EXPECT_EQ(s.command("AUTH PLAIN"), "-ERR [AUTH] Plaintext authentication disallowed\r\n");
}

TEST_F(Authorization, PlaintextOnlyUnderTlsRefusesItInTheClearWithAClearText) {
    config.allow_plaintext = AllowPlaintext::tls;
    InProcessSession s(config);
    const std::string refused =
        "-ERR [AUTH] Plaintext authentication disallowed on non-secure (TLS) connections\r\n";
    EXPECT_EQ(s.command("CAPA"), "+OK Capability list follows\r\nTOP\r\n"
                                 "UIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
                                 "PIPELINING\r\nIMPLEMENTATION popperd\r\n.\r\n");
    EXPECT_EQ(s.command("USER alice"), refused);
    EXPECT_EQ(s.command("PASS wonderland"), refused);
    EXPECT_EQ(s.command("AUTH PLAIN"), refused);
    EXPECT_EQ(s.command("AUTH LOGIN"), refused);
}

TEST_F(Authorization, PlaintextOnlyUnderTlsOffersItUnderTls) {
    config.allow_plaintext = AllowPlaintext::tls;
    InProcessSession s(config, PeerInfo{.address = "192.0.2.7", .under_tls = true});
    EXPECT_EQ(s.command("CAPA"), "+OK Capability list follows\r\nTOP\r\nUSER\r\n"
                                 "SASL PLAIN LOGIN\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
                                 "PIPELINING\r\nIMPLEMENTATION popperd\r\n.\r\n");
    EXPECT_EQ(s.command("USER alice"), "+OK Send your password\r\n");
}

TEST_F(Authorization, AuthWithAMechanismNotOfferedIsUnsupported) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("AUTH CRAM-MD5"), "-ERR Unsupported authentication mechanism\r\n");
    EXPECT_EQ(s.command("AUTH GSSAPI"), "-ERR Unsupported authentication mechanism\r\n");
}

TEST_F(Authorization, AuthPlainWithAWrongPasswordFailsLikePass) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("AUTH PLAIN " + base64_encode("\0alice\0wrong"s)), kAuthFailed);
}

TEST_F(Authorization, AuthLoginReadsItsContinuationLines) {
    InProcessSession s(config);
    s.client_sends(base64_encode("alice") + "\r\n" + base64_encode("wrong") + "\r\n");
    EXPECT_EQ(s.command("AUTH LOGIN"), "+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n"s + kAuthFailed);
}

TEST_F(Authorization, ApopIsNotEnabledByDefault) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("APOP alice 0123456789abcdef0123456789abcdef"),
              "-ERR APOP is not enabled\r\n");
}

TEST_F(Authorization, QuitBeforeLoginSaysByeAndEnds) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("QUIT x"), "-ERR QUIT takes no argument\r\n");
    EXPECT_EQ(s.command("QUIT"), "+OK Bye\r\n");
    EXPECT_TRUE(s.session().done);
}

} // namespace
} // namespace popper::test
