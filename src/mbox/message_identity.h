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
#include <memory>
#include <string>
#include <string_view>

namespace popper {

// Only this much of a header section is hashed or searched for X-UIDL, so a
// huge header costs no more than a normal one.
inline constexpr size_t kMaxIdentityHeaderOctets = 64 * 1024;
static_assert(kMaxIdentityHeaderOctets <= kLongLineHeadOctets,
              "the line reader must keep every octet the digest reads");

// Octets of digest input a message may leave to a DigestBatch. A message
// whose digest reads more (a header of over 4 KiB, rare: most hash 300 to
// 600 octets) is hashed as it is read, so a batch never holds more than
// kDigestBatchOctets however large the headers are.
inline constexpr size_t kMaxDeferredDigestOctets = 4 * 1024;
// The batch: about 70 typical messages, enough to keep md5_each's 16 lanes
// busy, and small beside the indexer's 128 KiB read buffer.
inline constexpr size_t kDigestBatchOctets = 32 * 1024;
// Messages in a batch, whatever their size (a header can be a From_ line).
inline constexpr size_t kDigestBatchMessages = 256;

// Digests of messages computed together, several at a time (md5_each): the
// octets each message's HeaderDigest would have hashed, back to back, and
// the number of the message whose entry gets the digest. Why: MD5 of one
// short input is a chain of dependent steps that leaves the CPU mostly idle,
// and was a large share of a first login's CPU (bench/NOTES.md).
class DigestBatch {
public:
    explicit DigestBatch(MessageList& messages);
    // Computes the pending digests and writes each into messages[n].uid_digest.
    // Every message deferred must have its entry in the list by then.
    void flush();

private:
    friend class HeaderDigest;
    struct Pending {
        uint32_t message; // kMaxMessages fits
        uint32_t offset;  // into arena_
        uint32_t length;
    };

    // Starts the input of a new message, with room for kMaxDeferredDigestOctets.
    void begin_message();
    // Adds to the current message's input; false, adding nothing, past
    // kMaxDeferredDigestOctets.
    bool append(std::string_view octets);
    std::string_view current() const { return {arena_.get() + used_, current_}; }
    // The current message's input is hashed elsewhere after all.
    void abandon_current() { current_ = 0; }
    // The current message's digest goes to messages[message] at the next flush.
    void defer_current(size_t message);

    MessageList& messages_;
    std::unique_ptr<char[]> arena_; // kDigestBatchOctets
    size_t used_ = 0;               // octets of the messages deferred
    size_t current_ = 0;            // octets of the current message, after those
    std::array<Pending, kDigestBatchMessages> pending_;
    size_t pending_count_ = 0;
};

// MD5 over the From_ line and the header lines that identify the message.
// Lines are hashed without their line ending (so LF and CRLF spools agree),
// each followed by "\n". Skipped, with their continuation lines, are the
// headers MUAs rewrite in place: Status, X-Status, X-Keywords, X-UID,
// X-Mozilla-Status, X-Mozilla-Status2, Content-Length, Lines.
// The octets to hash are collected in `batch`, which hashes them with other
// messages' when it is flushed; past kMaxDeferredDigestOctets they are
// hashed here, as they come.
class HeaderDigest {
public:
    // `from_line` without its line ending; at most kMaxIdentityHeaderOctets are hashed.
    HeaderDigest(std::string_view from_line, DigestBatch& batch);
    // One line of the header section, with its line ending; not the empty
    // line that ends the section.
    void add_header_line(std::string_view line);
    // Sets entry.uid_digest, the digest of message number `message`, now or
    // (when it was deferred) at the batch's next flush.
    void finish(size_t message, MessageEntry& entry);
    // The first X-UIDL header's value, trimmed, if it is a valid UIDL
    // (1..kMaxUidlOctets characters in 0x21..0x7E); empty otherwise.
    const std::string& x_uidl() const { return x_uidl_; }

private:
    void hash(std::string_view octets);

    DigestBatch& batch_;
    bool deferred_ = true; // the input is in batch_, not (yet) in md5_
    Md5 md5_;
    size_t header_octets_ = 0;
    bool skipping_field_ = false; // the current field is one MUAs rewrite
    bool x_uidl_seen_ = false;
    std::string x_uidl_;
};

// Whether `line` begins with `prefix`, ASCII letters in either case;
// `prefix` is written in lower case.
bool starts_with_ignoring_case(std::string_view line, std::string_view lower_prefix);
bool equals_ignoring_case(std::string_view a, std::string_view lower);

// The field name a header line begins, blanks around it removed; empty for
// a line without a colon.
std::string_view header_field_name(std::string_view line);
// A field that MUAs add or rewrite in the spool (Status, X-Status,
// X-Keywords, X-UID, X-Mozilla-Status, X-Mozilla-Status2, Content-Length,
// Lines): no message identity covers it.
bool is_rewritten_field(std::string_view name);

// Chooses each message's UIDL so that all are unique, in file order: a
// message's X-UIDL value (a row of index.x_uidls on entry: one candidate per
// message that has a valid X-UIDL header) is kept unless an earlier message
// already has that UIDL; otherwise the hex digest is used, with the smallest
// repeat count (suffix "-2", "-3", ...) not already taken. On return
// x_uidls holds only the values kept and `repeats` the non-zero repeats.
// Borrows 128 KiB (more past 262,144 messages: half an octet per message)
// while it runs, plus a few octets per candidate; 4 octets per message when
// an X-UIDL value spells a computed UIDL (uidl.cpp).
// With `values_win` (the values are an old server's names, unique already)
// every value is kept, and a computed UIDL never takes one, even a later
// message's: a client that knew the name must not miss the message.
void assign_uidls(MboxIndex& index, bool values_win = false);

} // namespace popper
