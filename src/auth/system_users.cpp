// `users = system`: mail users who are Unix accounts (/etc/passwd and
// /etc/shadow through NSS), for hosts without a separate users file.
#include "popper/users_file.h"

#include <pwd.h>
#include <shadow.h>
#include <vector>

namespace popper {

namespace {
// Large enough for any passwd or shadow line NSS returns in practice.
constexpr size_t kNssBufferOctets = 16384;
} // namespace

Result<UserLookup> lookup_system_user(std::string_view name) {
    UserLookup lookup;
    std::string key(name);
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(kNssBufferOctets);
    int err = ::getpwnam_r(key.c_str(), &pw, buf.data(), buf.size(), &found);
    if (err != 0 && err != ENOENT && err != ESRCH)
        return Error::from_errno("getpwnam", key, err);
    if (found == nullptr || pw.pw_uid == 0 || pw.pw_gid == 0)
        return lookup;
    UserEntry entry;
    entry.name = key;
    entry.hash = pw.pw_passwd ? pw.pw_passwd : "";
    entry.uid = pw.pw_uid;
    entry.gid = pw.pw_gid;
    entry.gecos = pw.pw_gecos ? pw.pw_gecos : "";
    entry.home = pw.pw_dir ? pw.pw_dir : "";
    if (entry.hash == "x" || entry.hash == "*") {
        struct spwd sp {};
        struct spwd* shadow = nullptr;
        std::vector<char> sbuf(kNssBufferOctets);
        err = ::getspnam_r(key.c_str(), &sp, sbuf.data(), sbuf.size(), &shadow);
        if (err != 0 && err != ENOENT && err != ESRCH)
            return Error::from_errno("getspnam", key, err);
        // No shadow entry: an account nobody can log in to.
        entry.hash = shadow && shadow->sp_pwdp ? shadow->sp_pwdp : "*";
    }
    if (entry.hash.empty())
        entry.hash = "*"; // an empty password never logs in
    lookup.entry = std::move(entry);
    return lookup;
}

} // namespace popper
