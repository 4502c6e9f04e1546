// libFuzzer target for the mbox indexer (see fuzz/run-fuzzers).
//
// Input: one byte choosing the read buffer size (16..271 octets, so lines
// longer than the buffer take the streaming path), then the mbox bytes.
// Each input is indexed under every uidl_format (old servers' UIDLs,
// src/mbox/old_server_uidl.h), with a remembered UidBase taken from it.
// Checks: the index equals the one made with the default buffer; entries are
// in order, inside the data, start at "From "; each pop_size matches the
// wire module; UIDLs are unique and valid; the UIDL side tables are sorted
// by message, in range, and hold only repeats >= 1 and non-empty values.
// The indexer hashes UIDL digests several at a time (md5_each): the data,
// cut into pieces at each LF, must give in lanes what Md5 gives one by one.
#include "popper/mbox_index.h"
#include "popper/md5.h"
#include "popper/wire.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool condition) {
    if (!condition)
        std::abort();
}

void check_index(std::string_view data, size_t buffer_octets, const popper::UidlOptions& options) {
    auto small = popper::index_mbox_bytes(data, "fuzz", options, buffer_octets);
    auto whole = popper::index_mbox_bytes(data, "fuzz", options);
    check(small.has_value() == whole.has_value());
    if (!whole) {
        check(!data.empty() && !data.starts_with("From "));
        return;
    }
    check(small->messages.size() == whole->messages.size());
    check(whole->uidl_format == options.format && small->uid_base == whole->uid_base);
    if (options.format == popper::UidlFormat::popperd) {
        check(whole->uid_base == popper::UidBase{});
    } else {
        // Messages are found, and digests computed, as under popperd's own format.
        auto own = popper::index_mbox_bytes(data, "fuzz");
        check(own.has_value() && own->messages.size() == whole->messages.size());
        for (size_t i = 0; i < own->messages.size(); ++i)
            check(std::memcmp(&own->messages[i], &whole->messages[i],
                              sizeof(popper::MessageEntry)) == 0);
    }
    std::set<std::string> uidls;
    uint64_t previous_end = 0;
    for (size_t i = 0; i < whole->messages.size(); ++i) {
        const popper::MessageEntry& m = whole->messages[i];
        const popper::MessageEntry& s = small->messages[i];
        check(m.from_line == s.from_line && m.start == s.start && m.end == s.end);
        check(m.pop_size == s.pop_size && whole->uidl(i) == small->uidl(i));
        check(m.from_line >= previous_end && m.from_line + 5 <= m.start);
        check(m.start <= m.end && m.end <= data.size());
        check(data.substr(m.from_line).starts_with("From "));
        std::string_view stored = data.substr(m.start, m.end - m.start);
        check(m.pop_size == popper::pop_size_of(stored));
        std::string uidl = whole->uidl(i);
        check(!uidl.empty() && uidl.size() <= popper::kMaxUidlOctets);
        for (char c : uidl)
            check(c >= 0x21 && c <= 0x7e);
        check(uidls.insert(uidl).second);
        previous_end = m.end;
    }
    const auto& repeats = whole->repeats;
    for (size_t k = 0; k < repeats.size(); ++k) {
        check(repeats[k].message < whole->messages.size() && repeats[k].repeat >= 1);
        check(k == 0 || repeats[k - 1].message < repeats[k].message);
        check(whole->x_uidl_of(repeats[k].message).empty());
    }
    const auto& x_uidls = whole->x_uidls;
    for (size_t k = 0; k < x_uidls.size(); ++k) {
        check(x_uidls[k].message < whole->messages.size());
        check(k == 0 || (x_uidls[k - 1].message < x_uidls[k].message &&
                         x_uidls[k - 1].offset < x_uidls[k].offset));
        check(!whole->x_uidl_of(x_uidls[k].message).empty());
    }
}

void check_md5_each(std::string_view data) {
    std::vector<std::string_view> pieces;
    for (size_t pos = 0; pos <= data.size() && pieces.size() < 100;) {
        size_t lf = data.find('\n', pos);
        size_t end = lf == std::string_view::npos ? data.size() : lf + 1;
        pieces.push_back(data.substr(pos, end - pos));
        pos = end + (end == data.size()); // an empty last piece, then stop
    }
    std::vector<std::array<uint8_t, 16>> digests(pieces.size());
    popper::md5_each(pieces, digests);
    popper::Md5 md5;
    for (size_t i = 0; i < pieces.size(); ++i) {
        md5.update(pieces[i]);
        check(md5.finish() == digests[i]);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size == 0)
        return 0;
    size_t buffer_octets = 16 + bytes[0];
    std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    popper::UidlOptions options;
    // A remembered base from the input's first octets, 0 half of the time.
    if (data.size() >= 2 && (bytes[0] & 1))
        options.remembered = {static_cast<uint8_t>(data[0]), static_cast<uint8_t>(data[1])};
    for (popper::UidlFormat format : popper::kUidlFormats) {
        options.format = format;
        check_index(data, buffer_octets, options);
        // Most random data is not an mbox; index it as the body of one as well.
        check_index("From fuzz\n" + std::string(data), buffer_octets, options);
    }
    check_md5_each(data);
    return 0;
}
