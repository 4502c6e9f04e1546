// drop_dir/USER.state (src/maildrop/policy_state.cpp): the format read back,
// anything torn, foreign or hostile refused (the caller then starts afresh,
// which never expires a message early), and the crash-safe save.
#include "popper/policy_state.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <string>
#include <sys/stat.h>
#include <vector>

namespace popper {
namespace {

TEST(PolicyState, FormatReadsBackEqual) {
    PolicyState state;
    state.last_login_s = 1700000000;
    state.first_retrieved["<uid-1@example.org>"] = 1699990000;
    state.first_retrieved["0a1b2c"] = 0;
    EXPECT_EQ(format_policy_state(state), "popperd-state 1\nlogin 1700000000\n"
                                          "retrieved 0 0a1b2c\n"
                                          "retrieved 1699990000 <uid-1@example.org>\n");
    EXPECT_EQ(parse_policy_state(format_policy_state(state)), state);
    EXPECT_EQ(parse_policy_state("popperd-state 1\n"), PolicyState{});
}

TEST(PolicyState, TornForeignAndHostileTextIsRefused) {
    const std::string good = "popperd-state 1\nlogin 5\nretrieved 7 abc\n";
    ASSERT_TRUE(parse_policy_state(good));
    for (size_t cut = 0; cut < good.size(); ++cut) {
        if (cut == 0 || good[cut - 1] != '\n') {
            EXPECT_FALSE(parse_policy_state(good.substr(0, cut))) << cut;
        }
    }
    for (const std::string& bad : std::vector<std::string>{
             "popperd-state 2\n",
             "popperd-state 1\nlogin -5\n",
             "popperd-state 1\nlogin 5\nlogin 6\n",
             "popperd-state 1\nlogin 99999999999999\n",
             "popperd-state 1\nretrieved 5\n",
             "popperd-state 1\nretrieved 5 \n",
             "popperd-state 1\nretrieved 5 a b\n",
             "popperd-state 1\nretrieved 5 abc\nretrieved 6 abc\n",
             "popperd-state 1\nretrieved x abc\n",
             "popperd-state 1\nretrieved 5 " + std::string(71, 'u') + "\n",
             "popperd-state 1\nretrieved 5 a\x7f\n",
             std::string("popperd-state 1\nretrieved 5 a\0b\n", 31),
             "popperd-state 1\r\n",
             "popperd-state 1\n\n",
             "popperd-state 1\nexpire 5\n",
         })
        EXPECT_FALSE(parse_policy_state(bad)) << bad;
    std::string huge = "popperd-state 1\n";
    for (int i = 0; i < 100000; ++i)
        huge += "retrieved " + std::to_string(i) + " uid" + std::to_string(i) + "\n";
    auto parsed = parse_policy_state(huge);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->first_retrieved.size(), 100000u);
}

TEST(PolicyState, SaveReplacesTheFileAndLoadReadsItBack) {
    test::MailHost host;
    const std::string path = policy_state_path(host.drop_dir(), "alice");
    auto missing = load_policy_state(path);
    ASSERT_TRUE(missing);
    EXPECT_EQ(*missing, PolicyState{});
    PolicyState state;
    state.last_login_s = 42;
    ASSERT_TRUE(save_policy_state(path, state));
    auto loaded = load_policy_state(path);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(*loaded, state);
    test::write_file(path, "garbage");
    loaded = load_policy_state(path);
    ASSERT_TRUE(loaded); // malformed: a fresh start, not an error
    EXPECT_EQ(*loaded, PolicyState{});
}

} // namespace
} // namespace popper
