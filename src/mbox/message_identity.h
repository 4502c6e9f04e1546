// What makes a message's UIDL (RFC 1939 §7): a digest of the parts of its
// header that mail programs do not rewrite, or its X-UIDL header (qpopper
// compatibility), made unique within the mailbox.
#pragma once

#include "mbox_line_reader.h"
#include "popper/mbox_index.h"
#include "popper/md5.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace popper {

// Only this much of a header section is hashed or searched for X-UIDL, so a
// huge header costs no more than a normal one.
inline constexpr size_t kMaxIdentityHeaderOctets = 64 * 1024;
static_assert(kMaxIdentityHeaderOctets <= kLongLineHeadOctets,
              "the line reader must keep every octet the digest reads");

// MD5 over the From_ line and the header lines that identify the message.
// Lines are hashed without their line ending (so LF and CRLF spools agree),
// each followed by "\n". Skipped, with their continuation lines, are the
// headers MUAs rewrite in place: Status, X-Status, X-Keywords, X-UID,
// X-Mozilla-Status, X-Mozilla-Status2, Content-Length, Lines.
class HeaderDigest {
public:
    // `from_line` without its line ending; at most kMaxIdentityHeaderOctets are hashed.
    explicit HeaderDigest(std::string_view from_line);
    // One line of the header section, with its line ending; not the empty
    // line that ends the section.
    void add_header_line(std::string_view line);
    std::array<uint8_t, 16> finish() { return md5_.finish(); }
    // The first X-UIDL header's value, trimmed, if it is a valid UIDL
    // (1..kMaxUidlOctets characters in 0x21..0x7E); empty otherwise.
    const std::string &x_uidl() const { return x_uidl_; }

private:
    Md5 md5_;
    size_t header_octets_ = 0;
    bool skipping_field_ = false; // the current field is one MUAs rewrite
    bool x_uidl_seen_ = false;
    std::string x_uidl_;
};

// Chooses each message's UIDL so that all are unique, in file order: a
// message's X-UIDL value (a row of index.x_uidls on entry: one candidate per
// message that has a valid X-UIDL header) is kept unless an earlier message
// already has that UIDL; otherwise the hex digest is used, with the smallest
// repeat count (suffix "-2", "-3", ...) not already taken. On return
// x_uidls holds only the values kept and `repeats` the non-zero repeats.
// Borrows 128 KiB (more past 262,144 messages: half an octet per message)
// while it runs, plus a few octets per candidate; 4 octets per message when
// an X-UIDL value spells a computed UIDL (uidl.cpp).
void assign_uidls(MboxIndex &index);

} // namespace popper
