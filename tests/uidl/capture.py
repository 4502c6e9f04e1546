#!/usr/bin/env python3
"""popperd-uidl capture, against a server whose UIDLs come from its index,
not the mail (issue 15, items 2 to 4): Dovecot on a Maildir.

Dovecot (Debian's package, oldservers.py) serves a Maildir whose messages
are built to break a careless identity: twins with the same header and
bodies of different sizes, exact twins, a CRLF message, folded and long
(4,096 and 5,000 octet) header lines, a header-only message, body "From "
lines. A session deletes one message, so UIDs are not 1..n. fetchmail
(--keep --uidl) fetches the rest, leaving them on the server. Then
popperd-uidl captures every UIDL (and once more with a master user: the
relay sees NAME*MASTER), the Maildir is turned into an mbox the way a
converter does it (From_ lines, ">From " escapes, Status: and X-UID:
headers added), and popperd serves that mbox on the same port: its UIDL
listing must be Dovecot's, byte for byte, fetchmail must fetch nothing, and
after a delivery exactly the new message. Then popperd deletes a message:
the others keep their UIDLs and the map loses that entry.

usage: capture.py POPPERD POPPERD_UIDL CACHE_DIR
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop"))
import client_fetchmail  # noqa: E402
import interop  # noqa: E402
import mailhost  # noqa: E402
import oldservers  # noqa: E402

USER = oldservers.MAIL_USER


def header(subject, extra=b""):
    return (b"From: Sender <sender@example.org>\nTo: " + USER.encode() + b"@example.org\n"
            b"Subject: " + subject + b"\nMessage-ID: <" + subject.replace(b" ", b".") +
            b"@example.org>\n" + extra)


MESSAGES = [
    header(b"twin") + b"\nthe first twin\n",
    header(b"deleted by the old server") + b"\ngone\n",
    header(b"twin") + b"\nthe second twin, longer\n",
    header(b"exact twin") + b"\nsame\n",
    header(b"exact twin") + b"\nsame\n",
    (header(b"crlf") + b"\nline one\nline two\n").replace(b"\n", b"\r\n"),
    header(b"folded", b"Received: from mx.example.org\n\tby pop.example.org;\n"
           b"\tMon, 30 Nov 2026 06:00:00 +0000\nX-Long: " + b"x" * 4096 + b"\n"
           b"X-Longer: " + b"y" * 5000 + b"\n") + b"\nbody\n",
    header(b"body From lines") + b"\nFrom the start\n\nFrom after a blank line\n>From quoted\n",
    header(b"header only"),
]
SUBJECT_COUNT = len(MESSAGES) - 1  # one is deleted before any client runs


def dovecot_view(old):
    """Dovecot's UIDL listing and each message as RETR gives it (CRLF
    turned to LF, as the mbox will hold it)."""
    status, lines = old.session(["UIDL"])[0]
    if not status.startswith(b"+OK"):
        interop.fail("Dovecot UIDL: %r" % status)
    numbers = [line.split(b" ")[0].decode() for line in lines]
    uidls = [line.split(b" ", 1)[1].decode() for line in lines]
    bodies = [body for _, body in old.session(["RETR " + n for n in numbers])]
    return uidls, [b"".join(line.rstrip(b"\r") + b"\n" for line in body) for body in bodies]


def converted_mbox(messages):
    """An mbox as a Maildir converter writes it: a From_ line, the header
    with Status: and X-UID: added, ">From " escapes (mboxrd)."""
    out = b""
    for uid, message in enumerate(messages, 1):
        head, sep, body = message.partition(b"\n\n")
        if not sep:
            head, body = message.rstrip(b"\n"), b""
        head += b"\nStatus: RO\nX-UID: %d" % uid
        text = head + b"\n\n" + body
        out += (b"From MAILER-DAEMON Tue Dec  8 00:00:00 2026\n" +
                re.sub(rb"(?m)^(>*From )", rb">\1", text) + b"\n")
    return out


def capture(popperd_uidl, host, port, extra=()):
    result = subprocess.run([popperd_uidl, "capture", "-c", host.conf, "-t", str(min(3600, max(1, int(interop.WAIT_S)))),
                             "-s", "127.0.0.1:%d" % port] + list(extra),
                            capture_output=True, text=True, timeout=4 * interop.WAIT_S)
    if result.returncode != 0:
        interop.fail("popperd-uidl capture %s exited %d:\n%s%s" %
                     (" ".join(extra), result.returncode, result.stdout, result.stderr))
    return result.stdout


def secret_file(host, name, text):
    path = os.path.join(host.dir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def login(port):
    session = mailhost.TcpPopSession(port)
    session.greeting()
    session.cmd("USER " + USER)
    status, _ = session.cmd("PASS " + oldservers.PASSWORD)
    if not status.startswith(b"+OK"):
        interop.fail("popperd login as %s: %r" % (USER, status))
    return session


def fetchmail(host, port):
    rcfile = client_fetchmail.write_rcfile(host, port, oldservers.PASSWORD, USER)
    client_fetchmail.fetchmail(host, rcfile, port, ["--keep", "--uidl"])


def expect_fetched(host, what, count):
    got = interop.subjects(host.take_fetched())
    if len(got) != count:
        interop.fail("%s: fetched %d messages %s, expected %d" % (what, len(got), got, count))
    interop.note("ok: %s: fetched %d" % (what, len(got)))


def main():
    popperd, popperd_uidl, cache_dir = sys.argv[1:4]
    interop.require_tools("fetchmail", "perl")
    root = oldservers.private_root(cache_dir)
    port = interop.free_port()
    host = interop.Host(popperd, "listen = 127.0.0.1:%d\n" % port)
    hashed = mailhost.crypt_sha512(oldservers.PASSWORD)
    host.add_user("%s:%s:%d:%d::/nonexistent:" % (USER, hashed, host.uid, host.gid))
    spool = os.path.join(host.spool_dir, USER)
    old = oldservers.OldServer("dovecot", root, maildir=True)
    try:
        for key, message in enumerate(MESSAGES, 1):
            old.add_to_maildir(key, message)
        status, _ = old.session(["DELE 2"])[0]
        if not status.startswith(b"+OK"):
            interop.fail("Dovecot DELE 2: %r" % status)
        old_uidls, messages = dovecot_view(old)
        interop.note("Dovecot lists %s" % old_uidls)

        listener = oldservers.InetdListener(old, port)
        fetchmail(host, port)
        expect_fetched(host, "fetchmail --keep from Dovecot", SUBJECT_COUNT)

        accounts = secret_file(host, "accounts", "%s %s\n" % (USER, oldservers.PASSWORD))
        out = capture(popperd_uidl, host, port, ["-a", accounts])
        map_path = os.path.join(host.drop_dir, USER + ".uidl-map")
        if "%s: %d UIDLs captured -> %s" % (USER, SUBJECT_COUNT, map_path) not in out:
            interop.fail("capture said: %r" % out)
        with open(map_path) as f:
            captured = f.read()

        # The same with a master user, printed (-n): the same map.
        master_accounts = secret_file(host, "accounts-master", USER + "\n")
        master_password = secret_file(host, "master-password", "master-secret\n")
        del oldservers.LOGINS[:]
        printed = capture(popperd_uidl, host, port, ["-a", master_accounts, "-n", "-m",
                                                     "migrator", "-p", master_password])
        if oldservers.LOGINS != [USER + "*migrator"]:
            interop.fail("master login sent USER %s" % oldservers.LOGINS)
        if printed.split("\n", 1)[1] != captured:
            interop.fail("the master user's capture differs:\n%s\n%s" % (printed, captured))
        listener.stop()

        # The switch: popperd on the converted mbox, same port.
        with open(spool, "wb") as f:
            f.write(converted_mbox(messages))
        host.fix_owner(spool)
        daemon = interop.Daemon(host)
        session = login(port)
        status, body = session.cmd("UIDL", multiline=True)
        session.cmd("QUIT")
        session.finish()
        got = [line.split(b" ", 1)[1].decode() for line in body.splitlines()]
        if got != old_uidls:
            interop.fail("popperd lists %s, Dovecot listed %s" % (got, old_uidls))
        interop.note("ok: popperd lists Dovecot's %d UIDLs" % len(got))

        fetchmail(host, port)
        expect_fetched(host, "fetchmail --keep from popperd after the capture", 0)
        host.spool = spool
        host.deliver(interop.mbox_entry(interop.NEW_MESSAGE).decode("utf-8"))
        fetchmail(host, port)
        expect_fetched(host, "fetchmail from popperd after a delivery", 1)

        # popperd deletes the first twin: the rest keep their UIDLs.
        session = login(port)
        session.cmd("DELE 1")
        session.cmd("QUIT")
        session.finish()
        session = login(port)
        status, body = session.cmd("UIDL", multiline=True)
        session.cmd("QUIT")
        session.finish()
        after = [line.split(b" ", 1)[1].decode() for line in body.splitlines()]
        if after[:len(old_uidls) - 1] != old_uidls[1:]:
            interop.fail("after DELE 1 popperd lists %s, expected %s first" %
                         (after, old_uidls[1:]))
        with open(map_path) as f:
            entries = f.read().count("\n") - 1
        if entries != len(old_uidls) - 1:
            interop.fail("the map holds %d entries, not %d" % (entries, len(old_uidls) - 1))
        interop.note("ok: after a deletion the others keep their UIDLs; the map has %d entries"
                     % entries)
        daemon.stop()
    finally:
        old.close()


if __name__ == "__main__":
    interop.main_guard(main)
