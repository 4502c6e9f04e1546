#!/usr/bin/env python3
"""A real full filesystem: small tmpfs mounts, not injected
errors. Needs root to mount; skipped (77) otherwise.

1. Drop dir on a full tmpfs, spool elsewhere (copying paths): login answers
   -ERR [SYS/TEMP], the spool stays byte-identical; once there is room the
   next login works and QUIT returns everything.
2. Spool and drop on one small tmpfs (renaming paths): a QUIT whose rewrite
   does not fit answers -ERR [SYS/TEMP] and loses nothing; after room is
   made the next login recovers every message exactly once.

usage: fullfs.py POPPERD
"""
import collections
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import Checks, MailHost, PopSession, login, message, ids_in, require_tools  # noqa: E402

check = Checks("fullfs")


class Tmpfs:
    def __init__(self, size):
        self.path = tempfile.mkdtemp(prefix="popperd-fullfs-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "tmpfs", self.path],
                       check=True)

    def fill(self, leave=0):
        """Writes a filler file until at most `leave` octets are free."""
        filler = os.path.join(self.path, "filler")
        with open(filler, "ab") as f:
            try:
                while True:
                    st = os.statvfs(self.path)
                    free = st.f_bavail * st.f_frsize
                    if free <= leave:
                        break
                    f.write(b"\0" * min(65536, max(1, free - leave)))
                    f.flush()
            except OSError:
                pass
        return filler

    def close(self):
        subprocess.run(["umount", "-l", self.path], check=False)
        os.rmdir(self.path)


def all_ids(host):
    s = PopSession(host, None, "verify.log")
    try:
        status = login(s)
        if not status.startswith(b"+OK"):
            return None, status
        count = int(s.cmd("STAT")[0].split()[1])
        seen = []
        for n in range(1, count + 1):
            seen += ids_in(s.cmd("RETR %d" % n, multiline=True)[1])
        return seen, s.cmd("QUIT")[0]
    finally:
        s.finish()


def big(mid):
    return message(mid, body_lines=400)  # about 12 KB


def main():
    popperd = sys.argv[1]
    require_tools("perl", "mount")
    if os.geteuid() != 0:
        print("skipped: mounting a tmpfs needs root")
        return 77

    fs = Tmpfs("512k")
    host = MailHost(popperd, drop_fs=fs.path)
    try:
        ids = ["m%d" % i for i in range(8)]
        host.write_spool("".join(big(i) for i in ids))
        before = host.read_file(host.spool)
        filler = fs.fill()
        s = PopSession(host)
        try:
            status = login(s)
        finally:
            s.finish()
        check(status.startswith(b"-ERR [SYS/TEMP]"), "drop dir full: login answers [SYS/TEMP] (%r)" % status)
        check(host.read_file(host.spool) == before, "drop dir full: spool byte-identical")
        os.unlink(filler)
        seen, quit_status = all_ids(host)
        check(seen == ids and quit_status.startswith(b"+OK"), "room again: every message back (%s)" % seen)
        check(host.read_file(host.spool) == before, "room again: spool byte-identical after QUIT")
    finally:
        host.close()
        fs.close()

    fs = Tmpfs("256k")
    host = MailHost(popperd, base=fs.path)
    try:
        ids = ["n%d" % i for i in range(10)]
        host.write_spool("".join(big(i) for i in ids))
        s = PopSession(host)
        try:
            check(login(s).startswith(b"+OK"), "one filesystem: login")
            filler = fs.fill(leave=4096)
            host.deliver(message("late"))  # fits in what is left
            s.cmd("DELE 1")
            status, _ = s.cmd("QUIT")
        finally:
            s.finish()
        check(status.startswith(b"-ERR [SYS/TEMP]"), "QUIT on a full filesystem answers [SYS/TEMP] (%r)" % status)
        os.unlink(filler)
        seen, quit_status = all_ids(host)
        counts = collections.Counter(seen or [])
        check(seen is not None and all(counts[i] == 1 for i in ids[1:] + ["late"]) and counts["n0"] <= 1
              and sum(counts.values()) in (10, 11),
              "room again: nothing lost or duplicated (%s)" % seen)
        check(quit_status.startswith(b"+OK"), "room again: QUIT +OK")
    finally:
        host.close()
        fs.close()
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
