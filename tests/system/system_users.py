#!/usr/bin/env python3
"""users = system: a real Unix account made with useradd and
chpasswd logs in with its password from /etc/shadow, the session runs as
that account, the spool is spool_dir/NAME; a wrong password, a locked
account (usermod -L) and root are all answered alike. Needs root (it adds
and removes the account); skipped otherwise.

usage: system_users.py POPPERD
"""
import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crash"))
from mailhost import Checks, MailHost, PopSession, message, ids_in, require_tools  # noqa: E402

check = Checks("system_users")


def attempt(host, user, password, commands=()):
    s = PopSession(host)
    out = []
    try:
        s.greeting()
        s.cmd("USER " + user)
        out.append(s.cmd("PASS " + password)[0])
        if out[0].startswith(b"+OK"):
            for c in commands:
                out.append(s.cmd(c, multiline=c.startswith("RETR")))
            out.append(s.cmd("QUIT")[0])
    finally:
        s.finish()
    return out


def main():
    popperd = sys.argv[1]
    require_tools("perl", "useradd", "userdel", "chpasswd", "usermod")
    if os.geteuid() != 0:
        print("skipped: adding a system account needs root")
        return 77
    name = "popt%d" % os.getpid()
    password = "Sys-pass-1"
    subprocess.run(["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", "-d", "/nonexistent", name],
                   check=True)
    host = None
    try:
        subprocess.run(["chpasswd"], input=("%s:%s\n" % (name, password)).encode(), check=True)
        account = pwd.getpwnam(name)
        host = MailHost(popperd, "users = system\nmail_privileged_group =\n")
        os.chown(host.spool_dir, account.pw_uid, account.pw_gid)
        os.chown(host.drop_dir, account.pw_uid, account.pw_gid)
        spool = os.path.join(host.spool_dir, name)
        with open(spool, "w") as f:
            f.write(message("sys1"))
        os.chown(spool, account.pw_uid, account.pw_gid)

        out = attempt(host, name, password, ["STAT", "RETR 1"])
        check(out[0].startswith(b"+OK"), "system account logs in with its shadow password (%r)" % out[0])
        check(len(out) > 2 and ids_in(out[2][1] or b"") == ["sys1"], "its spool is spool_dir/NAME")
        log = host.read_file(os.path.join(host.dir, "session.log")).decode(errors="replace")
        check("login: user=%s" % name in log, "login logged")

        wrong = attempt(host, name, "nope")[0]
        check(wrong.startswith(b"-ERR [AUTH]"), "wrong password refused (%r)" % wrong)
        subprocess.run(["usermod", "-L", name], check=True)
        locked = attempt(host, name, password)[0]
        check(locked == wrong, "locked account answered like a wrong password (%r)" % locked)
        root = attempt(host, "root", "whatever")[0]
        check(root == wrong, "root is never served (%r)" % root)
        unknown = attempt(host, "nosuchuser%d" % os.getpid(), "x")[0]
        check(unknown == wrong, "unknown account answered alike (%r)" % unknown)
    finally:
        if host:
            host.close()
        subprocess.run(["userdel", name], check=False)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
