#include "popper/users_file.h"

#include <gtest/gtest.h>

#include <crypt.h>
#include <memory>
#include <string>

namespace popper {
namespace {

// A real hash of `password` made here with the library, as an admin's tool would:
// crypt_gensalt_rn with the library's own entropy, then crypt_r.
std::string make_hash(const char* prefix, unsigned long cost, const std::string& password) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn(prefix, cost, nullptr, 0, setting, sizeof setting) == nullptr)
        return {};
    auto data = std::make_unique<crypt_data>();
    const char* hash = crypt_r(password.c_str(), setting, data.get());
    if (hash == nullptr || hash[0] == '*')
        return {};
    return hash;
}

struct Scheme {
    const char* name;
    const char* prefix;
    unsigned long cost;
};

// bcrypt at cost 4 and SHA-crypt at 1000 rounds keep the suite fast.
const Scheme kSchemes[] = {
    {"sha512", "$6$", 1000}, {"sha256", "$5$", 1000}, {"yescrypt", "$y$", 0},
    {"bcrypt", "$2b$", 4},   {"md5", "$1$", 0},
};

TEST(Password, AcceptsTheRightPasswordInEveryScheme) {
    for (const auto& s : kSchemes) {
        const std::string hash = make_hash(s.prefix, s.cost, "correct horse");
        ASSERT_FALSE(hash.empty()) << s.name << " not supported by this libcrypt";
        EXPECT_TRUE(verify_password(hash, "correct horse")) << s.name << " " << hash;
    }
}

TEST(Password, RejectsWrongPasswordsInEveryScheme) {
    for (const auto& s : kSchemes) {
        const std::string hash = make_hash(s.prefix, s.cost, "correct horse");
        ASSERT_FALSE(hash.empty()) << s.name;
        for (const char* wrong : {"", "correct hors", "correct horse ", "Correct horse", "x"})
            EXPECT_FALSE(verify_password(hash, wrong)) << s.name << " accepted '" << wrong << "'";
    }
}

TEST(Password, DefaultSchemeOfThisLibraryVerifies) {
    const std::string hash = make_hash(nullptr, 0, "pw");
    ASSERT_FALSE(hash.empty());
    EXPECT_TRUE(verify_password(hash, "pw"));
    EXPECT_FALSE(verify_password(hash, "pW"));
}

TEST(Password, EmptyPasswordMatchesOnlyItsOwnHash) {
    const std::string hash = make_hash("$6$", 1000, "");
    EXPECT_TRUE(verify_password(hash, ""));
    EXPECT_FALSE(verify_password(hash, " "));
}

TEST(Password, DisabledHashesNeverMatch) {
    const std::string hash = make_hash("$6$", 1000, "secret");
    ASSERT_TRUE(verify_password(hash, "secret"));
    EXPECT_FALSE(verify_password("!" + hash, "secret"));
    EXPECT_FALSE(verify_password("*" + hash, "secret"));
    EXPECT_FALSE(verify_password("!!" + hash, "secret"));
    EXPECT_FALSE(verify_password("!", ""));
    EXPECT_FALSE(verify_password("*", ""));
    EXPECT_FALSE(verify_password("*", "*"));
}

TEST(Password, EmptyHashNeverMatches) {
    EXPECT_FALSE(verify_password("", ""));
    EXPECT_FALSE(verify_password("", "anything"));
}

TEST(Password, DisabledOrEmptyHashStillCostsACrypt) {
    const std::string hash = make_hash("$2b$", 4, "secret");
    const uint64_t before = dummy_verifications_performed();
    EXPECT_FALSE(verify_password("!" + hash, "secret"));
    EXPECT_FALSE(verify_password("", "secret"));
    EXPECT_FALSE(verify_password("*", "secret"));
    EXPECT_EQ(dummy_verifications_performed(), before + 3);
}

TEST(Password, MalformedHashesNeverMatch) {
    const std::string hash = make_hash("$6$", 1000, "pw");
    const std::string setting_only = hash.substr(0, hash.rfind('$') + 1);
    for (const std::string& bad :
         {std::string("$6$"), std::string("$2b$04$short"), std::string("$y$$"),
          std::string("garbage"), std::string("$99$x$y"), std::string("ab"), setting_only,
          hash.substr(0, hash.size() - 1), hash + "x"})
        EXPECT_FALSE(verify_password(bad, "pw")) << bad;
}

TEST(Password, APasswordWithANulByteNeverMatches) {
    using namespace std::string_literals;
    const std::string hash = make_hash("$6$", 1000, "abc");
    ASSERT_TRUE(verify_password(hash, "abc"));
    EXPECT_FALSE(verify_password(hash, "abc\0def"s));
    EXPECT_FALSE(verify_password(hash, "abc\0"s));
}

TEST(Password, BcryptVariantsAreAccepted) {
    std::string hash = make_hash("$2b$", 4, "pw");
    ASSERT_EQ(hash.substr(0, 4), "$2b$");
    hash[2] = 'y'; // $2y$ (PHP) computes the same as $2b$
    EXPECT_TRUE(verify_password(hash, "pw"));
}

TEST(Password, DummyVerificationNeverMatchesAndIsCounted) {
    const std::string hash = make_hash("$6$", 1000, "secret");
    const uint64_t before = dummy_verifications_performed();
    EXPECT_FALSE(verify_dummy(hash, "secret"));
    EXPECT_FALSE(verify_dummy("", ""));
    EXPECT_FALSE(verify_dummy("complete garbage $$$", "x"));
    EXPECT_FALSE(verify_dummy(dummy_setting_like(hash), "")); // even its own setting
    EXPECT_EQ(dummy_verifications_performed(), before + 4);
}

TEST(Password, DummySettingKeepsSchemeAndCost) {
    EXPECT_EQ(dummy_setting_like("$6$abcdefgh$HASH").substr(0, 3), "$6$");
    EXPECT_EQ(dummy_setting_like("$6$rounds=20000$abc$HASH").substr(0, 16), "$6$rounds=20000$");
    EXPECT_EQ(dummy_setting_like("$5$rounds=1000$abc$HASH").substr(0, 15), "$5$rounds=1000$");
    EXPECT_EQ(dummy_setting_like("$5$abc$HASH").substr(0, 3), "$5$");
    EXPECT_EQ(dummy_setting_like("$1$abc$HASH").substr(0, 3), "$1$");
    EXPECT_EQ(dummy_setting_like("$2b$12$0123456789012345678901HASH").substr(0, 7), "$2b$12$");
    EXPECT_EQ(dummy_setting_like("$2a$10$0123456789012345678901HASH").substr(0, 7), "$2b$10$");
    EXPECT_EQ(dummy_setting_like("$2y$05$0123456789012345678901HASH").substr(0, 7), "$2b$05$");
    EXPECT_EQ(dummy_setting_like("$y$jBT$salt$HASH").substr(0, 7), "$y$jBT$");
    EXPECT_EQ(dummy_setting_like("$y$j9T$salt$HASH").substr(0, 7), "$y$j9T$");
    // A disabled hash still says which scheme the site uses.
    EXPECT_EQ(dummy_setting_like("!$2b$08$0123456789012345678901HASH").substr(0, 7), "$2b$08$");
    // The salt is fixed, not copied from the real hash.
    EXPECT_EQ(dummy_setting_like("$6$realsalt$HASH").find("realsalt"), std::string::npos);
}

TEST(Password, DummySettingOfARealHashHasItsCost) {
    for (const auto& s : kSchemes) {
        const std::string hash = make_hash(s.prefix, s.cost, "pw");
        const std::string dummy = dummy_setting_like(hash);
        // Same text up to the salt: scheme id and every cost parameter.
        const size_t salt_start = s.cost != 0 || hash[1] == 'y' ? hash.find('$', 4) + 1 : 3;
        EXPECT_EQ(dummy.substr(0, salt_start), hash.substr(0, salt_start)) << s.name;
    }
}

TEST(Password, DummySettingFallsBackToTheDefaultScheme) {
    const std::string fallback = dummy_setting_like("");
    EXPECT_TRUE(fallback.rfind("$y$", 0) == 0 || fallback.rfind("$6$", 0) == 0) << fallback;
    for (const char* unknown : {"garbage", "$", "$$", "$99$x$y", "*", "!", "$6$rounds=x$s$h",
                                "$2b$1$s", "$y$$s$h", "$y$j9T*$s$h", "abDEShash123"})
        EXPECT_EQ(dummy_setting_like(unknown), fallback) << unknown;
}

TEST(Password, EveryDummySettingIsAcceptedByCrypt) {
    for (const char* like :
         {"", "$6$s$h", "$6$rounds=1000$s$h", "$5$s$h", "$1$s$h", "$2b$04$0123456789012345678901h",
          "$2a$04$0123456789012345678901h", "$y$j9T$s$h", "$y$jAT$s$h", "$gy$j9T$s$h",
          "!$5$rounds=2000$s$h", "garbage"}) {
        const std::string setting = dummy_setting_like(like);
        auto data = std::make_unique<crypt_data>();
        const char* out = crypt_r("pw", setting.c_str(), data.get());
        ASSERT_NE(out, nullptr) << setting;
        EXPECT_NE(out[0], '*') << like << " -> " << setting;
    }
}

TEST(Password, ConstantTimeEqualsComparesLengthAndBytes) {
    EXPECT_TRUE(constant_time_equals("", ""));
    EXPECT_TRUE(constant_time_equals("abc", "abc"));
    EXPECT_FALSE(constant_time_equals("abc", "abd"));
    EXPECT_FALSE(constant_time_equals("abc", "ab"));
    EXPECT_FALSE(constant_time_equals("ab", "abc"));
    EXPECT_FALSE(constant_time_equals("", "a"));
    EXPECT_FALSE(constant_time_equals(std::string_view("a\0", 2), "a"));
    EXPECT_FALSE(constant_time_equals("\x80", "\x81"));
}

} // namespace
} // namespace popper
