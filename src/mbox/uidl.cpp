// Unique UIDLs for a mailbox (RFC 1939 §7): X-UIDL values or digests with a
// repeat suffix, first come first served in file order.
//
// The rule (message_identity.h) reads as a walk in file order keeping a set
// of the UIDLs given so far. Doing that literally costs a set entry per
// message; this gets the same UIDLs from message numbers sorted by digest,
// by observing:
//  - Of several candidates with one X-UIDL value, all but the first in file
//    order lose: the first either keeps it, or loses to a computed UIDL that
//    stays given out for the rest of the walk.
//  - A computed UIDL can meet an X-UIDL only when the X-UIDL value spells a
//    computed UIDL ("<hex digest>" or "<hex digest>-N") of a digest present
//    in the mailbox. Only messages of such "claimed" digests need the walk in
//    file order; in every other group of equal digests the repeat is the
//    count of earlier members that did not keep an X-UIDL.
// Memory: when no X-UIDL value looks like a computed UIDL (the usual case)
// groups are found slice by slice of digests, sorting at most
// max(kUidlSliceMessages, messages / 8) message numbers at a time: 128 KiB
// for 100,000 messages, against 391 KiB for sorting them all, which is
// what the rare case does (4 octets per message).
#include "message_identity.h"

#include <algorithm>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace popper {
namespace {

using Digest = std::array<uint8_t, 16>;

// Message numbers sorted at once when looking for twins: 128 KiB, the size
// of the indexer's read buffer, which is freed before; so choosing UIDLs
// does not raise a session's peak above what scanning reached.
constexpr size_t kUidlSliceMessages = 32 * 1024;

std::string computed_uidl(const Digest& digest, uint32_t repeat) {
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
bool parse_computed_uidl(std::string_view value, Digest& digest, uint32_t& repeat) {
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

std::string_view x_uidl_value(const MboxIndex& index, size_t row) {
    size_t begin = index.x_uidls[row].offset;
    size_t end =
        row + 1 < index.x_uidls.size() ? index.x_uidls[row + 1].offset : index.x_uidl_octets.size();
    return std::string_view(index.x_uidl_octets).substr(begin, end - begin);
}

// Removes the X-UIDL rows whose flag is set, and their octets, in place:
// a kept value only ever moves towards the front.
void drop_x_uidl_rows(MboxIndex& index, const std::vector<bool>& dropped) {
    size_t kept = 0, octets = 0;
    for (size_t row = 0; row < index.x_uidls.size(); ++row) {
        if (dropped[row])
            continue;
        std::string_view value = x_uidl_value(index, row);
        uint32_t message = index.x_uidls[row].message;
        std::memmove(index.x_uidl_octets.data() + octets, value.data(), value.size());
        index.x_uidls[kept++] = {message, static_cast<uint32_t>(octets)};
        octets += value.size();
    }
    index.x_uidls.resize(kept);
    index.x_uidl_octets.resize(octets);
}

// Step 1: of the candidates sharing a value, only the first in file order
// can keep it.
void drop_repeated_x_uidls(MboxIndex& index) {
    std::vector<uint32_t> by_value(index.x_uidls.size());
    std::iota(by_value.begin(), by_value.end(), uint32_t{0});
    std::sort(by_value.begin(), by_value.end(), [&](uint32_t a, uint32_t b) {
        std::string_view va = x_uidl_value(index, a), vb = x_uidl_value(index, b);
        return va != vb ? va < vb : a < b;
    });
    std::vector<bool> dropped(index.x_uidls.size());
    bool any = false;
    for (size_t k = 1; k < by_value.size(); ++k) {
        if (x_uidl_value(index, by_value[k]) == x_uidl_value(index, by_value[k - 1])) {
            dropped[by_value[k]] = true;
            any = true;
        }
    }
    by_value = {};
    if (any)
        drop_x_uidl_rows(index, dropped);
}

// Sorts message numbers by digest, then by position: each run of equal
// digests is a group, its members in file order. std::sort, not
// stable_sort: the keys are unique, and stable_sort borrows a buffer.
// A digest as two big-endian words: ordered as its octets are (as
// std::array's operator< orders them), without a memcmp call per
// comparison (10 of the 260 ms of CPU that indexing 100,000 messages took).
struct DigestKey {
    uint64_t high, low;
    auto operator<=>(const DigestKey&) const = default;
};

uint64_t big_endian_word(const uint8_t* p) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    if constexpr (std::endian::native == std::endian::little)
        word = __builtin_bswap64(word);
    return word;
}

DigestKey key_of(const Digest& digest) {
    return {big_endian_word(digest.data()), big_endian_word(digest.data() + 8)};
}

void sort_by_digest(const MessageList& messages, std::vector<uint32_t>& order) {
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        DigestKey ka = key_of(messages[a].uid_digest), kb = key_of(messages[b].uid_digest);
        return ka != kb ? ka < kb : a < b;
    });
}

// Position in `order` of the first message with `digest`, or order.size().
size_t group_of(const MessageList& messages, const std::vector<uint32_t>& order,
                const Digest& digest) {
    auto it =
        std::lower_bound(order.begin(), order.end(), digest,
                         [&](uint32_t m, const Digest& d) { return messages[m].uid_digest < d; });
    if (it == order.end() || messages[*it].uid_digest != digest)
        return order.size();
    return static_cast<size_t>(it - order.begin());
}

bool has_x_uidl(const MboxIndex& index, uint32_t message) {
    return std::binary_search(
        index.x_uidls.begin(), index.x_uidls.end(), XUidlRow{message, 0},
        [](const XUidlRow& a, const XUidlRow& b) { return a.message < b.message; });
}

// An X-UIDL candidate spelling the computed UIDL (group's digest, repeat).
struct Claim {
    uint32_t group = 0; // position in `order` of the group's first member
    uint32_t repeat = 0;
    uint32_t row = 0; // in index.x_uidls
    bool kept = false;
};

// Step 2: the walk in file order, for the groups that X-UIDL values claim.
// Decides those candidates and numbers those groups' messages. Returns the
// claimed groups, sorted (empty when no candidate claims a digest present).
// With `values_win` every candidate keeps its value, and computed UIDLs
// skip all the values claim, earlier or later.
std::vector<uint32_t> settle_claimed_groups(MboxIndex& index, const std::vector<uint32_t>& order,
                                            bool values_win) {
    const MessageList& messages = index.messages;
    std::vector<Claim> claims; // in row order, that is in file order
    for (size_t row = 0; row < index.x_uidls.size(); ++row) {
        Digest digest;
        uint32_t repeat = 0;
        if (!parse_computed_uidl(x_uidl_value(index, row), digest, repeat))
            continue;
        size_t group = group_of(messages, order, digest);
        if (group < order.size())
            claims.push_back(
                {static_cast<uint32_t>(group), repeat, static_cast<uint32_t>(row), values_win});
    }
    if (claims.empty())
        return {};

    // Claimed groups with the first repeat not yet given out in each.
    std::vector<uint32_t> groups;
    for (const Claim& c : claims)
        groups.push_back(c.group);
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    std::vector<uint32_t> next_repeat(groups.size(), 0);
    auto group_slot = [&](uint32_t group) {
        return static_cast<size_t>(std::lower_bound(groups.begin(), groups.end(), group) -
                                   groups.begin());
    };
    // The claimed group of a digest (groups are in digest order), or groups.size().
    auto claimed_slot = [&](const Digest& digest) {
        auto it = std::lower_bound(
            groups.begin(), groups.end(), digest,
            [&](uint32_t g, const Digest& d) { return messages[order[g]].uid_digest < d; });
        if (it == groups.end() || messages[order[*it]].uid_digest != digest)
            return groups.size();
        return static_cast<size_t>(it - groups.begin());
    };
    // Claims by (group, repeat): the kept ones are the computed UIDLs to skip.
    std::vector<uint32_t> by_uidl(claims.size());
    std::iota(by_uidl.begin(), by_uidl.end(), uint32_t{0});
    std::sort(by_uidl.begin(), by_uidl.end(), [&](uint32_t a, uint32_t b) {
        return std::tie(claims[a].group, claims[a].repeat) <
               std::tie(claims[b].group, claims[b].repeat);
    });
    auto kept_claim = [&](uint32_t group, uint32_t repeat) {
        auto it = std::lower_bound(by_uidl.begin(), by_uidl.end(), std::pair{group, repeat},
                                   [&](uint32_t c, std::pair<uint32_t, uint32_t> key) {
                                       return std::pair{claims[c].group, claims[c].repeat} < key;
                                   });
        return it != by_uidl.end() && claims[*it].group == group && claims[*it].repeat == repeat &&
               claims[*it].kept;
    };

    std::vector<bool> dropped(index.x_uidls.size());
    bool any_dropped = false;
    size_t row = 0, claim = 0;
    for (uint32_t m = 0; m < messages.size(); ++m) {
        bool keeps_x_uidl = false;
        if (row < index.x_uidls.size() && index.x_uidls[row].message == m) {
            keeps_x_uidl = true;
            if (claim < claims.size() && claims[claim].row == row) {
                Claim& c = claims[claim++];
                keeps_x_uidl = values_win || c.repeat >= next_repeat[group_slot(c.group)];
                c.kept = keeps_x_uidl;
                dropped[row] = !keeps_x_uidl;
                any_dropped |= !keeps_x_uidl;
            }
            ++row;
        }
        if (keeps_x_uidl)
            continue;
        const Digest& digest = messages[m].uid_digest;
        size_t slot = claimed_slot(digest);
        if (slot == groups.size())
            continue; // numbered in step 3
        uint32_t repeat = next_repeat[slot];
        while (kept_claim(groups[slot], repeat))
            ++repeat;
        next_repeat[slot] = repeat + 1;
        if (repeat > 0)
            index.repeats.push_back({m, repeat});
    }
    if (any_dropped)
        drop_x_uidl_rows(index, dropped);
    return groups;
}

// Step 3: every other group. Calls `emit(message, repeat)` for each member
// after the first that computes its UIDL.
template <class Emit>
void number_unclaimed_groups(const MboxIndex& index, const std::vector<uint32_t>& order,
                             const std::vector<uint32_t>& claimed, Emit emit) {
    const MessageList& messages = index.messages;
    for (size_t first = 0, end = 0; first < order.size(); first = end) {
        const Digest& digest = messages[order[first]].uid_digest;
        end = first + 1;
        while (end < order.size() && messages[order[end]].uid_digest == digest)
            ++end;
        if (end - first == 1 ||
            std::binary_search(claimed.begin(), claimed.end(), static_cast<uint32_t>(first)))
            continue;
        uint32_t repeat = 0;
        for (size_t k = first; k < end; ++k) {
            if (!index.x_uidls.empty() && has_x_uidl(index, order[k]))
                continue;
            if (repeat > 0)
                emit(order[k], repeat);
            ++repeat;
        }
    }
}

// Numbers every group of `order` that is not claimed, appending the repeats.
void append_repeats(MboxIndex& index, const std::vector<uint32_t>& order,
                    const std::vector<uint32_t>& claimed) {
    size_t more = 0; // counted first: the table grows once, to the size it needs
    number_unclaimed_groups(index, order, claimed, [&](uint32_t, uint32_t) { ++more; });
    index.repeats.reserve(index.repeats.size() + more);
    number_unclaimed_groups(index, order, claimed, [&](uint32_t message, uint32_t repeat) {
        index.repeats.push_back({message, repeat});
    });
}

// Whether some X-UIDL value spells a computed UIDL: only then can X-UIDLs
// and computed UIDLs meet (step 2).
bool any_x_uidl_spells_computed(const MboxIndex& index) {
    for (size_t row = 0; row < index.x_uidls.size(); ++row) {
        Digest digest;
        uint32_t repeat = 0;
        if (parse_computed_uidl(x_uidl_value(index, row), digest, repeat))
            return true;
    }
    return false;
}

// Step 3 without step 2, in slices: the messages whose digests begin with
// a range of first octets, sorted one slice at a time. A group lies within
// one slice, and the sort array stays at kUidlSliceMessages entries (or 1/8
// of the messages, so that a huge mailbox takes at most 8 more passes)
// instead of one per message.
void number_groups_by_slices(MboxIndex& index) {
    const MessageList& messages = index.messages;
    std::array<size_t, 256> by_first_octet{};
    for (const MessageEntry& m : messages)
        ++by_first_octet[m.uid_digest[0]];
    // Slices [lo, hi) of first octets, as wide as the budget allows.
    const size_t budget = std::max(kUidlSliceMessages, messages.size() / 8);
    std::vector<std::pair<size_t, size_t>> slices;
    size_t largest = 0;
    for (size_t lo = 0, hi = 0; lo < 256; lo = hi) {
        size_t count = by_first_octet[lo];
        for (hi = lo + 1; hi < 256 && count + by_first_octet[hi] <= budget; ++hi)
            count += by_first_octet[hi];
        if (count >= 2) { // else no twins in it
            slices.push_back({lo, hi});
            largest = std::max(largest, count);
        }
    }
    std::vector<uint32_t> slice;
    slice.reserve(largest); // once: no second buffer left behind in the heap
    for (auto [lo, hi] : slices) {
        slice.clear();
        for (uint32_t m = 0; m < messages.size(); ++m) {
            size_t first = messages[m].uid_digest[0];
            if (first >= lo && first < hi)
                slice.push_back(m);
        }
        sort_by_digest(messages, slice);
        append_repeats(index, slice, {});
    }
}

} // namespace

bool is_valid_uidl(std::string_view value) {
    if (value.empty() || value.size() > kMaxUidlOctets)
        return false;
    return std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

void assign_uidls(MboxIndex& index, bool values_win) {
    if (index.messages.size() > kMaxMessages)
        throw std::length_error("mailbox has too many messages");
    index.repeats.clear();
    drop_repeated_x_uidls(index);
    if (any_x_uidl_spells_computed(index)) {
        std::vector<uint32_t> order(index.messages.size());
        std::iota(order.begin(), order.end(), uint32_t{0});
        sort_by_digest(index.messages, order);
        std::vector<uint32_t> claimed = settle_claimed_groups(index, order, values_win);
        append_repeats(index, order, claimed);
    } else {
        number_groups_by_slices(index);
    }
    std::sort(index.repeats.begin(), index.repeats.end(),
              [](const RepeatRow& a, const RepeatRow& b) { return a.message < b.message; });
}

std::string_view MboxIndex::x_uidl_of(size_t index) const {
    auto it = std::lower_bound(x_uidls.begin(), x_uidls.end(), index,
                               [](const XUidlRow& row, size_t m) { return row.message < m; });
    if (it == x_uidls.end() || it->message != index)
        return {};
    size_t row = static_cast<size_t>(it - x_uidls.begin());
    size_t end = row + 1 < x_uidls.size() ? x_uidls[row + 1].offset : x_uidl_octets.size();
    return std::string_view(x_uidl_octets).substr(it->offset, end - it->offset);
}

uint32_t MboxIndex::repeat_of(size_t index) const {
    auto it = std::lower_bound(repeats.begin(), repeats.end(), index,
                               [](const RepeatRow& row, size_t m) { return row.message < m; });
    return it != repeats.end() && it->message == index ? it->repeat : 0;
}

std::string MboxIndex::uidl(size_t index) const {
    const MessageEntry& entry = messages.at(index);
    if (std::string_view x_uidl = x_uidl_of(index); !x_uidl.empty())
        return std::string(x_uidl);
    return computed_uidl(entry.uid_digest, repeat_of(index));
}

} // namespace popper
