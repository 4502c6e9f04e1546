#include "popper/log.h"
#include "popper/users_file.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace popper {
namespace {

// A private mail host (tests/support) whose users file each test writes.
class UsersFileOnDisk : public ::testing::Test {
protected:
    void SetUp() override { log_open(LogTarget::stderr_stream, LogLevel::info); }

    void write_file(const std::string& text) { test::write_file(path_, text); }

    // find_user, returning the log lines written meanwhile in `log`.
    Result<std::optional<UserEntry>> find_logged(std::string_view name, std::string& log) {
        ::testing::internal::CaptureStderr();
        auto found = find_user(path_, name);
        log = ::testing::internal::GetCapturedStderr();
        return found;
    }

    test::MailHost host_;
    const std::string dir_ = host_.dir();
    const std::string path_ = host_.users_file();
};

std::optional<UserEntry> parse(std::string_view line) {
    std::string why;
    return parse_user_line(line, why);
}

std::string why_of(std::string_view line) {
    std::string why;
    EXPECT_FALSE(parse_user_line(line, why).has_value()) << line;
    return why;
}

size_t count_of(const std::string& haystack, const std::string& needle) {
    size_t count = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size()))
        ++count;
    return count;
}

// ---- user names -------------------------------------------------------------

TEST(UsersFile, AcceptsOrdinaryUserNames) {
    for (const char* name : {"alice", "Bob", "a", "john.doe", "x_y", "mail+tag", "jd@example.org",
                             "user-1", "9lives", "a..b"})
        EXPECT_TRUE(is_valid_user_name(name)) << name;
    EXPECT_TRUE(is_valid_user_name(std::string(kMaxUserNameOctets, 'a')));
}

TEST(UsersFile, RejectsUserNamesThatCouldReachAPathOrLog) {
    for (const char* name : {"",
                             ".",
                             "..",
                             "../../etc/passwd",
                             "alice/../bob",
                             "/etc",
                             "a/b",
                             ".hidden",
                             "-rf",
                             "al ice",
                             "alice\t",
                             "alice\r",
                             "alice\n",
                             "al\x01ice",
                             "al\x7fice",
                             "al:ice",
                             "al\\ice",
                             "caf\xc3\xa9",
                             "a*",
                             "a$b",
                             "a%b",
                             "a'b",
                             "a\"b"})
        EXPECT_FALSE(is_valid_user_name(name)) << name;
    EXPECT_FALSE(is_valid_user_name(std::string(kMaxUserNameOctets + 1, 'a')));
    EXPECT_FALSE(is_valid_user_name(std::string_view("ali\0ce", 6)));
}

// ---- parse_user_line --------------------------------------------------------

TEST(UsersFile, ParsesAllSevenFields) {
    auto e = parse("alice:$6$salt$hash:1001:1002:Alice Liddell,,,:/home/alice:/var/mail/alice");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->name, "alice");
    EXPECT_EQ(e->hash, "$6$salt$hash");
    EXPECT_EQ(e->uid, std::optional<uid_t>(1001));
    EXPECT_EQ(e->gid, std::optional<gid_t>(1002));
    EXPECT_EQ(e->gecos, "Alice Liddell,,,");
    EXPECT_EQ(e->home, "/home/alice");
    EXPECT_EQ(e->mailbox, "/var/mail/alice");
    EXPECT_FALSE(e->disabled());
}

TEST(UsersFile, OmittedTrailingFieldsAreEmpty) {
    auto e = parse("bob:$y$j9T$salt$hash");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->name, "bob");
    EXPECT_EQ(e->hash, "$y$j9T$salt$hash");
    EXPECT_FALSE(e->uid);
    EXPECT_FALSE(e->gid);
    EXPECT_EQ(e->gecos, "");
    EXPECT_EQ(e->home, "");
    EXPECT_EQ(e->mailbox, "");

    auto with_uid = parse("bob:x:1000");
    ASSERT_TRUE(with_uid);
    EXPECT_EQ(with_uid->uid, std::optional<uid_t>(1000));
    EXPECT_FALSE(with_uid->gid);
}

TEST(UsersFile, EmptyFieldsInTheMiddleAreNotGiven) {
    auto e = parse("carol:hash:::::");
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->uid);
    EXPECT_FALSE(e->gid);
    EXPECT_EQ(e->mailbox, "");
}

TEST(UsersFile, HomeMayBeAnythingWithoutAColon) {
    auto e = parse("dave:h:1:1::relative dir with spaces & stuff:");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->home, "relative dir with spaces & stuff");
}

TEST(UsersFile, AcceptsLargestIdAndRejectsTheUnchangedMarker) {
    auto e = parse("erin:h:4294967294:4294967294");
    ASSERT_TRUE(e);
    EXPECT_EQ(*e->uid, 4294967294u);
    EXPECT_EQ(*e->gid, 4294967294u);
    EXPECT_EQ(why_of("erin:h:4294967295"), "uid out of range");
    EXPECT_EQ(why_of("erin:h:1:4294967295"), "gid out of range");
}

TEST(UsersFile, DisabledHashesAreParsedAndMarked) {
    EXPECT_TRUE(parse("frank:!$6$salt$hash")->disabled());
    EXPECT_TRUE(parse("frank:*")->disabled());
    EXPECT_TRUE(parse("frank:!")->disabled());
    EXPECT_FALSE(parse("frank:")->disabled()); // empty: never matches, but not "disabled"
}

TEST(UsersFile, TrailingCarriageReturnIsTolerated) {
    auto e = parse("gina:hash:10:20:::/var/mail/gina\r");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->mailbox, "/var/mail/gina");
    EXPECT_EQ(parse("gina:hash\r")->hash, "hash");
}

TEST(UsersFile, BlankAndCommentLinesAreNotEntriesAndNotWarnings) {
    for (const char* line :
         {"", "\r", "   ", "\t", "# a comment", "#alice:x:1:1", "  # indented"}) {
        std::string why = "stale";
        EXPECT_FALSE(parse_user_line(line, why)) << line;
        EXPECT_EQ(why, "") << line;
    }
}

TEST(UsersFile, RejectsTooFewAndTooManyFields) {
    EXPECT_NE(why_of("alice").find("too few fields"), std::string::npos);
    EXPECT_NE(why_of("alice:h:1:1:g:/h:/m:extra").find("too many fields"), std::string::npos);
    EXPECT_NE(why_of("alice:h:1:1:g:/h:/m:").find("too many fields"), std::string::npos);
}

TEST(UsersFile, RejectsBadUids) {
    EXPECT_EQ(why_of("a:h:abc"), "uid is not a decimal number");
    EXPECT_EQ(why_of("a:h:-1"), "uid is not a decimal number");
    EXPECT_EQ(why_of("a:h:+5"), "uid is not a decimal number");
    EXPECT_EQ(why_of("a:h: 5"), "uid is not a decimal number");
    EXPECT_EQ(why_of("a:h:5 "), "uid is not a decimal number");
    EXPECT_EQ(why_of("a:h:0x10"), "uid is not a decimal number");
    EXPECT_EQ(why_of("a:h:99999999999"), "uid out of range");
    EXPECT_EQ(why_of("a:h:184467440737095516160"), "uid out of range");
    EXPECT_EQ(why_of("a:h:0"), "uid 0 (root) may not own a mailbox");
    EXPECT_EQ(why_of("a:h:000"), "uid 0 (root) may not own a mailbox");
}

TEST(UsersFile, RejectsBadGids) {
    EXPECT_EQ(why_of("a:h:1000:x"), "gid is not a decimal number");
    EXPECT_EQ(why_of("a:h:1000:-8"), "gid is not a decimal number");
    EXPECT_EQ(why_of("a:h:1000:99999999999"), "gid out of range");
    EXPECT_EQ(why_of("a:h:1000:0"), "gid 0 (root) may not own a mailbox");
}

TEST(UsersFile, RejectsRelativeMailbox) {
    EXPECT_EQ(why_of("a:h:1:1:::var/mail/a"), "mailbox is not an absolute path");
    EXPECT_EQ(why_of("a:h:1:1:::../a"), "mailbox is not an absolute path");
    EXPECT_EQ(why_of("a:h:1:1::: /var/mail/a"), "mailbox is not an absolute path");
}

TEST(UsersFile, RejectsBadNames) {
    for (const char* line : {"../../etc/passwd:h", "alice/../bob:h", "al ice:h", "al\x01ice:h",
                             ":h", ".alice:h", "-alice:h"})
        EXPECT_NE(why_of(line).find("invalid user name"), std::string::npos) << line;
    EXPECT_NE(why_of(std::string(kMaxUserNameOctets + 1, 'a') + ":h").find("invalid user name"),
              std::string::npos);
    EXPECT_TRUE(parse(std::string(kMaxUserNameOctets, 'a') + ":h"));
}

TEST(UsersFile, RejectsNulBytesAnywhere) {
    using namespace std::string_literals;
    EXPECT_EQ(why_of("ali\0ce:h"s), "NUL byte in line");
    EXPECT_EQ(why_of("alice:ha\0sh"s), "NUL byte in line");
    EXPECT_EQ(why_of("alice:h:1:1:::/var/mail/a\0/etc/shadow"s), "NUL byte in line");
}

TEST(UsersFile, RejectsOverlongLinesEvenComments) {
    const std::string longest = "alice:" + std::string(kMaxUserLineOctets - 6, 'h');
    ASSERT_EQ(longest.size(), kMaxUserLineOctets);
    EXPECT_TRUE(parse(longest));
    EXPECT_TRUE(parse(longest + "\r")); // the '\r' is not part of the line
    EXPECT_NE(why_of(longest + "h").find("longer than 4096"), std::string::npos);
    std::string long_comment(100 * 1024, 'c');
    long_comment[0] = '#';
    EXPECT_NE(why_of(long_comment).find("longer than"), std::string::npos);
}

TEST(UsersFile, WhyNeverEchoesTheLine) {
    const std::string why = why_of("secret-user:$6$secretsalt$secrethash:0");
    EXPECT_EQ(why.find("secret"), std::string::npos) << why;
}

// ---- find_user ----------------------------------------------------------------

TEST_F(UsersFileOnDisk, FindsUserAmongOthers) {
    write_file("# popperd users\n"
               "\n"
               "alice:$6$a$A:1001:1001::/home/alice:/var/mail/alice\n"
               "bob:$6$b$B:1002:1002\n");
    std::string log;
    auto found = find_logged("bob", log);
    ASSERT_TRUE(found) << found.error().message();
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->name, "bob");
    EXPECT_EQ((*found)->hash, "$6$b$B");
    EXPECT_EQ((*found)->uid, std::optional<uid_t>(1002));
    EXPECT_EQ(log, "");
}

TEST_F(UsersFileOnDisk, AbsentUserIsNulloptNotError) {
    write_file("alice:h:1001\n");
    auto found = find_user(path_, "mallory");
    ASSERT_TRUE(found) << found.error().message();
    EXPECT_FALSE(found->has_value());
}

TEST_F(UsersFileOnDisk, NamesMatchExactlyAndCaseSensitively) {
    write_file("alice:h1\nAlice:h2\nalice2:h3\n");
    EXPECT_EQ((*find_user(path_, "Alice"))->hash, "h2");
    EXPECT_EQ((*find_user(path_, "alice"))->hash, "h1");
    EXPECT_FALSE(find_user(path_, "ALICE")->has_value());
    EXPECT_FALSE(find_user(path_, "alic")->has_value());
    EXPECT_FALSE(find_user(path_, "")->has_value());
}

TEST_F(UsersFileOnDisk, FirstMatchingLineWins) {
    write_file("alice:first:1001\nalice:second:1002\n");
    EXPECT_EQ((*find_user(path_, "alice"))->hash, "first");
}

TEST_F(UsersFileOnDisk, LastLineWithoutNewlineIsRead) {
    write_file("alice:h1\nbob:h2");
    EXPECT_EQ((*find_user(path_, "bob"))->hash, "h2");
}

TEST_F(UsersFileOnDisk, CrlfFileIsRead) {
    write_file("# comment\r\n\r\nalice:h1:1001:1001:::/var/mail/alice\r\nbob:h2\r\n");
    std::string log;
    auto alice = find_logged("alice", log);
    ASSERT_TRUE(alice && alice->has_value());
    EXPECT_EQ((**alice).mailbox, "/var/mail/alice");
    EXPECT_EQ((*find_user(path_, "bob"))->hash, "h2");
    EXPECT_EQ(log, "");
}

TEST_F(UsersFileOnDisk, MalformedLinesAreWarnedWithFileAndLineAndSkipped) {
    using namespace std::string_literals;
    const std::string text = "alice\n"                                      // 1 too few fields
                             "bob:h:abc\n"                                  // 2 bad uid
                             "bob:h:-5\n"                                   // 3 negative
                             "bob:h:99999999999\n"                          // 4 overflow
                             "bob:h:0\n"                                    // 5 uid 0
                             "bob:h:1000:1000:::var/mail/bob\n"             // 6 relative mailbox
                             "../../etc/passwd:h:1000\n"                    // 7 traversal name
                             "alice/../bob:h\n"                             // 8 traversal name
                             "bob smith:h\n"                                // 9 space in name
                             "bob\x01:h\n"                                  // 10 control char
                             ":h:1000\n"                                    // 11 empty name
                             + std::string(65, 'b') + ":h\n"                // 12 65-char name
                             + "bob:h\0idden:1000\n"s                       // 13 NUL byte
                             + "bob:" + std::string(100 * 1024, 'x') + "\n" // 14 100 KB line
                             + "bob:good:1000:1000\n";                      // 15
    write_file(text);
    std::string log;
    auto found = find_logged("bob", log);
    ASSERT_TRUE(found) << found.error().message();
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->hash, "good");
    for (int line = 1; line <= 14; ++line)
        EXPECT_NE(log.find("users file " + path_ + ":" + std::to_string(line) + ": "),
                  std::string::npos)
            << "line " << line << " not warned in:\n"
            << log;
    EXPECT_EQ(log.find(path_ + ":15:"), std::string::npos);
    EXPECT_EQ(count_of(log, "warning: users file "), 14u) << log;
    EXPECT_NE(log.find(":5: uid 0 (root) may not own a mailbox"), std::string::npos);
    EXPECT_EQ(log.find("xxxx"), std::string::npos) << "the line itself must not be logged";
}

TEST_F(UsersFileOnDisk, MalformedLineForTheUserDoesNotHideALaterGoodOne) {
    write_file("carol:h:0\ncarol:ok:1003\n");
    std::string log;
    auto found = find_logged("carol", log);
    ASSERT_TRUE(found && found->has_value());
    EXPECT_EQ((*found)->hash, "ok");
    EXPECT_NE(log.find(":1: uid 0"), std::string::npos);
}

TEST_F(UsersFileOnDisk, MalformedLinesAfterTheMatchAreStillWarned) {
    write_file("alice:h\nbroken\n");
    std::string log;
    ASSERT_TRUE(find_logged("alice", log));
    EXPECT_NE(log.find(path_ + ":2: too few fields"), std::string::npos) << log;
}

TEST_F(UsersFileOnDisk, BinaryGarbageIsSkippedAndLaterLinesFound) {
    std::mt19937 random(12345);
    std::string garbage(1024 * 1024, '\0');
    for (auto& c : garbage)
        c = static_cast<char>(random() & 0xff);
    write_file("alice:first\n" + garbage + "\nzed:last:4242\n");
    std::string log;
    auto zed = find_logged("zed", log);
    ASSERT_TRUE(zed) << zed.error().message();
    ASSERT_TRUE(zed->has_value());
    EXPECT_EQ((*zed)->uid, std::optional<uid_t>(4242));
    std::string ignored;
    EXPECT_EQ((*find_logged("alice", ignored))->hash, "first");
    // A flood of bad lines is capped in the log, then summarised once.
    EXPECT_EQ(count_of(log, "warning: users file "), kMaxUsersFileWarningsPerRead + 1) << log;
    EXPECT_NE(log.find("more malformed lines not shown"), std::string::npos);
}

TEST_F(UsersFileOnDisk, EmptyFileHasNoUsers) {
    write_file("");
    auto found = find_user(path_, "alice");
    ASSERT_TRUE(found) << found.error().message();
    EXPECT_FALSE(found->has_value());
}

TEST_F(UsersFileOnDisk, MissingFileIsAnErrorNamingThePath) {
    auto found = find_user(dir_ + "/no-such-file", "alice");
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error().errnum, ENOENT);
    EXPECT_NE(found.error().message().find(dir_ + "/no-such-file"), std::string::npos)
        << found.error().message();
}

TEST_F(UsersFileOnDisk, UnreadableFileIsAnErrorNamingThePath) {
    write_file("alice:h\n");
    ASSERT_EQ(::chmod(path_.c_str(), 0), 0);
    auto check = [&]() -> int {
        auto found = find_user(path_, "alice");
        if (found)
            return 1;
        if (found.error().errnum != EACCES)
            return 2;
        if (found.error().message().find(path_) == std::string::npos)
            return 3;
        return 0;
    };
    if (::geteuid() != 0) {
        EXPECT_EQ(check(), 0);
        return;
    }
    // Root reads anything: check as nobody in a child, leaving this process as it is.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(10);
        ::_exit(check());
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1 read, 2 wrong errno, 3 path missing, 10 setup";
}

TEST_F(UsersFileOnDisk, DirectoryIsAnErrorNamingThePath) {
    auto found = find_user(dir_, "alice");
    ASSERT_FALSE(found);
    EXPECT_NE(found.error().message().find(dir_), std::string::npos) << found.error().message();
}

TEST_F(UsersFileOnDisk, FileOverSixteenMebibytesIsRefused) {
    write_file("alice:h\n");
    ASSERT_EQ(::truncate(path_.c_str(), static_cast<off_t>(kMaxUsersFileOctets) + 1), 0);
    auto found = find_user(path_, "alice");
    ASSERT_FALSE(found);
    EXPECT_NE(found.error().message().find(path_), std::string::npos);
    EXPECT_NE(found.error().message().find("larger than 16777216 octets"), std::string::npos)
        << found.error().message();
}

TEST_F(UsersFileOnDisk, FileOfExactlySixteenMebibytesIsRead) {
    std::string text = "alice:h:1001\n";
    text.resize(kMaxUsersFileOctets - 10, '#');
    text += "\nbob:h2\n";
    text.resize(kMaxUsersFileOctets, '\n');
    write_file(text);
    std::string log;
    auto found = find_logged("bob", log);
    ASSERT_TRUE(found) << found.error().message();
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->hash, "h2");
}

TEST_F(UsersFileOnDisk, LookupReportsTheFirstUsableHashForDummyChecks) {
    write_file("# c\nbroken\nlocked:!$2b$12$xyz\nnone:\nalice:$y$j9T$s$h\nbob:$6$s$h\n");
    ::testing::internal::CaptureStderr();
    auto absent = lookup_user(path_, "mallory");
    auto bob = lookup_user(path_, "bob");
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find(":2: too few fields"), std::string::npos) << log;
    ASSERT_TRUE(absent);
    EXPECT_FALSE(absent->entry);
    EXPECT_EQ(absent->scheme_like, "$y$j9T$s$h");
    ASSERT_TRUE(bob && bob->entry);
    EXPECT_EQ(bob->entry->hash, "$6$s$h");
}

} // namespace
} // namespace popper
