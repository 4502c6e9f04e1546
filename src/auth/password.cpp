// Checking a password against a crypt(3) hash, and the dummy check that makes
// an unknown or disabled user cost the same time as a wrong password.
#include "popper/users_file.h"

#include <atomic>
#include <crypt.h>
#include <cstring>
#include <memory>

namespace popper {

namespace {

std::atomic<uint64_t> dummy_count{0};

// struct crypt_data is ~32 KiB: on the heap, zeroed before use as crypt_r
// requires, and wiped after, since it held password-derived state.
struct CryptScratch {
    crypt_data data{};
    ~CryptScratch() { explicit_bzero(&data, sizeof data); }
};

// crypt_r of `password` with `setting`; empty when crypt refuses the setting
// (NULL, or libxcrypt's failure token starting with '*').
std::string crypt_string(const std::string& password, const std::string& setting) {
    auto scratch = std::make_unique<CryptScratch>();
    const char* out = crypt_r(password.c_str(), setting.c_str(), &scratch->data);
    if (out == nullptr || out[0] == '*' || out[0] == '\0')
        return {};
    return out;
}

bool has_nul(const std::string& s) {
    return s.find('\0') != std::string::npos;
}

} // namespace

bool verify_password(const std::string& hash, const std::string& password) {
    if (hash.empty() || hash[0] == '!' || hash[0] == '*' || has_nul(hash))
        return verify_dummy(hash, password);
    const std::string computed = crypt_string(password, hash);
    // Evaluated after the crypt, so a NUL in the password costs the same time.
    const bool matches = !computed.empty() && constant_time_equals(computed, hash);
    return matches && !has_nul(password);
}

bool verify_dummy(const std::string& scheme_like, const std::string& password) {
    std::string setting = dummy_setting_like(scheme_like);
    std::string computed = crypt_string(password, setting);
    if (computed.empty()) {
        // Parameters this libcrypt refuses: still do the work, at the default.
        setting = dummy_setting_like({});
        computed = crypt_string(password, setting);
    }
    // Same comparison as verify_password; a setting is never a full hash.
    (void)constant_time_equals(computed, setting);
    dummy_count.fetch_add(1, std::memory_order_relaxed);
    return false;
}

uint64_t dummy_verifications_performed() {
    return dummy_count.load(std::memory_order_relaxed);
}

} // namespace popper
