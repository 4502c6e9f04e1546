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
#include <sys/stat.h>

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
        return check_credentials(config, context, request, address, under_tls, entry);
    }

    // A policy file of `text`, 0600, named in the config.
    void use_policy(const std::string& text) {
        write_file(host.path("policy"), text, 0600);
        host.set_config("policy_file", host.path("policy"));
        config = config_of(host);
    }

    AuthContext context;
    std::string address = "192.0.2.1";
    std::optional<GrantedLogin> entry;
};

TEST_F(Credentials, RightPasswordIsGrantedWithTheUsersEntry) {
    AuthVerdict verdict = check({"PASS", "alice", "wonderland", ""});
    EXPECT_TRUE(verdict.ok);
    EXPECT_EQ(verdict.reason, "");
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->entry.name, "alice");
    EXPECT_EQ(entry->entry.uid, host.mail_uid());
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

TEST_F(Credentials, PolicyAllowFromAdmitsListedAddressesOnly) {
    use_policy("*: allow_from=198.51.100.0/24\nalice: allow_from=192.0.2.0/24,2001:db8::/32\n");
    EXPECT_TRUE(check({"PASS", "alice", "wonderland", ""}).ok);
    address = "2001:db8::7";
    EXPECT_TRUE(check({"PASS", "alice", "wonderland", ""}).ok);
    address = "198.51.100.1"; // the default's network, not alice's
    AuthVerdict verdict = check({"PASS", "alice", "wonderland", ""});
    EXPECT_FALSE(verdict.ok);
    EXPECT_EQ(verdict.reason, "policy-denied");
    EXPECT_FALSE(entry);
    address = "local"; // no IP address: in no allow_from
    EXPECT_EQ(check({"PASS", "alice", "wonderland", ""}).reason, "policy-denied");
}

TEST_F(Credentials, PolicyDenyFromRefusesEvenTheRightPassword) {
    use_policy("*: deny_from=192.0.2.0/28\n");
    EXPECT_EQ(check({"PASS", "alice", "wonderland", ""}).reason, "policy-denied");
    address = "::ffff:192.0.2.16"; // a mapped IPv4 client outside the /28
    EXPECT_TRUE(check({"PASS", "alice", "wonderland", ""}).ok);
}

TEST_F(Credentials, PolicyIsCheckedOnlyAfterThePassword) {
    use_policy("*: deny_from=0.0.0.0/0\n");
    EXPECT_EQ(check({"PASS", "alice", "wrong", ""}).reason, "bad-password");
    EXPECT_EQ(check({"PASS", "bob", "wrong", ""}).reason, "unknown-user");
}

TEST_F(Credentials, PolicyValuesComeWithTheGrant) {
    use_policy("*: login_delay=900 expire=30\nalice: expire=never\n");
    ASSERT_TRUE(check({"PASS", "alice", "wonderland", ""}).ok);
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->policy.login_delay_s, 900u);
    EXPECT_FALSE(entry->policy.expire_days);
}

TEST_F(Credentials, BrokenOrUnsafePolicyFileRefusesEveryLogin) {
    use_policy("alice: allow_from=192.0.2.0/24\nbob: deny_from=not-a-network\n");
    EXPECT_EQ(check({"PASS", "alice", "wonderland", ""}).reason, "policy-file-error");
    use_policy("*: login_delay=1\n");
    ASSERT_EQ(::chmod(host.path("policy").c_str(), 0644), 0);
    EXPECT_EQ(check({"PASS", "alice", "wonderland", ""}).reason, "policy-file-error");
    EXPECT_FALSE(entry);
}

TEST_F(Credentials, ContextCarriesTheDefaultsForCapaBeforeLogin) {
    use_policy("*: login_delay=900 expire=30\nalice: login_delay=60\n");
    EXPECT_EQ(make_auth_context(config).capa_policy_lines, "LOGIN-DELAY 900 USER\r\nEXPIRE 30\r\n");
}

} // namespace
} // namespace popper::test
