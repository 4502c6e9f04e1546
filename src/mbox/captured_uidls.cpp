// Captured UIDLs (popper/captured_uidls.h): the identity both sides compute,
// and the captured names laid over an index.
#include "popper/captured_uidls.h"

#include "message_identity.h"
#include "old_server_uidl.h"
#include "popper/md5.h"
#include "popper/wire.h"

#include <algorithm>
#include <map>

namespace popper {

namespace {

// Written by Dovecot and UW into an mbox's first message; an IMAP server's
// state, not the message's.
bool is_imap_state_field(std::string_view name) {
    return equals_ignoring_case(name, "x-imap") || equals_ignoring_case(name, "x-imapbase");
}

std::string_view without_trailing_blanks(std::string_view line) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
    return line;
}

} // namespace

HeaderIdentity header_identity(std::string_view header) {
    header = header.substr(0, kMaxIdentityHeaderSection);
    Md5 md5;
    bool skipping = false;
    while (!header.empty()) {
        size_t eol = header.find('\n');
        std::string_view line = header.substr(0, eol == std::string_view::npos ? eol : eol + 1);
        header.remove_prefix(line.size());
        line = without_line_ending(line);
        if (line.empty())
            break; // the end of the header section
        bool continuation = line[0] == ' ' || line[0] == '\t';
        if (!continuation) {
            std::string_view name = header_field_name(line);
            skipping = is_rewritten_field(name) || is_imap_state_field(name);
        }
        if (skipping)
            continue;
        md5.update(without_trailing_blanks(line));
        md5.update("\n");
    }
    return md5.finish();
}

uint64_t header_crlf_octets(std::string_view header) {
    uint64_t octets = 0;
    while (!header.empty()) {
        size_t eol = header.find('\n');
        std::string_view line = header.substr(0, eol == std::string_view::npos ? eol : eol + 1);
        header.remove_prefix(line.size());
        line = without_line_ending(line);
        octets += line.size() + 2;
        if (line.empty())
            break;
    }
    return octets;
}

std::vector<bool> apply_captured_uidls(MboxIndex& index, const std::vector<MessageKey>& keys,
                                       const std::vector<CapturedUidl>& captured) {
    // Each identity's captured entries, in the old server's order.
    std::map<HeaderIdentity, std::vector<size_t>> by_identity;
    for (size_t e = 0; e < captured.size(); ++e)
        by_identity[captured[e].identity].push_back(e);

    // Two passes, so that a message whose body size matches no entry does
    // not take the entry of a later twin whose size does.
    std::vector<bool> used(captured.size());
    const size_t keyed = std::min(keys.size(), index.messages.size());
    std::vector<const CapturedUidl*> chosen(keyed, nullptr);
    for (bool by_size : {true, false}) {
        for (size_t m = 0; m < keyed; ++m) {
            auto it = by_identity.find(keys[m].identity);
            if (chosen[m] || it == by_identity.end())
                continue;
            for (size_t e : it->second) {
                if (used[e] || (by_size && (keys[m].body_octets == kUnknownBodyOctets ||
                                            captured[e].body_octets != keys[m].body_octets)))
                    continue;
                used[e] = true;
                chosen[m] = &captured[e];
                break;
            }
        }
    }

    OldServerNames names;
    for (size_t m = 0; m < index.messages.size(); ++m) {
        if (m < keyed && chosen[m]) {
            names.add(m, chosen[m]->uidl);
            continue;
        }
        if (std::string_view own = index.x_uidl_of(m); !own.empty())
            names.add(m, own);
    }
    if (std::find(used.begin(), used.end(), true) != used.end())
        assign_old_server_uidls(index, std::move(names));
    return used;
}

} // namespace popper
