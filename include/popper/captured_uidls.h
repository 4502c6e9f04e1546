// UIDLs captured from a POP3 server popperd cannot imitate by rule (Dovecot
// with its index, Courier, Cyrus, Exchange, a server on another host):
// popperd-uidl capture asks the old server for each message's UIDL and its
// header (TOP n 0) and records the pair; popperd then lists the recorded
// UIDL for the message with that header. The map file that carries the
// pairs is in popper/uidl_map.h.
#pragma once

#include "popper/mbox_index.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace popper {

using HeaderIdentity = std::array<uint8_t, 16>;

// A message's identity as both servers can compute it: the MD5 of its
// header section (up to the first empty line, or the end of `header`),
// each line without its line ending and trailing blanks, leaving out the
// fields that MUAs, mbox converters and IMAP servers add or rewrite in an
// mbox (the ones popperd's own digest leaves out, plus X-IMAP and
// X-IMAPbase), continuation lines with their field. No From_ line: the old
// server may never have had one, and whoever made the mbox wrote its own.
HeaderIdentity header_identity(std::string_view header);

// The octets the header section of `header` takes in POP3's CRLF form, its
// empty line included when it has one: a message's size (LIST, pop_size)
// less this is its body's size, which tells twins (same header) apart.
uint64_t header_crlf_octets(std::string_view header);

inline constexpr uint64_t kUnknownBodyOctets = UINT64_MAX;

// At most this much of a header counts; what follows it is ignored on both
// sides (the capture and the login read no more).
inline constexpr size_t kMaxIdentityHeaderSection = 256 * 1024;

struct CapturedUidl {
    HeaderIdentity identity{};
    uint64_t body_octets = kUnknownBodyOctets; // in CRLF form
    std::string uidl;                          // valid (RFC 1939 §7)
};

struct MessageKey {
    HeaderIdentity identity{};
    uint64_t body_octets = kUnknownBodyOctets;
};

// Gives each message whose identity (keys[i] for message i) is captured a
// captured UIDL: of the unused entries of its identity, the first with its
// body size, else the first (twins, in the old server's order). Other
// messages keep the UIDL they had (a kept X-UIDL or an old server's name
// by uidl_format, else popperd's digest); names made unique as for
// uidl_format (old_server_uidl.h). Returns, for each entry of `captured`,
// whether a message took it.
std::vector<bool> apply_captured_uidls(MboxIndex& index, const std::vector<MessageKey>& keys,
                                       const std::vector<CapturedUidl>& captured);

} // namespace popper
