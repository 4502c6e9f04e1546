#!/usr/bin/env python3
"""Spool locks against a second process holding each kind.

For dotlock, fcntl and flock: while another process holds the lock, a login
waits lock_timeout and answers -ERR [IN-USE] with every byte of the spool
unchanged; when the holder lets go within lock_timeout, the login waits and
succeeds. A dotlock left by a dead popperd is broken at once, one older than
dotlock_stale is broken and logged, a fresh one of a live owner is honoured.

usage: locks.py POPPERD
"""
import fcntl
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import Checks, MailHost, PopSession, login, message, require_tools  # noqa: E402

HOLDER = r"""
import fcntl, os, sys, time
kind, path, release = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "dotlock":
    fd = os.open(path + ".lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"%d\n" % os.getpid())
else:
    fd = os.open(path, os.O_RDWR)
    if kind == "fcntl":
        fcntl.lockf(fd, fcntl.LOCK_EX)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
if release == "stdin":
    sys.stdin.read()  # until the test closes it
else:
    time.sleep(float(release))
if kind == "dotlock":
    os.unlink(path + ".lock")
"""

check = Checks("locks")


def hold(host, kind, seconds=None):
    """A process holding the spool lock of `kind` for `seconds`, or (None)
    until its stdin is closed: however slow the machine, it holds for as
    long as the test needs."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, kind, host.spool,
                             "stdin" if seconds is None else str(seconds)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"held"
    return proc


def release(holder):
    holder.stdin.close()
    holder.wait()


def try_login(host):
    session = PopSession(host)
    started = time.time()
    try:
        status = login(session)
        if status.startswith(b"+OK"):
            session.cmd("QUIT")
    finally:
        session.finish()
    return status, time.time() - started


def methods_for(kind):
    return {"dotlock": "dotlock", "fcntl": "fcntl", "flock": "flock"}[kind]


def main():
    popperd = sys.argv[1]
    require_tools("perl")
    for kind in ("dotlock", "fcntl", "flock"):
        conf = "lock_timeout = 1\nlock_methods = %s\n" % ("dotlock fcntl flock" if kind == "flock" else "dotlock fcntl")
        host = MailHost(popperd, conf)
        try:
            host.write_spool(message("a") + message("b"))
            before = host.read_file(host.spool)
            holder = hold(host, kind)
            status, waited = try_login(host)
            release(holder)
            check(status.startswith(b"-ERR [IN-USE]"), "%s held: login answers [IN-USE] (%r)" % (kind, status))
            check(waited >= 0.9, "%s held: login waited lock_timeout (%.2f s)" % (kind, waited))
            check(host.read_file(host.spool) == before, "%s held: spool unchanged" % kind)
            holder = hold(host, kind, 0.4)
            status, waited = try_login(host)
            release(holder)
            check(status.startswith(b"+OK"), "%s released within lock_timeout: login succeeds (%r)" % (kind, status))
        finally:
            host.close()

    # Stale dotlocks.
    host = MailHost(popperd, "lock_timeout = 1\ndotlock_stale = 2\n")
    try:
        host.write_spool(message("a"))
        lock = host.spool + ".lock"
        with open(lock, "w") as f:
            f.write("0")
        old = time.time() - 10
        os.utime(lock, (old, old))
        status, _ = try_login(host)
        check(status.startswith(b"+OK"), "dotlock older than dotlock_stale is broken (%r)" % status)
        log = host.read_file(os.path.join(host.dir, "session.log")).decode()
        check("broke stale dotlock" in log, "breaking a stale dotlock is logged")
        check(not os.path.exists(lock), "our dotlock is gone after the session")

        dead = subprocess.Popen(["true"])
        dead.wait()
        with open(lock, "w") as f:
            f.write("%d %s\n" % (dead.pid, os.uname().nodename))
        status, _ = try_login(host)
        log = host.read_file(os.path.join(host.dir, "session.log")).decode()
        check(status.startswith(b"+OK") and "(owner process gone)" in log,
              "dotlock of a dead popperd on this host is broken as such, not by age (%r)" % status)

    finally:
        host.close()

    # A live owner's dotlock, with a dotlock_stale no slow machine reaches.
    host = MailHost(popperd, "lock_timeout = 1\ndotlock_stale = 600\n")
    try:
        host.write_spool(message("a"))
        lock = host.spool + ".lock"
        with open(lock, "w") as f:
            f.write("%d %s\n" % (os.getpid(), os.uname().nodename))
        status, _ = try_login(host)
        check(status.startswith(b"-ERR [IN-USE]"), "fresh dotlock of a live owner is honoured (%r)" % status)
        check(os.path.exists(lock), "the live owner's dotlock is left in place")
    finally:
        host.close()

    # One POP session per mailbox.
    host = MailHost(popperd)
    try:
        host.write_spool(message("a"))
        first = PopSession(host, None, "first.log")
        check(login(first).startswith(b"+OK"), "first session logs in")
        status, _ = try_login(host)
        check(status.startswith(b"-ERR [IN-USE]"), "second concurrent session gets [IN-USE] (%r)" % status)
        first.cmd("QUIT")
        first.finish()
    finally:
        host.close()
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
