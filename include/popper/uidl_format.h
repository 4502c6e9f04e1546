// Which server's UIDLs popperd lists (conf key uidl_format): its own, or
// those of the POP3 server it replaces, so that clients that leave mail on
// the server download nothing again after the switch. The rules of each
// server, read from its source, are in src/mbox/old_server_uidl.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace popper {

enum class UidlFormat : uint8_t {
    popperd,     // MD5 of the From_ line and the header (mbox_index.h), X-UIDL kept
    popa3d,      // popa3d 1.0.3: 16 hex digits of an MD5 of selected header lines
    solid_pop3d, // solid-pop3d 0.15: 32 hex digits of an MD5 of selected header lines
    uw,          // UW ipop3d: X-IMAPbase validity and X-UID, "%08lx%08lx"
    dovecot,     // Dovecot 2.3 on mbox, pop3_uidl_format = %08Xu%08Xv
    x_uidl,      // GNU Mailutils, vm-pop3d: the X-UIDL header's value
    qpopper,     // qpopper 4: the first X-UIDL value of 11 to 32 octets
};

inline constexpr UidlFormat kUidlFormats[] = {
    UidlFormat::popperd, UidlFormat::popa3d, UidlFormat::solid_pop3d, UidlFormat::uw,
    UidlFormat::dovecot, UidlFormat::x_uidl, UidlFormat::qpopper};

// The conf-file spelling: "popperd", "popa3d", "solid-pop3d", "uw", "dovecot", "x-uidl",
// "qpopper".
std::string_view uidl_format_name(UidlFormat format);
std::optional<UidlFormat> parse_uidl_format(std::string_view name);

} // namespace popper
