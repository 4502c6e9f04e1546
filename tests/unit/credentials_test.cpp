// The privileged credential check (src/prelogin/credentials.cpp) called
// directly, with a config and a users file in a private directory: what it
// grants, what it refuses and the reason it logs, whatever the pre-login
// process claims.
#include "popper/credentials.h"
#include "popper/hmac_md5.h"
#include "popper/md5.h"
#include "support/in_process_session.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace popper::test {
namespace {

class Credentials : public InProcessTest {
protected:
    void SetUp() override {
        host.add_disabled_user("carol", "looking-glass");
        write_file(host.path("apop-secrets"), "alice:tanstaaf\n", 0600);
        host.set_config("apop_secrets_file", host.path("apop-secrets"));
        config = config_of(host);
    }

    // The verdict on `request`; `entry` holds what a granted login gets.
    AuthVerdict check(const AuthRequest& request, bool under_tls = false) {
        return check_credentials(config, context, request, under_tls, entry);
    }

    AuthContext context;
    std::optional<UserEntry> entry;
};

TEST_F(Credentials, RightPasswordIsGrantedWithTheUsersEntry) {
    AuthVerdict verdict = check({"PASS", "alice", "wonderland", ""});
    EXPECT_TRUE(verdict.ok);
    EXPECT_EQ(verdict.reason, "");
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->name, "alice");
    EXPECT_EQ(entry->uid, host.mail_uid());
}

TEST_F(Credentials, WrongPasswordIsRefused) {
    AuthVerdict verdict = check({"PASS", "alice", "wonderland ", ""});
    EXPECT_FALSE(verdict.ok);
    EXPECT_EQ(verdict.reason, "bad-password");
    EXPECT_FALSE(entry);
}

TEST_F(Credentials, UnknownUserAndInvalidNameAreRefused) {
    EXPECT_EQ(check({"PASS", "bob", "wonderland", ""}).reason, "unknown-user");
    EXPECT_EQ(check({"PASS", "../alice", "wonderland", ""}).reason, "invalid-name");
    EXPECT_FALSE(entry);
}

TEST_F(Credentials, DisabledUserIsRefusedEvenWithTheRightPassword) {
    AuthVerdict verdict = check({"PASS", "carol", "looking-glass", ""});
    EXPECT_FALSE(verdict.ok);
    EXPECT_EQ(verdict.reason, "disabled");
    EXPECT_FALSE(entry);
}

TEST_F(Credentials, PlainAndLoginAreCheckedLikePass) {
    EXPECT_TRUE(check({"PLAIN", "alice", "wonderland", ""}).ok);
    EXPECT_TRUE(check({"LOGIN", "alice", "wonderland", ""}).ok);
    EXPECT_EQ(check({"LOGIN", "alice", "nope", ""}).reason, "bad-password");
}

TEST_F(Credentials, PlaintextIsRefusedWhenDisallowedWhateverThePassword) {
    config.allow_plaintext = AllowPlaintext::no;
    for (const char* mechanism : {"PASS", "PLAIN", "LOGIN"}) {
        AuthVerdict verdict = check({mechanism, "alice", "wonderland", ""});
        EXPECT_FALSE(verdict.ok) << mechanism;
        EXPECT_EQ(verdict.reason, "plaintext-disallowed") << mechanism;
    }
    EXPECT_FALSE(entry);
}

TEST_F(Credentials, PlaintextOnlyUnderTlsIsCheckedHereToo) {
    config.allow_plaintext = AllowPlaintext::tls;
    for (const char* mechanism : {"PASS", "PLAIN", "LOGIN"})
        EXPECT_EQ(check({mechanism, "alice", "wonderland", ""}).reason, "plaintext-disallowed")
            << mechanism;
    EXPECT_TRUE(check({"PASS", "alice", "wonderland", ""}, true).ok);
}

TEST_F(Credentials, MechanismNotOfferedIsRefusedWhateverTheAnswer) {
    // The default config lists PLAIN and LOGIN only, and no APOP.
    context = make_auth_context(config);
    EXPECT_EQ(check({"CRAM-MD5", "alice", hmac_md5_hex("tanstaaf", "<1@x>"), "<1@x>"}).reason,
              "mechanism-disabled");
    EXPECT_EQ(check({"GSSAPI", "alice", "wonderland", ""}).reason, "mechanism-disabled");
    EXPECT_EQ(check({"pass", "alice", "wonderland", ""}).reason, "mechanism-disabled");
    EXPECT_EQ(check({"APOP", "alice", md5_hex("<1@x>tanstaaf"), ""}).reason, "apop-disabled");
    EXPECT_FALSE(entry);
}

TEST_F(Credentials, ApopDigestOfTheGreetingsStampIsGranted) {
    config.apop = true;
    context = make_auth_context(config);
    ASSERT_FALSE(context.apop_stamp.empty());
    EXPECT_TRUE(check({"APOP", "alice", md5_hex(context.apop_stamp + "tanstaaf"), ""}).ok);
    EXPECT_EQ(check({"APOP", "alice", md5_hex("<other@x>tanstaaf"), ""}).reason, "bad-password");
    EXPECT_EQ(check({"APOP", "bob", md5_hex(context.apop_stamp + "tanstaaf"), ""}).reason,
              "unknown-user");
}

TEST_F(Credentials, EachCramMd5ChallengeAnswersOnce) {
    config.auth_mechanisms = {"CRAM-MD5"};
    context = make_auth_context(config);
    ASSERT_EQ(context.cram_challenges.size(), config.max_auth_failures);
    const std::string challenge = context.cram_challenges[0];
    const std::string digest = hmac_md5_hex("tanstaaf", challenge);
    EXPECT_TRUE(check({"CRAM-MD5", "alice", digest, challenge}).ok);
    EXPECT_EQ(check({"CRAM-MD5", "alice", digest, challenge}).reason, "bad-challenge");
    EXPECT_EQ(check({"CRAM-MD5", "alice", digest, "<not-ours@x>"}).reason, "bad-challenge");
}

} // namespace
} // namespace popper::test
