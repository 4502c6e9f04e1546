#include "popper/md5.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

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

// --- md5_each: several inputs in SIMD lanes -----------------------------------
//
// Each digest must be exactly Md5's. ctest runs these on the SSE2 lanes too
// (POPPER_NO_AVX2, under the prefix "sse2.").

using Digest = std::array<uint8_t, 16>;

Digest scalar_md5(std::string_view data) {
    Md5 md5;
    md5.update(data);
    return md5.finish();
}

std::string random_octets(std::mt19937& rng, size_t length) {
    std::string data(length, '\0');
    for (char& c : data)
        c = static_cast<char>(rng());
    return data;
}

void expect_each_equals_md5(const std::vector<std::string_view>& inputs) {
    std::vector<Digest> digests(inputs.size());
    md5_each(inputs, digests);
    for (size_t i = 0; i < inputs.size(); ++i)
        ASSERT_EQ(to_hex(digests[i].data(), 16), to_hex(scalar_md5(inputs[i]).data(), 16))
            << "input " << i << " of " << inputs.size() << ", " << inputs[i].size() << " octets";
}

TEST(Md5Each, MatchesRfc1321TestSuite) {
    const std::vector<std::string_view> inputs = {
        "",
        "a",
        "abc",
        "message digest",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890"};
    std::vector<Digest> digests(inputs.size());
    md5_each(inputs, digests);
    std::vector<std::string> hex;
    for (const Digest& d : digests)
        hex.push_back(to_hex(d.data(), d.size()));
    EXPECT_EQ(hex, (std::vector<std::string>{
                       "d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
                       "900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
                       "c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
                       "57edf4a22be3c955ac49da2e2107b67a"}));
}

TEST(Md5Each, EqualsMd5ForEveryLengthUpTo300InOneBatch) {
    std::mt19937 rng(1321);
    std::vector<std::string> data;
    for (size_t length = 0; length <= 300; ++length)
        data.push_back(random_octets(rng, length));
    std::vector<std::string_view> inputs(data.begin(), data.end());
    expect_each_equals_md5(inputs);
    std::reverse(inputs.begin(), inputs.end());
    expect_each_equals_md5(inputs);
    std::shuffle(inputs.begin(), inputs.end(), rng);
    expect_each_equals_md5(inputs);
}

TEST(Md5Each, EqualsMd5ForEveryLengthUpTo300AndEveryBatchSize) {
    std::mt19937 rng(64);
    for (size_t length = 0; length <= 300; ++length) {
        std::vector<std::string> data;
        for (size_t n = 0; n < 17; ++n) // more than two batches of the widest lanes
            data.push_back(random_octets(rng, length));
        for (size_t count = 0; count <= data.size(); ++count)
            expect_each_equals_md5(
                std::vector<std::string_view>(data.begin(), data.begin() + count));
    }
}

TEST(Md5Each, LanesOfVeryUnequalLengths) {
    std::mt19937 rng(7);
    std::vector<std::string> data;
    for (size_t length : {100000, 0, 1, 5000, 55, 56, 64, 65536, 63, 119, 120, 4096, 3, 12345})
        data.push_back(random_octets(rng, length));
    for (int round = 0; round < 20; ++round) {
        std::vector<std::string_view> inputs(data.begin(), data.end());
        std::shuffle(inputs.begin(), inputs.end(), rng);
        inputs.resize(1 + rng() % inputs.size());
        expect_each_equals_md5(inputs);
    }
}

TEST(Md5Each, ManyRandomInputsAtAnyAlignment) {
    std::mt19937 rng(1992);
    std::string pool = random_octets(rng, 1 << 16);
    for (int round = 0; round < 50; ++round) {
        std::vector<std::string_view> inputs;
        for (size_t n = rng() % 40; n > 0; --n) {
            size_t length = rng() % 3 == 0 ? rng() % 2000 : rng() % 600;
            inputs.push_back(std::string_view(pool).substr(rng() % (pool.size() - length), length));
        }
        expect_each_equals_md5(inputs);
    }
}

TEST(Md5Each, WritesOnlyTheDigestsOfItsInputs) {
    const std::vector<std::string_view> inputs = {"a", "abc"};
    std::vector<Digest> digests(4, Digest{});
    md5_each(inputs, digests);
    EXPECT_EQ(to_hex(digests[1].data(), 16), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(digests[2], Digest{});
    EXPECT_EQ(digests[3], Digest{});
}

} // namespace
} // namespace popper
