// libFuzzer target for the SASL mechanisms, base64 and the APOP secrets line
// parser (see fuzz/run-fuzzers).
//
// Input: one byte choosing the mechanism (bits 0-1) and whether the first
// line is an initial response (bit 2), then client lines separated by '\n'.
// Checks, beyond not crashing: strict base64 has one text per decoding (a
// text that decodes re-encodes to itself); every step has the shape the
// session relies on; done credentials satisfy each mechanism's grammar and
// the size bound; nothing steps after the end; digests are only ever
// compared, never thrown.
//
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//          fuzz/sasl_fuzz.cpp src/auth/*.cpp src/digest/*.cpp src/io/*.cpp \
//          src/result/*.cpp src/log/*.cpp -lcrypt
#include "popper/apop.h"
#include "popper/base64.h"
#include "popper/sasl.h"
#include "popper/users_file.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

constexpr std::string_view kChallenge = "<1896.697170952@postoffice.reston.mci.net>";

bool is_lower_hex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

void check_base64(std::string_view line) {
    auto decoded = popper::base64_decode(line);
    if (decoded) {
        require(popper::base64_encode(*decoded) == line);
        require(decoded->size() <= popper::base64_decoded_max(line.size()));
    } else {
        require(decoded.error().message().starts_with("base64: "));
    }
}

void check_credentials(popper::SaslMechanism mechanism, const popper::SaslCredentials& c) {
    require(c.mechanism == mechanism);
    require(!c.user.empty() && c.user.size() <= popper::kMaxSaslResponseOctets);
    require(c.user.find('\0') == std::string::npos);
    switch (mechanism) {
    case popper::SaslMechanism::plain:
        require(!c.password.empty() && c.password.find('\0') == std::string::npos);
        require(c.challenge.empty() && c.digest_hex.empty());
        break;
    case popper::SaslMechanism::login:
        require(c.password.size() <= popper::kMaxSaslResponseOctets);
        require(c.challenge.empty() && c.digest_hex.empty());
        break;
    case popper::SaslMechanism::cram_md5:
        require(c.password.empty() && c.challenge == kChallenge);
        require(c.digest_hex.size() == 32 && is_lower_hex(c.digest_hex));
        (void)popper::verify_cram_md5("tanstaaftanstaaf", c.challenge, c.digest_hex);
        break;
    }
}

void check_step(const popper::SaslStep& s, popper::SaslMechanism mechanism) {
    switch (s.kind) {
    case popper::SaslStep::Kind::challenge:
        require(s.failure == popper::SaslFailure::none);
        require(popper::base64_decode(s.challenge_b64).has_value());
        break;
    case popper::SaslStep::Kind::done:
        require(s.failure == popper::SaslFailure::none && s.why.empty());
        check_credentials(mechanism, s.credentials);
        break;
    case popper::SaslStep::Kind::failed:
        require(s.failure != popper::SaslFailure::none && !s.why.empty());
        require(s.credentials.user.empty() && s.credentials.password.empty());
        break;
    }
}

std::vector<std::string_view> split_lines(std::string_view data) {
    std::vector<std::string_view> lines;
    while (!data.empty()) {
        const size_t newline = data.find('\n');
        lines.push_back(data.substr(0, newline));
        data.remove_prefix(newline == std::string_view::npos ? data.size() : newline + 1);
    }
    return lines;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size == 0)
        return 0;
    static constexpr popper::SaslMechanism kMechanisms[] = {
        popper::SaslMechanism::plain, popper::SaslMechanism::login, popper::SaslMechanism::cram_md5,
        popper::SaslMechanism::login};
    const popper::SaslMechanism mechanism = kMechanisms[bytes[0] & 3];
    const bool initial = (bytes[0] & 4) != 0;
    const std::vector<std::string_view> lines =
        split_lines(std::string_view(reinterpret_cast<const char*>(bytes) + 1, size - 1));

    popper::SaslExchange exchange(mechanism, std::string(kChallenge));
    size_t next = 0;
    std::optional<std::string_view> first;
    if (initial && next < lines.size())
        first = lines[next++];
    popper::SaslStep s = exchange.start(first);
    check_step(s, mechanism);
    while (s.kind == popper::SaslStep::Kind::challenge && next < lines.size()) {
        s = exchange.step(lines[next++]);
        check_step(s, mechanism);
    }
    if (s.kind != popper::SaslStep::Kind::challenge) {
        require(exchange.finished());
        require(exchange.step("").failure == popper::SaslFailure::unexpected);
    }

    std::string why;
    for (std::string_view line : lines) {
        check_base64(line);
        (void)popper::verify_apop("tanstaaf", kChallenge, line);
        if (auto entry = popper::parse_apop_secret_line(line, why)) {
            require(why.empty() && popper::is_valid_user_name(entry->name));
            require(!entry->secret.empty() && entry->secret.size() <= popper::kMaxApopSecretOctets);
            require(entry->secret.find_first_of(std::string_view("\0\r\n", 3)) ==
                    std::string::npos);
        }
    }
    return 0;
}
