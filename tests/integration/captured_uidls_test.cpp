// popperd-uidl capture, the real binary (POPPERD_UIDL_BINARY), against a
// real POP3 server: another popperd whose mbox has other From_ lines, so
// that its UIDLs (digests over the From_ line) are not what this popperd
// computes for the same messages. After the capture this popperd lists the
// old server's UIDLs; the map's entries expire with their messages; a
// broken or unsafe map costs the mapping, never the login. The old servers
// of tests/uidl/capture.py (Dovecot on Maildir) do the same with UIDLs from
// an index.
#include "support/popperd_test.h"

#ifdef POPPERD_UIDL_BINARY

#include <algorithm>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace popper::test {
namespace {

// The same three messages (the first two twins by header) as two mboxes
// with other From_ lines, the new one also with a Status: header a reader
// added: each popperd computes other UIDLs for them.
std::string messages(std::string_view from, bool reader_headers) {
    const std::string status = reader_headers ? "Status: RO\n" : "";
    const std::string bodies[] = {"first twin\n", "the second twin\n", "other\n"};
    std::string out;
    for (int i : {0, 1, 2}) {
        const std::string n = i < 2 ? "1" : "2";
        if (!out.empty())
            out += "\n";
        out += std::string(from) + "Subject: m" + n + "\nMessage-ID: <" + n + "@example.org>\n" +
               status + "\n" + bodies[i];
    }
    return out;
}

const std::string kOldFrom = "From old@example.org Mon Nov 30 06:00:00 2026\n";
const std::string kNewFrom = "From MAILER-DAEMON Tue Dec  8 00:00:00 2026\n";

// The UIDLs of a UIDL listing, in order.
std::vector<std::string> uidls(const std::string& listing) {
    std::vector<std::string> out;
    for (size_t at = 0; at < listing.size();) {
        size_t eol = listing.find("\r\n", at);
        std::string line = listing.substr(at, eol - at);
        out.push_back(line.substr(line.find(' ') + 1));
        at = eol == std::string::npos ? listing.size() : eol + 2;
    }
    return out;
}

size_t lines(const std::string& text) {
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class CapturedUidls : public PopperdTest {
protected:
    CapturedUidls() {
        old_host.add_user(kUser, kPassword);
        old_host.write_spool(kUser, messages(kOldFrom, false));
        host.write_spool(kUser, messages(kNewFrom, true));
        write_file(accounts, std::string(kUser) + " " + std::string(kPassword) + "\n", 0600);
    }

    std::string listing(PopClient client) {
        EXPECT_EQ(client.command("UIDL"), "+OK Unique-ID listing follows");
        std::string text = client.read_multiline();
        EXPECT_TRUE(client.command("QUIT").starts_with("+OK"));
        return text;
    }
    std::string old_listing() {
        PopClient client = old_daemon().connect();
        EXPECT_EQ(client.read_line(), kGreeting);
        EXPECT_TRUE(client.login(kUser, kPassword));
        return listing(std::move(client));
    }
    Daemon& old_daemon() {
        if (!old_)
            old_ = std::make_unique<Daemon>(old_host);
        return *old_;
    }
    RunResult capture(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"capture",
                                         "-c",
                                         host.config_path(),
                                         "-t",
                                         "60",
                                         "-s",
                                         "127.0.0.1:" + std::to_string(old_daemon().port()),
                                         "-a",
                                         accounts};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_program(host, POPPERD_UIDL_BINARY, args);
    }
    std::string map_path() const {
        return host.drop_dir() + "/" + std::string(kUser) + ".uidl-map";
    }

    MailHost old_host;
    const std::string accounts = host.path("accounts");

private:
    std::unique_ptr<Daemon> old_;
};

TEST_F(CapturedUidls, ListsTheOldServersUidlsAndPrunesWhatIsGone) {
    const std::string before = old_listing();
    ASSERT_NE(listing(login()), before) << "the test needs servers that differ";

    RunResult run = capture();
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("alice: 3 UIDLs captured -> " + map_path()), std::string::npos)
        << run.out;
    struct stat st {};
    ASSERT_EQ(::stat(map_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, host.mail_uid());
    EXPECT_TRUE(read_file(map_path()).value_or("").starts_with("popperd-uidl-map 1 captured\n"));

    EXPECT_EQ(listing(login()), before);
    // The first login that found the messages marked the map.
    EXPECT_TRUE(read_file(map_path()).value_or("").starts_with("popperd-uidl-map 1 matched\n"));

    // A twin deleted: the other keeps its UIDL; the map loses one entry.
    PopClient client = login();
    EXPECT_TRUE(client.command("DELE 1").starts_with("+OK"));
    EXPECT_TRUE(client.command("QUIT").starts_with("+OK"));
    const std::string after = listing(login());
    const std::vector<std::string> old_uidls = uidls(before);
    EXPECT_EQ(uidls(after), (std::vector<std::string>{old_uidls[1], old_uidls[2]})) << after;
    // The twins' old UIDLs differ ("-2"): the one left kept its own, told
    // apart from the deleted one by its body's size.
    EXPECT_NE(old_uidls[0], old_uidls[1]);
    EXPECT_EQ(lines(read_file(map_path()).value_or("")), 3u) << "magic and two entries";

    // New mail gets popperd's own UIDL; the old messages keep theirs.
    host.deliver(kUser, "\n" + kNewFrom + "Subject: new\n\nnew\n");
    const std::string with_new = listing(login());
    EXPECT_TRUE(with_new.starts_with(after)) << with_new;

    // Every captured message gone: the map goes too.
    PopClient again = login();
    EXPECT_TRUE(again.command("DELE 1").starts_with("+OK"));
    EXPECT_TRUE(again.command("DELE 2").starts_with("+OK"));
    EXPECT_TRUE(again.command("QUIT").starts_with("+OK"));
    listing(login());
    EXPECT_FALSE(path_exists(map_path()));
}

TEST_F(CapturedUidls, MapIsKeptUntilTheMailboxIsMovedOver) {
    host.write_spool(kUser, kNewFrom + "Subject: unrelated\n\nx\n");
    RunResult run = capture();
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const std::string map = read_file(map_path()).value_or("");
    listing(login());
    EXPECT_EQ(read_file(map_path()).value_or(""), map) << "pruned before any message matched";
    host.write_spool(kUser, messages(kNewFrom, true));
    EXPECT_EQ(listing(login()), old_listing());
}

TEST_F(CapturedUidls, BrokenOrUnsafeMapCostsTheMappingNotTheLogin) {
    const std::string own = listing(login());
    ASSERT_EQ(capture().exit_code, 0);
    const std::string good = read_file(map_path()).value_or("");
    const std::vector<std::string> broken = {
        "",
        "popperd-uidl-map 2 captured\n",
        good.substr(0, good.size() - 1),          // torn: no final newline
        good + "0123 short\n",                    // identity not 32 hex digits
        good + std::string(32, 'A') + " upper\n", // upper-case hex
        good + std::string(32, '0') +
            " \x01"
            "binary\n",                                                  // UIDL outside 0x21..0x7E
        good + std::string(32, '0') + " " + std::string(71, 'u') + "\n", // 71 octets
        std::string("popperd-uidl-map 1 captured\n\0\n", 30),
    };
    for (const std::string& text : broken) {
        write_file(map_path(), text, 0600);
        host.give_to_mail_owner(map_path());
        EXPECT_EQ(listing(login()), own) << text;
        EXPECT_EQ(read_file(map_path()).value_or("<gone>"), text) << "a broken map is left alone";
    }
    // Readable by others: refused too.
    write_file(map_path(), good, 0600);
    ::chmod(map_path().c_str(), 0644);
    host.give_to_mail_owner(map_path());
    EXPECT_EQ(listing(login()), own);
    EXPECT_TRUE(daemon().wait_for_log("UIDL map not used"));
    EXPECT_TRUE(daemon().wait_for_log("group or others may read or write it"));
}

TEST_F(CapturedUidls, CaptureRefusesBadAccountsAndNamesTheFailure) {
    write_file(accounts, "alice wrong-password\n", 0600);
    RunResult wrong = capture();
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_NE(wrong.err.find("alice: "), std::string::npos) << wrong.err;
    EXPECT_EQ(wrong.err.find("wrong-password"), std::string::npos) << "password shown";
    EXPECT_FALSE(path_exists(map_path()));

    old_host.add_user("bob", "builder");
    old_host.write_spool("bob", messages(kOldFrom, false));
    write_file(accounts, "bob builder\nalice wonderland\n", 0600);
    RunResult unknown = capture();
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("bob: "), std::string::npos) << unknown.err;
    EXPECT_NE(unknown.out.find("alice: 3 UIDLs captured"), std::string::npos) << unknown.out;

    write_file(accounts, "alice wonderland\n", 0600);
    ::chmod(accounts.c_str(), 0640);
    RunResult readable = capture();
    EXPECT_EQ(readable.exit_code, 1);
    EXPECT_NE(readable.err.find("chmod 600"), std::string::npos) << readable.err;
    ::chmod(accounts.c_str(), 0600);

    for (const std::string& text :
         {std::string("alice\n"), std::string("../x pw\n"), std::string("alice pw\0x\n", 11)}) {
        write_file(accounts, text, 0600);
        RunResult bad = capture();
        EXPECT_EQ(bad.exit_code, 1) << text;
        EXPECT_NE(bad.err.find(accounts + ":1"), std::string::npos) << bad.err;
    }
    RunResult usage = run_program(host, POPPERD_UIDL_BINARY, {"capture", "-a", accounts});
    EXPECT_EQ(usage.exit_code, 64);
    RunResult nobody = run_program(
        host, POPPERD_UIDL_BINARY,
        {"capture", "-c", host.config_path(), "-t", "5", "-s", "127.0.0.1:1", "-a", accounts});
    EXPECT_EQ(nobody.exit_code, 1);
}

TEST_F(CapturedUidls, DryRunPrintsAndCheckReads) {
    RunResult dry = capture({"-n"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_NE(dry.out.find("popperd-uidl-map 1 captured\n"), std::string::npos) << dry.out;
    EXPECT_FALSE(path_exists(map_path()));
    ASSERT_EQ(capture().exit_code, 0);
    RunResult check = run_program(host, POPPERD_UIDL_BINARY,
                                  {"check", "-c", host.config_path(), std::string(kUser)});
    EXPECT_EQ(check.exit_code, 0) << check.err;
    EXPECT_NE(check.out.find("alice: 3 captured UIDLs, no login has matched them yet"),
              std::string::npos)
        << check.out;
}

} // namespace
} // namespace popper::test

#endif // POPPERD_UIDL_BINARY
