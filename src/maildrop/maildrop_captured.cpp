// The captured UIDLs of drop_dir/USER.uidl-map laid over a login's index:
// see popper/uidl_map.h for the map and its pruning.
#include "maildrop_files.h"
#include "popper/captured_uidls.h"
#include "popper/log.h"
#include "popper/uidl_map.h"

#include <algorithm>

namespace popper::maildrop_detail {

namespace {

// The header section of each message: read until its empty line, in
// growing steps, so that a large message costs no more than its header.
Result<std::vector<MessageKey>> message_keys(int fd, const MboxIndex& index,
                                             const std::string& path) {
    std::vector<MessageKey> identities;
    identities.reserve(index.messages.size());
    std::string header;
    for (const MessageEntry& m : index.messages) {
        const uint64_t length = std::min<uint64_t>(m.stored_length(), kMaxIdentityHeaderSection);
        size_t want = static_cast<size_t>(std::min<uint64_t>(length, 4096));
        for (;;) {
            header.resize(want);
            auto got = pread_full(fd, header.data(), want, static_cast<off_t>(m.start), path);
            if (!got)
                return got.error();
            header.resize(*got);
            const bool ended = header.starts_with("\n") || header.starts_with("\r\n") ||
                               header.find("\n\n") != std::string::npos ||
                               header.find("\n\r\n") != std::string::npos;
            if (ended || want >= length || *got < want)
                break;
            want = static_cast<size_t>(std::min<uint64_t>(length, 4 * uint64_t{want}));
        }
        MessageKey key{header_identity(header), kUnknownBodyOctets};
        if (uint64_t octets = header_crlf_octets(header); octets <= m.pop_size)
            key.body_octets = m.pop_size - octets;
        identities.push_back(key);
    }
    return identities;
}

} // namespace

void use_captured_uidls(const DropFiles& files, int drop_fd, MboxIndex& index) {
    auto map = read_uidl_map(files.uidl_map);
    if (!map) {
        log_warning("UIDL map not used: " + map.error().message());
        return;
    }
    if (!*map || index.messages.empty())
        return;
    auto identities = message_keys(drop_fd, index, files.drop);
    if (!identities) {
        log_warning("UIDL map not used: " + identities.error().message());
        return;
    }
    const std::vector<bool> used = apply_captured_uidls(index, *identities, (*map)->entries);
    const size_t found = static_cast<size_t>(std::count(used.begin(), used.end(), true));
    const size_t entries = used.size();
    log_debug("UIDL map " + files.uidl_map + ": " + std::to_string(found) + " of " +
              std::to_string(entries) + " captured messages found");

    UidlMap& kept = **map;
    if (found == 0) {
        // Not yet moved over, or every captured message is gone since.
        if (!kept.matched)
            return;
        if (auto gone = remove_uidl_map(files.uidl_map); !gone)
            log_warning("UIDL map not removed: " + gone.error().message());
        else
            log_info("UIDL map " + files.uidl_map + " removed: its messages are gone");
        return;
    }
    if (kept.matched && found == entries)
        return;
    std::vector<CapturedUidl> still;
    still.reserve(found);
    for (size_t e = 0; e < entries; ++e)
        if (used[e])
            still.push_back(std::move(kept.entries[e]));
    kept.entries = std::move(still);
    kept.matched = true;
    if (auto written = write_uidl_map(files.uidl_map, kept); !written)
        log_warning("UIDL map not pruned: " + written.error().message());
}

} // namespace popper::maildrop_detail
