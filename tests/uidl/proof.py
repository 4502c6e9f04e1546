#!/usr/bin/env python3
"""popperd lists, byte for byte, the UIDLs of the server it replaces
(issue 15, item 3).

For SERVER (popa3d, solid-pop3d, mailutils for uidl_format x-uidl, dovecot)
and each mailbox of corpus.py: the real server, from Debian, serves the
mailbox (oldservers.py); popperd serves the file the server left, with the
matching uidl_format; popperd's UIDL listing must be what corpus.py's model
makes of the server's listing: the same UIDL for each message both begin at
the same From_ line, popperd's own for the rest, "-2", "-3" for twins.
Then the old server deletes two messages (the first among them) and the
comparison is made again on the file it rewrote; then popperd deletes two
and must list every other message as before.

With SERVER uw (no UW ipop3d is packaged in Debian 12): hand-written
mailboxes whose expected UIDLs are worked out below from UW's unix.c and
ipop3d.c, the same deletions by popperd.

usage: proof.py POPPERD SERVER CACHE_DIR
       proof.py POPPERD prepare CACHE_DIR    (fetch and unpack the servers)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "crash"))
import corpus  # noqa: E402
import mailhost  # noqa: E402
import oldservers  # noqa: E402

FORMAT = {"popa3d": "popa3d", "solid-pop3d": "solid-pop3d", "mailutils": "x-uidl",
          "dovecot": "dovecot", "uw": "uw"}


class Popperd:
    """popperd -i sessions on a private mail host, under one uidl_format."""

    def __init__(self, binary, uidl_format):
        self.host = mailhost.MailHost(binary, "uidl_format = %s\n" % uidl_format)

    def session(self, commands):
        s = mailhost.PopSession(self.host)
        try:
            if not mailhost.login(s).startswith(b"+OK"):
                raise RuntimeError("popperd login failed: " + open(s.log_path).read())
            out = oldservers.run_commands(s, commands)
            status, _ = s.cmd("QUIT")
            if not status.startswith(b"+OK"):
                raise RuntimeError("popperd QUIT: %r" % status)
            return out
        finally:
            s.finish()

    def uidls(self):
        status, lines = self.session(["UIDL"])[0]
        if not status.startswith(b"+OK"):
            raise RuntimeError("popperd UIDL: %r" % status)
        return [line.split(b" ", 1)[1].decode() for line in lines]


def listing_and_markers(run):
    """UIDL, then RETR of each message: (uidls, first marker of each)."""
    status, lines = run(["UIDL"])[0]
    if not status.startswith(b"+OK"):
        return None, None
    numbers = [line.split(b" ", 1)[0].decode() for line in lines]
    uidls = [line.split(b" ", 1)[1].decode("latin-1") if b" " in line else "" for line in lines]
    answers = run(["RETR " + n for n in numbers])
    markers = [corpus.marker(b"\n".join(body or [])) for _, body in answers]
    return uidls, markers


def compare(checks, what, data, old_uidls, old_markers, got):
    expected, free = corpus.expected_listing(data, old_uidls, old_markers)
    checks(len(got) == len(expected),
           "%s: popperd lists %d messages, the model %d" % (what, len(got), len(expected)))
    named = sum(1 for u in expected if u in old_uidls)
    for i, (want, have) in enumerate(zip(expected, got)):
        if i in free:
            checks(corpus.valid_uidl(have), "%s: message %d: %s (old server listed an invalid "
                                            "UIDL; popperd a valid one)" % (what, i + 1, have))
        else:
            checks(have == want, "%s: message %d: %s%s" %
                   (what, i + 1, have, "" if have == want else " (expected %s)" % want))
    checks(len(set(got)) == len(got), "%s: every UIDL unique" % what)
    print("     %s: %d of %d messages named by the old server, %d invalid there" %
          (what, named, len(got), len(free)), flush=True)


def prove_server(popperd_binary, server_name, cache_dir, checks):
    root = oldservers.private_root(cache_dir)
    for box, data in corpus.MAILBOXES.items():
        old = oldservers.OldServer(server_name, root)
        popperd = Popperd(popperd_binary, FORMAT[server_name])
        try:
            old.write_mbox(data)
            old.session(["UIDL"])  # Dovecot writes X-UIDs, Mailutils X-UIDLs
            old_uidls, old_markers = listing_and_markers(old.session)
            if old_uidls is None:
                print("     %s: %s refuses this mailbox: nothing to keep" % (box, server_name))
                write_spool(popperd.host, old.read_mbox())
                checks(len(popperd.uidls()) > 0, "%s: popperd serves it" % box)
                continue
            served = old.read_mbox()
            write_spool(popperd.host, served)
            got = popperd.uidls()
            compare(checks, "%s, %s" % (box, server_name), served, old_uidls, old_markers, got)

            # The old server deletes the first message and one further on.
            victims = ["1", str(min(len(old_uidls), 4))]
            old.session(["DELE " + v for v in dict.fromkeys(victims)])
            old_uidls, old_markers = listing_and_markers(old.session)
            served = old.read_mbox()
            write_spool(popperd.host, served)
            got = popperd.uidls()
            compare(checks, "%s after %s deleted %s" % (box, server_name, "+".join(victims)),
                    served, old_uidls, old_markers, got)

            # popperd deletes two: the others keep their UIDLs.
            expect_after_popperd_deletes(checks, popperd, got, box, (old_uidls, old_markers))
        finally:
            old.close()
            popperd.host.close()


def write_spool(host, data):
    with open(host.spool, "wb") as f:
        f.write(data)
    host.fix_owner(host.spool)


def expect_after_popperd_deletes(checks, popperd, before, what, old=None):
    """popperd deletes the first message and the third: every other one
    keeps its UIDL, but for twins, whose suffixes follow file order (the
    model of corpus.py on the file popperd left, with the old server's
    names `old`: (uidls, markers))."""
    if len(before) < 2:
        return
    victims = sorted({1, min(len(before), 3)})
    popperd.session(["DELE %d" % v for v in victims])
    after = popperd.uidls()
    if old is None:
        want = [u for k, u in enumerate(before, 1) if k not in victims]
    else:
        with open(popperd.host.spool, "rb") as f:
            want, free = corpus.expected_listing(f.read(), *old)
        # Where the old server listed an invalid UIDL any valid one will do.
        want = [after[k] if k in free and k < len(after) else u for k, u in enumerate(want)]
    checks(after == want, "%s: after popperd deleted %s the others keep their UIDLs%s" %
           (what, "+".join(map(str, victims)), "" if after == want else
            ": %s, expected %s" % (after, want)))


# --- uw: hand-written mailboxes, UIDLs from UW's source ------------------------
#
# ipop3d.c: UIDL prints "%08lx%08lx" of stream->uid_validity and the UID.
# unix.c unix_parse: the first message's "X-IMAPbase: <validity> <last>"
# (or "X-IMAP:" in the pseudo-message, which ipop3d does not show) sets the
# validity; each message's "X-UID: <uid>" must grow; names in exactly that
# case. popperd lists the pseudo-message too, with its own UIDL.

UW_CASES = [
    ("X-IMAPbase in the first message",
     corpus.mbox(corpus.message("u1", b"X-IMAPbase: 1700000000 0000000012 $Junk\nX-UID: 10\n"
                                      b"Status: RO\n"),
                 corpus.message("u2", b"X-UID: 11\nX-Status: A\n"),
                 corpus.message("u3", b"X-UID: 12\n")) + b"\n",
     ["6553f1000000000a", "6553f1000000000b", "6553f1000000000c"]),
    ("pseudo-message, a message without X-UID at the end",
     corpus.mbox(b"From MAILER-DAEMON Mon Nov 30 06:00:00 2026\nX-Corpus: v0\n"
                 b"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
                 b"X-IMAP: 1600000000 0000000003\nStatus: RO\n\ninternal\n",
                 corpus.message("v1", b"X-UID: 2\n"), corpus.message("v2", b"X-UID: 3\n"),
                 corpus.message("v3", b"x-uid: 4\nSubject: new mail, X-UID in lower case\n"))
     + b"\n",
     [None, "5f5e100000000002", "5f5e100000000003", None]),
]


def prove_uw(popperd_binary, checks):
    for what, data, want in UW_CASES:
        popperd = Popperd(popperd_binary, "uw")
        try:
            write_spool(popperd.host, data)
            got = popperd.uidls()
            own, _ = corpus.expected_listing(data, [], [])
            full = [w if w is not None else own[k] for k, w in enumerate(want)]
            checks(got == full, "uw, %s: %s%s" % (what, got, "" if got == full
                                                   else " (expected %s)" % full))
            expect_after_popperd_deletes(checks, popperd, got, "uw, " + what)
        finally:
            popperd.host.close()


def main():
    popperd_binary, server = sys.argv[1], sys.argv[2]
    cache_dir = sys.argv[3] if len(sys.argv) > 3 else os.path.join(HERE, ".cache")
    if server == "prepare":  # the fixture: fetch and unpack the servers once
        print("old servers in " + oldservers.private_root(cache_dir))
        return 0
    checks = mailhost.Checks("uidl proof " + server)
    if server == "uw":
        prove_uw(popperd_binary, checks)
    else:
        prove_server(popperd_binary, server, cache_dir, checks)
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
