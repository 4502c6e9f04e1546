// From an old server's names to UIDLs that are unique in the mailbox
// (old_server_uidl.h): twins told apart, the rest left to popperd's digests.
#include "old_server_uidl.h"

#include "message_identity.h"

#include <algorithm>
#include <numeric>
#include <set>

namespace popper {

void OldServerNames::add(size_t message, std::string_view name) {
    rows.push_back({static_cast<uint32_t>(message), static_cast<uint32_t>(octets.size())});
    octets += name;
}

std::string_view OldServerNames::value(size_t row) const {
    size_t end = row + 1 < rows.size() ? rows[row + 1].offset : octets.size();
    return std::string_view(octets).substr(rows[row].offset, end - rows[row].offset);
}

bool starts_with_ignoring_case(std::string_view line, std::string_view lower_prefix) {
    if (line.size() < lower_prefix.size())
        return false;
    for (size_t i = 0; i < lower_prefix.size(); ++i) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != lower_prefix[i])
            return false;
    }
    return true;
}

std::unique_ptr<OldServerReader> make_old_server_reader(const UidlOptions& options) {
    switch (options.format) {
    case UidlFormat::popperd:
        return nullptr;
    case UidlFormat::popa3d:
        return make_popa3d_reader();
    case UidlFormat::solid_pop3d:
        return make_solid_pop3d_reader();
    case UidlFormat::uw:
    case UidlFormat::dovecot:
        return make_x_imap_reader(options.format, options.remembered);
    case UidlFormat::x_uidl:
        return make_x_uidl_reader(false);
    case UidlFormat::qpopper:
        return make_x_uidl_reader(true);
    }
    return nullptr;
}

namespace {

// The names made unique, in file order: of each set of rows with one name,
// the first keeps it and each later one takes the first "name-N" (N = 2, 3,
// ...) that no row is named and no earlier twin took; a row whose suffixed
// name would exceed kMaxUidlOctets loses its name.
OldServerNames without_twins(OldServerNames names) {
    std::vector<uint32_t> by_name(names.rows.size());
    std::iota(by_name.begin(), by_name.end(), uint32_t{0});
    std::sort(by_name.begin(), by_name.end(), [&](uint32_t a, uint32_t b) {
        std::string_view va = names.value(a), vb = names.value(b);
        return va != vb ? va < vb : a < b;
    });
    auto is_a_name = [&](std::string_view candidate) {
        auto it = std::lower_bound(
            by_name.begin(), by_name.end(), candidate,
            [&](uint32_t row, std::string_view value) { return names.value(row) < value; });
        return it != by_name.end() && names.value(*it) == candidate;
    };

    std::vector<std::string> renamed(names.rows.size());
    std::vector<bool> dropped(names.rows.size());
    std::set<std::string, std::less<>> given;
    bool any = false;
    for (size_t first = 0, end = 0; first < by_name.size(); first = end) {
        std::string_view name = names.value(by_name[first]);
        end = first + 1;
        while (end < by_name.size() && names.value(by_name[end]) == name)
            ++end;
        uint64_t n = 2;
        for (size_t k = first + 1; k < end; ++k) {
            any = true;
            std::string candidate;
            for (;; ++n) {
                candidate = std::string(name) + "-" + std::to_string(n);
                if (candidate.size() > kMaxUidlOctets ||
                    (!is_a_name(candidate) && !given.contains(candidate)))
                    break;
            }
            if (candidate.size() > kMaxUidlOctets) {
                dropped[by_name[k]] = true;
                continue;
            }
            ++n;
            given.insert(candidate);
            renamed[by_name[k]] = std::move(candidate);
        }
    }
    if (!any)
        return names;
    OldServerNames unique;
    for (size_t row = 0; row < names.rows.size(); ++row) {
        if (dropped[row])
            continue;
        unique.add(names.rows[row].message,
                   renamed[row].empty() ? names.value(row) : std::string_view(renamed[row]));
    }
    return unique;
}

} // namespace

void assign_old_server_uidls(MboxIndex& index, OldServerNames names) {
    OldServerNames unique = without_twins(std::move(names));
    index.x_uidls = std::move(unique.rows);
    index.x_uidl_octets = std::move(unique.octets);
    assign_uidls(index, true);
}

} // namespace popper
