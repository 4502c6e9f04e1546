// Which ways to log in the config offers: one value for CAPA, the pre-login
// commands, the privileged check and popperd's start.
#include "popper/auth_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace popper {
namespace {

Config config_with(AllowPlaintext allow_plaintext, bool apop, std::vector<std::string> mechanisms) {
    Config config;
    config.allow_plaintext = allow_plaintext;
    config.apop = apop;
    config.auth_mechanisms = std::move(mechanisms);
    return config;
}

TEST(AuthPolicy, DefaultsOfferUserPassPlainAndLoginOnly) {
    AuthPolicy policy = auth_policy(Config{}, false);
    EXPECT_TRUE(policy.offered(LoginMechanism::user_pass));
    EXPECT_TRUE(policy.offered(LoginMechanism::plain));
    EXPECT_TRUE(policy.offered(LoginMechanism::login));
    EXPECT_EQ(policy.offer(LoginMechanism::apop), Offer::disabled);
    EXPECT_EQ(policy.offer(LoginMechanism::cram_md5), Offer::disabled);
    EXPECT_EQ(policy.sasl,
              (std::vector<SaslMechanism>{SaslMechanism::plain, SaslMechanism::login}));
    EXPECT_FALSE(policy.needs_secrets());
}

TEST(AuthPolicy, NoPlaintextWithdrawsEveryMechanismThatSendsThePassword) {
    AuthPolicy policy =
        auth_policy(config_with(AllowPlaintext::no, true, {"PLAIN", "CRAM-MD5", "LOGIN"}), false);
    EXPECT_EQ(policy.offer(LoginMechanism::user_pass), Offer::plaintext_disallowed);
    EXPECT_EQ(policy.offer(LoginMechanism::plain), Offer::plaintext_disallowed);
    EXPECT_EQ(policy.offer(LoginMechanism::login), Offer::plaintext_disallowed);
    EXPECT_TRUE(policy.offered(LoginMechanism::apop));
    EXPECT_TRUE(policy.offered(LoginMechanism::cram_md5));
    EXPECT_EQ(policy.sasl, (std::vector<SaslMechanism>{SaslMechanism::cram_md5}));
}

TEST(AuthPolicy, PlaintextDisallowedWinsOverAMechanismThatIsNotListed) {
    AuthPolicy policy = auth_policy(config_with(AllowPlaintext::no, false, {}), false);
    EXPECT_EQ(policy.offer(LoginMechanism::plain), Offer::plaintext_disallowed);
    EXPECT_EQ(policy.offer(LoginMechanism::cram_md5), Offer::disabled);
    EXPECT_TRUE(policy.sasl.empty());
}

TEST(AuthPolicy, SaslMechanismsKeepTheConfiguredOrder) {
    AuthPolicy policy =
        auth_policy(config_with(AllowPlaintext::yes, false, {"CRAM-MD5", "LOGIN", "PLAIN"}), false);
    EXPECT_EQ(policy.sasl,
              (std::vector<SaslMechanism>{SaslMechanism::cram_md5, SaslMechanism::login,
                                          SaslMechanism::plain}));
}

TEST(AuthPolicy, ApopOrCramMd5NeedTheSecretsFile) {
    EXPECT_TRUE(auth_policy(config_with(AllowPlaintext::yes, true, {}), false).needs_secrets());
    EXPECT_TRUE(
        auth_policy(config_with(AllowPlaintext::yes, false, {"CRAM-MD5"}), false).needs_secrets());
    EXPECT_FALSE(auth_policy(config_with(AllowPlaintext::yes, false, {"PLAIN", "LOGIN"}), false)
                     .needs_secrets());
}

TEST(AuthPolicy, PlaintextOnlyUnderTlsOffersThePasswordMechanismsOnlyThere) {
    Config config = config_with(AllowPlaintext::tls, false, {"PLAIN", "LOGIN", "CRAM-MD5"});
    AuthPolicy clear = auth_policy(config, false);
    EXPECT_EQ(clear.offer(LoginMechanism::user_pass), Offer::plaintext_disallowed);
    EXPECT_EQ(clear.offer(LoginMechanism::plain), Offer::plaintext_disallowed);
    EXPECT_EQ(clear.offer(LoginMechanism::login), Offer::plaintext_disallowed);
    EXPECT_EQ(clear.sasl, (std::vector<SaslMechanism>{SaslMechanism::cram_md5}));
    AuthPolicy tls = auth_policy(config, true);
    EXPECT_TRUE(tls.offered(LoginMechanism::user_pass));
    EXPECT_EQ(tls.sasl, (std::vector<SaslMechanism>{SaslMechanism::plain, SaslMechanism::login,
                                                    SaslMechanism::cram_md5}));
}

TEST(AuthPolicy, ChannelNamesRoundTripAndNothingElseParses) {
    for (LoginMechanism m : {LoginMechanism::user_pass, LoginMechanism::apop, LoginMechanism::plain,
                             LoginMechanism::login, LoginMechanism::cram_md5})
        EXPECT_EQ(parse_login_mechanism(login_mechanism_name(m)), m);
    for (size_t i = 0; i < std::size(kLoginMechanisms); ++i)
        EXPECT_EQ(static_cast<size_t>(kLoginMechanisms[i]), i);
    EXPECT_EQ(login_mechanism_name(LoginMechanism::user_pass), "PASS");
    EXPECT_EQ(login_mechanism_name(LoginMechanism::cram_md5), "CRAM-MD5");
    EXPECT_FALSE(parse_login_mechanism("plain"));
    EXPECT_FALSE(parse_login_mechanism("USER"));
    EXPECT_FALSE(parse_login_mechanism(""));
}

} // namespace
} // namespace popper
