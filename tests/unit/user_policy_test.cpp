// The policy file (src/auth/user_policy.cpp): its lines, how a user's line
// merges over `*`, the address check, the CAPA lines, and malformed, huge
// and binary input.
#include "popper/user_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace popper {
namespace {

UserPolicy policy_of(const std::string& text, std::string_view user) {
    auto file = parse_policy_file(text, "policy");
    EXPECT_TRUE(file) << file.error().message();
    return file ? file->policy_for(user) : UserPolicy();
}

std::string error_of(std::string_view text) {
    auto file = parse_policy_file(text, "policy");
    return file ? std::string("(parsed)") : file.error().message();
}

TEST(UserPolicy, NoLineMeansAnyoneFromAnywhereNoDelayNeverExpire) {
    UserPolicy policy = policy_of("# nothing\n\n", "alice");
    EXPECT_TRUE(policy.admits("192.0.2.1"));
    EXPECT_TRUE(policy.admits("local"));
    EXPECT_EQ(policy.login_delay_s, 0u);
    EXPECT_FALSE(policy.expire_days);
}

TEST(UserPolicy, UserLineOverridesOnlyTheKeysItSets) {
    const std::string text = "*: login_delay=900 expire=30 deny_from=203.0.113.0/24\n"
                             "alice: expire=0\r\n";
    UserPolicy alice = policy_of(text, "alice");
    EXPECT_EQ(alice.login_delay_s, 900u);
    EXPECT_EQ(alice.expire_days, 0u);
    EXPECT_FALSE(alice.admits("203.0.113.9"));
    UserPolicy bob = policy_of(text, "bob");
    EXPECT_EQ(bob.expire_days, 30u);
}

TEST(UserPolicy, ExpireNeverOverridesADefault) {
    EXPECT_FALSE(policy_of("*: expire=7\nalice: expire=never\n", "alice").expire_days);
}

TEST(UserPolicy, AllowAndDenyListsTakeIpv4AndIpv6) {
    UserPolicy p = policy_of("alice: allow_from=192.0.2.0/24,2001:db8::/32 "
                             "deny_from=192.0.2.128/25\n",
                             "alice");
    EXPECT_TRUE(p.admits("192.0.2.5"));
    EXPECT_TRUE(p.admits("::ffff:192.0.2.5"));
    EXPECT_TRUE(p.admits("2001:db8:1::1"));
    EXPECT_FALSE(p.admits("192.0.2.200"));
    EXPECT_FALSE(p.admits("198.51.100.1"));
    EXPECT_FALSE(p.admits("::1"));
    EXPECT_FALSE(p.admits("local"));
}

TEST(UserPolicy, MalformedLinesAreErrorsWithFileAndLine) {
    EXPECT_EQ(error_of("alice login_delay=1\n"),
              "policy file policy:1: no ':' (want NAME: key=value ...)");
    EXPECT_EQ(error_of("\n../x: expire=1\n"), "policy file policy:2: invalid user name");
    EXPECT_EQ(error_of("alice: speed=9\n"),
              "policy file policy:1: unknown key (want allow_from, deny_from, login_delay, "
              "expire)");
    EXPECT_EQ(error_of("alice: expire\n"),
              "policy file policy:1: no '=' in a setting (want key=value)");
    EXPECT_EQ(error_of("alice: expire=1 expire=2\n"), "policy file policy:1: expire given twice");
    EXPECT_EQ(error_of("alice: expire=-1\n"),
              "policy file policy:1: expire: want days, 0 to 3650, or never");
    EXPECT_EQ(error_of("alice: login_delay=86401\n"),
              "policy file policy:1: login_delay: want seconds, 0 to 86400");
    EXPECT_EQ(error_of("alice: login_delay=4294967296\n"),
              "policy file policy:1: login_delay: want seconds, 0 to 86400");
    EXPECT_NE(error_of("alice: allow_from=192.0.2.1/24\n").find("policy:1: allow_from: "),
              std::string::npos);
    EXPECT_EQ(error_of("alice: expire=1\nalice: expire=2\n"),
              "policy file policy:2: a second line for alice");
}

TEST(UserPolicy, HugeAndBinaryInputIsRefusedNotTrusted) {
    std::string huge = "alice: allow_from=" + std::string(kMaxPolicyLineOctets, '1') + "\n";
    EXPECT_NE(error_of(huge).find("policy:1: line longer than"), std::string::npos);
    EXPECT_NE(error_of(std::string("alice: expire=1\0 deny_from=::/0\n", 33)), "(parsed)");
    EXPECT_NE(error_of("\xff\xfe: expire=1\n"), "(parsed)");
    EXPECT_NE(error_of("alice: expire=\x01\n"), "(parsed)");
}

TEST(UserPolicy, CapabilityLinesSayUserWhereValuesVary) {
    auto file = parse_policy_file("*: login_delay=900\nalice: expire=30\n", "policy");
    ASSERT_TRUE(file);
    EXPECT_FALSE(file->login_delay_varies());
    EXPECT_TRUE(file->expire_varies());
    EXPECT_EQ(policy_capability_lines(file->default_policy(), file->login_delay_varies(),
                                      file->expire_varies()),
              "LOGIN-DELAY 900\r\nEXPIRE NEVER USER\r\n");
    EXPECT_EQ(policy_capability_lines(file->policy_for("alice")),
              "LOGIN-DELAY 900\r\nEXPIRE 30\r\n");
    EXPECT_EQ(policy_capability_lines(UserPolicy()), "EXPIRE NEVER\r\n");
}

} // namespace
} // namespace popper
