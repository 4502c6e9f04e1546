// Indexing an mbox drop (RFC 4155, mboxo and mboxrd): where each message
// starts and ends, its POP3 size and its UIDL, in one pass that reads the
// file sequentially through a fixed buffer: From_ and header lines one at a
// time, body lines counted 64 octets at a time (src/mbox/body_scan.h).
// Why pread and not mmap: setting up page-table entries for a mapped page
// cache made the scan several times slower than copying it in with pread
// (bench/NOTES.md), and a read past a file that shrank is an error value
// rather than SIGBUS.
//
// Memory: the read buffer and a 32 KiB batch of header bytes whose MD5s are
// computed 16 messages at a time (md5_each) while scanning, then 48 octets
// per message (one MessageEntry), plus 8 per message that repeats an earlier
// one's digest and 8 + its length per kept X-UIDL value; choosing UIDLs
// borrows about as much as the read buffer, once it is freed (uidl.cpp).
// Under another uidl_format (old_server_uidl.h) each message the old server
// named costs 8 + the length of its UIDL, the value kept like an X-UIDL.
//
// Separator rule: a line beginning "From " at the start of the file or right
// after an empty line. That empty line (LF or CRLF) belongs to the separator,
// not to the message before it; so does one empty line at the end of file.
// A "From " line not preceded by an empty line is message content (mboxo).
// The last message may end without a newline.
#pragma once

#include "popper/result.h"
#include "popper/uidl_format.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <type_traits>
#include <vector>

namespace popper {

struct MessageEntry {
    uint64_t from_line = 0; // offset of the "From " line
    uint64_t start = 0;     // first byte after the From_ line: headers begin
    uint64_t end = 0;       // one past the message's last byte (separator excluded)
    uint64_t pop_size = 0;  // octets of the CRLF form, before dot-stuffing (RFC 1939 §11)
    std::array<uint8_t, 16> uid_digest{}; // MD5 of From_ line + identifying headers

    uint64_t stored_length() const { return end - start; }
};
// The per-message cost of a session; the index cache stores entries as these bytes.
static_assert(sizeof(MessageEntry) == 48, "MessageEntry is the per-message memory of a session");
static_assert(std::is_trivially_copyable_v<MessageEntry> &&
                  std::has_unique_object_representations_v<MessageEntry>,
              "MessageEntry is copied and stored as raw bytes, without padding");

// The entries of a mailbox in file order: a growable array of MessageEntry in
// an anonymous mapping of its own, grown with mremap(2), which moves page
// table entries instead of copying, and capacity not yet written is not
// resident. std::vector's doubling needs the old and the new buffer at once;
// whether glibc's realloc mremaps, grows in place or copies depends on its
// sliding mmap threshold and on what else was allocated; a mapping of our
// own behaves the same under any allocator, and its pages go back to the
// kernel when the list is destroyed (bench/NOTES.md). Bytes past size() are
// always zero.
class MessageList {
public:
    MessageList() = default;
    MessageList(const MessageList& other);
    MessageList& operator=(const MessageList& other);
    MessageList(MessageList&& other) noexcept;
    MessageList& operator=(MessageList&& other) noexcept;
    ~MessageList();

    // Throw std::bad_alloc when the kernel refuses memory.
    void push_back(const MessageEntry& entry);
    // Makes the list `count` entries long; entries added are all zero bytes,
    // ready to be read into (the index cache fills them straight from disk).
    void resize(size_t count);

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    MessageEntry* data() { return data_; }
    const MessageEntry* data() const { return data_; }
    MessageEntry& operator[](size_t i) { return data_[i]; }
    const MessageEntry& operator[](size_t i) const { return data_[i]; }
    const MessageEntry& at(size_t i) const; // std::out_of_range past the end
    MessageEntry& back() { return data_[size_ - 1]; }
    const MessageEntry& back() const { return data_[size_ - 1]; }
    MessageEntry* begin() { return data_; }
    MessageEntry* end() { return data_ + size_; }
    const MessageEntry* begin() const { return data_; }
    const MessageEntry* end() const { return data_ + size_; }

private:
    void reserve(size_t count);
    void release();

    MessageEntry* data_ = nullptr;
    size_t size_ = 0;
    size_t mapped_octets_ = 0; // whole pages
};

// Side tables, sorted by message number (0-based) and looked up by binary
// search: only messages with a twin digest or a kept X-UIDL have a row.
struct RepeatRow {
    uint32_t message = 0;
    uint32_t repeat = 0; // n >= 1: the UIDL is the digest with suffix "-<n+1>"
};
struct XUidlRow {
    uint32_t message = 0;
    uint32_t offset = 0; // into MboxIndex::x_uidl_octets; the value runs to the next row's
};
static_assert(sizeof(RepeatRow) == 8 && sizeof(XUidlRow) == 8 &&
                  std::has_unique_object_representations_v<RepeatRow> &&
                  std::has_unique_object_representations_v<XUidlRow>,
              "side-table rows are stored as raw bytes");

// The UID validity and the last UID given, as an X-IMAPbase header (or UW's
// X-IMAP) of the first message states them; 0 when there is none.
struct UidBase {
    uint64_t validity = 0;
    uint64_t last = 0;

    bool operator==(const UidBase&) const = default;
};

// How the indexer names messages (uidl_format.h).
struct UidlOptions {
    UidlFormat format = UidlFormat::popperd;
    // uw, dovecot: the UidBase an earlier login found, for a mailbox whose
    // first message no longer carries one (a session deleted that message;
    // UW and Dovecot would have moved the header to the next one).
    UidBase remembered;
};

struct MboxIndex {
    MessageList messages;
    std::vector<RepeatRow> repeats; // messages whose computed UIDL has a "-N" suffix
    // Messages whose UIDL is a value of their own, verbatim: their X-UIDL
    // header (format popperd), or what the old server listed (other formats).
    std::vector<XUidlRow> x_uidls;
    std::string x_uidl_octets; // those values, verbatim, back to back
    uint64_t file_size = 0;
    UidlFormat uidl_format = UidlFormat::popperd; // the format the UIDLs follow
    // uw, dovecot: the UidBase the first message carries; the maildrop keeps
    // it for UidlOptions::remembered. Not in the index cache: a cached index
    // is of a mailbox indexed (and its UidBase kept) before.
    UidBase uid_base;

    // 1..70 characters in 0x21..0x7E (RFC 1939 §7), unique in the mailbox.
    // Format popperd: the message's X-UIDL header value when it has a valid
    // one that no earlier message's UIDL equals; otherwise 32 lowercase hex
    // digits of uid_digest, with "-2", "-3", ... for later messages of the
    // same digest. Other formats: the old server's UIDL where it named the
    // message (old_server_uidl.h), else the digest as above.
    // The digest covers the From_ line and the header section without the
    // headers MUAs rewrite (Status, X-Status, X-Keywords, X-UID,
    // X-Mozilla-Status, X-Mozilla-Status2, Content-Length, Lines), so it is
    // stable across sessions, rewrites and other messages' deletion.
    std::string uidl(size_t index) const;
    // The message's kept X-UIDL value, empty when its UIDL is computed.
    std::string_view x_uidl_of(size_t index) const;
    // 0 for the first message of a digest, n for the (n+1)th.
    uint32_t repeat_of(size_t index) const;
};

// Message numbers in the side tables are 32-bit.
inline constexpr uint64_t kMaxMessages = 0xffffffff;

// UIDLs longer than this (RFC 1939 §7) or with characters outside 0x21..0x7E
// in an X-UIDL header are ignored and the computed UIDL used instead.
inline constexpr size_t kMaxUidlOctets = 70;

// Read buffer of the indexer. Lines longer than this are streamed through it
// (slower, still exact); tests and fuzzers pass small sizes to exercise that.
// It is alive while the entries grow, so it adds to a session's peak; a
// larger one indexes no faster (bench/NOTES.md).
inline constexpr size_t kIndexBufferOctets = 128 * 1024;

// RFC 1939 §7: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E.
bool is_valid_uidl(std::string_view value);

// Indexes bytes already in memory. Error when the data is not an mbox (does
// not begin with "From "). Empty input is an empty mailbox.
Result<MboxIndex> index_mbox_bytes(std::string_view data, const std::string& path,
                                   size_t buffer_octets = kIndexBufferOctets);
Result<MboxIndex> index_mbox_bytes(std::string_view data, const std::string& path,
                                   const UidlOptions& uidl,
                                   size_t buffer_octets = kIndexBufferOctets);
// Indexes the first `size` bytes of a file, reading it sequentially with
// pread; same results as index_mbox_bytes on the same bytes. A file shorter
// than `size` (it shrank) is an error.
Result<MboxIndex> index_mbox_file(int fd, uint64_t size, const std::string& path,
                                  size_t buffer_octets = kIndexBufferOctets);
Result<MboxIndex> index_mbox_file(int fd, uint64_t size, const std::string& path,
                                  const UidlOptions& uidl,
                                  size_t buffer_octets = kIndexBufferOctets);

} // namespace popper
