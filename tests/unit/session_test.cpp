// The command dispatch (src/session/session.cpp) in the test process: each
// state's table, the refusals that come before any handler runs, and the
// argument limit. No daemon, no maildrop: a command refused here never
// reaches one.
#include "support/in_process_session.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <string>

namespace popper::test {
namespace {

using Dispatch = InProcessTest;

TEST_F(Dispatch, TransactionCommandsBeforeLoginAreRefusedAsNotLoggedIn) {
    InProcessSession s(config);
    for (const char* line : {"STAT", "LIST", "UIDL", "RETR 1", "TOP 1 0", "DELE 1", "NOOP", "RSET"})
        EXPECT_EQ(s.command(line), "-ERR Not logged in\r\n") << line;
    EXPECT_EQ(s.session().state, Pop3State::authorization);
}

TEST_F(Dispatch, AuthorizationCommandsAfterLoginAreRefusedAsAlreadyLoggedIn) {
    InProcessSession s(config);
    s.session().state = Pop3State::transaction; // refused before any handler needs a maildrop
    for (const char* line : {"USER alice", "PASS wonderland", "APOP alice 0123", "AUTH PLAIN"})
        EXPECT_EQ(s.command(line), "-ERR Already logged in\r\n") << line;
}

TEST_F(Dispatch, UnknownCommandIsRefusedInBothStates) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("XTND"), "-ERR Unknown command\r\n");
    EXPECT_EQ(s.command("HELO x"), "-ERR Unknown command\r\n");
    s.session().state = Pop3State::transaction;
    EXPECT_EQ(s.command("XTND"), "-ERR Unknown command\r\n");
}

TEST_F(Dispatch, LastIsAnUnknownCommandUnlessEnabled) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("LAST"), "-ERR Unknown command\r\n");
    config.enable_last = true;
    EXPECT_EQ(s.command("LAST"), "-ERR Not logged in\r\n");
}

TEST_F(Dispatch, CommandsAreCaseInsensitive) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("stat"), "-ERR Not logged in\r\n");
    EXPECT_EQ(s.command("uSeR alice"), "+OK Send your password\r\n");
}

TEST_F(Dispatch, LineThatIsNoCommandIsRefusedAsInvalid) {
    InProcessSession s(config);
    EXPECT_EQ(s.command(""), "-ERR Invalid command line\r\n");
    EXPECT_EQ(s.command("US"), "-ERR Invalid command line\r\n");
    EXPECT_EQ(s.command(std::string("USER al\0ice", 11)), "-ERR Invalid command line\r\n");
}

TEST_F(Dispatch, ArgumentOf41OctetsIsRefusedAnd40Accepted) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("USER " + std::string(41, 'a')), "-ERR Argument too long\r\n");
    EXPECT_EQ(s.command("USER " + std::string(40, 'a')), "+OK Send your password\r\n");
    s.session().state = Pop3State::transaction;
    EXPECT_EQ(s.command("DELE " + std::string(41, '1')), "-ERR Argument too long\r\n");
}

TEST_F(Dispatch, PassArgumentIsAPasswordOfAnyLength) {
    InProcessSession s(config);
    EXPECT_EQ(s.command("USER alice"), "+OK Send your password\r\n");
    EXPECT_EQ(s.command("PASS " + std::string(100, 'x')), "-ERR [AUTH] Authentication failed\r\n");
}

} // namespace
} // namespace popper::test
