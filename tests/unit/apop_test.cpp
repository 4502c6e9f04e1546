// APOP (RFC 1939 §7): stamps, digest check, the secrets file and its
// permission check at startup.
#include "popper/apop.h"
#include "popper/log.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace popper {
namespace {

using namespace std::string_literals;

constexpr std::string_view kRfc1939Stamp = "<1896.697170952@dbc.mtview.ca.us>";
constexpr std::string_view kRfc1939Digest = "c4c9334bac560ecc979e58001b3e22fb";

// ---- stamps and digests -------------------------------------------------------

TEST(Apop, Rfc1939ExampleVerifies) {
    EXPECT_TRUE(verify_apop("tanstaaf", kRfc1939Stamp, kRfc1939Digest));
}

TEST(Apop, UppercaseDigestFromTheClientVerifies) {
    EXPECT_TRUE(verify_apop("tanstaaf", kRfc1939Stamp, "C4C9334BAC560ECC979E58001B3E22FB"));
}

TEST(Apop, WrongSecretStampOrDigestFails) {
    EXPECT_FALSE(verify_apop("tanstaaF", kRfc1939Stamp, kRfc1939Digest));
    EXPECT_FALSE(verify_apop("tanstaaf ", kRfc1939Stamp, kRfc1939Digest));
    EXPECT_FALSE(verify_apop("", kRfc1939Stamp, kRfc1939Digest));
    EXPECT_FALSE(verify_apop("tanstaaf", "<1896.697170953@dbc.mtview.ca.us>", kRfc1939Digest));
    EXPECT_FALSE(verify_apop("tanstaaf", kRfc1939Stamp, "c4c9334bac560ecc979e58001b3e22fc"));
}

TEST(Apop, MalformedDigestFails) {
    for (const char* digest :
         {"", "c4c9334bac560ecc979e58001b3e22f", "c4c9334bac560ecc979e58001b3e22fbb",
          "c4c9334bac560ecc979e58001b3e22fg", " c4c9334bac560ecc979e58001b3e22f"})
        EXPECT_FALSE(verify_apop("tanstaaf", kRfc1939Stamp, digest)) << digest;
}

TEST(Apop, StampIsPidTimeRandomAtHost) {
    EXPECT_EQ(make_apop_stamp(1896, 697170952, "0123abcd", "dbc.mtview.ca.us"),
              "<1896.697170952.0123abcd@dbc.mtview.ca.us>");
}

TEST(Apop, StampHostKeepsOnlyHostNameCharacters) {
    EXPECT_EQ(make_apop_stamp(1, 2, "ab", "mail.example-1.org"), "<1.2.ab@mail.example-1.org>");
    EXPECT_EQ(make_apop_stamp(1, 2, "ab", "evil> host\r\n+OK"), "<1.2.ab@evilhostOK>");
    EXPECT_EQ(make_apop_stamp(1, 2, "ab", ""), "<1.2.ab@localhost>");
    EXPECT_EQ(make_apop_stamp(1, 2, "ab", "<>@ \t"), "<1.2.ab@localhost>");
}

TEST(Apop, NewStampsAreWellFormedAndUnique) {
    auto first = new_apop_stamp("pop.example.org");
    auto second = new_apop_stamp("pop.example.org");
    ASSERT_TRUE(first.has_value()) << first.error().message();
    ASSERT_TRUE(second.has_value()) << second.error().message();
    const std::regex shape(R"(<(\d+)\.(\d+)\.([0-9a-f]{16})@pop\.example\.org>)");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(*first, m, shape)) << *first;
    EXPECT_EQ(m[1].str(), std::to_string(::getpid()));
    EXPECT_NE(*first, *second);
}

// ---- one line of the secrets file -------------------------------------------

std::optional<ApopSecret> parse(std::string_view line) {
    std::string why;
    auto entry = parse_apop_secret_line(line, why);
    EXPECT_EQ(entry.has_value(), why.empty()) << line;
    return entry;
}

std::string why_of(std::string_view line) {
    std::string why;
    EXPECT_FALSE(parse_apop_secret_line(line, why).has_value()) << line;
    return why;
}

TEST(ApopSecretsLine, NameColonSecret) {
    auto entry = parse("tim:tanstaaf");
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->name, "tim");
    EXPECT_EQ(entry->secret, "tanstaaf");
}

TEST(ApopSecretsLine, SecretIsEverythingAfterTheFirstColonVerbatim) {
    auto entry = parse("tim: a:b c \r");
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->secret, " a:b c ");
}

TEST(ApopSecretsLine, CommentsAndBlankLinesAreNotEntries) {
    for (const char* line : {"", "   ", "\t", "# tim:secret", "  # comment", "\r"}) {
        std::string why = "unset";
        EXPECT_FALSE(parse_apop_secret_line(line, why).has_value()) << line;
        EXPECT_EQ(why, "") << line;
    }
}

TEST(ApopSecretsLine, MalformedLinesSayWhyWithoutTheSecret) {
    EXPECT_EQ(why_of("timtanstaaf"), "no ':' (want name:secret)");
    EXPECT_EQ(why_of("tim:"), "empty secret");
    EXPECT_EQ(why_of("../etc:tanstaaf"), "invalid user name");
    EXPECT_EQ(why_of(":tanstaaf"), "invalid user name");
    EXPECT_EQ(why_of("t im:tanstaaf"), "invalid user name");
    EXPECT_EQ(why_of("tim:tans\0taaf"s), "NUL or CR in secret");
    EXPECT_EQ(why_of("tim:tans\rtaaf"), "NUL or CR in secret");
    EXPECT_EQ(why_of("tim:" + std::string(kMaxApopSecretOctets + 1, 's')),
              "secret longer than 1024 octets");
    EXPECT_TRUE(parse("tim:" + std::string(kMaxApopSecretOctets, 's')));
}

// ---- the secrets file -----------------------------------------------------------

class ApopSecretsFile : public ::testing::Test {
protected:
    void SetUp() override { log_open(LogTarget::stderr_stream, LogLevel::info); }

    void write(const std::string& text, mode_t mode = 0600) {
        test::write_file(path_, text, mode);
        ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    }

    Result<std::optional<std::string>> find_logged(std::string_view name, std::string& log) {
        ::testing::internal::CaptureStderr();
        auto found = find_apop_secret(path_, name);
        log = ::testing::internal::GetCapturedStderr();
        return found;
    }

    test::MailHost host_;
    const std::string path_ = host_.path("apop-secrets");
};

TEST_F(ApopSecretsFile, FindsTheSecretOfAUser) {
    write("# APOP secrets\n\ntim:tanstaaf\nalice:wonder land\n");
    auto found = find_apop_secret(path_, "alice");
    ASSERT_TRUE(found.has_value()) << found.error().message();
    EXPECT_EQ(*found, std::optional<std::string>("wonder land"));
}

TEST_F(ApopSecretsFile, UnknownUserIsNotFoundWithoutError) {
    write("tim:tanstaaf\n");
    auto found = find_apop_secret(path_, "alice");
    ASSERT_TRUE(found.has_value());
    EXPECT_FALSE(found->has_value());
}

TEST_F(ApopSecretsFile, FirstLineOfANameWins) {
    write("tim:first\ntim:second\n");
    auto found = find_apop_secret(path_, "tim");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, std::optional<std::string>("first"));
}

TEST_F(ApopSecretsFile, NameMatchIsCaseSensitive) {
    write("Tim:tanstaaf\n");
    auto found = find_apop_secret(path_, "tim");
    ASSERT_TRUE(found.has_value());
    EXPECT_FALSE(found->has_value());
}

TEST_F(ApopSecretsFile, CrlfLinesAndMissingFinalNewlineAreRead) {
    write("tim:tanstaaf\r\nalice:secret");
    EXPECT_EQ(*find_apop_secret(path_, "tim"), std::optional<std::string>("tanstaaf"));
    EXPECT_EQ(*find_apop_secret(path_, "alice"), std::optional<std::string>("secret"));
}

TEST_F(ApopSecretsFile, MalformedLinesAreLoggedWithFileAndLineAndSkipped) {
    write("tim:tanstaaf\nbroken line\nalice:secret\n../x:y\n");
    std::string log;
    auto found = find_logged("alice", log);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, std::optional<std::string>("secret"));
    EXPECT_NE(log.find("apop secrets file " + path_ + ":2: no ':'"), std::string::npos) << log;
    EXPECT_NE(log.find("apop secrets file " + path_ + ":4: invalid user name"), std::string::npos)
        << log;
    EXPECT_EQ(log.find("tanstaaf"), std::string::npos) << log;
}

TEST_F(ApopSecretsFile, IsReReadAtEachLookup) {
    write("tim:old\n");
    EXPECT_EQ(*find_apop_secret(path_, "tim"), std::optional<std::string>("old"));
    write("tim:new\n");
    EXPECT_EQ(*find_apop_secret(path_, "tim"), std::optional<std::string>("new"));
}

TEST_F(ApopSecretsFile, MissingFileIsAnErrorNamingIt) {
    auto found = find_apop_secret(path_, "tim");
    ASSERT_FALSE(found.has_value());
    EXPECT_EQ(found.error().message(), "open " + path_ + ": No such file or directory");
}

TEST_F(ApopSecretsFile, FifoIsRefusedWithoutBlocking) {
    ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
    auto found = find_apop_secret(path_, "tim");
    ASSERT_FALSE(found.has_value());
    EXPECT_NE(found.error().message().find("not a regular file"), std::string::npos);
}

TEST_F(ApopSecretsFile, SymlinkIsRefused) {
    const std::string target = host_.path("real-secrets");
    test::write_file(target, "tim:tanstaaf\n");
    ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
    auto found = find_apop_secret(path_, "tim");
    ASSERT_FALSE(found.has_value());
    EXPECT_NE(found.error().message().find("symbolic link"), std::string::npos)
        << found.error().message();
}

// ---- permissions at startup -------------------------------------------------------

TEST_F(ApopSecretsFile, Mode0600OwnedByUsIsAccepted) {
    // Run as root, the file is root's; otherwise ours, which a non-root
    // popperd accepts.
    write("tim:tanstaaf\n", 0600);
    auto checked = check_secret_file_permissions("apop secrets file", path_);
    EXPECT_TRUE(checked.has_value()) << checked.error().message();
    write("tim:tanstaaf\n", 0400);
    EXPECT_TRUE(check_secret_file_permissions("apop secrets file", path_).has_value());
}

TEST_F(ApopSecretsFile, GroupOrOtherBitsAreRefusedNamingTheFileAndMode) {
    write("tim:tanstaaf\n", 0644);
    auto checked = check_secret_file_permissions("apop secrets file", path_);
    ASSERT_FALSE(checked.has_value());
    EXPECT_EQ(checked.error().message(), "apop secrets file " + path_ +
                                             ": mode 0644 lets group or others in (want 0600: "
                                             "chmod 600)");
    for (mode_t mode : {0640, 0604, 0610, 0601, 0620}) {
        write("tim:tanstaaf\n", mode);
        EXPECT_FALSE(check_secret_file_permissions("apop secrets file", path_).has_value())
            << std::oct << mode;
    }
}

TEST_F(ApopSecretsFile, OwnerOtherThanRootIsRefusedWhenRunningAsRoot) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to give the file away";
    write("tim:tanstaaf\n", 0600);
    ASSERT_EQ(::chown(path_.c_str(), 65534, 65534), 0);
    auto checked = check_secret_file_permissions("apop secrets file", path_);
    ASSERT_FALSE(checked.has_value());
    EXPECT_EQ(checked.error().message(),
              "apop secrets file " + path_ + ": owned by uid 65534 (want root: chown root)");
}

TEST_F(ApopSecretsFile, MissingDirectoryAndSymlinkAreRefused) {
    auto missing = check_secret_file_permissions("apop secrets file", path_);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().message(),
              "apop secrets file " + path_ + ": No such file or directory");

    auto directory = check_secret_file_permissions("apop secrets file", host_.dir());
    ASSERT_FALSE(directory.has_value());
    EXPECT_NE(directory.error().message().find("not a regular file"), std::string::npos);

    const std::string target = host_.path("real-secrets");
    test::write_file(target, "tim:tanstaaf\n", 0600);
    ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
    auto link = check_secret_file_permissions("apop secrets file", path_);
    ASSERT_FALSE(link.has_value());
    EXPECT_NE(link.error().message().find("symbolic link"), std::string::npos);
}

} // namespace
} // namespace popper
