// The digest half of a message's identity: see message_identity.h.
#include "message_identity.h"

#include "popper/wire.h"

#include <algorithm>
#include <cstring>

namespace popper {
namespace {

// Fields that MUAs add or rewrite in the spool (mbox status flags, IMAP
// keywords, sizes); hashing them would change the UIDL when a client reads
// the mailbox locally.
constexpr std::string_view kRewrittenFields[] = {
    "status",           "x-status",          "x-keywords",     "x-uid",
    "x-mozilla-status", "x-mozilla-status2", "content-length", "lines"};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

} // namespace

bool equals_ignoring_case(std::string_view a, std::string_view lower) {
    return a.size() == lower.size() && starts_with_ignoring_case(a, lower);
}

std::string_view header_field_name(std::string_view line) {
    // RFC 5322 §2.2: field-name ":" (obsolete syntax allows space before the colon).
    size_t colon = line.find(':');
    return colon == std::string_view::npos ? std::string_view{} : trim(line.substr(0, colon));
}

bool is_rewritten_field(std::string_view name) {
    return std::any_of(std::begin(kRewrittenFields), std::end(kRewrittenFields),
                       [&](std::string_view f) { return equals_ignoring_case(name, f); });
}

DigestBatch::DigestBatch(MessageList& messages)
    : messages_(messages), arena_(new char[kDigestBatchOctets]) {}

void DigestBatch::begin_message() {
    current_ = 0;
    if (kDigestBatchOctets - used_ < kMaxDeferredDigestOctets || pending_count_ == pending_.size())
        flush();
}

bool DigestBatch::append(std::string_view octets) {
    if (octets.size() > kMaxDeferredDigestOctets - current_)
        return false;
    std::memcpy(arena_.get() + used_ + current_, octets.data(), octets.size());
    current_ += octets.size();
    return true;
}

void DigestBatch::defer_current(size_t message) {
    pending_[pending_count_++] = {static_cast<uint32_t>(message), static_cast<uint32_t>(used_),
                                  static_cast<uint32_t>(current_)};
    used_ += current_;
    current_ = 0;
}

void DigestBatch::flush() {
    std::array<std::string_view, kDigestBatchMessages> inputs;
    std::array<std::array<uint8_t, 16>, kDigestBatchMessages> digests;
    for (size_t i = 0; i < pending_count_; ++i)
        inputs[i] = std::string_view(arena_.get() + pending_[i].offset, pending_[i].length);
    md5_each(std::span(inputs).first(pending_count_), digests);
    for (size_t i = 0; i < pending_count_; ++i)
        messages_[pending_[i].message].uid_digest = digests[i];
    pending_count_ = 0;
    used_ = 0;
}

HeaderDigest::HeaderDigest(std::string_view from_line, DigestBatch& batch) : batch_(batch) {
    batch_.begin_message();
    hash(from_line.substr(0, kMaxIdentityHeaderOctets));
    hash("\n");
}

void HeaderDigest::hash(std::string_view octets) {
    if (deferred_) {
        if (batch_.append(octets))
            return;
        md5_.update(batch_.current());
        batch_.abandon_current();
        deferred_ = false;
    }
    md5_.update(octets);
}

void HeaderDigest::finish(size_t message, MessageEntry& entry) {
    if (deferred_)
        batch_.defer_current(message);
    else
        entry.uid_digest = md5_.finish();
}

void HeaderDigest::add_header_line(std::string_view line) {
    if (header_octets_ >= kMaxIdentityHeaderOctets)
        return;
    line = line.substr(0, kMaxIdentityHeaderOctets - header_octets_);
    header_octets_ += line.size();
    line = without_line_ending(line);

    bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    if (!continuation) {
        std::string_view name = header_field_name(line);
        skipping_field_ = is_rewritten_field(name);
        if (!x_uidl_seen_ && equals_ignoring_case(name, "x-uidl")) {
            x_uidl_seen_ = true;
            std::string_view value = trim(line.substr(line.find(':') + 1));
            if (is_valid_uidl(value))
                x_uidl_ = value;
        }
    }
    if (skipping_field_)
        return;
    hash(line);
    hash("\n");
}

} // namespace popper
