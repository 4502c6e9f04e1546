#include "popper/pop2_command.h"

#include <gtest/gtest.h>

#include <string>

namespace popper {
namespace {

Pop2Command parsed(std::string_view line) {
    auto result = parse_pop2_command(line);
    EXPECT_TRUE(std::holds_alternative<Pop2Command>(result)) << line;
    return std::holds_alternative<Pop2Command>(result) ? std::get<Pop2Command>(result)
                                                       : Pop2Command{};
}

std::string refusal(std::string_view line) {
    auto result = parse_pop2_command(line);
    EXPECT_TRUE(std::holds_alternative<std::string_view>(result)) << line;
    return std::holds_alternative<std::string_view>(result)
               ? std::string(std::get<std::string_view>(result))
               : std::string();
}

TEST(Pop2Command, HeloTakesUserAndTheRestAsPassword) {
    Pop2Command cmd = parsed("helo alice two  words");
    EXPECT_EQ(cmd.verb, Pop2Verb::helo);
    EXPECT_EQ(cmd.user, "alice");
    EXPECT_EQ(cmd.password, "two  words");
    EXPECT_EQ(parsed("HELO  alice   secret").password, "secret");
}

TEST(Pop2Command, ReadTakesAnOptionalNumber) {
    EXPECT_FALSE(parsed("READ").number.has_value());
    EXPECT_EQ(parsed("READ 7").number, 7u);
    EXPECT_EQ(parsed("read 0").number, 0u);
    EXPECT_EQ(refusal("READ 4294967296"), "Invalid message number");
    EXPECT_EQ(refusal("READ x"), "Invalid message number");
    EXPECT_EQ(refusal("READ 1 2"), "Wrong number of arguments");
}

TEST(Pop2Command, FoldTakesOneFolder) {
    EXPECT_EQ(parsed("FOLD INBOX").folder, "INBOX");
    EXPECT_EQ(refusal("FOLD"), "Wrong number of arguments");
    EXPECT_EQ(refusal("FOLD " + std::string(41, 'f')), "Argument too long");
}

TEST(Pop2Command, VerbsWithoutArgumentsRefuseOne) {
    EXPECT_EQ(parsed("RETR").verb, Pop2Verb::retr);
    EXPECT_EQ(parsed("ACKS").verb, Pop2Verb::acks);
    EXPECT_EQ(parsed("ACKD").verb, Pop2Verb::ackd);
    EXPECT_EQ(parsed("NACK").verb, Pop2Verb::nack);
    EXPECT_EQ(parsed("QUIT").verb, Pop2Verb::quit);
    EXPECT_EQ(refusal("RETR 1"), "Wrong number of arguments");
    EXPECT_EQ(refusal("QUIT now"), "Wrong number of arguments");
}

TEST(Pop2Command, RefusesMalformedLines) {
    EXPECT_EQ(refusal(""), "Invalid command line");
    EXPECT_EQ(refusal("HELO"), "Wrong number of arguments");
    EXPECT_EQ(refusal("HELO alice"), "Wrong number of arguments");
    EXPECT_EQ(refusal("HELO " + std::string(41, 'a') + " pw"), "Argument too long");
    EXPECT_EQ(refusal(std::string("HELO a\0b c", 10)), "Invalid command line");
    EXPECT_EQ(refusal("USER alice"), "Unknown command");
    EXPECT_EQ(refusal("READING"), "Invalid command line");
}

} // namespace
} // namespace popper
