// Base64 (RFC 4648), HMAC-MD5 (RFC 2104/2202) and the SASL mechanisms PLAIN
// (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195) as the POP3 AUTH command (RFC
// 5034) drives them.
#include "popper/base64.h"
#include "popper/hmac_md5.h"
#include "popper/sasl.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace popper {
namespace {

using namespace std::string_literals;
using Kind = SaslStep::Kind;

std::string decoded(std::string_view text) {
    auto out = base64_decode(text);
    EXPECT_TRUE(out.has_value()) << text;
    return out ? *out : std::string("<error>");
}

std::string decode_error(std::string_view text) {
    auto out = base64_decode(text);
    EXPECT_FALSE(out.has_value()) << text;
    return out ? std::string() : out.error().message();
}

// ---- base64 -----------------------------------------------------------------

TEST(Base64, EncodesRfc4648TestVectors) {
    // RFC 4648 §10.
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesRfc4648TestVectors) {
    EXPECT_EQ(decoded(""), "");
    EXPECT_EQ(decoded("Zg=="), "f");
    EXPECT_EQ(decoded("Zm8="), "fo");
    EXPECT_EQ(decoded("Zm9v"), "foo");
    EXPECT_EQ(decoded("Zm9vYg=="), "foob");
    EXPECT_EQ(decoded("Zm9vYmE="), "fooba");
    EXPECT_EQ(decoded("Zm9vYmFy"), "foobar");
}

TEST(Base64, RoundTripsEveryOctetValueAtEveryLength) {
    std::string all;
    for (int i = 0; i < 256; ++i)
        all += static_cast<char>(i);
    for (size_t len = 0; len <= all.size(); ++len) {
        const std::string bytes = all.substr(256 - len);
        EXPECT_EQ(decoded(base64_encode(bytes)), bytes) << len;
    }
    EXPECT_EQ(base64_encode("\xfb\xff\xbf"), "+/+/");
}

TEST(Base64, RejectsCharactersOutsideTheAlphabet) {
    for (const std::string& text :
         {"Zm9v!A=="s, "Zm9-"s, "Zm9_"s, "Zm9\x80"s, "Zm\0v"s, "Zm9v.A=="s})
        EXPECT_EQ(decode_error(text), "base64: invalid character") << text;
    EXPECT_EQ(decode_error("Zm9v*ABC"), "base64: invalid character");
}

TEST(Base64, RejectsWhitespaceAndLineBreaksAnywhere) {
    for (const char* text :
         {" Zm9v", "Zm9v ", "Zm 9v", "Zm9v\r\n", "Zm9v\n", "Zm\t9v", "Zm9v Zm9v"})
        decode_error(text);
}

TEST(Base64, RejectsLengthsThatAreNotAMultipleOfFour) {
    EXPECT_EQ(decode_error("Zm9"), "base64: length is not a multiple of 4");
    for (const char* text : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg"})
        decode_error(text);
}

TEST(Base64, RejectsMisplacedOrExcessPadding) {
    EXPECT_EQ(decode_error("Zg==Zm9v"), "base64: padding before the end");
    for (const char* text : {"====", "Z===", "=Zm9", "Zm=v", "Zg=A", "Zm9v===="})
        decode_error(text);
}

TEST(Base64, RejectsNonZeroBitsUnderThePadding) {
    // RFC 4648 §3.5: "Zh==" and "Zm9=" would decode to "f" and "fo" too.
    EXPECT_EQ(decode_error("Zh=="), "base64: non-zero bits before padding");
    decode_error("Zm9=");
}

// ---- HMAC-MD5 ---------------------------------------------------------------

TEST(HmacMd5, MatchesRfc2202TestCases) {
    // RFC 2202 §2, test cases 1 to 7.
    EXPECT_EQ(hmac_md5_hex(std::string(16, '\x0b'), "Hi There"),
              "9294727a3638bb1c13f48ef8158bfc9d");
    EXPECT_EQ(hmac_md5_hex("Jefe", "what do ya want for nothing?"),
              "750c783e6ab0b503eaa86e310a5db738");
    EXPECT_EQ(hmac_md5_hex(std::string(16, '\xaa'), std::string(50, '\xdd')),
              "56be34521d144c88dbb8c733f0e8b3f6");
    std::string key4;
    for (int i = 1; i <= 25; ++i)
        key4 += static_cast<char>(i);
    EXPECT_EQ(hmac_md5_hex(key4, std::string(50, '\xcd')), "697eaf0aca3a3aea3a75164746ffaa79");
    EXPECT_EQ(hmac_md5_hex(std::string(16, '\x0c'), "Test With Truncation"),
              "56461ef2342edc00f9bab995690efd4c");
    EXPECT_EQ(hmac_md5_hex(std::string(80, '\xaa'),
                           "Test Using Larger Than Block-Size Key - Hash Key First"),
              "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd");
    EXPECT_EQ(hmac_md5_hex(std::string(80, '\xaa'),
                           "Test Using Larger Than Block-Size Key and Larger Than One "
                           "Block-Size Data"),
              "6f630fad67cda0ee1fb1f562db3aa53e");
}

TEST(HmacMd5, KeyOfExactlyOneBlockIsUsedAsIs) {
    // 64 octets is not "longer than B": it must not be hashed first.
    const std::string key(64, 'k');
    EXPECT_NE(hmac_md5_hex(key, "m"), hmac_md5_hex(std::string(65, 'k'), "m"));
    EXPECT_EQ(hmac_md5_hex(key, "m"), hmac_md5_hex(key, "m"));
}

TEST(HmacMd5, HexDigestMatchesIgnoringCaseOfTheClientsDigits) {
    const std::string expected = "b913a602c7eda7a495b4e6e7334d3890";
    EXPECT_TRUE(hex_digest_matches(expected, expected));
    EXPECT_TRUE(hex_digest_matches(expected, "B913A602C7EDA7A495B4E6E7334D3890"));
    EXPECT_FALSE(hex_digest_matches(expected, "b913a602c7eda7a495b4e6e7334d3891"));
    EXPECT_FALSE(hex_digest_matches(expected, "b913a602c7eda7a495b4e6e7334d389"));
    EXPECT_FALSE(hex_digest_matches(expected, "b913a602c7eda7a495b4e6e7334d3890 "));
    EXPECT_FALSE(hex_digest_matches(expected, ""));
    // Not hex, though lowercasing a letter beyond 'f' might make it equal.
    EXPECT_FALSE(
        hex_digest_matches("g913a602c7eda7a495b4e6e7334d3890", "G913a602c7eda7a495b4e6e7334d3890"));
}

// ---- mechanism names ----------------------------------------------------------

TEST(SaslMechanisms, NamesParseInAnyCase) {
    EXPECT_EQ(parse_sasl_mechanism("PLAIN"), SaslMechanism::plain);
    EXPECT_EQ(parse_sasl_mechanism("plain"), SaslMechanism::plain);
    EXPECT_EQ(parse_sasl_mechanism("Login"), SaslMechanism::login);
    EXPECT_EQ(parse_sasl_mechanism("cram-md5"), SaslMechanism::cram_md5);
    for (const char* name : {"", "DIGEST-MD5", "GSSAPI", "PLAIN ", "CRAM_MD5", "XOAUTH2"})
        EXPECT_FALSE(parse_sasl_mechanism(name).has_value()) << name;
    EXPECT_EQ(sasl_mechanism_name(SaslMechanism::cram_md5), "CRAM-MD5");
    EXPECT_TRUE(sasl_sends_password(SaslMechanism::plain));
    EXPECT_TRUE(sasl_sends_password(SaslMechanism::login));
    EXPECT_FALSE(sasl_sends_password(SaslMechanism::cram_md5));
}

// ---- PLAIN ------------------------------------------------------------------

TEST(SaslPlain, InitialResponseFinishesAtOnce) {
    SaslExchange exchange(SaslMechanism::plain);
    SaslStep s = exchange.start(base64_encode("\0tim\0tanstaaftanstaaf"s));
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.mechanism, SaslMechanism::plain);
    EXPECT_EQ(s.credentials.user, "tim");
    EXPECT_EQ(s.credentials.password, "tanstaaftanstaaf");
    EXPECT_TRUE(exchange.finished());
}

TEST(SaslPlain, WithoutInitialResponseSendsEmptyChallengeThenTakesTheMessage) {
    SaslExchange exchange(SaslMechanism::plain);
    SaslStep s = exchange.start(std::nullopt);
    ASSERT_EQ(s.kind, Kind::challenge);
    EXPECT_EQ(s.challenge_b64, ""); // the session sends "+ "
    s = exchange.step(base64_encode("\0alice\0wonder land"s));
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.user, "alice");
    EXPECT_EQ(s.credentials.password, "wonder land");
}

TEST(SaslPlain, AuthzidEqualToTheUserIsAccepted) {
    SaslExchange exchange(SaslMechanism::plain);
    SaslStep s = exchange.start(base64_encode("alice\0alice\0secret"s));
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.user, "alice");
}

TEST(SaslPlain, AuthzidOfAnotherUserFails) {
    SaslExchange exchange(SaslMechanism::plain);
    SaslStep s = exchange.start(base64_encode("root\0alice\0secret"s));
    EXPECT_EQ(s.kind, Kind::failed);
    EXPECT_EQ(s.failure, SaslFailure::authzid_mismatch);
    EXPECT_EQ(s.credentials.password, "");
}

TEST(SaslPlain, MalformedMessagesFail) {
    for (const std::string& message :
         {""s, "alice"s, "\0alice"s, "\0alice\0"s, "\0\0secret"s, "\0alice\0sec\0ret"s}) {
        SaslExchange exchange(SaslMechanism::plain);
        SaslStep s = exchange.start(base64_encode(message));
        EXPECT_EQ(s.kind, Kind::failed);
        EXPECT_EQ(s.failure, SaslFailure::malformed) << s.why;
        EXPECT_EQ(s.why.find("secret"), std::string::npos) << s.why;
    }
}

TEST(SaslPlain, EqualsSignIsAnEmptyInitialResponse) {
    // RFC 5034 §4: "=" is an empty response; for PLAIN that is malformed.
    SaslExchange exchange(SaslMechanism::plain);
    SaslStep s = exchange.start("=");
    EXPECT_EQ(s.kind, Kind::failed);
    EXPECT_EQ(s.failure, SaslFailure::malformed);
}

TEST(SaslPlain, BadBase64Fails) {
    for (const char* text : {"AGFsaWNlAHNlY3JldA", "AGFsaWNl AHNlY3JldA==", "%%%%", "=="}) {
        SaslExchange exchange(SaslMechanism::plain);
        ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
        SaslStep s = exchange.step(text);
        EXPECT_EQ(s.kind, Kind::failed) << text;
        EXPECT_EQ(s.failure, SaslFailure::bad_base64) << text;
        EXPECT_TRUE(s.why.starts_with("base64: ")) << s.why;
    }
}

TEST(SaslPlain, StarCancels) {
    SaslExchange exchange(SaslMechanism::plain);
    ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
    SaslStep s = exchange.step("*");
    EXPECT_EQ(s.kind, Kind::failed);
    EXPECT_EQ(s.failure, SaslFailure::cancelled);
    EXPECT_EQ(s.why, "cancelled");
    EXPECT_TRUE(exchange.finished());
}

TEST(SaslPlain, HugeResponseFailsWithoutBeingDecoded) {
    SaslExchange exchange(SaslMechanism::plain);
    ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
    SaslStep s = exchange.step(std::string(kMaxSaslLineOctets + 4, 'A'));
    EXPECT_EQ(s.kind, Kind::failed);
    EXPECT_EQ(s.failure, SaslFailure::too_long);
}

TEST(SaslPlain, ResponseAtTheLimitIsAccepted) {
    const std::string password(kMaxSaslResponseOctets - 7, 'p');
    const std::string line = base64_encode("\0alice\0"s + password);
    ASSERT_LE(line.size(), kMaxSaslLineOctets);
    SaslExchange exchange(SaslMechanism::plain);
    ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
    SaslStep s = exchange.step(line);
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.password, password);
}

TEST(SaslPlain, ResponseOverTheDecodedLimitFails) {
    // A line at the line limit can still decode to one octet too many.
    const std::string message = "\0alice\0"s + std::string(kMaxSaslResponseOctets - 6, 'p');
    const std::string line = base64_encode(message);
    ASSERT_EQ(message.size(), kMaxSaslResponseOctets + 1);
    ASSERT_EQ(line.size(), kMaxSaslLineOctets);
    SaslExchange exchange(SaslMechanism::plain);
    ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
    EXPECT_EQ(exchange.step(line).failure, SaslFailure::too_long);
}

TEST(SaslPlain, StepsAfterTheEndFail) {
    SaslExchange exchange(SaslMechanism::plain);
    ASSERT_EQ(exchange.start(base64_encode("\0a\0b"s)).kind, Kind::done);
    SaslStep s = exchange.step(base64_encode("\0a\0b"s));
    EXPECT_EQ(s.kind, Kind::failed);
    EXPECT_EQ(s.failure, SaslFailure::unexpected);
    EXPECT_EQ(exchange.start(std::nullopt).failure, SaslFailure::unexpected);
}

TEST(SaslPlain, StepBeforeStartFails) {
    SaslExchange exchange(SaslMechanism::plain);
    EXPECT_EQ(exchange.step(base64_encode("\0a\0b"s)).failure, SaslFailure::unexpected);
}

// ---- LOGIN ------------------------------------------------------------------

TEST(SaslLogin, AsksForUserThenPasswordWithTheTextsOutlookExpects) {
    SaslExchange exchange(SaslMechanism::login);
    SaslStep s = exchange.start(std::nullopt);
    ASSERT_EQ(s.kind, Kind::challenge);
    EXPECT_EQ(s.challenge_b64, "VXNlcm5hbWU6");
    EXPECT_EQ(s.challenge_b64, kSaslLoginUserChallenge);
    EXPECT_EQ(decoded(s.challenge_b64), "Username:");
    s = exchange.step(base64_encode("alice"));
    ASSERT_EQ(s.kind, Kind::challenge) << s.why;
    EXPECT_EQ(s.challenge_b64, "UGFzc3dvcmQ6");
    EXPECT_EQ(s.challenge_b64, kSaslLoginPasswordChallenge);
    EXPECT_EQ(decoded(s.challenge_b64), "Password:");
    s = exchange.step(base64_encode("wonderland"));
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.mechanism, SaslMechanism::login);
    EXPECT_EQ(s.credentials.user, "alice");
    EXPECT_EQ(s.credentials.password, "wonderland");
}

TEST(SaslLogin, InitialResponseIsTheUserName) {
    SaslExchange exchange(SaslMechanism::login);
    SaslStep s = exchange.start(base64_encode("alice"));
    ASSERT_EQ(s.kind, Kind::challenge) << s.why;
    EXPECT_EQ(s.challenge_b64, kSaslLoginPasswordChallenge);
    s = exchange.step(base64_encode("wonderland"));
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.user, "alice");
}

TEST(SaslLogin, EmptyPasswordIsPassedOnForTheCheckToRefuse) {
    SaslExchange exchange(SaslMechanism::login);
    ASSERT_EQ(exchange.start(base64_encode("alice")).kind, Kind::challenge);
    SaslStep s = exchange.step("");
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.password, "");
}

TEST(SaslLogin, EmptyUserOrUserWithNulFails) {
    for (const std::string& user : {""s, "al\0ice"s}) {
        SaslExchange exchange(SaslMechanism::login);
        ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
        EXPECT_EQ(exchange.step(base64_encode(user)).failure, SaslFailure::malformed);
    }
    SaslExchange exchange(SaslMechanism::login);
    EXPECT_EQ(exchange.start("=").failure, SaslFailure::malformed);
}

TEST(SaslLogin, CancelAtThePasswordPrompt) {
    SaslExchange exchange(SaslMechanism::login);
    ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
    ASSERT_EQ(exchange.step(base64_encode("alice")).kind, Kind::challenge);
    SaslStep s = exchange.step("*");
    EXPECT_EQ(s.failure, SaslFailure::cancelled);
    EXPECT_EQ(s.credentials.user, "");
}

TEST(SaslLogin, BadBase64AtEitherPromptFails) {
    SaslExchange first(SaslMechanism::login);
    ASSERT_EQ(first.start(std::nullopt).kind, Kind::challenge);
    EXPECT_EQ(first.step("YWxpY2U").failure, SaslFailure::bad_base64);
    SaslExchange second(SaslMechanism::login);
    ASSERT_EQ(second.start(base64_encode("alice")).kind, Kind::challenge);
    EXPECT_EQ(second.step("d29uZGVybGFuZA==\r").failure, SaslFailure::bad_base64);
}

TEST(SaslLogin, HugeUserFails) {
    SaslExchange exchange(SaslMechanism::login);
    ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
    EXPECT_EQ(exchange.step(std::string(1 << 20, 'Q')).failure, SaslFailure::too_long);
}

// ---- CRAM-MD5 ---------------------------------------------------------------

constexpr std::string_view kRfc2195Challenge = "<1896.697170952@postoffice.reston.mci.net>";

TEST(SaslCramMd5, Rfc2195ExampleExchange) {
    // RFC 2195 §2, the example: user tim, secret tanstaaftanstaaf.
    SaslExchange exchange(SaslMechanism::cram_md5, std::string(kRfc2195Challenge));
    SaslStep s = exchange.start(std::nullopt);
    ASSERT_EQ(s.kind, Kind::challenge);
    EXPECT_EQ(s.challenge_b64, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
    s = exchange.step("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.mechanism, SaslMechanism::cram_md5);
    EXPECT_EQ(s.credentials.user, "tim");
    EXPECT_EQ(s.credentials.challenge, kRfc2195Challenge);
    EXPECT_EQ(s.credentials.digest_hex, "b913a602c7eda7a495b4e6e7334d3890");
    EXPECT_EQ(s.credentials.password, "");
    EXPECT_TRUE(
        verify_cram_md5("tanstaaftanstaaf", s.credentials.challenge, s.credentials.digest_hex));
}

TEST(SaslCramMd5, VerifyAcceptsOnlyTheRightSecretChallengeAndDigest) {
    const std::string_view digest = "b913a602c7eda7a495b4e6e7334d3890";
    EXPECT_TRUE(verify_cram_md5("tanstaaftanstaaf", kRfc2195Challenge, digest));
    EXPECT_TRUE(
        verify_cram_md5("tanstaaftanstaaf", kRfc2195Challenge, "B913A602C7EDA7A495B4E6E7334D3890"));
    EXPECT_FALSE(verify_cram_md5("tanstaaftanstaafx", kRfc2195Challenge, digest));
    EXPECT_FALSE(
        verify_cram_md5("tanstaaftanstaaf", "<1897.697170952@postoffice.reston.mci.net>", digest));
    EXPECT_FALSE(verify_cram_md5("tanstaaftanstaaf", kRfc2195Challenge, ""));
    EXPECT_FALSE(verify_cram_md5("tanstaaftanstaaf", kRfc2195Challenge, "not hex"));
}

TEST(SaslCramMd5, UppercaseDigestIsLowercased) {
    SaslExchange exchange(SaslMechanism::cram_md5, std::string(kRfc2195Challenge));
    ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
    SaslStep s = exchange.step(base64_encode("tim B913A602C7EDA7A495B4E6E7334D3890"));
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.digest_hex, "b913a602c7eda7a495b4e6e7334d3890");
}

TEST(SaslCramMd5, UserNameMayHoldSpacesTheLastSpaceSeparates) {
    SaslExchange exchange(SaslMechanism::cram_md5, std::string(kRfc2195Challenge));
    ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
    SaslStep s = exchange.step(base64_encode("tim smith b913a602c7eda7a495b4e6e7334d3890"));
    ASSERT_EQ(s.kind, Kind::done) << s.why;
    EXPECT_EQ(s.credentials.user, "tim smith");
}

TEST(SaslCramMd5, InitialResponseIsRefused) {
    SaslExchange exchange(SaslMechanism::cram_md5, std::string(kRfc2195Challenge));
    SaslStep s = exchange.start(base64_encode("tim b913a602c7eda7a495b4e6e7334d3890"));
    EXPECT_EQ(s.kind, Kind::failed);
    EXPECT_EQ(s.failure, SaslFailure::unexpected);
}

TEST(SaslCramMd5, MissingChallengeIsAProgrammingErrorNotAnEmptyChallenge) {
    SaslExchange exchange(SaslMechanism::cram_md5);
    EXPECT_EQ(exchange.start(std::nullopt).failure, SaslFailure::unexpected);
}

TEST(SaslCramMd5, MalformedAnswersFail) {
    for (const char* answer :
         {"", "tim", "timb913a602c7eda7a495b4e6e7334d3890", " b913a602c7eda7a495b4e6e7334d3890",
          "tim b913a602c7eda7a495b4e6e7334d389", "tim b913a602c7eda7a495b4e6e7334d38900",
          "tim g913a602c7eda7a495b4e6e7334d3890", "tim b913a602c7eda7a495b4e6e7334d3890 "}) {
        SaslExchange exchange(SaslMechanism::cram_md5, std::string(kRfc2195Challenge));
        ASSERT_EQ(exchange.start(std::nullopt).kind, Kind::challenge);
        EXPECT_EQ(exchange.step(base64_encode(answer)).failure, SaslFailure::malformed) << answer;
    }
}

TEST(SaslCramMd5, CancelAndBadBase64Fail) {
    SaslExchange cancelled(SaslMechanism::cram_md5, std::string(kRfc2195Challenge));
    ASSERT_EQ(cancelled.start(std::nullopt).kind, Kind::challenge);
    EXPECT_EQ(cancelled.step("*").failure, SaslFailure::cancelled);
    SaslExchange garbled(SaslMechanism::cram_md5, std::string(kRfc2195Challenge));
    ASSERT_EQ(garbled.start(std::nullopt).kind, Kind::challenge);
    EXPECT_EQ(garbled.step("dGltIGI5MTNh*jAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw").failure,
              SaslFailure::bad_base64);
}

// ---- secrets ------------------------------------------------------------------

TEST(SaslCredentials, WipeSecretEmptiesTheString) {
    std::string secret = "tanstaaf";
    wipe_secret(secret);
    EXPECT_EQ(secret, "");
}

} // namespace
} // namespace popper
