#include "popper/md5.h"

#include <gtest/gtest.h>

#include <string>

namespace popper {
namespace {

// RFC 1321 §A.5, the test suite.
TEST(Md5, MatchesRfc1321TestSuite) {
    EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
    EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
    EXPECT_EQ(md5_hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
    EXPECT_EQ(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
              "d174ab98d277d9f5a5611c2c9f419d9f");
    EXPECT_EQ(md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234"
                      "567890"),
              "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, IncrementalUpdatesEqualOneShot) {
    std::string data;
    for (int i = 0; i < 1000; ++i)
        data += static_cast<char>(i * 7 + 3);
    for (size_t split : {0, 1, 55, 56, 63, 64, 65, 127, 128, 500, 999, 1000}) {
        Md5 md5;
        md5.update(std::string_view(data).substr(0, split));
        md5.update(std::string_view(data).substr(split));
        auto digest = md5.finish();
        EXPECT_EQ(to_hex(digest.data(), digest.size()), md5_hex(data)) << "split " << split;
    }
}

TEST(Md5, PaddingBoundaryLengths) {
    // Lengths around the 56-byte padding boundary each take a different path.
    EXPECT_EQ(md5_hex(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
    EXPECT_EQ(md5_hex(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
    EXPECT_EQ(md5_hex(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
}

TEST(Md5, FinishResetsForReuse) {
    Md5 md5;
    md5.update("abc");
    md5.finish();
    md5.update("a");
    auto digest = md5.finish();
    EXPECT_EQ(to_hex(digest.data(), digest.size()), "0cc175b9c0f1b6a831c399e269772661");
}

TEST(Md5, ToHexIsLowercaseTwoDigitsPerByte) {
    const uint8_t bytes[] = {0x00, 0x0f, 0xa0, 0xff};
    EXPECT_EQ(to_hex(bytes, sizeof bytes), "000fa0ff");
}

} // namespace
} // namespace popper
