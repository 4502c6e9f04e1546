// drop_dir/USER.uidl-map: the UIDLs that popperd-uidl capture recorded from
// the server popperd replaces, for the messages it could identify
// (popper/captured_uidls.h). Text, one entry per line, in the old server's
// order:
//
//   popperd-uidl-map 1 captured        (or "matched": see below)
//   <32 hex digits: the header identity> <body octets or -> <the old server's UIDL>
//
// Written whole under a temporary name, fsynced, renamed, mode 0600 and
// owned by the mailbox owner. Read as untrusted input: anything but a file
// of ours, not readable by others, in exactly this syntax, is refused with
// the line at fault, and the session goes on without it.
//
// "captured": no login has found any of its messages yet (the mailbox may
// not have been moved over). Nothing is pruned then. Once a login finds
// some, the map is rewritten "matched", without the entries whose message
// it did not find; later logins prune the same way, and remove the map
// when none of its messages is left.
#pragma once

#include "popper/captured_uidls.h"
#include "popper/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace popper {

struct UidlMap {
    bool matched = false;
    std::vector<CapturedUidl> entries;
};

inline constexpr std::string_view kUidlMapMagic = "popperd-uidl-map 1";
// The longest map read: 2^24 entries of the longest size and UIDL.
inline constexpr size_t kMaxUidlMapOctets = (size_t{1} << 24) * (32 + 1 + 20 + 1 + 70 + 1);

std::string format_uidl_map(const UidlMap& map);
// Errors name `path`, the line and what is wrong with it.
Result<UidlMap> parse_uidl_map(std::string_view text, const std::string& path);

// nullopt when there is no map. An error for a map that cannot be used
// (not ours, readable by others, too long, malformed, unreadable).
Result<std::optional<UidlMap>> read_uidl_map(const std::string& path);

struct FileOwner {
    uid_t uid = 0;
    gid_t gid = 0;
};
// Replaces the map durably (fsynced file, renamed, directory fsynced). With
// `owner` (popperd-uidl, as root), the file is given to the mailbox owner
// before it takes the map's name.
Status write_uidl_map(const std::string& path, const UidlMap& map,
                      std::optional<FileOwner> owner = std::nullopt);
// Removes the map durably; a missing map is not an error.
Status remove_uidl_map(const std::string& path);

} // namespace popper
