// The index cache of index_cache.h: writing it, and reading it back as
// untrusted input.
#include "popper/index_cache.h"

#include "popper/io.h"
#include "popper/temp_file.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <numeric>
#include <unistd.h>
#include <vector>

namespace popper {
namespace {

constexpr uint64_t kMagic = 0x0a31786469706f70; // "popidx1\n" on a little-endian machine
// Bump when the layout or the meaning of any field changes (MessageEntry,
// the side tables, how UIDLs are chosen, what the checksum covers): old
// files are then ignored. 2: the stat block outside the checksum; 3: the
// uidl_format field.
constexpr uint64_t kFormatVersion = 3;
constexpr size_t kChecksumOctets = 8;
// The shortest possible message: a From_ line of "From " alone, at the end
// of the file. Bounds the message count by the mailbox size before any
// allocation.
constexpr uint64_t kMinMessageOctets = 5;

struct Header {
    uint64_t magic = kMagic;
    uint64_t version = kFormatVersion;
    uint64_t uidl_format = 0; // UidlFormat
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_s = 0, mtime_ns = 0, ctime_s = 0, ctime_ns = 0;
    uint64_t messages = 0, repeats = 0, x_uidls = 0, x_uidl_octets = 0;
};
static_assert(sizeof(Header) == kIndexCacheHeaderOctets &&
              offsetof(Header, uidl_format) == kIndexCacheFormatOffset &&
              offsetof(Header, dev) == kIndexCacheStatOffset &&
              offsetof(Header, messages) == kIndexCacheStatOffset + kIndexCacheStatOctets &&
              offsetof(Header, messages) == kIndexCacheCountsOffset &&
              std::has_unique_object_representations_v<Header>);

Header header_for(const struct stat& st) {
    Header h;
    h.dev = static_cast<uint64_t>(st.st_dev);
    h.ino = static_cast<uint64_t>(st.st_ino);
    h.size = static_cast<uint64_t>(st.st_size);
    h.mtime_s = static_cast<int64_t>(st.st_mtim.tv_sec);
    h.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_nsec);
    h.ctime_s = static_cast<int64_t>(st.st_ctim.tv_sec);
    h.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_nsec);
    return h;
}

uint64_t padded(uint64_t octets) {
    return (octets + 7) / 8 * 8;
}

// The file's size for the header's counts, which must be bounded first.
uint64_t file_octets(const Header& h) {
    return sizeof(Header) + h.messages * sizeof(MessageEntry) + h.repeats * sizeof(RepeatRow) +
           h.x_uidls * sizeof(XUidlRow) + padded(h.x_uidl_octets) + kChecksumOctets;
}

// Multiply-xorshift over 8-octet words in four interleaved lanes (so that
// the multiplications overlap: about 1 ms for 100,000 entries). Each step is
// invertible, so any change to a single word changes the result; it finds
// torn and flipped octets, and is no defence against a forger (see
// index_cache.h for why none is needed).
class Checksum {
public:
    void add(const void* data, size_t octets) {
        const auto* p = static_cast<const unsigned char*>(data);
        size_t words = octets / 8;
        size_t i = 0;
        for (; i < words && words_ % 4 != 0; ++i)
            add_word(load(p + 8 * i));
        for (; i + 4 <= words; i += 4) {
            for (size_t lane = 0; lane < 4; ++lane)
                lanes_[lane] = mix(lanes_[lane] ^ load(p + 8 * (i + lane)));
            words_ += 4;
        }
        for (; i < words; ++i)
            add_word(load(p + 8 * i));
    }
    uint64_t value() const {
        uint64_t h = words_;
        for (uint64_t lane : lanes_)
            h = finish(h ^ mix(lane));
        return h;
    }

private:
    static uint64_t load(const unsigned char* p) {
        uint64_t w;
        std::memcpy(&w, p, sizeof w);
        return w;
    }
    static uint64_t mix(uint64_t h) {
        h *= 0x9e3779b97f4a7c15;
        return h ^ (h >> 32);
    }
    // splitmix64's finalizer
    static uint64_t finish(uint64_t h) {
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9;
        h = (h ^ (h >> 27)) * 0x94d049bb133111eb;
        return h ^ (h >> 31);
    }
    void add_word(uint64_t w) {
        uint64_t& lane = lanes_[words_++ % 4];
        lane = mix(lane ^ w);
    }

    uint64_t lanes_[4] = {0x243f6a8885a308d3, 0x13198a2e03707344, 0xa4093822299f31d0,
                          0x082efa98ec4e6c89};
    uint64_t words_ = 0;
};

// The header's part of the checksum: all of it but the mailbox's stat,
// which restamp_index_cache rewrites alone when the file only moved. A torn
// or damaged stat block cannot pass for another state of the mailbox: it
// has to equal the mailbox's fstat to be used at all.
void add_header(Checksum& sum, const void* header) {
    const auto* p = static_cast<const unsigned char*>(header);
    sum.add(p, kIndexCacheStatOffset);
    sum.add(p + kIndexCacheStatOffset + kIndexCacheStatOctets,
            kIndexCacheHeaderOctets - kIndexCacheStatOffset - kIndexCacheStatOctets);
}

// The X-UIDL octets zero-padded to 8, as stored.
std::string padded_x_uidl_octets(const MboxIndex& index) {
    std::string octets = index.x_uidl_octets;
    octets.resize(padded(octets.size()), '\0');
    return octets;
}

// cache_path + ".tmp", ours until renamed: removed on destruction otherwise.
Result<TempFile> create_cache_temp(const std::string& cache_path) {
    std::string path = cache_path + ".tmp";
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY;
    auto fd = open_file(path, flags, 0600);
    if (!fd && fd.error().errnum == EEXIST) {
        // Left by a save that crashed (sessions of one user never
        // overlap). unlink removes a symlink, never what it points to.
        if (auto gone = unlink_path(path); !gone)
            return gone.error();
        fd = open_file(path, flags, 0600);
    }
    if (!fd)
        return fd.error();
    return TempFile(std::move(path), std::move(*fd));
}

// --- validation -------------------------------------------------------------

bool same_mailbox_state(const Header& h, const Header& now) {
    return h.dev == now.dev && h.ino == now.ino && h.size == now.size && h.mtime_s == now.mtime_s &&
           h.mtime_ns == now.mtime_ns && h.ctime_s == now.ctime_s && h.ctime_ns == now.ctime_ns;
}

// Counts a real index of this mailbox could have, so that the sizes computed
// from them cannot overflow and nothing is allocated for a lie.
bool plausible_counts(const Header& h) {
    return h.messages <= kMaxMessages && h.messages <= h.size / kMinMessageOctets &&
           (h.size == 0) == (h.messages == 0) && h.repeats < std::max<uint64_t>(h.messages, 1) &&
           h.x_uidls <= h.messages && h.x_uidl_octets >= h.x_uidls &&
           h.x_uidl_octets <= h.x_uidls * kMaxUidlOctets;
}

// The indexer's invariants (mbox_index.h): the first message at 0, each
// From_ line before its content, messages in order with only the
// separator's empty line (1 or 2 octets) between them, all inside the file.
bool valid_entries(const MessageList& messages, uint64_t file_size) {
    uint64_t previous_end = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
        const MessageEntry& m = messages[i];
        if (i == 0 ? m.from_line != 0
                   : m.from_line < previous_end + 1 || m.from_line > previous_end + 2)
            return false;
        if (m.start < m.from_line || m.start - m.from_line < kMinMessageOctets || m.end < m.start ||
            m.end > file_size)
            return false;
        // LF -> CRLF at most doubles a message (plus the CRLF added to a
        // last line without LF); unescaping ">From " takes at most 1 octet
        // of 8 (">From \r\n").
        uint64_t stored = m.end - m.start;
        if (m.pop_size > 2 * stored + 2 || m.pop_size < stored - stored / 8)
            return false;
        previous_end = m.end;
    }
    return messages.empty() || file_size - previous_end <= 2;
}

bool is_uidl_octet(char c) {
    return c >= 0x21 && c <= 0x7e;
}

// Rows sorted by message and in range, repeats non-zero, X-UIDL values of
// 1..70 octets in 0x21..0x7E (RFC 1939 §7), unique, and no message in both
// tables.
bool valid_side_tables(const MboxIndex& index) {
    const size_t messages = index.messages.size();
    for (size_t k = 0; k < index.repeats.size(); ++k) {
        const RepeatRow& row = index.repeats[k];
        if (row.message >= messages || row.repeat == 0 ||
            (k > 0 && index.repeats[k - 1].message >= row.message))
            return false;
    }
    const std::string_view octets = index.x_uidl_octets;
    if (!std::all_of(octets.begin(), octets.end(), is_uidl_octet))
        return false;
    for (size_t k = 0; k < index.x_uidls.size(); ++k) {
        const XUidlRow& row = index.x_uidls[k];
        uint64_t end = k + 1 < index.x_uidls.size() ? index.x_uidls[k + 1].offset : octets.size();
        if (row.message >= messages || (k == 0 && row.offset != 0) || end <= row.offset ||
            end - row.offset > kMaxUidlOctets ||
            (k > 0 && index.x_uidls[k - 1].message >= row.message) ||
            index.repeat_of(row.message) != 0)
            return false;
    }
    std::vector<uint32_t> by_value(index.x_uidls.size());
    std::iota(by_value.begin(), by_value.end(), uint32_t{0});
    auto value = [&](uint32_t row) {
        uint64_t end =
            row + 1 < index.x_uidls.size() ? index.x_uidls[row + 1].offset : octets.size();
        return octets.substr(index.x_uidls[row].offset, end - index.x_uidls[row].offset);
    };
    std::sort(by_value.begin(), by_value.end(),
              [&](uint32_t a, uint32_t b) { return value(a) < value(b); });
    return std::adjacent_find(by_value.begin(), by_value.end(), [&](uint32_t a, uint32_t b) {
               return value(a) == value(b);
           }) == by_value.end();
}

// Whether `octets` are at `offset` of the mailbox. False also when the file
// is shorter than that (it changed since the fstat).
Result<bool> mailbox_has(int fd, uint64_t offset, std::string_view octets,
                         const std::string& path) {
    char buf[8];
    auto got = pread_full(fd, buf, octets.size(), static_cast<off_t>(offset), path);
    if (!got)
        return got.error();
    return std::string_view(buf, *got) == octets;
}

// The first and the last message begin with "From " after an LF (or at 0),
// and their From_ line ends with LF, or at the end of the file.
Result<bool> matches_mailbox(const MboxIndex& index, int fd, const std::string& path) {
    for (size_t i : {size_t{0}, index.messages.size() - 1}) {
        const MessageEntry& m = index.messages[i];
        auto from = m.from_line == 0 ? mailbox_has(fd, 0, "From ", path)
                                     : mailbox_has(fd, m.from_line - 1, "\nFrom ", path);
        if (!from || !*from)
            return from;
        if (m.start < index.file_size) {
            auto lf = mailbox_has(fd, m.start - 1, "\n", path);
            if (!lf || !*lf)
                return lf;
        }
    }
    return true;
}

// Errors of open(2) that mean "no usable cache here" rather than a failure
// to report: missing, a symlink (O_NOFOLLOW), not ours to read, a device.
bool unusable_cache(int errnum) {
    return errnum == ENOENT || errnum == ELOOP || errnum == EACCES || errnum == EPERM ||
           errnum == ENXIO || errnum == ENODEV || errnum == EISDIR || errnum == EWOULDBLOCK;
}

// Reads `octets` at `offset` into `into`, in one system call for a file
// that does not change meanwhile. False when it ends early (it changed
// since the fstat).
Result<bool> read_section(int fd, void* into, uint64_t octets, uint64_t& offset,
                          const std::string& path) {
    auto got = pread_full(fd, static_cast<char*>(into), octets, static_cast<off_t>(offset), path);
    if (!got)
        return got.error();
    offset += *got;
    return *got == octets;
}

} // namespace

Status save_index_cache(const std::string& cache_path, const MboxIndex& index,
                        const struct stat& mbox_st) {
    if (index.file_size != static_cast<uint64_t>(mbox_st.st_size))
        return Error::because("save index cache", cache_path,
                              "the index is of " + std::to_string(index.file_size) +
                                  " octets, the mailbox of " + std::to_string(mbox_st.st_size));
    Header h = header_for(mbox_st);
    h.uidl_format = static_cast<uint64_t>(index.uidl_format);
    h.messages = index.messages.size();
    h.repeats = index.repeats.size();
    h.x_uidls = index.x_uidls.size();
    h.x_uidl_octets = index.x_uidl_octets.size();
    const std::string octets = padded_x_uidl_octets(index);
    const size_t entry_octets = index.messages.size() * sizeof(MessageEntry);
    const size_t repeat_octets = index.repeats.size() * sizeof(RepeatRow);
    const size_t x_uidl_octets = index.x_uidls.size() * sizeof(XUidlRow);

    Checksum sum;
    add_header(sum, &h);
    sum.add(index.messages.data(), entry_octets);
    sum.add(index.repeats.data(), repeat_octets);
    sum.add(index.x_uidls.data(), x_uidl_octets);
    sum.add(octets.data(), octets.size());
    const uint64_t checksum = sum.value();

    auto temp = create_cache_temp(cache_path);
    if (!temp)
        return temp.error();
    for (auto [data, size] : {std::pair<const void*, size_t>{&h, sizeof h},
                              {index.messages.data(), entry_octets},
                              {index.repeats.data(), repeat_octets},
                              {index.x_uidls.data(), x_uidl_octets},
                              {octets.data(), octets.size()},
                              {&checksum, sizeof checksum}}) {
        if (size == 0)
            continue;
        if (auto w = write_all(temp->fd(), {static_cast<const char*>(data), size}, temp->path());
            !w)
            return w;
    }
    return temp->commit_as(cache_path);
}

Result<std::optional<MboxIndex>> load_index_cache(const std::string& cache_path, int mbox_fd,
                                                  const struct stat& mbox_st, UidlFormat format) {
    const std::optional<MboxIndex> none;
    auto fd = open_file(cache_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (!fd)
        return unusable_cache(fd.error().errnum) ? Result(none) : fd.error();
    auto st = stat_fd(fd->get(), cache_path);
    if (!st)
        return st.error();
    if (!check_own_regular_file(*st, cache_path) ||
        static_cast<uint64_t>(st->st_size) < sizeof(Header) + kChecksumOctets)
        return none;

    Header h;
    uint64_t offset = 0;
    auto read = read_section(fd->get(), &h, sizeof h, offset, cache_path);
    if (!read)
        return read.error();
    if (!*read || h.magic != kMagic || h.version != kFormatVersion ||
        h.uidl_format != static_cast<uint64_t>(format) ||
        !same_mailbox_state(h, header_for(mbox_st)) || !plausible_counts(h) ||
        file_octets(h) != static_cast<uint64_t>(st->st_size))
        return none;

    // Straight into the index's own storage: no second copy of the entries.
    MboxIndex index;
    index.file_size = h.size;
    index.uidl_format = format;
    index.messages.resize(h.messages);
    index.repeats.resize(h.repeats);
    index.x_uidls.resize(h.x_uidls);
    // The X-UIDL octets, their padding and the checksum.
    std::string tail(padded(h.x_uidl_octets) + kChecksumOctets, '\0');
    const std::pair<void*, uint64_t> sections[] = {
        {index.messages.data(), h.messages * sizeof(MessageEntry)},
        {index.repeats.data(), h.repeats * sizeof(RepeatRow)},
        {index.x_uidls.data(), h.x_uidls * sizeof(XUidlRow)},
        {tail.data(), tail.size()}};
    for (auto [into, size] : sections) {
        if (size == 0)
            continue;
        read = read_section(fd->get(), into, size, offset, cache_path);
        if (!read)
            return read.error();
        if (!*read)
            return none;
    }
    Checksum sum;
    add_header(sum, &h);
    for (auto [data, size] : sections)
        sum.add(data, data == tail.data() ? size - kChecksumOctets : size);
    uint64_t checksum = 0;
    std::memcpy(&checksum, tail.data() + tail.size() - kChecksumOctets, sizeof checksum);
    if (checksum != sum.value())
        return none;
    // Padding is zero, as written.
    if (tail.find_first_not_of('\0', h.x_uidl_octets) < tail.size() - kChecksumOctets)
        return none;
    tail.resize(h.x_uidl_octets);
    index.x_uidl_octets = std::move(tail);

    if (!valid_entries(index.messages, index.file_size) || !valid_side_tables(index))
        return none;
    if (!index.messages.empty()) {
        auto matches = matches_mailbox(index, mbox_fd, "mailbox of " + cache_path);
        if (!matches)
            return matches.error();
        if (!*matches)
            return none;
    }
    return std::optional<MboxIndex>(std::move(index));
}

Status restamp_index_cache(const std::string& cache_path, const struct stat& was,
                           const struct stat& now) {
    auto fd = open_file(cache_path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (!fd)
        return fd.error();
    auto st = stat_fd(fd->get(), cache_path);
    if (!st)
        return st.error();
    if (auto own = check_own_regular_file(*st, cache_path); !own)
        return own;
    Header h;
    auto got = pread_full(fd->get(), reinterpret_cast<char*>(&h), sizeof h, 0, cache_path);
    if (!got)
        return got.error();
    if (*got != sizeof h || h.magic != kMagic || h.version != kFormatVersion ||
        !same_mailbox_state(h, header_for(was)))
        return Error::because("restamp index cache", cache_path,
                              "not the cache of the mailbox as it was");
    const Header stamped = header_for(now);
    return pwrite_all(
        fd->get(),
        {reinterpret_cast<const char*>(&stamped) + kIndexCacheStatOffset, kIndexCacheStatOctets},
        kIndexCacheStatOffset, cache_path);
}

void reseal_index_cache(std::string& file) {
    if (file.size() < kIndexCacheHeaderOctets + kChecksumOctets ||
        (file.size() - kChecksumOctets) % 8 != 0)
        return;
    Checksum sum;
    add_header(sum, file.data());
    sum.add(file.data() + kIndexCacheHeaderOctets,
            file.size() - kChecksumOctets - kIndexCacheHeaderOctets);
    uint64_t checksum = sum.value();
    std::memcpy(file.data() + file.size() - kChecksumOctets, &checksum, sizeof checksum);
}

} // namespace popper
