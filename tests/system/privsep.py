#!/usr/bin/env python3
"""Privilege separation, checked from /proc while a session runs
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
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crash"))
from mailhost import (Checks, ListeningDaemon, MailHost, PopSession, login, message,  # noqa: E402
                      require_tools, USER, PASSWORD)
from waits import scaled  # noqa: E402

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


def title_of(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except FileNotFoundError:
        return ""


def check_sandboxed(pid, chroot_dir, what):
    st = status_of(pid)
    check(st["Uid"] == ["65534"] * 4 and st["Gid"] == ["65534"] * 4,
          "%s runs as nobody (Uid %s Gid %s)" % (what, st["Uid"], st["Gid"]))
    check(st.get("Groups", []) == [], "%s has no supplementary groups" % what)
    check(os.readlink("/proc/%d/root" % pid) == chroot_dir, "%s is chrooted into preauth_chroot" % what)
    check(limit(pid, "Max processes") == "0", "%s cannot fork" % what)
    check(limit(pid, "Max core file size") == "0", "%s dumps no core" % what)


def check_pooled(popperd, chroot_dir):
    """preauth_process_connections > 1: the pooled pre-login processes are
    children of the listener, sandboxed the same way, and stay so between
    connections; each session process is root until login."""
    host = MailHost(popperd, "preauth_chroot = %s\nunprivileged_user = nobody\n"
                             "preauth_process_connections = 5\n" % chroot_dir)
    daemon = ListeningDaemon(host)
    try:
        host.write_spool(message("a"))
        s = daemon.connect()
        try:
            check(s.greeting().startswith(b"+OK"), "pooled: greeting")
            s.cmd("USER " + USER)
            kids = children_of(daemon.proc.pid)
            pooled = [k for k in kids if title_of(k).endswith("AUTH (pre-login)")]
            sessions = [k for k in kids if title_of(k) == "popperd: [127.0.0.1] AUTH"]
            check(len(pooled) == 1 and len(sessions) == 1,
                  "pooled: one pre-login process and one session process (%s)" %
                  [(k, title_of(k)) for k in kids])
            if pooled and sessions:
                check_sandboxed(pooled[0], chroot_dir, "pooled pre-login process")
                check(status_of(sessions[0])["Uid"][1] == "0",
                      "pooled: the session process checking passwords runs as root")
                check(children_of(sessions[0]) == [], "pooled: the session process forks nothing")
                status, _ = s.cmd("PASS " + PASSWORD)
                check(status.startswith(b"+OK"), "pooled: login")
                pst = status_of(sessions[0])
                check(pst["Uid"] == [str(host.uid)] * 4,
                      "pooled: after login the session runs as the mailbox owner (Uid %s)" % pst["Uid"])
                deadline = time.time() + scaled(30)
                while title_of(pooled[0]) != "popperd: pre-login (idle)" and time.time() < deadline:
                    time.sleep(0.01)
                check(title_of(pooled[0]) == "popperd: pre-login (idle)",
                      "pooled: the pre-login process is idle again after the handover")
                check_sandboxed(pooled[0], chroot_dir, "idle pooled pre-login process")
            s.cmd("QUIT")
        finally:
            s.finish()
    finally:
        check(daemon.stop() == 0, "pooled: the daemon stops with exit 0")
        host.close()


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
        check_pooled(popperd, chroot_dir)
    finally:
        host.close()
        os.rmdir(chroot_dir)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
