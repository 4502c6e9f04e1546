// Invariants 1-3 (DESIGN.md) seen from outside: what a session leaves in the
// spool after QUIT, RSET, a dropped connection, mail delivered meanwhile, a
// concurrent login, a held lock, a killed session; and spools that must be
// refused without being touched. Spools are compared byte for byte.
#include "support/popperd_test.h"

#include <csignal>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace popper::test {
namespace {

std::string numbered_message(int n) {
    const std::string number = std::to_string(n);
    return mbox_message("sender" + number + "@example.org",
                        "From: sender" + number + "@example.org\nSubject: message " + number +
                            "\nMessage-ID: <" + number + "@example.org>\n",
                        "Body of message " + number + ".\n");
}

class Maildrop : public PopperdTest {
protected:
    void SetUp() override {
        for (int n = 1; n <= 4; ++n)
            messages.push_back(numbered_message(n));
        host.write_spool(kUser, all_messages());
    }

    std::string all_messages() const {
        std::string spool;
        for (const auto& m : messages)
            spool += m;
        return spool;
    }

    // The UIDL listing of a fresh session, which is then ended with QUIT.
    std::string uidl_listing() {
        PopClient client = login();
        EXPECT_EQ(client.command("UIDL"), "+OK Unique-ID listing follows");
        std::string listing = client.read_multiline();
        EXPECT_TRUE(client.command("QUIT").starts_with("+OK Bye"));
        return listing;
    }

    bool drop_is_gone() const {
        return wait_until([&] { return !path_exists(host.drop_path(kUser)); });
    }

    std::vector<std::string> messages;
};

TEST_F(Maildrop, QuitAfterDeleRemovesExactlyThoseMessagesAndKeepsEveryOtherByte) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 2"), "+OK Message 2 deleted");
    EXPECT_EQ(client.command("DELE 4"), "+OK Message 4 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(2));
    EXPECT_EQ(host.read_spool(kUser), messages[0] + messages[2]);
    EXPECT_FALSE(path_exists(host.drop_path(kUser)));
}

TEST_F(Maildrop, QuitAfterDeletingTheFirstMessageKeepsTheRestIdentical) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(3));
    EXPECT_EQ(host.read_spool(kUser), messages[1] + messages[2] + messages[3]);
}

TEST_F(Maildrop, QuitAfterDeletingEveryMessageLeavesAnEmptySpool) {
    PopClient client = login();
    for (int n = 1; n <= 4; ++n)
        EXPECT_EQ(client.command("DELE " + std::to_string(n)),
                  "+OK Message " + std::to_string(n) + " deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(0));
    EXPECT_EQ(host.read_spool(kUser), "");
}

TEST_F(Maildrop, QuitWithoutDeleLeavesTheSpoolByteIdentical) {
    PopClient client = login();
    EXPECT_EQ(client.command("RETR 3").substr(0, 3), "+OK");
    client.read_multiline();
    EXPECT_EQ(client.command("QUIT"), bye_reply(4));
    EXPECT_EQ(host.read_spool(kUser), all_messages());
}

TEST_F(Maildrop, RsetBeforeQuitDeletesNothing) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("DELE 3"), "+OK Message 3 deleted");
    EXPECT_TRUE(client.command("RSET").starts_with("+OK Maildrop has 4 "));
    EXPECT_EQ(client.command("QUIT"), bye_reply(4));
    EXPECT_EQ(host.read_spool(kUser), all_messages());
}

TEST_F(Maildrop, DroppedConnectionWithoutQuitDeletesNothing) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("DELE 2"), "+OK Message 2 deleted");
    client.close();
    EXPECT_TRUE(daemon().wait_for_log("how=disconnected"));
    EXPECT_TRUE(drop_is_gone());
    EXPECT_EQ(host.read_spool(kUser), all_messages());
}

TEST_F(Maildrop, ClientVanishingDuringALargeRetrDeletesNothing) {
    const std::string big =
        mbox_message("big@example.org", "Subject: big\n", filler_lines(50000, 75));
    host.write_spool(kUser, big + all_messages());
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 2"), "+OK Message 2 deleted");
    client.send_raw("RETR 1\r\n");
    EXPECT_TRUE(client.read_line().starts_with("+OK "));
    client.close(); // unread data: the kernel answers the daemon's writes with RST
    EXPECT_TRUE(daemon().wait_for_log("how=disconnected"));
    EXPECT_TRUE(drop_is_gone());
    EXPECT_TRUE(same_bytes(big + all_messages(), host.read_spool(kUser)));
}

// Invariant 6: at login the spool file itself becomes the drop (one rename,
// same inode); the spool path stays free for the MTA; a QUIT that changed
// nothing renames the same file back, bytes and mtime untouched.
TEST_F(Maildrop, LoginMovesTheSpoolIntoTheDropAndAnUnchangedQuitRenamesItBack) {
    const std::string spool = host.spool_path(kUser);
    ASSERT_EQ(::chmod(spool.c_str(), 0640), 0);
    struct stat before {};
    ASSERT_EQ(::stat(spool.c_str(), &before), 0);
    PopClient client = login();
    EXPECT_FALSE(path_exists(spool));
    struct stat drop {};
    ASSERT_EQ(::stat(host.drop_path(kUser).c_str(), &drop), 0);
    EXPECT_EQ(drop.st_ino, before.st_ino);
    EXPECT_TRUE(client.command("RETR 2").starts_with("+OK "));
    EXPECT_NE(client.read_multiline().find("Body of message 2."), std::string::npos);
    EXPECT_EQ(client.command("QUIT"), bye_reply(4));
    struct stat after {};
    ASSERT_EQ(::stat(spool.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino);
    EXPECT_EQ(after.st_mode & 07777, 0640u);
    EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    EXPECT_EQ(host.read_spool(kUser), all_messages());
    EXPECT_TRUE(drop_is_gone());
}

// Invariant 6: a local mail reader writes the spool path, never the drop:
// whatever it writes there during the session, every RETR answers the
// message listed at login, byte for byte.
TEST_F(Maildrop, AReaderWritingTheSpoolDuringTheSessionCannotChangeWhatItServes) {
    PopClient client = login();
    host.write_spool(kUser, numbered_message(7) + numbered_message(8));
    for (int n = 1; n <= 4; ++n) {
        EXPECT_TRUE(client.command("RETR " + std::to_string(n)).starts_with("+OK "));
        std::string body = client.read_multiline();
        EXPECT_NE(body.find("Body of message " + std::to_string(n) + "."), std::string::npos);
        EXPECT_EQ(body.find("message 7"), std::string::npos);
    }
    EXPECT_EQ(client.command("DELE 2"), "+OK Message 2 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(3));
    EXPECT_EQ(host.read_spool(kUser),
              messages[0] + messages[2] + messages[3] + numbered_message(7) + numbered_message(8));
}

// A reader of the BSD Mail family that read the mailbox before the login
// writes its stale copy back when it quits (s-nail: it only checks whether
// the file grew). Those messages are in the drop: QUIT must neither add them
// twice nor bring back one the POP client deleted; real new mail stays.
TEST_F(Maildrop, AStaleReadersWriteBackIsNeitherDuplicatedNorResurrected) {
    PopClient client = login();
    host.deliver(kUser, numbered_message(5));
    std::string stale = messages[1] + messages[2] + messages[3];
    stale.insert(stale.find("Subject:"), "Status: RO\n");
    host.write_spool(kUser, stale + numbered_message(6));
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("DELE 3"), "+OK Message 3 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(2));
    EXPECT_EQ(host.read_spool(kUser), messages[1] + messages[3] + numbered_message(6));
    EXPECT_TRUE(daemon().wait_for_log("held 3 of the 4 messages the drop holds"));
}

// s-nail, finding the spool grown past what it read, glues the new octets
// onto its stale copy of its last message: same headers, another body. That
// is not an echo: dropping it would drop the new octets with it.
TEST_F(Maildrop, AWriteBackWhoseBodyChangedIsKeptNotTakenForAnEcho) {
    PopClient client = login();
    std::string glued = messages[3];
    glued.insert(glued.size() - 1, "From a delivery that s-nail glued on\n");
    host.write_spool(kUser, messages[2] + glued);
    EXPECT_EQ(client.command("QUIT"), bye_reply(4));
    EXPECT_EQ(host.read_spool(kUser), all_messages() + glued);
    EXPECT_TRUE(daemon().wait_for_log("held 1 of the 4 messages the drop holds"));
}

// The MTA creates a fresh spool during the session (mode 0600); the spool
// that QUIT makes keeps the mode and group the spool had at login.
TEST_F(Maildrop, TheSpoolKeepsItsModeWhenMailArrivesDuringTheSession) {
    ASSERT_EQ(::chmod(host.spool_path(kUser).c_str(), 0660), 0);
    PopClient client = login();
    host.deliver(kUser, numbered_message(5));
    EXPECT_EQ(host.read_spool(kUser), numbered_message(5)); // what a local reader sees
    EXPECT_EQ(client.command("QUIT"), bye_reply(4));
    EXPECT_EQ(host.read_spool(kUser), all_messages() + numbered_message(5));
    struct stat after {};
    ASSERT_EQ(::stat(host.spool_path(kUser).c_str(), &after), 0);
    EXPECT_EQ(after.st_mode & 07777, 0660u);
}

TEST_F(Maildrop, MailDeliveredDuringTheSessionSurvivesDeleAndQuitAfterTheKeptMail) {
    PopClient client = login();
    const std::string fresh = numbered_message(5);
    host.deliver(kUser, fresh);
    EXPECT_TRUE(client.command("STAT").starts_with("+OK 4 "));
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("DELE 3"), "+OK Message 3 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(2));
    EXPECT_EQ(host.read_spool(kUser), messages[1] + messages[3] + fresh);
}

// Deleting from the first message on, nothing of the old mailbox is kept:
// the kept and delivered mail becomes a new spool file (with the old one's
// mode) and the old file is only unlinked, its blocks freed once the
// session has answered. Nothing of it may stay behind in the drop dir.
TEST_F(Maildrop, QuitDeletingFromTheFirstMessageReplacesTheSpoolAndLeavesNothingBehind) {
    ASSERT_EQ(::chmod(host.spool_path(kUser).c_str(), 0640), 0);
    struct stat before {};
    ASSERT_EQ(::stat(host.spool_path(kUser).c_str(), &before), 0);
    PopClient client = login();
    const std::string fresh = numbered_message(5);
    host.deliver(kUser, fresh);
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(client.command("DELE 2"), "+OK Message 2 deleted");
    EXPECT_EQ(client.command("QUIT"), bye_reply(2));
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(host.read_spool(kUser), messages[2] + messages[3] + fresh);
    struct stat after {};
    ASSERT_EQ(::stat(host.spool_path(kUser).c_str(), &after), 0);
    EXPECT_NE(after.st_ino, before.st_ino);
    EXPECT_EQ(after.st_mode & 07777, 0640u);
    EXPECT_EQ(after.st_gid, before.st_gid);
    for (const char* left : {".pop.compact", ".pop.tail", ".pop"})
        EXPECT_FALSE(path_exists(host.drop_dir() + "/" + std::string(kUser) + left)) << left;
    // And the next session sees exactly that mail.
    PopClient next = login();
    EXPECT_TRUE(next.command("STAT").starts_with("+OK 3 "));
}

TEST_F(Maildrop, MailDeliveredDuringTheSessionSurvivesADroppedConnection) {
    PopClient client = login();
    const std::string fresh = numbered_message(5);
    host.deliver(kUser, fresh);
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    client.close();
    EXPECT_TRUE(daemon().wait_for_log("how=disconnected"));
    EXPECT_TRUE(drop_is_gone());
    EXPECT_EQ(host.read_spool(kUser), all_messages() + fresh);
}

TEST_F(Maildrop, MailDeliveredDuringTheSessionIsSeenByTheNextSession) {
    {
        PopClient client = login();
        host.deliver(kUser, numbered_message(5));
        EXPECT_EQ(client.command("DELE 4"), "+OK Message 4 deleted");
        EXPECT_EQ(client.command("QUIT"), bye_reply(3));
    }
    PopClient client = login();
    EXPECT_EQ(client.command("TOP 4 0"), "+OK Top of message follows");
    EXPECT_EQ(client.read_multiline(), "From: sender5@example.org\r\nSubject: message 5\r\n"
                                       "Message-ID: <5@example.org>\r\n\r\n");
}

TEST_F(Maildrop, SecondConcurrentLoginIsRefusedInUseAndTheFirstGoesOn) {
    PopClient first = login();
    PopClient second = connect();
    EXPECT_EQ(second.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(second.command("PASS wonderland"),
              "-ERR [IN-USE] Mailbox is locked by another session or program");
    EXPECT_TRUE(second.wait_closed());
    EXPECT_EQ(first.command("DELE 1"), "+OK Message 1 deleted");
    EXPECT_EQ(first.command("QUIT"), bye_reply(3));
    EXPECT_EQ(host.read_spool(kUser), messages[1] + messages[2] + messages[3]);
    PopClient third = login();
    EXPECT_TRUE(third.command("STAT").starts_with("+OK 3 "));
}

TEST_F(Maildrop, LoginGivesUpWithInUseWhenTheSpoolLockIsHeldPastLockTimeout) {
    host.set_config("lock_timeout", "1s");
    PopClient client = connect();
    {
        HeldSpoolLock mta(host, kUser);
        EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
        EXPECT_EQ(client.command("PASS wonderland"),
                  "-ERR [IN-USE] Mailbox is locked by another session or program");
    }
    EXPECT_EQ(host.read_spool(kUser), all_messages());
    PopClient again = login();
    EXPECT_TRUE(again.command("STAT").starts_with("+OK 4 "));
}

TEST_F(Maildrop, KilledSessionLosesNothingAndItsDeletionsDoNotHappen) {
    PopClient client = login();
    EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
    auto pid = daemon().session_pid(0);
    ASSERT_TRUE(pid);
    ASSERT_EQ(::kill(*pid, SIGKILL), 0);
    EXPECT_TRUE(client.wait_closed());
    // The next login merges the crashed session's drop back, its mail first.
    PopClient next = login();
    EXPECT_TRUE(next.command("STAT").starts_with("+OK 4 "));
    EXPECT_EQ(next.command("QUIT"), bye_reply(4));
    EXPECT_EQ(host.read_spool(kUser), all_messages());
}

TEST_F(Maildrop, UidlsStayTheSameAcrossSessionsAndOtherDeletions) {
    const std::string before = uidl_listing();
    EXPECT_EQ(uidl_listing(), before);
    {
        PopClient client = login();
        EXPECT_EQ(client.command("DELE 1"), "+OK Message 1 deleted");
        EXPECT_EQ(client.command("QUIT"), bye_reply(3));
    }
    // Message n+1 of before is message n now, with the same UIDL.
    std::string expected;
    size_t pos = before.find("\r\n") + 2;
    for (int n = 1; pos < before.size(); ++n) {
        size_t end = before.find("\r\n", pos);
        std::string line = before.substr(pos, end - pos);
        expected += std::to_string(n) + line.substr(line.find(' ')) + "\r\n";
        pos = end + 2;
    }
    EXPECT_EQ(uidl_listing(), expected);
}

TEST_F(Maildrop, XUidlHeaderIsUsedAsTheUidl) {
    host.write_spool(
        kUser, mbox_message("a@example.org", "Subject: a\nX-UIDL: qpopper-id-17\n", "body\n") +
                   messages[1]);
    PopClient client = login();
    EXPECT_EQ(client.command("UIDL 1"), "+OK 1 qpopper-id-17");
}

TEST_F(Maildrop, IdenticalMessagesGetDistinctUidls) {
    host.write_spool(kUser, messages[0] + messages[0] + messages[0]);
    PopClient client = login();
    const std::string uid = client.command("UIDL 1").substr(6);
    EXPECT_EQ(client.command("UIDL 2"), "+OK 2 " + uid + "-2");
    EXPECT_EQ(client.command("UIDL 3"), "+OK 3 " + uid + "-3");
}

TEST_F(Maildrop, MissingSpoolIsAnEmptyMaildrop) {
    ASSERT_EQ(::unlink(host.spool_path(kUser).c_str()), 0);
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"), "+OK Logged in, 0 messages (0 octets)");
    EXPECT_EQ(client.command("STAT"), "+OK 0 0");
    EXPECT_EQ(client.command("QUIT"), bye_reply(0));
}

TEST_F(Maildrop, MailDeliveredToAMissingSpoolDuringTheSessionSurvivesQuit) {
    ASSERT_EQ(::unlink(host.spool_path(kUser).c_str()), 0);
    PopClient client = login();
    const std::string fresh = numbered_message(5);
    host.deliver(kUser, fresh);
    EXPECT_EQ(client.command("STAT"), "+OK 0 0");
    EXPECT_EQ(client.command("QUIT"), bye_reply(0));
    EXPECT_EQ(host.read_spool(kUser), fresh);
}

TEST_F(Maildrop, EmptySpoolFileIsAnEmptyMaildrop) {
    host.write_spool(kUser, "");
    PopClient client = login();
    EXPECT_EQ(client.command("STAT"), "+OK 0 0");
    EXPECT_EQ(client.command("LIST"), "+OK Scan list follows");
    EXPECT_EQ(client.read_multiline(), "");
    EXPECT_EQ(client.command("QUIT"), bye_reply(0));
    EXPECT_EQ(host.read_spool(kUser), "");
}

TEST_F(Maildrop, NonMboxSpoolIsRefusedPermanentlyAndLeftByteIdentical) {
    const std::string not_mbox = "This is not an mbox.\nFrom nobody\n\nreally not\n";
    host.write_spool(kUser, not_mbox);
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"),
              "-ERR [SYS/PERM] Cannot open the mailbox, please contact the administrator");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(host.read_spool(kUser), not_mbox);
    EXPECT_FALSE(path_exists(host.drop_path(kUser)));
}

TEST_F(Maildrop, SymlinkSpoolIsRefusedAndItsTargetUntouched) {
    const std::string target = host.path("elsewhere.mbox");
    write_file(target, all_messages());
    host.give_to_mail_owner(target);
    ASSERT_EQ(::unlink(host.spool_path(kUser).c_str()), 0);
    ASSERT_EQ(::symlink(target.c_str(), host.spool_path(kUser).c_str()), 0);
    host.give_to_mail_owner(host.spool_path(kUser));
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"),
              "-ERR [SYS/PERM] Cannot open the mailbox, please contact the administrator");
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(read_file(target), all_messages());
    char link[4096] = {};
    EXPECT_EQ(::readlink(host.spool_path(kUser).c_str(), link, sizeof link - 1),
              static_cast<ssize_t>(target.size()));
    EXPECT_EQ(std::string(link), target);
}

TEST_F(Maildrop, HardLinkedSpoolIsRefusedAndLeftByteIdentical) {
    const std::string other_name = host.path("other-name");
    ASSERT_EQ(::link(host.spool_path(kUser).c_str(), other_name.c_str()), 0);
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"),
              "-ERR [SYS/PERM] Cannot open the mailbox, please contact the administrator");
    EXPECT_EQ(host.read_spool(kUser), all_messages());
    EXPECT_EQ(read_file(other_name), all_messages());
}

TEST_F(Maildrop, SpoolOwnedBySomeoneElseIsRefusedAndLeftByteIdentical) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to give the spool to another owner";
    ASSERT_EQ(::chown(host.spool_path(kUser).c_str(), 0, 0), 0);
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_TRUE(client.command("PASS wonderland").starts_with("-ERR [SYS/"));
    EXPECT_EQ(host.read_spool(kUser), all_messages());
}

TEST_F(Maildrop, SymlinkPlantedAsTheDropFileIsRefusedAndItsTargetUntouched) {
    const std::string target = host.path("victim");
    write_file(target, "precious\n");
    host.give_to_mail_owner(target);
    ASSERT_EQ(::symlink(target.c_str(), host.drop_path(kUser).c_str()), 0);
    host.give_to_mail_owner(host.drop_path(kUser));
    PopClient client = connect();
    EXPECT_EQ(client.command("USER alice"), "+OK Send your password");
    EXPECT_EQ(client.command("PASS wonderland"),
              "-ERR [SYS/PERM] Cannot open the mailbox, please contact the administrator");
    EXPECT_EQ(read_file(target), "precious\n");
    EXPECT_EQ(host.read_spool(kUser), all_messages());
}

} // namespace
} // namespace popper::test
