// The mbox scanner (RFC 4155): one pass over the drop, line by line, finding
// separators, summing each message's POP3 size and hashing its identifying
// headers. Files and bytes in memory go through the same line reader.
#include "popper/mbox_index.h"

#include "mbox_line_reader.h"
#include "message_identity.h"
#include "old_server_uidl.h"
#include "popper/wire.h"

namespace popper {
namespace {

constexpr std::string_view kFromPrefix = "From ";

class MboxScanner {
public:
    MboxScanner(MboxLineReader& reader, DigestBatch& digests, OldServerReader* old)
        : reader_(reader), digests_(digests), old_(old) {}

    // Indexes the message whose From_ line is `from_line`. Returns true, with
    // the next From_ line read into `from_line`, when another message follows.
    bool scan_message(MboxLine& from_line, MboxIndex& index) {
        MessageEntry entry;
        entry.from_line = from_line.offset;
        entry.start = from_line.offset + from_line.length;
        HeaderDigest identity(without_line_ending(from_line.head), digests_);
        if (old_)
            old_->message_start(index.messages.size(), from_line.head);

        bool in_headers = true;
        bool another = false;
        uint64_t octets = 0;
        MboxLine line;
        entry.end = entry.start;
        for (;;) {
            if (!in_headers && !(old_ && old_->wants_every_line())) {
                octets += reader_.skip_body_lines();
                entry.end = reader_.offset();
            }
            if (!reader_.next(line))
                break;
            if (old_)
                old_->line(line.head, line.head.size() == line.length);
            entry.end = line.offset;
            if (is_blank_line(line.head)) {
                // An empty line before "From " or at the end of the file belongs to the separator.
                if (reader_.at_end())
                    break;
                if (reader_.begins_with(kFromPrefix)) {
                    another = reader_.next(from_line);
                    break;
                }
                in_headers = false;
            } else if (in_headers) {
                identity.add_header_line(line.head);
            }
            octets += pop_line_octets(line.length, line.has_lf, line.crlf, line.escaped);
            entry.end = line.offset + line.length;
        }
        entry.pop_size = octets;
        identity.finish(index.messages.size(), entry);
        if (!identity.x_uidl().empty() && !old_) {
            // A candidate: assign_uidls() keeps it or not.
            index.x_uidls.push_back({static_cast<uint32_t>(index.messages.size()),
                                     static_cast<uint32_t>(index.x_uidl_octets.size())});
            index.x_uidl_octets += identity.x_uidl();
        }
        index.messages.push_back(entry);
        return another;
    }

private:
    MboxLineReader& reader_;
    DigestBatch& digests_;
    OldServerReader* old_; // null for UidlFormat::popperd
};

// Scans the messages; UIDLs are chosen by the caller once the reader and its
// buffer are gone, so that the two never add up in the peak.
Result<MboxIndex> scan_mbox(MboxLineReader& reader, uint64_t size, const std::string& path,
                            UidlFormat format, OldServerReader* old) {
    MboxIndex index;
    index.file_size = size;
    index.uidl_format = format;
    MboxLine line;
    if (reader.next(line)) {
        if (!line.head.starts_with(kFromPrefix))
            return Error::because("index", path,
                                  "not an mbox file (does not begin with \"From \")");
        DigestBatch digests(index.messages);
        MboxScanner scanner(reader, digests, old);
        while (scanner.scan_message(line, index)) {
            // Message numbers, and X-UIDL offsets (each value took more mbox
            // octets than it takes here), must fit the 32-bit side tables.
            if (index.messages.size() >= kMaxMessages || index.x_uidl_octets.size() > 0xffffff00)
                return Error::because("index", path, "too many messages");
        }
        digests.flush();
    }
    if (reader.error())
        return *reader.error();
    return index;
}

Result<MboxIndex> with_uidls(Result<MboxIndex> index, OldServerReader* old,
                             const std::string& path) {
    if (!index)
        return index;
    if (!old) {
        assign_uidls(*index);
        return index;
    }
    OldServerNames names = old->finish();
    if (names.octets.size() > 0xffffff00) // the 32-bit offsets of the side table
        return Error::because("index", path, "too many messages");
    index->uid_base = old->uid_base();
    assign_old_server_uidls(*index, std::move(names));
    return index;
}

} // namespace

Result<MboxIndex> index_mbox_bytes(std::string_view data, const std::string& path,
                                   size_t buffer_octets) {
    return index_mbox_bytes(data, path, UidlOptions{}, buffer_octets);
}

Result<MboxIndex> index_mbox_bytes(std::string_view data, const std::string& path,
                                   const UidlOptions& uidl, size_t buffer_octets) {
    auto old = make_old_server_reader(uidl);
    return with_uidls(
        [&] {
            MboxLineReader reader(-1, data, data.size(), path, buffer_octets);
            return scan_mbox(reader, data.size(), path, uidl.format, old.get());
        }(),
        old.get(), path);
}

Result<MboxIndex> index_mbox_file(int fd, uint64_t size, const std::string& path,
                                  size_t buffer_octets) {
    return index_mbox_file(fd, size, path, UidlOptions{}, buffer_octets);
}

Result<MboxIndex> index_mbox_file(int fd, uint64_t size, const std::string& path,
                                  const UidlOptions& uidl, size_t buffer_octets) {
    auto old = make_old_server_reader(uidl);
    return with_uidls(
        [&] {
            MboxLineReader reader(fd, {}, size, path, buffer_octets);
            return scan_mbox(reader, size, path, uidl.format, old.get());
        }(),
        old.get(), path);
}

} // namespace popper
