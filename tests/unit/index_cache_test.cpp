#include "popper/index_cache.h"

#include "popper/io.h"
#include "popper/mbox_index.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fcntl.h>
#include <functional>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace popper {
namespace {

using test::read_file;
using test::write_file;

// A mailbox on disk, open, with its fstat and its index.
class Mailbox {
public:
    Mailbox(const test::MailHost& host, std::string_view bytes, std::string name = "mbox")
        : path_(host.path(name)) {
        write_file(path_, bytes);
        fd_ = open_file(path_, O_RDONLY).value().release();
        restat();
        auto index = index_mbox_file(fd_, static_cast<uint64_t>(st_.st_size), path_);
        EXPECT_TRUE(index.has_value()) << index.error().message();
        if (index)
            index_ = std::move(*index);
    }
    ~Mailbox() { ::close(fd_); }
    void restat() { st_ = stat_fd(fd_, path_).value(); }

    const std::string& path() const { return path_; }
    int fd() const { return fd_; }
    const struct stat& st() const { return st_; }
    const MboxIndex& index() const { return index_; }

private:
    std::string path_;
    int fd_ = -1;
    struct stat st_ {};
    MboxIndex index_;
};

void expect_same_index(const MboxIndex& loaded, const MboxIndex& indexed) {
    EXPECT_EQ(loaded.file_size, indexed.file_size);
    ASSERT_EQ(loaded.messages.size(), indexed.messages.size());
    for (size_t i = 0; i < indexed.messages.size(); ++i) {
        EXPECT_EQ(std::memcmp(&loaded.messages[i], &indexed.messages[i], sizeof(MessageEntry)), 0)
            << "message " << i;
        EXPECT_EQ(loaded.uidl(i), indexed.uidl(i)) << "message " << i;
    }
    ASSERT_EQ(loaded.repeats.size(), indexed.repeats.size());
    for (size_t k = 0; k < indexed.repeats.size(); ++k) {
        EXPECT_EQ(loaded.repeats[k].message, indexed.repeats[k].message);
        EXPECT_EQ(loaded.repeats[k].repeat, indexed.repeats[k].repeat);
    }
    ASSERT_EQ(loaded.x_uidls.size(), indexed.x_uidls.size());
    for (size_t k = 0; k < indexed.x_uidls.size(); ++k) {
        EXPECT_EQ(loaded.x_uidls[k].message, indexed.x_uidls[k].message);
        EXPECT_EQ(loaded.x_uidls[k].offset, indexed.x_uidls[k].offset);
    }
    EXPECT_EQ(loaded.x_uidl_octets, indexed.x_uidl_octets);
}

// What load_index_cache says, as one of "index", "none" or "error: ...".
std::string load_outcome(const std::string& cache, const Mailbox& mbox) {
    auto loaded = load_index_cache(cache, mbox.fd(), mbox.st());
    if (!loaded)
        return "error: " + loaded.error().message();
    return loaded->has_value() ? "index" : "none";
}

std::optional<MboxIndex> load_ok(const std::string& cache, const Mailbox& mbox) {
    auto loaded = load_index_cache(cache, mbox.fd(), mbox.st());
    EXPECT_TRUE(loaded.has_value()) << loaded.error().message();
    return loaded ? std::move(*loaded) : std::nullopt;
}

void save_ok(const std::string& cache, const Mailbox& mbox) {
    auto saved = save_index_cache(cache, mbox.index(), mbox.st());
    ASSERT_TRUE(saved.has_value()) << saved.error().message();
}

// Twins, kept and dropped X-UIDLs, CRLF, a body ">From ", no final newline.
const std::string kMixedMailbox =
    "From a@x Thu Jan  1 00:00:00 2015\nSubject: twin\n\nbody\n\n"
    "From b@x Thu Jan  1 00:00:00 2015\nX-UIDL: kept-one\n\nbody\n>From here\n\n"
    "From a@x Thu Jan  1 00:00:00 2015\nSubject: twin\n\nother body\n\n"
    "From c@x Thu Jan  1 00:00:00 2015\r\nX-UIDL: kept-one\r\n\r\ncrlf\r\n\r\n"
    "From d@x Thu Jan  1 00:00:00 2015\nX-UIDL: " +
    std::string(70, 'u') +
    "\n\nb\n\n"
    "From a@x Thu Jan  1 00:00:00 2015\nSubject: twin\n\nlast, no newline";

TEST(IndexCache, RoundTripEqualsIndexOfTheMailbox) {
    test::MailHost host;
    const std::vector<std::string> mailboxes = {
        "",
        "From a\n",
        "From a",
        "From a\nS: 1\n\nbody\n\n\n",
        "From a\r\nS: 1\r\n\r\nbody\r\n\r\nFrom b\r\n\r\n",
        "From a\nS: 1\n\nFrom b",
        // The bounds on pop_size, reached: every line unescaped and CRLF,
        // every line doubled and a last line without LF.
        "From a\r\n>From \r\n>>From \r\n>From \r\n",
        "From a\n\n\n\n\nx",
        kMixedMailbox,
    };
    for (const std::string& bytes : mailboxes) {
        Mailbox mbox(host, bytes);
        const std::string cache = host.path("cache");
        save_ok(cache, mbox);
        auto loaded = load_ok(cache, mbox);
        ASSERT_TRUE(loaded.has_value()) << testing::PrintToString(bytes);
        expect_same_index(*loaded, mbox.index());
    }
}

TEST(IndexCache, MixedMailboxHasEveryKindOfRow) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    EXPECT_EQ(mbox.index().repeats.size(), 2u);
    EXPECT_EQ(mbox.index().x_uidls.size(), 2u);
    EXPECT_EQ(mbox.index().uidl(1), "kept-one");
}

TEST(IndexCache, RoundTripOnGeneratedMailboxes) {
    test::MailHost host;
    std::mt19937 rng(2449);
    const std::vector<std::string> headers = {"Subject: a\n", "Subject: b\n", "X-UIDL: x1\n",
                                              "X-UIDL: x2\n", "Status: RO\n", "To: t\n"};
    for (int round = 0; round < 100; ++round) {
        std::string bytes;
        for (size_t n = 1 + rng() % 30; n > 0; --n) {
            bytes += "From " + std::to_string(rng() % 3) + (rng() % 4 ? "\n" : "\r\n");
            for (size_t h = rng() % 3; h > 0; --h)
                bytes += headers[rng() % headers.size()];
            bytes += "\n" + std::string(rng() % 50, 'b') + "\n\n";
        }
        Mailbox mbox(host, bytes);
        const std::string cache = host.path("cache");
        save_ok(cache, mbox);
        auto loaded = load_ok(cache, mbox);
        ASSERT_TRUE(loaded.has_value()) << bytes;
        expect_same_index(*loaded, mbox.index());
    }
}

TEST(IndexCache, SavedFileIsPrivateAndNoTempFileStays) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string cache = host.path("cache");
    save_ok(cache, mbox);
    struct stat st {};
    ASSERT_EQ(::lstat(cache.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_FALSE(test::path_exists(cache + ".tmp"));
}

TEST(IndexCache, SaveReplacesTempFileLeftByACrash) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string cache = host.path("cache");
    write_file(cache + ".tmp", "half a cache");
    save_ok(cache, mbox);
    EXPECT_FALSE(test::path_exists(cache + ".tmp"));
    EXPECT_EQ(load_outcome(cache, mbox), "index");
}

TEST(IndexCache, SaveNeverWritesThroughSymlinks) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string cache = host.path("cache");
    const std::string victim = host.path("victim");
    write_file(victim, "precious");
    ASSERT_EQ(::symlink(victim.c_str(), (cache + ".tmp").c_str()), 0);
    ASSERT_EQ(::symlink(victim.c_str(), cache.c_str()), 0);
    save_ok(cache, mbox);
    EXPECT_EQ(read_file(victim), "precious");
    EXPECT_EQ(load_outcome(cache, mbox), "index");
}

TEST(IndexCache, SaveRefusesAnIndexOfAnotherSize) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    struct stat other = mbox.st();
    other.st_size += 1;
    auto saved = save_index_cache(host.path("cache"), mbox.index(), other);
    ASSERT_FALSE(saved.has_value());
    EXPECT_NE(saved.error().message().find(host.path("cache")), std::string::npos);
}

// An old server's names are rows of the X-UIDL table: they round-trip, and
// a cache is used only under the uidl_format it was saved for.
TEST(IndexCache, KeyedByTheUidlFormat) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    for (UidlFormat format : kUidlFormats) {
        UidlOptions options;
        options.format = format;
        auto index = index_mbox_file(mbox.fd(), static_cast<uint64_t>(mbox.st().st_size),
                                     mbox.path(), options);
        ASSERT_TRUE(index) << index.error().message();
        const std::string cache = host.path("cache");
        ASSERT_TRUE(save_index_cache(cache, *index, mbox.st()));
        for (UidlFormat other : kUidlFormats) {
            auto loaded = load_index_cache(cache, mbox.fd(), mbox.st(), other);
            ASSERT_TRUE(loaded) << loaded.error().message();
            EXPECT_EQ(loaded->has_value(), other == format)
                << uidl_format_name(format) << " loaded as " << uidl_format_name(other);
            if (other == format && *loaded) {
                EXPECT_EQ((*loaded)->uidl_format, format);
                expect_same_index(**loaded, *index);
            }
        }
    }
}

// --- what is not a usable cache --------------------------------------------

TEST(IndexCache, MissingCacheIsNone) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    EXPECT_EQ(load_outcome(host.path("cache"), mbox), "none");
}

TEST(IndexCache, ErrorWhenThePathCannotBeReached) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    write_file(host.path("file"), "x");
    EXPECT_EQ(load_outcome(host.path("file/cache"), mbox).substr(0, 6), "error:");
}

TEST(IndexCache, EveryChangeOfTheMailboxStateIsStale) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string cache = host.path("cache");
    save_ok(cache, mbox);
    const std::vector<std::function<void(struct stat&)>> changes = {
        [](struct stat& st) { st.st_dev += 1; },
        [](struct stat& st) { st.st_ino += 1; },
        [](struct stat& st) { st.st_size -= 1; },
        [](struct stat& st) { st.st_mtim.tv_sec += 1; },
        [](struct stat& st) { st.st_mtim.tv_nsec = (st.st_mtim.tv_nsec + 1) % 1000000000; },
        [](struct stat& st) { st.st_ctim.tv_sec -= 1; },
        [](struct stat& st) { st.st_ctim.tv_nsec = (st.st_ctim.tv_nsec + 1) % 1000000000; },
    };
    for (size_t k = 0; k < changes.size(); ++k) {
        struct stat st = mbox.st();
        changes[k](st);
        auto loaded = load_index_cache(cache, mbox.fd(), st);
        ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
        EXPECT_FALSE(loaded->has_value()) << "change " << k;
    }
    EXPECT_EQ(load_outcome(cache, mbox), "index");
}

TEST(IndexCache, MailAppendedSinceIsStale) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string cache = host.path("cache");
    save_ok(cache, mbox);
    int fd = ::open(mbox.path().c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(write_all(fd, "\n\nFrom new\n\nb\n", mbox.path()));
    ::close(fd);
    mbox.restat();
    EXPECT_EQ(load_outcome(cache, mbox), "none");
}

TEST(IndexCache, EveryTruncationAndAnExtraOctetAreNone) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string cache = host.path("cache");
    save_ok(cache, mbox);
    const std::string whole = read_file(cache).value();
    for (size_t length = 0; length < whole.size(); ++length) {
        write_file(cache, whole.substr(0, length));
        ASSERT_EQ(load_outcome(cache, mbox), "none") << "length " << length;
    }
    write_file(cache, whole + '\0');
    EXPECT_EQ(load_outcome(cache, mbox), "none");
    write_file(cache, whole);
    EXPECT_EQ(load_outcome(cache, mbox), "index");
}

TEST(IndexCache, EveryFlippedBitIsNone) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string cache = host.path("cache");
    save_ok(cache, mbox);
    const std::string whole = read_file(cache).value();
    for (size_t pos = 0; pos < whole.size(); ++pos) {
        for (int bit : {0x01, 0x80}) {
            std::string flipped = whole;
            flipped[pos] = static_cast<char>(flipped[pos] ^ bit);
            write_file(cache, flipped);
            ASSERT_EQ(load_outcome(cache, mbox), "none") << "octet " << pos << " bit " << bit;
        }
    }
}

TEST(IndexCache, RefusesSymlinkFifoDirectoryHardLinkAndOthersFile) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string real = host.path("real-cache");
    save_ok(real, mbox);
    ASSERT_EQ(load_outcome(real, mbox), "index");

    const std::string link = host.path("symlink-cache");
    ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
    EXPECT_EQ(load_outcome(link, mbox), "none");

    const std::string fifo = host.path("fifo-cache");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(load_outcome(fifo, mbox), "none"); // and does not hang

    const std::string dir = host.path("dir-cache");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    EXPECT_EQ(load_outcome(dir, mbox), "none");

    const std::string hard = host.path("hard-cache");
    ASSERT_EQ(::link(real.c_str(), hard.c_str()), 0);
    EXPECT_EQ(load_outcome(hard, mbox), "none");
    EXPECT_EQ(load_outcome(real, mbox), "none");
    ASSERT_EQ(::unlink(hard.c_str()), 0);
    EXPECT_EQ(load_outcome(real, mbox), "index");

    if (::geteuid() != 0)
        GTEST_SKIP() << "giving a file to another user needs root";
    ASSERT_EQ(::chown(real.c_str(), 65534, 65534), 0);
    EXPECT_EQ(load_outcome(real, mbox), "none");
}

// --- files that pass the checksum but not the validation ---------------------

// The cache file as words: edits at the documented offsets, then resealed.
class CacheFile {
public:
    explicit CacheFile(std::string bytes) : bytes_(std::move(bytes)) {}
    uint64_t get(size_t offset) const {
        uint64_t v;
        std::memcpy(&v, bytes_.data() + offset, sizeof v);
        return v;
    }
    void set(size_t offset, uint64_t v) { std::memcpy(bytes_.data() + offset, &v, sizeof v); }
    uint32_t get32(size_t offset) const {
        uint32_t v;
        std::memcpy(&v, bytes_.data() + offset, sizeof v);
        return v;
    }
    void set32(size_t offset, uint32_t v) { std::memcpy(bytes_.data() + offset, &v, sizeof v); }

    uint64_t count(size_t k) const { return get(kIndexCacheCountsOffset + 8 * k); }
    // Offsets of entry i's fields, of repeat and X-UIDL row k, of X-UIDL octet j.
    static size_t entry(size_t i, size_t field) {
        return kIndexCacheHeaderOctets + sizeof(MessageEntry) * i + 8 * field;
    }
    size_t repeat_row(size_t k) const {
        return kIndexCacheHeaderOctets + sizeof(MessageEntry) * count(0) + 8 * k;
    }
    size_t x_uidl_row(size_t k) const { return repeat_row(count(1)) + 8 * k; }
    size_t x_uidl_octet(size_t j) const { return x_uidl_row(count(2)) + j; }

    std::string sealed() const {
        std::string bytes = bytes_;
        reseal_index_cache(bytes);
        return bytes;
    }
    std::string& bytes() { return bytes_; }

private:
    std::string bytes_;
};

enum Field { kFromLine, kStart, kEnd, kPopSize };

struct Breakage {
    std::string name;
    std::function<void(CacheFile&)> apply;
};

TEST(IndexCache, ResealedInvalidIndexesAreNone) {
    test::MailHost host;
    Mailbox mbox(host, kMixedMailbox);
    const std::string cache = host.path("cache");
    save_ok(cache, mbox);
    const CacheFile valid(read_file(cache).value());
    const uint64_t size = static_cast<uint64_t>(mbox.st().st_size);
    const size_t last = mbox.index().messages.size() - 1;
    ASSERT_EQ(valid.count(1), 2u);
    ASSERT_EQ(valid.count(2), 2u);
    using F = CacheFile;
    const std::vector<Breakage> breakages = {
        {"other version", [](F& f) { f.set(8, f.get(8) + 1); }},
        {"other magic", [](F& f) { f.set(0, f.get(0) ^ 1); }},
        {"first message not at 0", [](F& f) { f.set(F::entry(0, kFromLine), 1); }},
        {"From_ line shorter than \"From \"",
         [](F& f) { f.set(F::entry(1, kStart), f.get(F::entry(1, kFromLine)) + 4); }},
        {"end before start",
         [](F& f) { f.set(F::entry(1, kEnd), f.get(F::entry(1, kStart)) - 1); }},
        {"end past the file", [&](F& f) { f.set(F::entry(last, kEnd), size + 1); }},
        {"overlapping messages",
         [](F& f) { f.set(F::entry(0, kEnd), f.get(F::entry(1, kFromLine))); }},
        {"gap wider than a separator",
         [](F& f) { f.set(F::entry(0, kEnd), f.get(F::entry(0, kEnd)) - 2); }},
        {"garbage after the last message",
         [&](F& f) { f.set(F::entry(last, kEnd), f.get(F::entry(last, kEnd)) - 3); }},
        {"pop_size too large",
         [](F& f) {
             f.set(F::entry(1, kPopSize),
                   2 * (f.get(F::entry(1, kEnd)) - f.get(F::entry(1, kStart))) + 3);
         }},
        {"pop_size too small", [](F& f) { f.set(F::entry(1, kPopSize), 1); }},
        {"one message more than the file holds",
         [](F& f) { f.set(kIndexCacheCountsOffset, f.count(0) + 1); }},
        {"more messages than the mailbox could hold",
         [&](F& f) {
             f.set(kIndexCacheCountsOffset, size);
             f.bytes().insert(F::entry(last + 1, 0),
                              std::string((size - last - 1) * sizeof(MessageEntry), '\0'));
         }},
        {"repeat row past the last message",
         [&](F& f) { f.set32(f.repeat_row(1), static_cast<uint32_t>(last + 1)); }},
        {"repeat of 0", [](F& f) { f.set32(f.repeat_row(0) + 4, 0); }},
        {"repeat rows out of order",
         [](F& f) {
             uint64_t a = f.get(f.repeat_row(0)), b = f.get(f.repeat_row(1));
             f.set(f.repeat_row(0), b);
             f.set(f.repeat_row(1), a);
         }},
        {"X-UIDL row past the last message",
         [&](F& f) { f.set32(f.x_uidl_row(1), static_cast<uint32_t>(last + 1)); }},
        {"X-UIDL rows out of order",
         [](F& f) { f.set32(f.x_uidl_row(1), f.get32(f.x_uidl_row(0))); }},
        {"first X-UIDL not at offset 0", [](F& f) { f.set32(f.x_uidl_row(0) + 4, 1); }},
        {"X-UIDL of 71 octets",
         [](F& f) { f.set32(f.x_uidl_row(1) + 4, f.get32(f.x_uidl_row(1) + 4) - 1); }},
        {"empty X-UIDL", [](F& f) { f.set32(f.x_uidl_row(1) + 4, f.get32(f.x_uidl_row(0) + 4)); }},
        {"X-UIDL with a space", [](F& f) { f.bytes()[f.x_uidl_octet(3)] = ' '; }},
        {"X-UIDL with DEL", [](F& f) { f.bytes()[f.x_uidl_octet(0)] = '\x7f'; }},
        {"message with both a repeat and an X-UIDL",
         [](F& f) { f.set32(f.repeat_row(0), f.get32(f.x_uidl_row(0))); }},
        {"non-zero padding", [](F& f) { f.bytes()[f.x_uidl_octet(f.count(3))] = 'p'; }},
    };
    ASSERT_NE(valid.count(3) % 8, 0u) << "the padding case needs padding";
    write_file(cache, valid.sealed());
    ASSERT_EQ(load_outcome(cache, mbox), "index");
    for (const Breakage& b : breakages) {
        CacheFile broken = valid;
        b.apply(broken);
        write_file(cache, broken.sealed());
        EXPECT_EQ(load_outcome(cache, mbox), "none") << b.name;
    }
}

TEST(IndexCache, DuplicateXUidlValuesAreNone) {
    test::MailHost host;
    Mailbox mbox(host, "From a\nX-UIDL: abc\n\nb\n\nFrom b\nX-UIDL: abd\n\nb\n");
    const std::string cache = host.path("cache");
    save_ok(cache, mbox);
    CacheFile file(read_file(cache).value());
    ASSERT_EQ(file.count(2), 2u);
    file.bytes()[file.x_uidl_octet(5)] = 'c';
    write_file(cache, file.sealed());
    EXPECT_EQ(load_outcome(cache, mbox), "none");
}

// The cache is checked against the mailbox's bytes, not only its stat: a
// mailbox of the same size whose first or last message does not begin
// where the cache says.
TEST(IndexCache, MailboxWithoutFromWhereTheCacheSaysIsNone) {
    test::MailHost host;
    const std::string bytes = "From a\nS: 1\n\nbody\n\nFrom b\nS: 2\n\nlast\n";
    Mailbox mbox(host, bytes);
    const std::string cache = host.path("cache");
    save_ok(cache, mbox);
    std::string first = bytes, last = bytes, before_last = bytes, from_line_end = bytes;
    first[0] = 'f';
    last[bytes.find("From b")] = 'f';
    before_last[bytes.find("From b") - 1] = 'x';
    from_line_end[bytes.find("From b") + 6] = ' ';
    for (const std::string& other : {first, last, before_last, from_line_end}) {
        write_file(host.path("other"), other);
        int fd = ::open(host.path("other").c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        auto loaded = load_index_cache(cache, fd, mbox.st());
        ::close(fd);
        ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
        EXPECT_FALSE(loaded->has_value()) << other;
    }
    EXPECT_EQ(load_outcome(cache, mbox), "index");
}

} // namespace
} // namespace popper
