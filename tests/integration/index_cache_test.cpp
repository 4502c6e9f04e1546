// The index cache (U.pop.index, popperd(8)), which follows the mailbox file
// from spool to drop and back, seen over real sessions: saved by a QUIT that
// left the mailbox unchanged, used by the next login while the spool is
// unchanged, ignored (and the spool read again) when the spool changed or
// the cache is damaged or planted. Every session must see exactly the
// mailbox, cache or not.
#include "support/popperd_test.h"

#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace popper::test {
namespace {

// Enough 4 KiB messages to pass the 1 MiB threshold of the cache.
constexpr int kMessages = 300;

std::string numbered_message(int n) {
    const std::string number = std::to_string(n);
    return mbox_message("sender" + number + "@example.org",
                        "From: sender" + number + "@example.org\nSubject: message " + number +
                            "\nMessage-ID: <" + number + "@example.org>\n",
                        std::string(4000, static_cast<char>('a' + n % 26)) + "\n");
}

class IndexCache : public PopperdTest {
protected:
    void SetUp() override {
        host.set_config("log_level", "debug");
        for (int n = 1; n <= kMessages; ++n)
            spool += numbered_message(n);
        host.write_spool(kUser, spool);
    }

    std::string cache_path() const { return host.drop_path(kUser) + ".index"; }

    // STAT, UIDL and RETR of the last message, then QUIT: what a client sees.
    std::string view() {
        PopClient client = login();
        std::string seen = client.command("STAT") + "\n";
        EXPECT_EQ(client.command("UIDL"), "+OK Unique-ID listing follows");
        seen += client.read_multiline();
        const std::string count = seen.substr(4, seen.find(' ', 4) - 4);
        EXPECT_TRUE(client.command("RETR " + count).starts_with("+OK"));
        seen += client.read_multiline();
        EXPECT_TRUE(client.command("QUIT").starts_with("+OK Bye"));
        return seen;
    }

    size_t log_count(const std::string& text) {
        size_t n = 0;
        const std::string log = daemon().log_text();
        for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
            ++n;
        return n;
    }

    std::string spool;
};

TEST_F(IndexCache, ALoginSavesItAndTheNextLoginOfTheUnchangedSpoolLoadsIt) {
    const std::string first = view();
    EXPECT_TRUE(first.starts_with("+OK " + std::to_string(kMessages) + " "));
    EXPECT_TRUE(daemon().wait_for_log("saved to " + cache_path()));
    struct stat st {};
    ASSERT_EQ(::lstat(cache_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(view(), first);
    EXPECT_TRUE(daemon().wait_for_log("loaded from " + cache_path()));
    EXPECT_EQ(host.read_spool(kUser), spool);
    // That session's QUIT renamed the file back (a new ctime): the cache
    // follows it with a new stamp, not a new save, and serves a third login.
    EXPECT_TRUE(daemon().wait_for_log("index cache " + cache_path() + " restamped"));
    EXPECT_EQ(view(), first);
    EXPECT_EQ(log_count("loaded from " + cache_path()), 2u);
    EXPECT_EQ(log_count("saved to " + cache_path()), 1u);
}

TEST_F(IndexCache, NewMailMakesItStaleAndTheSpoolIsReadAgain) {
    view();
    EXPECT_TRUE(daemon().wait_for_log("saved to " + cache_path()));
    host.deliver(kUser, numbered_message(kMessages + 1));
    const std::string after = view();
    EXPECT_TRUE(after.starts_with("+OK " + std::to_string(kMessages + 1) + " "));
    EXPECT_EQ(log_count("loaded from " + cache_path()), 0u);
    EXPECT_EQ(log_count("saved to " + cache_path()), 2u);
}

TEST_F(IndexCache, ADeletingQuitMakesItStale) {
    view();
    {
        PopClient client = login();
        EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
        EXPECT_TRUE(client.command("QUIT").starts_with("+OK Bye"));
    }
    // The deleting session itself found the spool unchanged; the next does not.
    EXPECT_EQ(log_count("loaded from " + cache_path()), 1u);
    EXPECT_TRUE(view().starts_with("+OK " + std::to_string(kMessages - 1) + " "));
    EXPECT_EQ(log_count("loaded from " + cache_path()), 1u);
}

// Damaged or planted caches: the session still sees exactly the spool.
TEST_F(IndexCache, DamagedOrPlantedCachesAreIgnored) {
    const std::string truth = view();
    ASSERT_TRUE(daemon().wait_for_log("saved to " + cache_path()));
    auto saved = read_file(cache_path());
    ASSERT_TRUE(saved);
    struct Damage {
        const char* what;
        std::string bytes;
    };
    std::string flipped = *saved;
    flipped[flipped.size() / 2] ^= 0x40;
    std::string zeros(saved->size(), '\0');
    const std::vector<Damage> damages = {
        {"truncated", saved->substr(0, saved->size() / 3)},
        {"one flipped bit", flipped},
        {"zeros", zeros},
        {"empty", ""},
    };
    for (const auto& damage : damages) {
        SCOPED_TRACE(damage.what);
        write_file(cache_path(), damage.bytes, 0600);
        host.give_to_mail_owner(cache_path());
        EXPECT_EQ(view(), truth);
    }
    // A symlink to another file, and a FIFO, planted in its place.
    ASSERT_EQ(::unlink(cache_path().c_str()), 0);
    ASSERT_EQ(::symlink(host.users_file().c_str(), cache_path().c_str()), 0);
    EXPECT_EQ(view(), truth);
    ::unlink(cache_path().c_str());
    ASSERT_EQ(::mkfifo(cache_path().c_str(), 0600), 0);
    host.give_to_mail_owner(cache_path());
    EXPECT_EQ(view(), truth);
    EXPECT_EQ(host.read_spool(kUser), spool);
}

} // namespace
} // namespace popper::test
