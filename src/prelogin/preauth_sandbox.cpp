// The pre-login sandbox: chroot, the unprivileged account, rlimits.
#include "popper/preauth_sandbox.h"

#include "popper/account_ids.h"
#include "popper/privileges.h"

#include <cerrno>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace popper {

namespace {

// Descriptors the pre-login process may hold: stdio, the client socket(s),
// the auth channel, syslog's socket, with room to spare.
constexpr rlim_t kPreauthMaxFiles = 32;
// Memory for parsing a few command lines, far above what it needs.
constexpr rlim_t kPreauthMaxAddressSpace = 512ull << 20;

Status set_limit(int resource, rlim_t value, const char* name) {
    struct rlimit lim {
        value, value
    };
    if (::setrlimit(resource, &lim) != 0)
        return Error::from_errno("setrlimit", name);
    return {};
}

} // namespace

Status prepare_preauth_chroot(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT)
            return Error::from_errno("stat", dir);
        // mkdir -p, each level root-owned 0755.
        for (size_t slash = 1; slash != std::string::npos;) {
            slash = dir.find('/', slash + 1);
            std::string part = dir.substr(0, slash);
            if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
                return Error::from_errno("mkdir", part);
        }
        if (::lstat(dir.c_str(), &st) != 0)
            return Error::from_errno("stat", dir);
    }
    if (!S_ISDIR(st.st_mode))
        return Error::because("preauth_chroot", dir, "not a directory");
    if (st.st_uid != 0)
        return Error::because("preauth_chroot", dir, "not owned by root");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return Error::because("preauth_chroot", dir, "writable by group or others");
    return {};
}

Status enter_preauth_sandbox(const std::string& user, const std::string& chroot_dir) {
    if (!running_as_root())
        return {};
    auto account = account_ids::preauth_account(user);
    if (!account)
        return account.error();
    if (::chdir(chroot_dir.c_str()) != 0)
        return Error::from_errno("chdir", chroot_dir);
    if (::chroot(".") != 0)
        return Error::from_errno("chroot", chroot_dir);
    if (::chdir("/") != 0)
        return Error::from_errno("chdir", "/");
    if (::setgroups(0, nullptr) != 0)
        return Error::from_errno("setgroups", user);
    if (::setresgid(account->gid, account->gid, account->gid) != 0)
        return Error::from_errno("setresgid", user);
    if (::setresuid(account->uid, account->uid, account->uid) != 0)
        return Error::from_errno("setresuid", user);
    if (::setuid(0) == 0)
        return Error::because("drop privileges", user, "root regained");
    if (auto s = set_limit(RLIMIT_NPROC, 0, "RLIMIT_NPROC"); !s)
        return s;
    if (auto s = set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE"); !s)
        return s;
    if (auto s = set_limit(RLIMIT_NOFILE, kPreauthMaxFiles, "RLIMIT_NOFILE"); !s)
        return s;
#if !defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer reserves terabytes of address space: no cap there.
    if (auto s = set_limit(RLIMIT_AS, kPreauthMaxAddressSpace, "RLIMIT_AS"); !s)
        return s;
#endif
    return {};
}

} // namespace popper
