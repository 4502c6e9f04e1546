#!/usr/bin/env python3
"""UIDLs that clients can trust: stable across sessions, daemon
restarts, spool rewrites and deletion of other messages; unique even for
byte-identical messages; X-UIDL headers of qpopper-era spools honoured.

usage: uidl.py POPPERD
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import Checks, MailHost, PopSession, login, message, require_tools  # noqa: E402

check = Checks("uidl")


def uidls(host, dele=()):
    s = PopSession(host)
    try:
        login(s)
        _, body = s.cmd("UIDL", multiline=True)
        for n in dele:
            s.cmd("DELE %d" % n)
        s.cmd("QUIT")
    finally:
        s.finish()
    return [line.split(b" ", 1)[1].decode() for line in body.splitlines()]


def main():
    require_tools("perl")
    host = MailHost(sys.argv[1])
    try:
        twin = message("twin")
        qpop = message("qp").replace("Subject: qp\n", "Subject: qp\nX-UIDL: 4f2d1c0b9a8e7d6c\n")
        host.write_spool(message("a") + twin + twin + message("b") + qpop + twin)
        first = uidls(host)
        check(len(first) == 6 and len(set(first)) == 6, "six messages, six distinct UIDLs: %s" % first)
        check(all(1 <= len(u) <= 70 and re.fullmatch(r"[\x21-\x7e]+", u) for u in first),
              "UIDLs are 1-70 characters in 0x21-0x7E")
        check(first[2] == first[1] + "-2" and first[5] == first[1] + "-3",
              "byte-identical repeats get -2, -3 (%s %s %s)" % (first[1], first[2], first[5]))
        check(first[4] == "4f2d1c0b9a8e7d6c", "X-UIDL header honoured (%s)" % first[4])
        check(uidls(host) == first, "stable across sessions (each QUIT rewrote the spool)")
        host.deliver(message("c"))
        second = uidls(host, dele=[1])
        check(second[:6] == first, "stable when new mail arrives")
        third = uidls(host)
        check(third[:5] == first[1:6], "stable after deleting another message: %s" % third)
        other = MailHost(sys.argv[1])
        try:
            other.write_spool(host.read_file(host.spool).decode())
            check(uidls(other) == third, "the same spool on another server gives the same UIDLs")
        finally:
            other.close()
    finally:
        host.close()
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
