#!/usr/bin/env python3
"""Privilege separation (issue 6 §1), checked from /proc while a session runs
as root: before login the process that reads the network runs as the
unprivileged user with no supplementary groups, chrooted into
preauth_chroot, unable to fork; the privileged process that checks the
password is a different process; after login the session runs as the
mailbox owner, never as root or as the unprivileged user.

usage: privsep.py POPPERD
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crash"))
from mailhost import Checks, MailHost, PopSession, login, message, require_tools, USER, PASSWORD  # noqa: E402

check = Checks("privsep")


def status_of(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def limit(pid, name):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith(name):
                return line.split()[len(name.split()):][0]
    return None


def main():
    popperd = sys.argv[1]
    require_tools("perl")
    if os.geteuid() != 0:
        print("skipped: privilege separation is only in effect when started as root")
        return 77
    chroot_dir = tempfile.mkdtemp(prefix="popperd-empty-")
    os.chmod(chroot_dir, 0o755)
    host = MailHost(popperd, "preauth_chroot = %s\nunprivileged_user = nobody\n" % chroot_dir)
    try:
        host.write_spool(message("a"))
        s = PopSession(host)
        try:
            check(s.greeting().startswith(b"+OK"), "greeting")
            parent = s.proc.pid
            kids = children_of(parent)
            check(len(kids) == 1, "one pre-login child (%s)" % kids)
            child = kids[0]
            st = status_of(child)
            check(st["Uid"] == ["65534"] * 4 and st["Gid"] == ["65534"] * 4,
                  "pre-login process runs as nobody (Uid %s Gid %s)" % (st["Uid"], st["Gid"]))
            check(st.get("Groups", []) == [], "pre-login process has no supplementary groups")
            check(os.readlink("/proc/%d/root" % child) == chroot_dir,
                  "pre-login process is chrooted into preauth_chroot")
            check(limit(child, "Max processes") == "0", "pre-login process cannot fork")
            check(limit(child, "Max core file size") == "0", "pre-login process dumps no core")
            pst = status_of(parent)
            check(pst["Uid"][1] == "0", "the privileged process checking passwords is another process (root)")
            s.cmd("USER " + USER)
            status, _ = s.cmd("PASS " + PASSWORD)
            check(status.startswith(b"+OK"), "login")
            pst = status_of(parent)
            check(pst["Uid"] == [str(host.uid)] * 4 and pst["Gid"] == [str(host.gid)] * 4,
                  "after login the session runs as the mailbox owner (Uid %s)" % pst["Uid"])
            check(children_of(parent) == [], "the pre-login process is gone after login")
            check(s.cmd("STAT")[0].startswith(b"+OK 1 "), "the owner's session serves the mailbox")
            s.cmd("QUIT")
        finally:
            s.finish()

        # Credentials never reach the log.
        s = PopSession(host)
        try:
            s.greeting()
            s.cmd("USER " + USER)
            s.cmd("PASS hunter2-not-the-password")
        finally:
            s.finish()
        log = host.read_file(os.path.join(host.dir, "session.log")).decode(errors="replace")
        check("hunter2" not in log and PASSWORD not in log, "no password in the log")
        check("authentication failure: user=alice addr=local reason=bad-password" in log,
              "failed login logged with user, address and reason")
    finally:
        host.close()
        os.rmdir(chroot_dir)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
