// Becoming the mailbox owner for good: supplementary groups, gid, uid, and
// proof that root cannot be regained. Each failure names the call and user.
#include "popper/privileges.h"

#include "popper/account_ids.h"

#include <algorithm>
#include <cerrno>
#include <grp.h>
#include <optional>
#include <unistd.h>
#include <vector>

namespace popper {

namespace {

// 0 is root; -1 means "unchanged" to setresuid/setresgid: neither is a target.
template <class Id> bool is_root_or_unset(Id id) {
    return id == 0 || id == static_cast<Id>(-1);
}

Result<std::vector<gid_t>> supplementary_groups(gid_t gid, const std::string& mail_group,
                                                const std::string& name) {
    std::vector<gid_t> groups{gid};
    auto mail = account_ids::group_id(mail_group, name);
    if (!mail)
        return mail.error();
    if (*mail) {
        if (**mail == 0)
            return Error::because("setgroups", name, "mail group " + mail_group + " has gid 0");
        if (**mail != gid)
            groups.push_back(**mail);
    }
    return groups;
}

// After the drop: every id is the target, the groups are exactly `groups`,
// and neither setuid(0) nor setgid(0) works any more.
Status verify_dropped(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                      const std::string& name) {
    if (::setuid(0) == 0)
        return Error::because("setuid", name, "uid 0 could be regained after the drop");
    if (::setgid(0) == 0)
        return Error::because("setgid", name, "gid 0 could be regained after the drop");
    uid_t ruid = 0, euid = 0, suid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0)
        return Error::from_errno("getresuid", name);
    if (ruid != uid || euid != uid || suid != uid)
        return Error::because("setresuid", name, "user ids did not all change");
    gid_t rgid = 0, egid = 0, sgid = 0;
    if (::getresgid(&rgid, &egid, &sgid) != 0)
        return Error::from_errno("getresgid", name);
    if (rgid != gid || egid != gid || sgid != gid)
        return Error::because("setresgid", name, "group ids did not all change");
    const int count = ::getgroups(0, nullptr);
    if (count < 0)
        return Error::from_errno("getgroups", name);
    std::vector<gid_t> actual(static_cast<size_t>(count));
    if (::getgroups(count, actual.data()) != count)
        return Error::from_errno("getgroups", name);
    std::vector<gid_t> wanted = groups;
    std::sort(actual.begin(), actual.end());
    std::sort(wanted.begin(), wanted.end());
    if (actual != wanted)
        return Error::because("setgroups", name, "supplementary groups did not change");
    return {};
}

} // namespace

bool running_as_root() {
    // Any of real, effective or saved uid 0 can become root again: all count.
    uid_t ruid = 0, euid = 0, suid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0)
        return ::geteuid() == 0;
    return ruid == 0 || euid == 0 || suid == 0;
}

Status become_user(uid_t uid, gid_t gid, const std::string& mail_group, const std::string& name) {
    if (!running_as_root())
        return {};
    if (is_root_or_unset(uid))
        return Error::because("setresuid", name, "refusing uid " + std::to_string(uid));
    if (is_root_or_unset(gid))
        return Error::because("setresgid", name, "refusing gid " + std::to_string(gid));
    auto groups = supplementary_groups(gid, mail_group, name);
    if (!groups)
        return groups.error();

    // Order matters: groups and gid can only be changed while still root.
    if (::setgroups(groups->size(), groups->data()) != 0)
        return Error::from_errno("setgroups", name);
    if (::setresgid(gid, gid, gid) != 0)
        return Error::from_errno("setresgid", name);
    if (::setresuid(uid, uid, uid) != 0)
        return Error::from_errno("setresuid", name);
    return verify_dropped(uid, gid, *groups, name);
}

} // namespace popper
