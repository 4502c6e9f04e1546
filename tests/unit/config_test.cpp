// config: the conf-file syntax, every key, every error class, and the shipped
// sample and manual page kept in step with the code.
#include "popper/config.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <utility>

namespace popper {
namespace {

const std::string kSource = "/etc/popperd/popperd.conf";

Config parse_ok(const std::string& text) {
    auto config = parse_config(text, kSource);
    if (!config) {
        ADD_FAILURE() << config.error().message();
        return {};
    }
    return std::move(*config);
}

std::string parse_error(const std::string& text) {
    auto config = parse_config(text, kSource);
    EXPECT_FALSE(config.has_value()) << "parsed: " << text.substr(0, 80);
    return config ? std::string() : config.error().message();
}

Config defaults_from(const std::string& source) {
    Config config;
    config.source_path = source;
    return config;
}

// --- syntax -----------------------------------------------------------------

TEST(Config, EmptyTextGivesDefaults) {
    EXPECT_EQ(parse_ok(""), defaults_from(kSource));
}

TEST(Config, DefaultListenIsAnyIpv4AndIpv6OnPort110) {
    Config config = parse_ok("");
    ASSERT_EQ(config.listen.size(), 2u);
    EXPECT_EQ(config.listen[0], (ListenAddress{"0.0.0.0", 110, "0.0.0.0:110"}));
    EXPECT_EQ(config.listen[1], (ListenAddress{"::", 110, "[::]:110"}));
}

TEST(Config, SetsSourcePathToSource) {
    auto config = parse_config("", "inline");
    ASSERT_TRUE(config);
    EXPECT_EQ(config->source_path, "inline");
}

TEST(Config, IgnoresCommentsAndBlankLines) {
    Config config = parse_ok("# a comment\n\n   \n\t# indented comment\nspool_dir = /srv/mail\n");
    EXPECT_EQ(config.spool_dir, "/srv/mail");
}

TEST(Config, StripsCommentAfterWhitespace) {
    EXPECT_EQ(parse_ok("spool_dir = /srv/mail   # where the MTA delivers\n").spool_dir,
              "/srv/mail");
    EXPECT_EQ(parse_ok("spool_dir = /srv/mail\t# tab before\n").spool_dir, "/srv/mail");
}

TEST(Config, KeepsHashInsideValue) {
    EXPECT_EQ(parse_ok("spool_dir = /srv/mail#1\n").spool_dir, "/srv/mail#1");
}

TEST(Config, TrimsWhitespaceAroundKeyAndValue) {
    Config config = parse_ok(" \t spool_dir\t=\t /srv/mail \t\nusers_file=/etc/u\n");
    EXPECT_EQ(config.spool_dir, "/srv/mail");
    EXPECT_EQ(config.users_file, "/etc/u");
}

TEST(Config, KeepsInnerSpacesOfValue) {
    EXPECT_EQ(parse_ok("spool_dir = /srv/my mail\n").spool_dir, "/srv/my mail");
}

TEST(Config, AcceptsLastLineWithoutNewline) {
    EXPECT_EQ(parse_ok("spool_dir = /srv/mail").spool_dir, "/srv/mail");
}

TEST(Config, AcceptsCrlfLineEndings) {
    Config config = parse_ok("# sample\r\nspool_dir = /srv/mail\r\nmax_sessions = 7\r\n\r\n");
    EXPECT_EQ(config.spool_dir, "/srv/mail");
    EXPECT_EQ(config.max_sessions, 7u);
}

TEST(Config, RejectsCarriageReturnInsideLine) {
    EXPECT_EQ(parse_error("spool_dir = /srv\r/mail\n"),
              kSource + ":1: control character 0x0d in line (not a text file?)");
}

TEST(Config, RejectsUnknownKeyWithFileAndLine) {
    EXPECT_EQ(parse_error("# comment\nspool_dir = /var/mail\n\nfoo = 1\n"),
              kSource + ":4: unknown key 'foo'");
}

TEST(Config, KeysAreCaseSensitive) {
    EXPECT_EQ(parse_error("Spool_Dir = /var/mail\n"), kSource + ":1: unknown key 'Spool_Dir'");
}

TEST(Config, RejectsMissingEqualsNamingKey) {
    EXPECT_EQ(parse_error("\nidle_timeout 600\n"),
              kSource + ":2: missing '=' after 'idle_timeout'");
}

TEST(Config, RejectsMissingKey) {
    EXPECT_EQ(parse_error("= 600\n"), kSource + ":1: missing key before '='");
}

TEST(Config, RejectsEmptyValue) {
    EXPECT_EQ(parse_error("spool_dir =\n"), kSource + ":1: spool_dir: empty value");
    EXPECT_EQ(parse_error("spool_dir =   # nothing\n"), kSource + ":1: spool_dir: empty value");
}

TEST(Config, RejectsDuplicateKey) {
    EXPECT_EQ(parse_error("spool_dir = /a\n\nspool_dir = /b\n"),
              kSource + ":3: duplicate key 'spool_dir' (first set on line 1)");
}

TEST(Config, ValueMayContainEquals) {
    EXPECT_EQ(parse_ok("spool_dir = /srv/a=b\n").spool_dir, "/srv/a=b");
}

// --- listen -----------------------------------------------------------------

TEST(Config, ParsesIpv4Listen) {
    Config config = parse_ok("listen = 127.0.0.1:1110\n");
    ASSERT_EQ(config.listen.size(), 1u);
    EXPECT_EQ(config.listen[0], (ListenAddress{"127.0.0.1", 1110, "127.0.0.1:1110"}));
}

TEST(Config, ParsesBracketedIpv6Listen) {
    Config config = parse_ok("listen = [::1]:995\n");
    ASSERT_EQ(config.listen.size(), 1u);
    EXPECT_EQ(config.listen[0], (ListenAddress{"::1", 995, "[::1]:995"}));
}

TEST(Config, CanonicalizesIpv6Host) {
    Config config = parse_ok("listen = [0:0:0:0:0:0:0:1]:110\n");
    ASSERT_EQ(config.listen.size(), 1u);
    EXPECT_EQ(config.listen[0].host, "::1");
    EXPECT_EQ(config.listen[0].text, "[0:0:0:0:0:0:0:1]:110");
}

TEST(Config, StarListenMeansAnyIpv4) {
    Config config = parse_ok("listen = *:110\n");
    ASSERT_EQ(config.listen.size(), 1u);
    EXPECT_EQ(config.listen[0], (ListenAddress{"0.0.0.0", 110, "*:110"}));
}

TEST(Config, ListenLinesReplaceDefaultsAndRepeat) {
    Config config = parse_ok("listen = 127.0.0.1:110\nlisten = [::1]:110\nlisten = 10.0.0.1:0\n");
    ASSERT_EQ(config.listen.size(), 3u);
    EXPECT_EQ(config.listen[0].host, "127.0.0.1");
    EXPECT_EQ(config.listen[1].host, "::1");
    EXPECT_EQ(config.listen[2].port, 0u);
}

TEST(Config, Pop2IsOffByDefault) {
    EXPECT_TRUE(parse_ok("").pop2_listen.empty());
    EXPECT_EQ(format_config(Config{}).find("pop2_listen"), std::string::npos);
}

TEST(Config, Pop2ListenRepeatsBesideListenAndPrintsBack) {
    Config config = parse_ok("pop2_listen = 127.0.0.1:109\npop2_listen = [::1]:0\n");
    ASSERT_EQ(config.pop2_listen.size(), 2u);
    EXPECT_EQ(config.pop2_listen[0], (ListenAddress{"127.0.0.1", 109, "127.0.0.1:109"}));
    EXPECT_EQ(config.pop2_listen[1].host, "::1");
    EXPECT_EQ(config.listen, Config{}.listen); // POP3's default addresses stay
    std::string printed = format_config(config);
    EXPECT_NE(printed.find("pop2_listen = 127.0.0.1:109\npop2_listen = [::1]:0\n"),
              std::string::npos)
        << printed;
    EXPECT_EQ(parse_ok(printed), config);
}

TEST(Config, RejectsPop2ListenBehindProxyOrTwice) {
    EXPECT_EQ(parse_error("pop2_listen = 127.0.0.1:109 proxy\n"),
              kSource + ":1: pop2_listen: pop2_listen takes no \"proxy\"");
    EXPECT_EQ(parse_error("pop2_listen = 127.0.0.1:109\npop2_listen = 127.0.0.1:109\n"),
              kSource + ":2: pop2_listen: '127.0.0.1:109' repeats '127.0.0.1:109'");
    EXPECT_EQ(parse_error("pop2_listen = 127.0.0.1:65536\n"),
              kSource + ":1: pop2_listen: port '65536' is out of range (0 to 65535)");
}

TEST(Config, ListenAcceptsPortZeroAndMaximum) {
    EXPECT_EQ(parse_ok("listen = 127.0.0.1:0\n").listen.at(0).port, 0u);
    EXPECT_EQ(parse_ok("listen = 127.0.0.1:65535\n").listen.at(0).port, 65535u);
}

TEST(Config, RejectsListenPortOutOfRange) {
    EXPECT_EQ(parse_error("listen = 127.0.0.1:65536\n"),
              kSource + ":1: listen: port '65536' is out of range (0 to 65535)");
    EXPECT_EQ(parse_error("listen = 127.0.0.1:99999999999999999999999\n"),
              kSource + ":1: listen: port '99999999999999999999999' is out of range (0 to 65535)");
}

TEST(Config, RejectsListenBadPort) {
    EXPECT_EQ(parse_error("listen = 127.0.0.1:pop3\n"),
              kSource + ":1: listen: port 'pop3' is not a number");
    EXPECT_EQ(parse_error("listen = 127.0.0.1:-1\n"),
              kSource + ":1: listen: port '-1' is not a number");
    EXPECT_EQ(parse_error("listen = 127.0.0.1:\n"),
              kSource + ":1: listen: port '' is not a number");
}

TEST(Config, RejectsListenWithoutPort) {
    EXPECT_EQ(parse_error("listen = 127.0.0.1\n"),
              kSource + ":1: listen: '127.0.0.1' has no ':port'");
    EXPECT_EQ(parse_error("listen = [::1]\n"), kSource + ":1: listen: '[::1]' has no ':port'");
}

TEST(Config, RejectsListenHostName) {
    EXPECT_EQ(parse_error("listen = localhost:110\n"),
              kSource + ":1: listen: 'localhost' is not a numeric IPv4 address or *");
}

TEST(Config, RejectsListenBadAddresses) {
    EXPECT_EQ(parse_error("listen = 1.2.3:110\n"),
              kSource + ":1: listen: '1.2.3' is not a numeric IPv4 address or *");
    EXPECT_EQ(parse_error("listen = [1.2.3.4]:110\n"),
              kSource + ":1: listen: '1.2.3.4' is not a numeric IPv6 address");
    EXPECT_EQ(parse_error("listen = [::1:110\n"),
              kSource + ":1: listen: '[::1:110' has '[' without ']'");
    EXPECT_EQ(parse_error("listen = [*]:110\n"),
              kSource + ":1: listen: '*' is not a numeric IPv6 address");
}

TEST(Config, RejectsUnbracketedIpv6Listen) {
    EXPECT_EQ(parse_error("listen = ::1:110\n"),
              kSource + ":1: listen: '::1:110': write an IPv6 address in brackets, as [::1]:110");
}

TEST(Config, RejectsRepeatedListenAddress) {
    EXPECT_EQ(parse_error("listen = *:110\nlisten = 0.0.0.0:110\n"),
              kSource + ":2: listen: '0.0.0.0:110' repeats '*:110'");
}

TEST(Config, ParseListenAddressIsUsableAlone) {
    auto address = parse_listen_address("[::]:0");
    ASSERT_TRUE(address) << address.error().message();
    EXPECT_EQ(*address, (ListenAddress{"::", 0, "[::]:0"}));
    EXPECT_FALSE(parse_listen_address(std::string_view("127.0.0.1\0x:1", 13)));
    EXPECT_FALSE(parse_listen_address(""));
    EXPECT_FALSE(parse_listen_address(":"));
    EXPECT_FALSE(parse_listen_address("[]:1"));
}

// --- paths ------------------------------------------------------------------

TEST(Config, ParsesEveryPathKey) {
    Config config = parse_ok("users_file = /a/users\nspool_dir = /a/spool\n"
                             "drop_dir = /a/drop\npidfile = /a/pid\n");
    EXPECT_EQ(config.users_file, "/a/users");
    EXPECT_EQ(config.spool_dir, "/a/spool");
    EXPECT_EQ(config.drop_dir, "/a/drop");
    EXPECT_EQ(config.pidfile, "/a/pid");
}

TEST(Config, RejectsRelativePath) {
    EXPECT_EQ(parse_error("users_file = etc/users\n"),
              kSource + ":1: users_file: 'etc/users' is not an absolute path");
    EXPECT_EQ(parse_error("spool_dir = ./mail\n"),
              kSource + ":1: spool_dir: './mail' is not an absolute path");
    EXPECT_EQ(parse_error("drop_dir = ~/drop\n"),
              kSource + ":1: drop_dir: '~/drop' is not an absolute path");
    EXPECT_EQ(parse_error("pidfile = popperd.pid\n"),
              kSource + ":1: pidfile: 'popperd.pid' is not an absolute path");
}

TEST(Config, PolicyFileIsAnAbsolutePathOrEmptyForNone) {
    EXPECT_EQ(parse_ok("policy_file = /etc/popperd/policy\n").policy_file, "/etc/popperd/policy");
    EXPECT_EQ(parse_ok("policy_file =\n").policy_file, "");
    EXPECT_EQ(parse_error("policy_file = policy\n"),
              kSource + ":1: policy_file: 'policy' is not an absolute path");
}

TEST(Config, TakeoverIsYesOrNo) {
    EXPECT_TRUE(parse_ok("takeover = yes\n").takeover);
    EXPECT_FALSE(parse_ok("takeover = no\n").takeover);
    EXPECT_EQ(parse_error("takeover = always\n"),
              kSource + ":1: takeover: 'always' is not yes or no (or true/false, on/off, 1/0)");
}

// --- durations --------------------------------------------------------------

TEST(Config, BareDurationCountsSeconds) {
    Config config = parse_ok("idle_timeout = 900\nauth_timeout = 60\nlock_timeout = 5\n"
                             "dotlock_stale = 300\nauth_failure_delay = 3\n");
    EXPECT_EQ(config.idle_timeout_s, 900u);
    EXPECT_EQ(config.auth_timeout_s, 60u);
    EXPECT_EQ(config.lock_timeout_s, 5u);
    EXPECT_EQ(config.dotlock_stale_s, 300u);
    EXPECT_EQ(config.auth_failure_delay_ms, 3000u);
}

TEST(Config, DurationAcceptsSecondMinuteHourSuffixes) {
    EXPECT_EQ(parse_ok("idle_timeout = 700s\n").idle_timeout_s, 700u);
    EXPECT_EQ(parse_ok("idle_timeout = 15m\n").idle_timeout_s, 900u);
    EXPECT_EQ(parse_ok("idle_timeout = 2h\n").idle_timeout_s, 7200u);
    EXPECT_EQ(parse_ok("dotlock_stale = 10m\n").dotlock_stale_s, 600u);
}

TEST(Config, AuthFailureDelayAcceptsMilliseconds) {
    EXPECT_EQ(parse_ok("auth_failure_delay = 250ms\n").auth_failure_delay_ms, 250u);
    EXPECT_EQ(parse_ok("auth_failure_delay = 0\n").auth_failure_delay_ms, 0u);
    EXPECT_EQ(parse_ok("auth_failure_delay = 1m\n").auth_failure_delay_ms, 60000u);
}

TEST(Config, SecondsKeysRejectMilliseconds) {
    EXPECT_EQ(parse_error("idle_timeout = 600000ms\n"),
              kSource + ":1: idle_timeout: '600000ms' is not a duration such as 600, 600s, 10m "
                        "or 1h");
}

TEST(Config, RejectsBadDuration) {
    for (const char* bad : {"ten", "10 m", "10min", "-5", "+5", "1.5h", "m", "10sec", "0x10"}) {
        EXPECT_EQ(parse_error(std::string("lock_timeout = ") + bad + "\n"),
                  kSource + ":1: lock_timeout: '" + bad +
                      "' is not a duration such as 600, 600s, 10m or 1h");
    }
    EXPECT_EQ(parse_error("auth_failure_delay = 2 s\n"),
              kSource + ":1: auth_failure_delay: '2 s' is not a duration such as 2, 2s, 1500ms, "
                        "10m or 1h");
}

TEST(Config, RejectsDurationOutOfRange) {
    EXPECT_EQ(parse_error("idle_timeout = 25h\n"),
              kSource + ":1: idle_timeout: '25h' is out of range (1s to 24h)");
    EXPECT_EQ(parse_error("auth_failure_delay = 61s\n"),
              kSource + ":1: auth_failure_delay: '61s' is out of range (0 to 1m)");
    EXPECT_EQ(parse_error("lock_timeout = 99999999999999999999999999h\n"),
              kSource +
                  ":1: lock_timeout: '99999999999999999999999999h' is out of range (0 to 24h)");
}

TEST(Config, IdleTimeoutBelowRfcMinimumIsAcceptedForTests) {
    // RFC 1939 §3 asks for 10 minutes; popperd.conf(5) says shorter is for tests.
    EXPECT_EQ(parse_ok("idle_timeout = 2s\n").idle_timeout_s, 2u);
}

TEST(Config, RejectsZeroTimeouts) {
    EXPECT_EQ(parse_error("idle_timeout = 0\n"),
              kSource + ":1: idle_timeout: '0' is out of range (1s to 24h)");
    EXPECT_EQ(parse_error("auth_timeout = 0s\n"),
              kSource + ":1: auth_timeout: '0s' is out of range (1s to 24h)");
    EXPECT_EQ(parse_error("dotlock_stale = 0\n"),
              kSource + ":1: dotlock_stale: '0' is out of range (1s to 24h)");
}

TEST(Config, LockTimeoutZeroMeansTryOnce) {
    EXPECT_EQ(parse_ok("lock_timeout = 0\n").lock_timeout_s, 0u);
}

// --- counts -----------------------------------------------------------------

TEST(Config, ParsesEveryCountKey) {
    Config config =
        parse_ok("max_sessions = 1000\nmax_sessions_per_ip = 1\nmax_auth_failures = 5\n");
    EXPECT_EQ(config.max_sessions, 1000u);
    EXPECT_EQ(config.max_sessions_per_ip, 1u);
    EXPECT_EQ(config.max_auth_failures, 5u);
}

TEST(Config, RejectsZeroCounts) {
    EXPECT_EQ(parse_error("max_sessions = 0\n"),
              kSource + ":1: max_sessions: '0' is out of range (1 to 100000)");
    EXPECT_EQ(parse_error("max_sessions_per_ip = 0\n"),
              kSource + ":1: max_sessions_per_ip: '0' is out of range (1 to 100000)");
    EXPECT_EQ(parse_error("max_auth_failures = 0\n"),
              kSource + ":1: max_auth_failures: '0' is out of range (1 to 1000)");
}

TEST(Config, RejectsBadNumber) {
    for (const char* bad : {"-1", "+1", "1e3", "12abc", "0x10", "ten", "1 000"}) {
        EXPECT_EQ(parse_error(std::string("max_sessions = ") + bad + "\n"),
                  kSource + ":1: max_sessions: '" + bad + "' is not a number");
    }
}

TEST(Config, RejectsHugeNumberWithoutOverflow) {
    EXPECT_EQ(parse_error("max_sessions = 18446744073709551617\n"),
              kSource + ":1: max_sessions: '18446744073709551617' is out of range (1 to 100000)");
}

// --- words ------------------------------------------------------------------

TEST(Config, ParsesLockMethodsSeparatedBySpacesOrCommas) {
    EXPECT_EQ(parse_ok("lock_methods = flock\n").lock_methods,
              (std::vector<LockMethod>{LockMethod::flock}));
    EXPECT_EQ(parse_ok("lock_methods = dotlock, fcntl,flock\n").lock_methods,
              (std::vector<LockMethod>{LockMethod::dotlock, LockMethod::fcntl, LockMethod::flock}));
    EXPECT_EQ(parse_ok("lock_methods = fcntl\tdotlock\n").lock_methods,
              (std::vector<LockMethod>{LockMethod::fcntl, LockMethod::dotlock}));
}

TEST(Config, AllowsFcntlAndFlockTogether) {
    EXPECT_EQ(parse_ok("lock_methods = fcntl flock\n").lock_methods,
              (std::vector<LockMethod>{LockMethod::fcntl, LockMethod::flock}));
}

TEST(Config, RejectsRepeatedLockMethod) {
    EXPECT_EQ(parse_error("lock_methods = dotlock fcntl dotlock\n"),
              kSource + ":1: lock_methods: 'dotlock' is listed twice");
}

TEST(Config, RejectsUnknownLockMethod) {
    EXPECT_EQ(parse_error("lock_methods = dotlock lockf\n"),
              kSource + ":1: lock_methods: 'lockf' is not a lock method (dotlock, fcntl or flock)");
}

TEST(Config, RejectsEmptyLockMethodList) {
    EXPECT_EQ(parse_error("lock_methods = , ,\n"),
              kSource + ":1: lock_methods: no lock method given (dotlock, fcntl or flock)");
}

TEST(Config, ParsesLogTarget) {
    EXPECT_EQ(parse_ok("log = stderr\n").log, LogTarget::stderr_stream);
    EXPECT_EQ(parse_ok("log = syslog\n").log, LogTarget::syslog);
    EXPECT_EQ(parse_error("log = file\n"), kSource + ":1: log: 'file' is not syslog or stderr");
}

TEST(Config, ParsesEveryLogLevel) {
    EXPECT_EQ(parse_ok("log_level = error\n").log_level, LogLevel::error);
    EXPECT_EQ(parse_ok("log_level = warning\n").log_level, LogLevel::warning);
    EXPECT_EQ(parse_ok("log_level = notice\n").log_level, LogLevel::notice);
    EXPECT_EQ(parse_ok("log_level = info\n").log_level, LogLevel::info);
    EXPECT_EQ(parse_ok("log_level = debug\n").log_level, LogLevel::debug);
    EXPECT_EQ(parse_error("log_level = verbose\n"),
              kSource + ":1: log_level: 'verbose' is not error, warning, notice, info or debug");
}

TEST(Config, AcceptsEveryBooleanSpelling) {
    for (const char* yes : {"yes", "true", "on", "1"}) {
        EXPECT_TRUE(parse_ok(std::string("enable_last = ") + yes + "\n").enable_last) << yes;
    }
    for (const char* no : {"no", "false", "off", "0"}) {
        EXPECT_FALSE(parse_ok(std::string("enable_last = ") + no + "\n").enable_last) << no;
    }
    EXPECT_EQ(parse_error("enable_last = maybe\n"),
              kSource + ":1: enable_last: 'maybe' is not yes or no (or true/false, on/off, 1/0)");
}

TEST(Config, ParsesMailPrivilegedGroup) {
    EXPECT_EQ(parse_ok("mail_privileged_group = mail\n").mail_privileged_group, "mail");
    EXPECT_EQ(parse_ok("mail_privileged_group = _mail-2.x\n").mail_privileged_group, "_mail-2.x");
}

TEST(Config, EmptyMailPrivilegedGroupMeansNone) {
    EXPECT_EQ(parse_ok("mail_privileged_group =\n").mail_privileged_group, "");
    EXPECT_EQ(parse_ok("mail_privileged_group =   # none\n").mail_privileged_group, "");
}

TEST(Config, RejectsBadGroupName) {
    EXPECT_EQ(parse_error("mail_privileged_group = mail users\n"),
              kSource + ":1: mail_privileged_group: 'mail users' is not a group name");
    EXPECT_EQ(parse_error("mail_privileged_group = -mail\n"),
              kSource + ":1: mail_privileged_group: '-mail' is not a group name");
    EXPECT_EQ(parse_error("mail_privileged_group = ../etc\n"),
              kSource + ":1: mail_privileged_group: '../etc' is not a group name");
}

// --- hostile input ----------------------------------------------------------

TEST(Config, RejectsNulByte) {
    EXPECT_EQ(parse_error(std::string("spool_dir = /var/mail\0/x\n", 25)),
              kSource + ":1: NUL byte in line (not a text file?)");
}

TEST(Config, AcceptsLineOfMaximumLength) {
    std::string head = "spool_dir = /";
    std::string line = head + std::string(kMaxConfigLineOctets - head.size(), 'a');
    EXPECT_EQ(parse_ok(line + "\n").spool_dir.size(), kMaxConfigLineOctets - 12);
    EXPECT_EQ(parse_ok(line + "\r\n").spool_dir.size(), kMaxConfigLineOctets - 12);
}

TEST(Config, RejectsLineLongerThanLimit) {
    std::string head = "spool_dir = /";
    std::string line = head + std::string(kMaxConfigLineOctets + 1 - head.size(), 'a');
    EXPECT_EQ(parse_error("# ok\n" + line + "\n"), kSource + ":2: line longer than 4096 octets");
}

TEST(Config, QuotesBadValueShortAndEscaped) {
    std::string message = parse_error("max_sessions = " + std::string(1000, '9') + "x\n");
    EXPECT_LT(message.size(), 200u);
    EXPECT_NE(message.find("...' is not a number"), std::string::npos) << message;
    EXPECT_EQ(parse_error("max_sessions = it's\n"),
              kSource + ":1: max_sessions: 'it\\x27s' is not a number");
}

TEST(Config, RejectsBinaryGarbage) {
    std::mt19937 random(1939);
    std::string garbage(4096, '\0');
    for (auto& c : garbage)
        c = static_cast<char>(random());
    EXPECT_EQ(parse_error(garbage).rfind(kSource + ":", 0), 0u);
}

TEST(Config, RejectsMegabyteOfGarbage) {
    std::mt19937 random(110);
    std::string garbage(1024 * 1024, '\0');
    for (auto& c : garbage)
        c = static_cast<char>(random() % 64 + ' '); // printable, one line
    EXPECT_EQ(parse_error(garbage), kSource + ":1: line longer than 4096 octets");
    for (size_t i = 0; i < garbage.size(); i += 100)
        garbage[i] = '\n';
    EXPECT_EQ(parse_error(garbage).rfind(kSource + ":", 0), 0u);
}

TEST(Config, SurvivesRandomMutationsOfValidText) {
    const std::string valid =
        "listen = [::1]:110\nidle_timeout = 10m\nlock_methods = dotlock fcntl\n"
        "auth_failure_delay = 250ms\nenable_last = yes\n";
    std::mt19937 random(2449);
    for (int round = 0; round < 2000; ++round) {
        std::string text = valid;
        for (int edits = 0; edits < 4; ++edits) {
            text[random() % text.size()] = static_cast<char>(random());
        }
        auto config = parse_config(text, kSource); // either way, it must not crash
        if (!config) {
            EXPECT_EQ(config.error().message().rfind(kSource + ":", 0), 0u);
        }
    }
}

TEST(Config, ParsesEveryUidlFormat) {
    EXPECT_EQ(parse_ok("").uidl_format, UidlFormat::popperd);
    for (UidlFormat format : kUidlFormats) {
        std::string name(uidl_format_name(format));
        EXPECT_EQ(parse_ok("uidl_format = " + name + "\n").uidl_format, format) << name;
    }
}

TEST(Config, RejectsUnknownUidlFormatWithFileAndLine) {
    EXPECT_EQ(parse_error("spool_dir = /s\nuidl_format = vm-pop3d\n"),
              kSource + ":2: uidl_format: 'vm-pop3d' is not popperd, popa3d, solid-pop3d, uw, "
                        "dovecot, x-uidl or qpopper");
    EXPECT_EQ(parse_error("uidl_format = POPA3D\n").find(kSource + ":1: uidl_format: "), 0u);
}

// --- format_config ----------------------------------------------------------

TEST(Config, ReadsUsersSource) {
    EXPECT_FALSE(parse_ok("users = file\n").system_users);
    EXPECT_TRUE(parse_ok("users = system\n").system_users);
    EXPECT_EQ(parse_error("users = ldap\n"), kSource + ":1: users: 'ldap' is not file or system");
}

TEST(Config, ReadsAuthenticationKeys) {
    Config config = parse_ok("apop = yes\napop_secrets_file = /etc/s\nallow_plaintext = no\n"
                             "auth_mechanisms = cram-md5, plain\n");
    EXPECT_TRUE(config.apop);
    EXPECT_EQ(config.apop_secrets_file, "/etc/s");
    EXPECT_EQ(config.allow_plaintext, AllowPlaintext::no);
    EXPECT_EQ(config.auth_mechanisms, (std::vector<std::string>{"CRAM-MD5", "PLAIN"}));
    EXPECT_TRUE(parse_ok("auth_mechanisms =\n").auth_mechanisms.empty());
    EXPECT_EQ(parse_error("auth_mechanisms = PLAIN GSSAPI\n"),
              kSource +
                  ":1: auth_mechanisms: 'GSSAPI' is not a SASL mechanism (PLAIN, LOGIN, CRAM-MD5)");
    EXPECT_EQ(parse_error("auth_mechanisms = PLAIN plain\n"),
              kSource + ":1: auth_mechanisms: PLAIN is listed twice");
}

TEST(Config, AllowPlaintextIsYesNoOrTls) {
    EXPECT_EQ(parse_ok("allow_plaintext = tls\n").allow_plaintext, AllowPlaintext::tls);
    EXPECT_EQ(parse_ok("allow_plaintext = on\n").allow_plaintext, AllowPlaintext::yes);
    EXPECT_EQ(parse_error("allow_plaintext = ssl\n"),
              kSource + ":1: allow_plaintext: 'ssl' is not yes, no or tls");
}

TEST(Config, ListenMarkedProxy) {
    Config config = parse_ok("listen = 127.0.0.1:1110 proxy\nlisten = [::1]:1110\n");
    ASSERT_EQ(config.listen.size(), 2u);
    EXPECT_EQ(config.listen[0], (ListenAddress{"127.0.0.1", 1110, "127.0.0.1:1110", true}));
    EXPECT_FALSE(config.listen[1].proxy);
    EXPECT_EQ(parse_error("listen = 127.0.0.1:1110 proxy-v2\n"),
              kSource + ":1: listen: 'proxy-v2' after the address is not \"proxy\"");
}

TEST(Config, ProxyTrustedNetworksAreACidrList) {
    Config config = parse_ok("proxy_trusted_networks = 127.0.0.0/8, ::1 192.0.2.10\n");
    ASSERT_EQ(config.proxy_trusted_networks.networks.size(), 3u);
    EXPECT_TRUE(config.proxy_trusted_networks.contains(*parse_ip_address("127.0.0.2")));
    EXPECT_FALSE(config.proxy_trusted_networks.contains(*parse_ip_address("192.0.2.11")));
    EXPECT_TRUE(Config{}.proxy_trusted_networks.empty());
    EXPECT_EQ(parse_error("proxy_trusted_networks = 10.0.0.1/8\n"),
              kSource +
                  ":1: proxy_trusted_networks: '10.0.0.1/8' has address bits set past the prefix "
                  "length 8");
    EXPECT_EQ(parse_error("proxy_trusted_networks = haproxy.example\n"),
              kSource + ":1: proxy_trusted_networks: 'haproxy.example' not a numeric IP address");
}

TEST(Config, ReadsPrivilegeSeparationKeys) {
    Config config = parse_ok("unprivileged_user = popd\npreauth_chroot = /srv/empty\n");
    EXPECT_EQ(config.unprivileged_user, "popd");
    EXPECT_EQ(config.preauth_chroot, "/srv/empty");
    EXPECT_EQ(parse_error("unprivileged_user = ../x\n"),
              kSource + ":1: unprivileged_user: '../x' is not a user name");
    EXPECT_EQ(parse_error("preauth_chroot = empty\n").find(kSource + ":1: preauth_chroot"), 0u);
}

TEST(Config, PreauthProcessConnectionsIsACountFromOne) {
    EXPECT_EQ(Config{}.preauth_process_connections, 1u);
    EXPECT_EQ(parse_ok("preauth_process_connections = 1000\n").preauth_process_connections, 1000u);
    EXPECT_EQ(parse_ok("preauth_process_connections = 1000000\n").preauth_process_connections,
              1000000u);
    EXPECT_EQ(parse_error("preauth_process_connections = 0\n"),
              kSource + ":1: preauth_process_connections: '0' is out of range (1 to 1000000)");
    EXPECT_EQ(parse_error("preauth_process_connections = 1000001\n").find(kSource + ":1: "), 0u);
    EXPECT_EQ(parse_error("preauth_process_connections = many\n").find(kSource + ":1: "), 0u);
    EXPECT_EQ(parse_error("preauth_process_connections = -5\n").find(kSource + ":1: "), 0u);
}

TEST(Config, FormatPrintsEveryKeyOfDefaults) {
    EXPECT_EQ(format_config(Config{}), "listen = 0.0.0.0:110\n"
                                       "listen = [::]:110\n"
                                       "proxy_trusted_networks =\n"
                                       "max_sessions = 500\n"
                                       "max_sessions_per_ip = 50\n"
                                       "pidfile = /run/popperd.pid\n"
                                       "users_file = /etc/popperd/users\n"
                                       "spool_dir = /var/mail\n"
                                       "drop_dir = /var/lib/popperd/drop\n"
                                       "uidl_format = popperd\n"
                                       "lock_methods = dotlock fcntl\n"
                                       "lock_timeout = 30s\n"
                                       "dotlock_stale = 10m\n"
                                       "idle_timeout = 10m\n"
                                       "auth_timeout = 3m\n"
                                       "auth_failure_delay = 2s\n"
                                       "max_auth_failures = 3\n"
                                       "enable_last = no\n"
                                       "mail_privileged_group = mail\n"
                                       "unprivileged_user = popper\n"
                                       "preauth_chroot = /var/lib/popperd/empty\n"
                                       "preauth_process_connections = 1\n"
                                       "users = file\n"
                                       "apop = no\n"
                                       "apop_secrets_file = /etc/popperd/apop-secrets\n"
                                       "policy_file =\n"
                                       "takeover = no\n"
                                       "allow_plaintext = yes\n"
                                       "auth_mechanisms = PLAIN LOGIN\n"
                                       "log = syslog\n"
                                       "log_level = info\n");
}

TEST(Config, FormatRoundTripsDefaults) {
    EXPECT_EQ(parse_ok(format_config(Config{})), defaults_from(kSource));
}

TEST(Config, FormatRoundTripsEveryChangedKey) {
    Config config = parse_ok("listen = *:0\nlisten = [::1]:1110\nlisten = 127.0.0.2:65535 proxy\n"
                             "proxy_trusted_networks = 10.0.0.0/8 ::1\nallow_plaintext = tls\n"
                             "users_file = /u\nspool_dir = /s\ndrop_dir = /d\npidfile = /p\n"
                             "idle_timeout = 3661\nauth_timeout = 1h\nlock_timeout = 0\n"
                             "dotlock_stale = 90\nmax_sessions = 9\nmax_sessions_per_ip = 8\n"
                             "max_auth_failures = 7\nlock_methods = flock,fcntl\nlog = stderr\n"
                             "log_level = debug\nenable_last = on\nmail_privileged_group =\n"
                             "auth_failure_delay = 1500ms\npreauth_process_connections = 250\n"
                             "uidl_format = solid-pop3d\n");
    std::string printed = format_config(config);
    EXPECT_NE(printed.find("mail_privileged_group =\n"), std::string::npos) << printed;
    EXPECT_NE(printed.find("auth_failure_delay = 1500ms\n"), std::string::npos) << printed;
    EXPECT_NE(printed.find("listen = *:0\n"), std::string::npos) << printed;
    EXPECT_NE(printed.find("listen = 127.0.0.2:65535 proxy\n"), std::string::npos) << printed;
    Config again = parse_ok(printed);
    EXPECT_EQ(again, config) << printed;
    EXPECT_EQ(format_config(again), printed);
}

// --- load_config ------------------------------------------------------------

TEST(Config, LoadsFileAndNamesItAsSource) {
    test::MailHost host;
    std::string path = host.path("loaded.conf");
    test::write_file(path, "spool_dir = /srv/mail\n");
    auto loaded = load_config(path);
    ASSERT_TRUE(loaded) << loaded.error().message();
    EXPECT_EQ(loaded->spool_dir, "/srv/mail");
    EXPECT_EQ(loaded->source_path, path);
}

TEST(Config, LoadErrorNamesFileAndLine) {
    test::MailHost host;
    std::string path = host.path("broken.conf");
    test::write_file(path, "spool_dir = /srv/mail\nbogus = 1\n");
    auto config = load_config(path);
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().message(), path + ":2: unknown key 'bogus'");
}

TEST(Config, LoadsTheTestMailHostConfig) {
    test::MailHost host;
    auto config = load_config(host.config_path());
    ASSERT_TRUE(config) << config.error().message();
    EXPECT_EQ(config->spool_dir, host.spool_dir());
}

TEST(Config, ReportsUnreadableFile) {
    auto config = load_config("/nonexistent/popperd.conf");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().message(),
              "open /nonexistent/popperd.conf: No such file or directory");
}

TEST(Config, ReportsDirectoryGivenAsFile) {
    auto config = load_config("/");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().message(), "read /: Is a directory");
}

TEST(Config, RejectsOversizeFileWithoutReadingItAll) {
    auto config = load_config("/dev/zero");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().message(),
              "read /dev/zero: larger than 1048576 octets (not a conf file?)");
}

// --- shipped files ----------------------------------------------------------

const std::string kSampleConf = std::string(POPPER_SOURCE_DIR) + "/conf/popperd.conf";
const std::string kManPage = std::string(POPPER_SOURCE_DIR) + "/man/popperd.conf.5";

TEST(Config, ShippedSampleParses) {
    auto config = load_config(kSampleConf);
    ASSERT_TRUE(config) << config.error().message();
    EXPECT_EQ(*config, defaults_from(kSampleConf));
}

// The sample shows every key commented out with its default: uncommented,
// it must set exactly the defaults the code uses.
TEST(Config, ShippedSampleShowsTheRealDefaults) {
    std::istringstream sample(test::read_file(kSampleConf).value_or(""));
    std::string uncommented;
    for (std::string line; std::getline(sample, line);) {
        bool is_setting = line.size() > 1 && line[0] == '#' && line[1] >= 'a' && line[1] <= 'z';
        uncommented += (is_setting ? line.substr(1) : line) + "\n";
    }
    auto config = parse_config(uncommented, "uncommented sample");
    ASSERT_TRUE(config) << config.error().message();
    EXPECT_EQ(*config, defaults_from("uncommented sample"));
    std::istringstream printed(format_config(Config{}));
    for (std::string line; std::getline(printed, line);) {
        std::string key = line.substr(0, line.find(' '));
        EXPECT_NE(uncommented.find("\n" + key + " ="), std::string::npos) << key;
    }
}

TEST(Config, ManPageDocumentsEveryKey) {
    std::string man = test::read_file(kManPage).value_or("");
    ASSERT_FALSE(man.empty());
    std::istringstream printed(format_config(Config{}));
    for (std::string line; std::getline(printed, line);) {
        std::string key = line.substr(0, line.find(' '));
        EXPECT_NE(man.find(".It Cm " + key + "\n"), std::string::npos) << key;
    }
}

} // namespace
} // namespace popper
