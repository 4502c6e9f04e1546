// The crypt(3) setting a dummy verification uses: same scheme and cost as a
// real hash, fixed salt, so an unknown user costs what a wrong password costs.
#include "popper/users_file.h"

#include <crypt.h>
#include <initializer_list>

namespace popper {

namespace {

// Fixed salts, one per salt alphabet and length. A dummy hash is never
// compared with anything that could match, so its salt need not be secret.
constexpr std::string_view kSaltMd5 = "/6k.2IU/";                    // $1$: 8 characters
constexpr std::string_view kSaltSha = "/6k.2IU/5UE08g.1";            // $5$ $6$: 16 characters
constexpr std::string_view kSaltBcrypt = ".OGB/.SE/ueHAeqKBO2NC.";   // $2b$: 22, canonical
constexpr std::string_view kSaltYescrypt = "/6k.2IU/5UE08g.1Bsk1E."; // $y$: 16 bytes encoded

// Cost parameters copied from a hash are bounded: they come from the admin's
// file, but a garbled one must not make every unknown login a denial of service
// beyond what the real hash would cost.
constexpr size_t kMaxParamOctets = 32;

bool is_crypt64(char c) {
    return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

bool all_digits(std::string_view s) {
    if (s.empty())
        return false;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
    }
    return true;
}

// The '$'-separated field `index` of "$id$f2$f3...": field 1 is the scheme id.
std::string_view field(std::string_view hash, size_t index) {
    for (size_t i = 0; i < index; ++i) {
        auto dollar = hash.find('$');
        if (dollar == std::string_view::npos)
            return {};
        hash.remove_prefix(dollar + 1);
    }
    return hash.substr(0, hash.find('$'));
}

// "$f1$f2...$fn": a setting assembled from its fields.
std::string dollar_fields(std::initializer_list<std::string_view> fields) {
    std::string out;
    for (std::string_view f : fields) {
        out += '$';
        out += f;
    }
    return out;
}

// "$5$" / "$6$", optionally "rounds=N$" (SHA-crypt, N 1..999999999).
std::string sha_setting(std::string_view id, std::string_view hash) {
    const std::string_view rounds = field(hash, 2);
    constexpr std::string_view kRounds = "rounds=";
    if (rounds.substr(0, kRounds.size()) == kRounds) {
        const auto digits = rounds.substr(kRounds.size());
        if (!all_digits(digits) || digits.size() > 9)
            return {};
        return dollar_fields({id, rounds, kSaltSha});
    }
    return dollar_fields({id, kSaltSha});
}

// "$2a$", "$2b$", "$2y$" with a two-digit cost: bcrypt at the same cost.
std::string bcrypt_setting(std::string_view hash) {
    const std::string_view cost = field(hash, 2);
    if (cost.size() != 2 || !all_digits(cost))
        return {};
    return dollar_fields({"2b", cost, kSaltBcrypt});
}

// "$y$PARAMS$" (yescrypt) and "$gy$PARAMS$" (gost-yescrypt): same parameters.
std::string yescrypt_setting(std::string_view id, std::string_view hash) {
    const std::string_view params = field(hash, 2);
    if (params.empty() || params.size() > kMaxParamOctets)
        return {};
    for (char c : params) {
        if (!is_crypt64(c))
            return {};
    }
    return dollar_fields({id, params, kSaltYescrypt});
}

std::string setting_for_scheme(std::string_view hash) {
    if (hash.size() < 3 || hash[0] != '$')
        return {};
    const std::string_view id = field(hash, 1);
    if (id == "1")
        return dollar_fields({"1", kSaltMd5});
    if (id == "5" || id == "6")
        return sha_setting(id, hash);
    if (id == "2a" || id == "2b" || id == "2y")
        return bcrypt_setting(hash);
    if (id == "y" || id == "gy")
        return yescrypt_setting(id, hash);
    return {};
}

std::string compute_default_setting() {
#ifdef CRYPT_GENSALT_IMPLEMENTS_DEFAULT_PREFIX
    // libxcrypt: a null prefix picks the library's preferred scheme and cost.
    static constexpr char kFixedBytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    char out[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn(nullptr, 0, kFixedBytes, sizeof kFixedBytes, out, sizeof out) != nullptr &&
        out[0] == '$')
        return out;
#endif
    return dollar_fields({"6", kSaltSha});
}

// Computed once: the library's default does not change while we run.
const std::string& default_setting() {
    static const std::string setting = compute_default_setting();
    return setting;
}

} // namespace

std::string dummy_setting_like(std::string_view scheme_like) {
    // A disabled hash ("!$6$...") still names the scheme the site uses.
    while (!scheme_like.empty() && (scheme_like.front() == '!' || scheme_like.front() == '*'))
        scheme_like.remove_prefix(1);
    std::string setting = setting_for_scheme(scheme_like);
    return setting.empty() ? default_setting() : setting;
}

} // namespace popper
