#!/usr/bin/env python3
"""Hostile and unusual files.

A spool or drop path that is a symlink, a FIFO, a directory or another
user's file is refused with a clear log line, nothing followed or
overwritten. Spool mode and group survive every rewrite. A spool that is not
an mbox is refused and left byte-identical; CRLF spools, spools without a
final newline and a spool over 2 GiB (sparse) are served and rewritten
without corruption.

usage: hostile.py POPPERD
"""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import Checks, MailHost, PopSession, login, message, ids_in, require_tools  # noqa: E402
from waits import PatientSocket  # noqa: E402

check = Checks("hostile")


def session(host, commands=(), multiline=(), patient=False):
    """Logs in, sends `commands`, QUITs; the status lines (with bodies for
    `multiline` commands). `patient`: for work that grows with the spool,
    wait for replies as long as popperd makes progress (waits.py)."""
    s = PopSession(host)
    if patient:
        s.sock = PatientSocket(s.sock, s.proc.pid)
    out = []
    try:
        out.append(login(s))
        if out[0].startswith(b"+OK"):
            for c in commands:
                out.append(s.cmd(c, multiline=c.split()[0] in multiline))
            out.append(s.cmd("QUIT")[0])
    except EOFError:
        out.append(b"<closed>")
    finally:
        s.finish()
    return out


def log_of(host):
    return host.read_file(os.path.join(host.dir, "session.log")).decode(errors="replace")


def refused(host, what, log_words):
    status = session(host)[0]
    check(status.startswith(b"-ERR [SYS/PERM]"), "%s: login refused with [SYS/PERM] (%r)" % (what, status))
    log = log_of(host).lower()
    check(any(w in log for w in log_words), "%s: log says why (%s)" % (what, log_words[0]))


def main():
    popperd = sys.argv[1]
    require_tools("perl")
    root = os.geteuid() == 0

    # Spool is a symlink to a file the user must not touch.
    host = MailHost(popperd)
    try:
        target = os.path.join(host.dir, "precious")
        with open(target, "w") as f:
            f.write(message("precious"))
        host.fix_owner(target)
        os.symlink(target, host.spool)
        refused(host, "symlink spool", ["is a symlink"])
        check(open(target).read() == message("precious"), "symlink spool: target untouched")
    finally:
        host.close()

    for kind in ("fifo", "directory"):
        host = MailHost(popperd)
        try:
            if kind == "fifo":
                os.mkfifo(host.spool)
            else:
                os.mkdir(host.spool)
            host.fix_owner(host.spool)
            refused(host, "%s spool" % kind, ["not a regular file", "is a directory"])
        finally:
            host.close()

    if root:
        host = MailHost(popperd)
        try:
            host.write_spool(message("a"))
            os.chown(host.spool, 0, 0)
            before = host.read_file(host.spool)
            refused(host, "spool owned by another user", ["owned by uid 0"])
            check(host.read_file(host.spool) == before, "foreign spool: unchanged")
        finally:
            host.close()

    # Drop paths planted by someone else.
    host = MailHost(popperd)
    try:
        host.write_spool(message("a"))
        target = os.path.join(host.dir, "victim")
        with open(target, "w") as f:
            f.write("victim\n")
        os.symlink(target, os.path.join(host.drop_dir, "alice.pop"))
        status = session(host)[0]
        check(status.startswith(b"-ERR"), "symlink drop: login refused (%r)" % status)
        check(open(target).read() == "victim\n", "symlink drop: target untouched")
        check(ids_in(host.read_file(host.spool)) == ["a"], "symlink drop: spool keeps its mail")
        check("symlink" in log_of(host), "symlink drop: log says symlink")
    finally:
        host.close()

    # Not an mbox.
    for name, data in (("garbage", b"\x00\x01\xffbinary\nstuff\n" * 100),
                       ("no leading From", b"Subject: hi\n\nbody\n")):
        host = MailHost(popperd)
        try:
            with open(host.spool, "wb") as f:
                f.write(data)
            host.fix_owner(host.spool)
            refused(host, "spool of %s" % name, ["not an mbox"])
            check(host.read_file(host.spool) == data, "spool of %s: byte-identical" % name)
        finally:
            host.close()

    # Mode and group survive a rewrite; times tell shells about new mail.
    host = MailHost(popperd)
    try:
        host.write_spool(message("a") + message("b"))
        os.chmod(host.spool, 0o640)
        if root:
            os.chown(host.spool, host.uid, 8)  # group mail
        out = session(host, ["DELE 1"])
        check(out[-1].startswith(b"+OK"), "rewrite: QUIT +OK")
        st = os.stat(host.spool)
        check(stat.S_IMODE(st.st_mode) == 0o640, "rewrite keeps mode 0640 (%o)" % stat.S_IMODE(st.st_mode))
        if root:
            check(st.st_gid == 8 and st.st_uid == host.uid, "rewrite keeps owner and group")
        check(st.st_atime >= st.st_mtime, "no unread mail left: atime >= mtime")
    finally:
        host.close()

    # CRLF-stored spool and a spool without final newline round-trip.
    host = MailHost(popperd)
    try:
        crlf = message("c1").replace("\n", "\r\n") + message("c2").replace("\n", "\r\n")
        tail = message("n1") + message("n2").rstrip("\n")
        data = (crlf + tail).encode()
        with open(host.spool, "wb") as f:
            f.write(data)
        host.fix_owner(host.spool)
        out = session(host, ["RETR 1", "RETR 4"], multiline=("RETR",))
        check(out[1][0].startswith(b"+OK") and b"\r\r" not in out[1][1], "CRLF spool: RETR without CR CR")
        check(out[2][0].startswith(b"+OK") and out[2][1].endswith(b"line 2 of n2\n"),
              "no final newline: last line sent")
        check(host.read_file(host.spool) == data, "QUIT without DELE leaves such a spool byte-identical")
        out = session(host, ["DELE 2"])
        check(ids_in(host.read_file(host.spool)) == ["c1", "n1", "n2"], "DELE in a mixed spool keeps the rest")
    finally:
        host.close()

    # Over 2 GiB (sparse): 64-bit sizes and offsets.
    host = MailHost(popperd)
    try:
        head = message("big").encode()
        with open(host.spool, "wb") as f:
            f.write(head)
            f.truncate(len(head) + (2 << 30) + 12345)
            f.seek(0, 2)
            f.write(b"\n\n" + message("small").encode())
        host.fix_owner(host.spool)
        size = os.path.getsize(host.spool)
        # Indexing and rewriting 2 GiB takes seconds alone, many more on a
        # busy machine: waited for by progress, not by a fixed time.
        out = session(host, ["LIST 1", "RETR 2", "DELE 2"], multiline=("RETR",), patient=True)
        listed = int(out[1][0].split()[2]) if out[1][0].startswith(b"+OK") else 0
        check(listed > (2 << 30), "2 GiB+ message: LIST size is 64-bit (%d)" % listed)
        check(out[2][1] is not None and ids_in(out[2][1]) == ["small"], "2 GiB+ spool: RETR of the message after it")
        check(out[-1].startswith(b"+OK"), "2 GiB+ spool: QUIT +OK")
        new_size = os.path.getsize(host.spool)
        check(new_size == size - len(b"\n" + message("small").encode()) - 1 or new_size < size,
              "2 GiB+ spool: only the deleted message removed (%d -> %d)" % (size, new_size))
        with open(host.spool, "rb") as f:
            check(f.read(len(head)) == head, "2 GiB+ spool: first message intact")
    finally:
        host.close()

    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
