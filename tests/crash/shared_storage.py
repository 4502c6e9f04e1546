#!/usr/bin/env python3
"""Two popperd on one spool_dir and drop_dir: what two hosts mounting one
NFS export look like, short of NFS (README "Several machines"; no nfs in
/proc/filesystems here, so the locks are those of one kernel).

Each daemon has its own config, pidfile and listen address (127.0.0.1 and
127.0.0.5). Checked:

1. One session per mailbox across both (invariant 3): while alice is logged
   in on one, the other answers -ERR [IN-USE], and lets her in once the
   first session has QUIT.
2. A stress run: an MTA-style deliverer (dotlock + fcntl) appends while one
   client per daemon logs in again and again, RETRs everything, DELEs all
   and QUITs. Every RETR is a message as delivered; at the end every
   delivered message was deleted by a session whose QUIT answered +OK or is
   in the spool, exactly once (invariants 1 and 2).

usage: shared_storage.py POPPERD
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import (ListeningDaemon, MailHost, ids_in, login, message,  # noqa: E402
                      require_tools)

MESSAGES = 120
DEADLINE_S = 120


def second_config(host):
    """The host's config for the second daemon: same spool and drop dir,
    its own pidfile (its listen line is added by ListeningDaemon)."""
    path = os.path.join(host.dir, "popperd-b.conf")
    with open(host.conf) as f:
        lines = [l for l in f if not l.startswith(("pidfile", "listen"))]
    with open(path, "w") as f:
        f.writelines(lines)
        f.write("pidfile = %s\n" % os.path.join(host.dir, "popperd-b.pid"))
    return path


def one_session_across_both(a, b, failures):
    first = a.connect()
    status = login(first)
    if not status.startswith(b"+OK"):
        failures.append("login on %s: %r" % (a.address, status))
        return
    second = b.connect()
    status = login(second)
    if not status.startswith(b"-ERR [IN-USE]"):
        failures.append("second login on %s while logged in on %s: %r" %
                        (b.address, a.address, status))
    second.finish()
    first.cmd("QUIT")
    first.finish()
    # The first session's lock is released with its QUIT; then b lets her in.
    deadline = time.time() + 20
    while True:
        third = b.connect()
        status = login(third)
        if status.startswith(b"+OK") or time.time() > deadline:
            break
        third.finish()
        time.sleep(0.05)
    if not status.startswith(b"+OK"):
        failures.append("login on %s after QUIT on %s: %r" % (b.address, a.address, status))
    third.cmd("QUIT")
    third.finish()
    print("ok: one session for alice across %s and %s: -ERR [IN-USE] on the second" %
          (a.address, b.address))


class Client(threading.Thread):
    """Logs in on one daemon until told to stop, takes everything."""

    def __init__(self, daemon, stop, failures):
        super().__init__()
        self.daemon, self.stop, self.failures = daemon, stop, failures
        self.deleted = []  # ids deleted by sessions whose QUIT answered +OK
        self.sessions = self.in_use = 0

    def run(self):
        try:
            while not self.stop.is_set():
                self.session()
                time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported as a test failure
            self.failures.append("client on %s: %r" % (self.daemon.address, e))

    def session(self):
        s = self.daemon.connect()
        try:
            status = login(s)
            if status.startswith(b"-ERR [IN-USE]"):
                self.in_use += 1
                return
            if not status.startswith(b"+OK"):
                self.failures.append("login on %s: %r" % (self.daemon.address, status))
                return
            status, listing = s.cmd("LIST", multiline=True)
            numbers = [int(line.split()[0]) for line in listing.splitlines()]
            taken = []
            for n in numbers:
                status, body = s.cmd("RETR %d" % n, multiline=True)
                ids = ids_in(body)
                if len(ids) != 1 or body != expected_pop_body(ids[0]):
                    self.failures.append("RETR %d on %s: %r" % (n, self.daemon.address, body[:200]))
                taken += ids
                s.cmd("DELE %d" % n)
            status, _ = s.cmd("QUIT")
            if status.startswith(b"+OK"):
                self.deleted += taken
                self.sessions += 1
        finally:
            s.finish()


def expected_pop_body(msg_id):
    """The message as RETR sends it, once un-stuffed, with LF line ends
    (PopSession's reader): message() without its From_ line and without
    the empty line that separates it from the next."""
    stored = message(msg_id).encode()
    return stored.split(b"\n", 1)[1][:-1]


def main():
    popperd = sys.argv[1]
    require_tools("perl")
    host = MailHost(popperd)
    failures = []
    a = ListeningDaemon(host, "daemon-a.log", "127.0.0.1")
    b = ListeningDaemon(host, "daemon-b.log", "127.0.0.5", second_config(host))
    try:
        one_session_across_both(a, b, failures)
        one_session_across_both(b, a, failures)
        stop = threading.Event()
        clients = [Client(a, stop, failures), Client(b, stop, failures)]
        for c in clients:
            c.start()
        delivered = []
        deadline = time.time() + DEADLINE_S
        for i in range(MESSAGES):
            msg_id = "m%04d" % i
            host.deliver(message(msg_id))
            delivered.append(msg_id)
            if time.time() > deadline:
                break
            time.sleep(0.005)
        time.sleep(0.5)
        stop.set()
        for c in clients:
            c.join(60)
    finally:
        a.stop()
        b.stop()
    left = ids_in(host.read_file(host.spool))
    deleted = [i for c in clients for i in c.deleted]
    everything = sorted(deleted + left)
    if everything != sorted(delivered):
        missing = sorted(set(delivered) - set(everything))
        twice = sorted(i for i in set(everything) if everything.count(i) > 1)
        failures.append("deleted + spool != delivered: missing %s, more than once %s" %
                        (missing[:20], twice[:20]))
    for name in os.listdir(host.drop_dir):
        if name.endswith(".pop") or ".pop." in name and not name.endswith(".journal"):
            failures.append("drop file left: %s" % name)
    host.close()
    print("%d delivered; sessions with +OK QUIT: %s; [IN-USE] answers: %s; left in spool: %d" %
          (len(delivered), [c.sessions for c in clients], [c.in_use for c in clients], len(left)))
    if failures:
        for f in failures[:20]:
            print("FAIL: " + f)
        return 1
    if min(c.sessions for c in clients) == 0:
        print("FAIL: a daemon served no session")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
