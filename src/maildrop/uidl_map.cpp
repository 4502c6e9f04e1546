// The captured-UIDL map file: popper/uidl_map.h.
#include "popper/uidl_map.h"

#include "popper/io.h"
#include "popper/mbox_index.h"
#include "popper/md5.h"
#include "popper/temp_file.h"
#include "popper/users_file_edit.h"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <unistd.h>

namespace popper {

namespace {

constexpr std::string_view kCaptured = "captured";
constexpr std::string_view kMatched = "matched";

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; // upper case is not what format_uidl_map writes
}

bool parse_identity(std::string_view hex, HeaderIdentity& identity) {
    if (hex.size() != 2 * identity.size())
        return false;
    for (size_t i = 0; i < identity.size(); ++i) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        identity[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return true;
}

// A decimal count without sign or leading zeros, or "-" for unknown.
bool parse_octets(std::string_view text, uint64_t& octets) {
    if (text == "-") {
        octets = kUnknownBodyOctets;
        return true;
    }
    if (text.empty() || (text.size() > 1 && text[0] == '0'))
        return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), octets);
    return ec == std::errc() && end == text.data() + text.size() && octets != kUnknownBodyOctets;
}

} // namespace

std::string format_uidl_map(const UidlMap& map) {
    std::string text(kUidlMapMagic);
    text += ' ';
    text += map.matched ? kMatched : kCaptured;
    text += '\n';
    for (const CapturedUidl& entry : map.entries) {
        text += to_hex(entry.identity.data(), entry.identity.size());
        text += ' ';
        text += entry.body_octets == kUnknownBodyOctets ? "-" : std::to_string(entry.body_octets);
        text += ' ';
        text += entry.uidl;
        text += '\n';
    }
    return text;
}

Result<UidlMap> parse_uidl_map(std::string_view text, const std::string& path) {
    UidlMap map;
    size_t number = 0;
    auto bad = [&](const std::string& why) {
        return Error::permanent("read UIDL map", path + ":" + std::to_string(number), why);
    };
    while (!text.empty()) {
        ++number;
        size_t eol = text.find('\n');
        if (eol == std::string_view::npos)
            return bad("last line has no newline (a torn write?)");
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol + 1);
        if (number == 1) {
            if (line == std::string(kUidlMapMagic) + " " + std::string(kCaptured))
                map.matched = false;
            else if (line == std::string(kUidlMapMagic) + " " + std::string(kMatched))
                map.matched = true;
            else
                return bad("not a popperd UIDL map (first line must be \"" +
                           std::string(kUidlMapMagic) + " captured\" or \"... matched\")");
            continue;
        }
        size_t space = line.find(' ');
        size_t second = space == std::string_view::npos ? space : line.find(' ', space + 1);
        CapturedUidl entry;
        if (second == std::string_view::npos ||
            !parse_identity(line.substr(0, space), entry.identity) ||
            !parse_octets(line.substr(space + 1, second - space - 1), entry.body_octets))
            return bad("expected 32 lowercase hex digits, the body's octets (or -) and a UIDL, "
                       "one space between");
        std::string_view uidl = line.substr(second + 1);
        if (!is_valid_uidl(uidl))
            return bad("UIDL is not 1 to 70 characters from 0x21 to 0x7E (RFC 1939)");
        entry.uidl = uidl;
        map.entries.push_back(std::move(entry));
    }
    if (number == 0)
        return bad("empty file");
    return map;
}

Result<std::optional<UidlMap>> read_uidl_map(const std::string& path) {
    // read_text_file refuses symlinks and FIFOs (a planted one must not
    // redirect or hang the login) and bounds the size.
    auto file = read_text_file(path, kMaxUidlMapOctets);
    if (!file) {
        if (file.error().errnum == ENOENT)
            return std::optional<UidlMap>();
        return file.error();
    }
    if (auto own = check_own_regular_file(file->st, path); !own)
        return own.error();
    if (file->st.st_mode & 077)
        return Error::permanent("read UIDL map", path,
                                "group or others may read or write it (chmod 600)");
    auto map = parse_uidl_map(file->text, path);
    if (!map)
        return map.error();
    return std::optional<UidlMap>(std::move(*map));
}

Status write_uidl_map(const std::string& path, const UidlMap& map, std::optional<FileOwner> owner) {
    auto temp = TempFile::create_beside(path);
    if (!temp)
        return temp.error();
    if (auto w = write_all(temp->fd(), format_uidl_map(map), temp->path()); !w)
        return w;
    if (owner && ::fchown(temp->fd(), owner->uid, owner->gid) != 0)
        return Error::from_errno("chown", temp->path());
    if (auto synced = fsync_fd(temp->fd(), temp->path()); !synced)
        return synced;
    if (auto renamed = temp->commit_as(path); !renamed)
        return renamed;
    return fsync_dir(dirname_of(path));
}

Status remove_uidl_map(const std::string& path) {
    if (auto gone = unlink_path(path); !gone)
        return gone;
    return fsync_dir(dirname_of(path));
}

} // namespace popper
