// uidl_format over real sessions: the daemon lists the old server's UIDLs,
// keeps them when a session deletes other messages (also the one that
// carried the X-IMAPbase header, whose validity the drop dir remembers),
// and does not mix up index caches made under another format. The formats'
// rules are tested in tests/unit/old_server_uidl_test.cpp, against the real
// servers in tests/uidl/.
#include "support/popperd_test.h"

#include <string>

namespace popper::test {
namespace {

const std::string kFrom = "From sender@example.org Mon Nov 30 06:00:00 2026\n";

class UidlFormatTest : public PopperdTest {
protected:
    std::string uidl_listing() {
        PopClient client = login();
        EXPECT_EQ(client.command("UIDL"), "+OK Unique-ID listing follows");
        std::string listing = client.read_multiline();
        EXPECT_TRUE(client.command("QUIT").starts_with("+OK"));
        return listing;
    }

    void delete_message(int number) {
        PopClient client = login();
        EXPECT_TRUE(client.command("DELE " + std::to_string(number)).starts_with("+OK"));
        EXPECT_TRUE(client.command("QUIT").starts_with("+OK"));
    }
};

TEST_F(UidlFormatTest, DovecotUidlsStayWhenTheMessageWithXImapbaseIsDeleted) {
    host.set_config("uidl_format", "dovecot");
    host.write_spool(kUser, kFrom + "X-IMAPbase: 1796680707 0000000003\nX-UID: 1\n\none\n\n" +
                                kFrom + "X-UID: 2\n\ntwo\n\n" + kFrom + "X-UID: 3\n\nthree\n");
    EXPECT_EQ(uidl_listing(), "1 000000016b172c03\r\n2 000000026b172c03\r\n3 000000036b172c03\r\n");
    delete_message(1);
    EXPECT_EQ(uidl_listing(), "1 000000026b172c03\r\n2 000000036b172c03\r\n");
    EXPECT_TRUE(path_exists(host.drop_dir() + "/" + std::string(kUser) + ".uidbase"));
}

TEST_F(UidlFormatTest, UwPseudoMessageDeletedKeepsTheOthersUidls) {
    host.set_config("uidl_format", "uw");
    host.write_spool(kUser, "From MAILER-DAEMON Mon Nov 30 06:00:00 2026\n"
                            "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
                            "X-IMAP: 1600000000 0000000002\n\ninternal\n\n" +
                                kFrom + "X-UID: 1\n\none\n\n" + kFrom + "X-UID: 2\n\ntwo\n");
    std::string before = uidl_listing();
    EXPECT_NE(before.find("2 5f5e100000000001\r\n3 5f5e100000000002\r\n"), std::string::npos)
        << before;
    delete_message(1);
    EXPECT_EQ(uidl_listing(), "1 5f5e100000000001\r\n2 5f5e100000000002\r\n");
}

TEST_F(UidlFormatTest, NewMailWithoutXUidGetsPopperdsOwnUidl) {
    host.set_config("uidl_format", "dovecot");
    host.write_spool(kUser, kFrom + "X-IMAPbase: 100 0000000001\nX-UID: 1\n\none\n");
    host.deliver(kUser, "\n" + kFrom + "Subject: new\n\nnew\n");
    std::string listing = uidl_listing();
    EXPECT_TRUE(listing.starts_with("1 0000000100000064\r\n2 ")) << listing;
    EXPECT_EQ(listing.size(), std::string("1 0000000100000064\r\n2 \r\n").size() + 32) << listing;
}

TEST_F(UidlFormatTest, Popa3dTwinsGetASuffix) {
    host.set_config("uidl_format", "popa3d");
    std::string twin = kFrom + "Received: from mx\nSubject: same\n\nbody\n";
    host.write_spool(kUser, twin + "\n" + twin);
    std::string listing = uidl_listing();
    ASSERT_EQ(listing.size(), 2 * (2 + 16 + 2) + 2) << listing;
    EXPECT_EQ(listing.substr(2, 16), listing.substr(22, 16)) << listing;
    EXPECT_EQ(listing.substr(38, 4), "-2\r\n") << listing;
}

} // namespace
} // namespace popper::test
