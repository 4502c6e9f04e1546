#!/usr/bin/env python3
"""A client that left mail on the old server downloads nothing again after
the switch to popperd (issue 15, item 4).

CLIENT (fetchmail with --keep --uidl, or getmail with read_all = false and
delete = false) fetches the mailbox from SERVER (popa3d, solid-pop3d,
dovecot, or GNU Mailutils' pop3d for uidl_format x-uidl), started from its
Debian package by
oldservers.py, inetd-style on a port of 127.0.0.1. Then the server is
stopped, popperd takes over the file the server left, on the same port
(clients key what they saw by host, port and user) with the matching
uidl_format, and the client runs again: it must fetch nothing. A new
message arrives: the next run fetches exactly that one.

usage: clients.py POPPERD CLIENT SERVER CACHE_DIR
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop"))
import client_fetchmail  # noqa: E402
import client_getmail  # noqa: E402
import interop  # noqa: E402
import mailhost  # noqa: E402
import oldservers  # noqa: E402

FORMAT = {"popa3d": "popa3d", "solid-pop3d": "solid-pop3d", "mailutils": "x-uidl",
          "dovecot": "dovecot"}
USER = oldservers.MAIL_USER


def fetchmail(host, port):
    rcfile = client_fetchmail.write_rcfile(host, port, oldservers.PASSWORD, USER)
    client_fetchmail.fetchmail(host, rcfile, port, ["--keep", "--uidl"])


def getmail(host, port):
    getmaildir = os.path.join(host.home, ".getmail")
    os.makedirs(getmaildir, 0o700, exist_ok=True)
    client_getmail.write_rcfile(getmaildir, "keep.rc", port, host, oldservers.PASSWORD,
                                "false", "false", user=USER)
    client_getmail.getmail(host, getmaildir, "keep.rc")


def expect_fetched(host, what, subjects):
    got = interop.subjects(host.take_fetched())
    if got != subjects:
        interop.fail("%s: fetched %s, expected %s" % (what, got, subjects))
    interop.note("ok: %s: fetched %d message%s %s" %
                 (what, len(got), "" if len(got) == 1 else "s", got))


def main():
    popperd, client, server, cache_dir = sys.argv[1:5]
    interop.require_tools(client, "perl")
    root = oldservers.private_root(cache_dir)
    fetch = {"fetchmail": fetchmail, "getmail": getmail}[client]
    port = interop.free_port()
    host = interop.Host(popperd, "listen = 127.0.0.1:%d\nuidl_format = %s\n" %
                        (port, FORMAT[server]))
    hashed = mailhost.crypt_sha512(oldservers.PASSWORD)
    host.add_user("%s:%s:%d:%d::/nonexistent:" % (USER, hashed, host.uid, host.gid))
    spool = os.path.join(host.spool_dir, USER)
    old = oldservers.OldServer(server, root)
    try:
        old.write_mbox(b"".join(interop.mbox_entry(m) for m in interop.FIXTURE))
        listener = oldservers.InetdListener(old, port)
        fetch(host, port)
        listener.stop()
        expect_fetched(host, "%s from %s" % (client, server), interop.subjects(interop.FIXTURE))

        # The switch: popperd serves the file the old server left, same port.
        shutil.copyfile(old.mbox, spool)
        host.fix_owner(spool)
        daemon = interop.Daemon(host)
        if daemon.port != port:
            interop.fail("popperd listens on %d, not %d" % (daemon.port, port))
        fetch(host, port)
        expect_fetched(host, "%s from popperd (uidl_format %s)" % (client, FORMAT[server]), [])

        host.spool = spool  # mailhost.deliver appends to host.spool
        host.deliver(interop.mbox_entry(interop.NEW_MESSAGE).decode("utf-8"))
        fetch(host, port)
        expect_fetched(host, "%s from popperd after a delivery" % client,
                       interop.subjects([interop.NEW_MESSAGE]))
        daemon.stop()
    finally:
        old.close()


if __name__ == "__main__":
    interop.main_guard(main)
