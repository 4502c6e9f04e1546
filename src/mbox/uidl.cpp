// Unique UIDLs for a mailbox (RFC 1939 §7): X-UIDL values or digests with a
// repeat suffix, first come first served in file order.
#include "message_identity.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <unordered_set>

namespace popper {
namespace {

using Digest = std::array<uint8_t, 16>;

std::string computed_uidl(const Digest &digest, uint32_t repeat) {
    std::string uidl = to_hex(digest.data(), digest.size());
    if (repeat > 0)
        uidl += "-" + std::to_string(uint64_t{repeat} + 1);
    return uidl;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// The inverse of computed_uidl: true when `value` is exactly what it would
// print for some digest and repeat.
bool parse_computed_uidl(std::string_view value, Digest &digest, uint32_t &repeat) {
    if (value.size() < 32)
        return false;
    for (size_t i = 0; i < 16; ++i) {
        int hi = hex_value(value[2 * i]), lo = hex_value(value[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        digest[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    std::string_view suffix = value.substr(32);
    if (suffix.empty()) {
        repeat = 0;
        return true;
    }
    // "-N" with N >= 2 in canonical decimal, N - 1 fitting the repeat field.
    if (suffix.size() < 2 || suffix.size() > 11 || suffix[0] != '-' || suffix[1] == '0')
        return false;
    uint64_t n = 0;
    for (char c : suffix.substr(1)) {
        if (c < '0' || c > '9')
            return false;
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n < 2 || n - 1 > std::numeric_limits<uint32_t>::max())
        return false;
    repeat = static_cast<uint32_t>(n - 1);
    return true;
}

// Messages grouped by digest, for counting repeats with a few bytes per
// message instead of a hash map entry per message.
class DigestGroups {
public:
    explicit DigestGroups(const std::vector<MessageEntry> &messages) : messages_(messages) {
        order_.resize(messages.size());
        std::iota(order_.begin(), order_.end(), uint32_t{0});
        std::stable_sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
            return messages[a].uid_digest < messages[b].uid_digest;
        });
        group_of_.resize(messages.size());
        uint32_t groups = 0;
        for (size_t k = 0; k < order_.size(); ++k) {
            if (k > 0 && messages[order_[k]].uid_digest != messages[order_[k - 1]].uid_digest)
                ++groups;
            group_of_[order_[k]] = groups;
        }
        next_repeat_.assign(messages.empty() ? 0 : groups + 1, 0);
    }

    uint32_t &next_repeat_of_message(size_t index) { return next_repeat_[group_of_[index]]; }

    // Whether the computed UIDL (digest, repeat) was already given to a message.
    bool taken(const Digest &digest, uint32_t repeat) const {
        auto it = std::lower_bound(
            order_.begin(), order_.end(), digest,
            [&](uint32_t index, const Digest &d) { return messages_[index].uid_digest < d; });
        if (it == order_.end() || messages_[*it].uid_digest != digest)
            return false;
        // Repeats below next_repeat were given out or skipped; a skipped one
        // equals an X-UIDL already kept, which the caller checks first.
        return repeat < next_repeat_[group_of_[*it]];
    }

private:
    const std::vector<MessageEntry> &messages_;
    std::vector<uint32_t> order_;       // message indices sorted by digest, then position
    std::vector<uint32_t> group_of_;    // message index -> group of equal digests
    std::vector<uint32_t> next_repeat_; // group -> first repeat not yet given out
};

} // namespace

void assign_uidls(MboxIndex &index) {
    auto &messages = index.messages;
    if (messages.size() > std::numeric_limits<uint32_t>::max())
        throw std::length_error("mailbox has too many messages");
    DigestGroups groups(messages);
    std::unordered_set<std::string> kept_x_uidls;
    std::vector<std::string> kept;
    for (size_t i = 0; i < messages.size(); ++i) {
        MessageEntry &entry = messages[i];
        if (entry.x_uidl >= 0) {
            std::string &value = index.x_uidls[static_cast<size_t>(entry.x_uidl)];
            Digest digest;
            uint32_t repeat = 0;
            bool clashes =
                kept_x_uidls.contains(value) ||
                (parse_computed_uidl(value, digest, repeat) && groups.taken(digest, repeat));
            if (!clashes) {
                kept_x_uidls.insert(value);
                entry.x_uidl = static_cast<int32_t>(kept.size());
                kept.push_back(std::move(value));
                continue;
            }
            entry.x_uidl = -1;
        }
        uint32_t &next = groups.next_repeat_of_message(i);
        uint32_t repeat = next;
        if (!kept_x_uidls.empty()) {
            while (kept_x_uidls.contains(computed_uidl(entry.uid_digest, repeat)))
                ++repeat;
        }
        entry.repeat = repeat;
        next = repeat + 1;
    }
    index.x_uidls = std::move(kept);
}

std::string MboxIndex::uidl(size_t index) const {
    const MessageEntry &entry = messages.at(index);
    if (entry.x_uidl >= 0)
        return x_uidls.at(static_cast<size_t>(entry.x_uidl));
    return computed_uidl(entry.uid_digest, entry.repeat);
}

} // namespace popper
