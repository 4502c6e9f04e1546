// What the POP3 server that popperd replaces listed as UIDL for the
// messages of an mbox (uidl_format other than popperd), worked out while
// the indexer reads the mailbox, from the rules in each server's source:
//
//  popa3d 1.0.3 (mailbox.c mailbox_parse, pop_trans.c
//  pop_trans_list_or_uidl): MD5 over the raw header lines (line ending
//  included) of the first Received:, of every Delivered-To: and
//  X-Delivery-ID:, and of Date: and Message-ID: before the first Received:,
//  continuation lines with their field; names compared ignoring case, but
//  X-Delivery-ID only with a capital X. Printed as digest bytes 3 2 1 0 7 6
//  5 4 in lowercase hex: 16 digits. A message begins at "From " after a line
//  that is exactly LF (or at the start); its header ends at the first LF
//  line, so a CRLF header runs on into the body.
//
//  solid-pop3d 0.15 (mailbox.c mb_parse and mb_fixed, maildrop.c
//  md_print_uidl): MD5 over the raw header lines starting, case and all,
//  with "Received:", "Date:", "Message-Id:" or "Subject:", continuation
//  lines left out; 32 lowercase hex digits. A message begins at any line
//  that starts with "From " and is 28 octets or longer (line ending
//  included), blank line before it or not; its header ends at the first LF
//  line.
//
//  UW ipop3d (unix.c unix_parse, ipop3d.c UIDL): the UID validity and last
//  UID of the first message's X-IMAPbase: header, or of X-IMAP: in the
//  pseudo-message "FOLDER INTERNAL DATA", and each message's X-UID:, names
//  in exactly that case; UIDs must grow from message to message, or UW
//  renumbers the mailbox. "%08lx%08lx" of the validity and the UID.
//
//  Dovecot 2.3 on mbox (mbox-sync-parse.c parse_x_imap_base, parse_x_uid;
//  pop3_uidl_format %08Xu%08Xv, which prints lowercase): the same headers,
//  names in any case; the UIDL is the UID then the validity, 8 hex digits
//  each. An X-UID must be above the previous message's UID and at most the
//  next one the X-IMAPbase allows; in the first message it counts only
//  after the X-IMAPbase header.
//
//  x-uidl (GNU Mailutils msguidl.c, vm-pop3d): the value of the message's
//  first X-UIDL: header (name in any case) that is a valid UIDL, after the
//  colon and blanks, to the end of its first line, without trailing blanks.
//
//  qpopper 4 (pop_dropcopy.c init_dropinfo, do_drop_copy): the first X-UIDL:
//  header (name in any case) whose value, after the colon and blanks, to the
//  end of the line with its line ending, is MIN_UIDL_LENGTH (12) to
//  MAX_UIDL_LENGTH (33) octets: 11 to 32 octets before an LF, trailing blanks
//  included. Shorter or longer ones are passed over for a later one.
//  qpopper names a message without one by an MD5 it writes into the mbox as
//  X-UIDL at the next update (with its default update_status_hdrs), so a
//  mailbox it served carries its names; one it never wrote gets popperd's
//  own UIDL. A value with blanks in it, which qpopper listed as it was, is
//  no valid UIDL (RFC 1939 §7): popperd's own there too.
//
// UW and Dovecot write an X-UID into every message they read, so a message
// without one is new since, or a part of one of their messages that popperd
// divides off (below): it is named by popperd and constrains no other UID.
//
// popperd divides the mailbox into messages by its own rule (mbox_index.h).
// A message gets the old server's UIDL when the old server began a message
// at the same From_ line; a message the old server did not begin there, or
// could not name (no X-UID, a counted header line longer than the indexer
// keeps, X-UIDs UW or Dovecot would renumber), gets popperd's own UIDL.
// Two messages the old server named alike are told apart as RFC 1939 §7
// requires: the first in the file keeps the name, the next get "-2", "-3",
// ... (the first suffix no message's name already is).
#pragma once

#include "message_identity.h"
#include "popper/mbox_index.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace popper {

// The old server's name for some messages: rows in message order, each
// value running to the next row's offset (the layout of MboxIndex::x_uidls).
struct OldServerNames {
    std::vector<XUidlRow> rows;
    std::string octets;

    void add(size_t message, std::string_view name);
    std::string_view value(size_t row) const;
};

// Follows the mailbox as the indexer reads it and works out the old
// server's names. The indexer calls message_start() at each of its From_
// lines, and line() for every other line it reads, in file order; it skips
// body lines (without calling line()) only while wants_every_line() is false.
class OldServerReader {
public:
    virtual ~OldServerReader() = default;
    // popperd's message number `message` begins with `from_line` (line
    // ending included).
    virtual void message_start(size_t message, std::string_view from_line) = 0;
    // One line, line ending included. `whole` is false when the indexer kept
    // only the first kLongLineHeadOctets of a longer line.
    virtual void line(std::string_view line, bool whole) = 0;
    // True while the old server could still count a line the indexer would
    // skip (a header that popperd ended at a CRLF blank line).
    virtual bool wants_every_line() const { return false; }
    // The end of the mailbox: the names, and the UidBase the first message
    // carries (uw, dovecot).
    virtual OldServerNames finish() = 0;
    virtual UidBase uid_base() const { return {}; }
};

// The reader of `options.format`; null for UidlFormat::popperd.
std::unique_ptr<OldServerReader> make_old_server_reader(const UidlOptions& options);
// Each format's reader (old_server_digests.cpp, old_server_uids.cpp,
// old_server_x_uidl.cpp).
std::unique_ptr<OldServerReader> make_popa3d_reader();
std::unique_ptr<OldServerReader> make_solid_pop3d_reader();
std::unique_ptr<OldServerReader> make_x_imap_reader(UidlFormat format, UidBase remembered);
// qpopper_lengths: qpopper's rule (below) instead of GNU Mailutils'.
std::unique_ptr<OldServerReader> make_x_uidl_reader(bool qpopper_lengths);

// Chooses every message's UIDL under an old server's format: its names made
// unique (twins get "-2", "-3", ...; a suffixed name longer than 70 octets
// is dropped), the rest popperd's digests (assign_uidls).
void assign_old_server_uidls(MboxIndex& index, OldServerNames names);

} // namespace popper
