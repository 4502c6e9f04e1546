// libFuzzer target for the index cache loader (see fuzz/run-fuzzers).
//
// The loader's input is a file that anyone may have planted or corrupted;
// this feeds it cache files for one small real mailbox (twins, kept and
// dropped X-UIDLs, CRLF, no final newline), written to disk and loaded.
//
// Input: one flags byte, then
//   flags & 1 == 0: the cache file itself;
//   flags & 1 == 1: two octets of offset, then octets XORed into the valid
//                   cache of the mailbox from that offset (wrapping), any
//                   excess appended: files close to a valid one.
// Unless flags & 2, the header's mailbox state is set to the real
// mailbox's, and unless flags & 4, the checksum is recomputed, so that the
// fuzzer gets past staleness and checksum to the validation. (flags >> 3)
// picks the uidl_format the loader asks for; the valid cache is of format
// popperd, and its X-UIDL table is read the same under any format.
// Checks: loading never reports an error and never crashes; an index it
// accepts lies inside the mailbox, its messages can be read, its UIDLs are
// valid; the valid cache loads equal to the index.
#include "popper/index_cache.h"
#include "popper/io.h"
#include "popper/mbox_index.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace {

void check(bool condition) {
    if (!condition)
        std::abort();
}

const std::string kMailbox =
    "From a@x Thu Jan  1 00:00:00 2015\nSubject: twin\n\nbody\n\n"
    "From b@x Thu Jan  1 00:00:00 2015\nX-UIDL: kept-one\n\nb\n>From x\n\n"
    "From a@x Thu Jan  1 00:00:00 2015\nSubject: twin\n\nother\n\n"
    "From c@x Thu Jan  1 00:00:00 2015\r\nX-UIDL: kept-one\r\n\r\nc\r\n\r\n"
    "From a@x Thu Jan  1 00:00:00 2015\nSubject: twin\n\nno newline";

struct Fixture {
    std::string dir, mbox_path, cache_path;
    int mbox_fd = -1;
    struct stat mbox_st {};
    popper::MboxIndex index;
    std::string valid; // the cache file of `index`

    Fixture() {
        const char* tmp = std::getenv("TMPDIR");
        dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/index_cache_fuzz.XXXXXX";
        check(::mkdtemp(dir.data()) != nullptr);
        mbox_path = dir + "/mbox";
        cache_path = dir + "/cache";
        int fd = ::open(mbox_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        check(fd >= 0 && popper::write_all(fd, kMailbox, mbox_path).has_value());
        mbox_fd = fd;
        check(::fstat(fd, &mbox_st) == 0);
        auto indexed = popper::index_mbox_file(fd, kMailbox.size(), mbox_path);
        check(indexed.has_value());
        index = std::move(*indexed);
        check(popper::save_index_cache(cache_path, index, mbox_st).has_value());
        char buf[65536];
        int cfd = ::open(cache_path.c_str(), O_RDONLY | O_CLOEXEC);
        check(cfd >= 0);
        for (ssize_t n; (n = ::read(cfd, buf, sizeof buf)) > 0;)
            valid.append(buf, static_cast<size_t>(n));
        ::close(cfd);
        check(valid.size() > popper::kIndexCacheHeaderOctets);
    }
    ~Fixture() {
        ::close(mbox_fd);
        ::unlink(mbox_path.c_str());
        ::unlink(cache_path.c_str());
        ::unlink((cache_path + ".tmp").c_str());
        ::rmdir(dir.c_str());
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void write_cache(const Fixture& f, std::string_view bytes) {
    int fd = ::open(f.cache_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    check(fd >= 0 && popper::write_all(fd, bytes, f.cache_path).has_value());
    ::close(fd);
}

void check_accepted(const Fixture& f, const popper::MboxIndex& index) {
    check(index.file_size == kMailbox.size());
    uint64_t previous_end = 0;
    for (size_t i = 0; i < index.messages.size(); ++i) {
        const popper::MessageEntry& m = index.messages[i];
        check(m.from_line >= previous_end && m.from_line < m.start && m.start <= m.end);
        check(m.end <= kMailbox.size());
        std::string stored(m.end - m.start, '\0');
        auto got = popper::pread_full(f.mbox_fd, stored.data(), stored.size(),
                                      static_cast<off_t>(m.start), f.mbox_path);
        check(got.has_value() && *got == stored.size());
        std::string uidl = index.uidl(i);
        check(!uidl.empty() && uidl.size() <= popper::kMaxUidlOctets);
        for (char c : uidl)
            check(c >= 0x21 && c <= 0x7e);
        previous_end = m.end;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    Fixture& f = fixture();
    if (size == 0) {
        // The valid cache loads as the index it was made of.
        write_cache(f, f.valid);
        auto loaded = popper::load_index_cache(f.cache_path, f.mbox_fd, f.mbox_st);
        check(loaded.has_value() && loaded->has_value());
        check((*loaded)->messages.size() == f.index.messages.size());
        for (size_t i = 0; i < f.index.messages.size(); ++i)
            check((*loaded)->uidl(i) == f.index.uidl(i));
        return 0;
    }
    const uint8_t flags = bytes[0];
    std::string_view input(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    std::string file;
    if ((flags & 1) == 0) {
        file = input;
    } else {
        file = f.valid;
        size_t at = input.size() >= 2
                        ? (static_cast<uint8_t>(input[0]) << 8 | static_cast<uint8_t>(input[1])) %
                              file.size()
                        : 0;
        std::string_view edits = input.size() >= 2 ? input.substr(2) : input;
        for (size_t k = 0; k < edits.size(); ++k) {
            if (k < file.size())
                file[(at + k) % file.size()] =
                    static_cast<char>(file[(at + k) % file.size()] ^ edits[k]);
            else
                file += edits[k];
        }
    }
    if ((flags & 2) == 0 && file.size() >= popper::kIndexCacheHeaderOctets)
        std::memcpy(file.data() + popper::kIndexCacheStatOffset,
                    f.valid.data() + popper::kIndexCacheStatOffset, popper::kIndexCacheStatOctets);
    if ((flags & 4) == 0)
        popper::reseal_index_cache(file);
    write_cache(f, file);

    const popper::UidlFormat format =
        popper::kUidlFormats[(flags >> 3) % std::size(popper::kUidlFormats)];
    auto loaded = popper::load_index_cache(f.cache_path, f.mbox_fd, f.mbox_st, format);
    check(loaded.has_value()); // nothing here is an I/O error
    if (loaded->has_value())
        check((*loaded)->uidl_format == format);
    if (loaded->has_value())
        check_accepted(f, **loaded);
    return 0;
}
