#!/usr/bin/env python3
"""Python's poplib retrieves a mailbox from popperd.

A small "leave mail on server" client written with poplib, as a script
author would: UIDL, then RETR of each message whose id is not yet in its
state file; or, in delete mode, RETR and DELE of everything. poplib undoes
the dot-stuffing and strips the line ends, adding nothing; the test joins
the lines with CRLF and compares that with the fixture's wire form byte for
byte, and poplib's octet count with LIST. The session also checks CAPA,
STAT, TOP, NOOP and RSET.

With `auth`, against a daemon that offers APOP: poplib's apop() with the
APOP secret logs in and retrieves every message; a wrong secret gets
-ERR [AUTH]. poplib has no SASL.

usage: client_poplib.py POPPERD [auth]
"""
import os
import poplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import FIXTURE, crlf  # noqa: E402


def fetch(port, mode, state_path, out_dir, apop_secret=None):
    seen = set()
    if mode == "keep" and os.path.exists(state_path):
        with open(state_path) as f:
            seen = set(f.read().split())
    pop = poplib.POP3("127.0.0.1", port, timeout=interop.WAIT_S)
    if apop_secret:
        pop.apop(interop.USER, apop_secret)
    else:
        pop.user(interop.USER)
        pop.pass_(interop.PASSWORD)
    sizes = {int(n): int(size) for n, size in (l.split() for l in pop.list()[1])}
    uids = [l.decode().split() for l in pop.uidl()[1]]
    stored = len(os.listdir(out_dir))
    for number, uid in uids:
        if uid in seen:
            continue
        _, lines, octets = pop.retr(int(number))
        if octets != sizes[int(number)]:
            interop.fail("poplib: RETR %s gave %d octets, LIST said %d" %
                         (number, octets, sizes[int(number)]))
        stored += 1
        with open(os.path.join(out_dir, "%04d" % stored), "wb") as f:
            f.write(b"".join(line + b"\r\n" for line in lines))
        seen.add(uid)
        if mode == "delete":
            pop.dele(int(number))
    if mode == "keep":
        with open(state_path, "w") as f:
            f.write("\n".join(sorted(seen)) + "\n")
    pop.quit()


def check_other_commands(port):
    pop = poplib.POP3("127.0.0.1", port, timeout=interop.WAIT_S)
    capa = pop.capa()
    for word in ("TOP", "UIDL", "USER", "RESP-CODES", "PIPELINING"):
        if word not in capa:
            interop.fail("poplib CAPA lacks %s: %r" % (word, capa))
    pop.user(interop.USER)
    pop.pass_(interop.PASSWORD)
    count, octets = pop.stat()
    want = sum(len(crlf(m)) for m in FIXTURE)
    if (count, octets) != (len(FIXTURE), want):
        interop.fail("poplib STAT: %r, expected %r" % ((count, octets), (len(FIXTURE), want)))
    _, lines, _ = pop.top(2, 3)
    head, body = crlf(FIXTURE[1]).split(b"\r\n\r\n", 1)
    want_top = head.split(b"\r\n") + [b""] + body.split(b"\r\n")[:3]
    if lines != want_top:
        interop.fail("poplib TOP 2 3: %r, expected %r" % (lines, want_top))
    pop.dele(1)
    pop.noop()
    pop.rset()
    if pop.stat()[0] != len(FIXTURE):
        interop.fail("poplib: RSET did not undelete")
    pop.quit()
    interop.note("ok: poplib CAPA, STAT, TOP 2 3, DELE + RSET")


def mechanisms(popperd):
    host, daemon = interop.host_with_auth_daemon(popperd)
    pop = poplib.POP3("127.0.0.1", daemon.port, timeout=interop.WAIT_S)
    try:
        pop.apop(interop.USER, interop.PASSWORD)  # the users file's password: wrong here
        interop.fail("poplib: APOP with a wrong secret logged in")
    except poplib.error_proto as e:
        if not str(e).startswith("b'-ERR [AUTH]"):
            interop.fail("poplib: APOP with a wrong secret: %s" % e)
    pop.quit()
    interop.note("ok: poplib: APOP with a wrong secret: -ERR [AUTH]")
    fetch(daemon.port, "keep", os.path.join(host.home, "uidls"), host.fetched,
          apop_secret=interop.APOP_SECRET)
    interop.expect_mechanism("poplib", True, "APOP", host, set(), crlf)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 1)  # the failed APOP never logged in


def main():
    popperd = sys.argv[1]
    interop.require_tools("perl")
    if sys.argv[2:] == ["auth"]:
        return mechanisms(popperd)
    host, daemon = interop.host_with_daemon(popperd)
    check_other_commands(daemon.port)
    host.expect_spool(FIXTURE, "poplib, after DELE + RSET + QUIT")
    state = os.path.join(host.home, "poplib-uidls")
    interop.leave_on_server_then_delete(
        "poplib", host, lambda mode: fetch(daemon.port, mode, state, host.fetched), set(), crlf)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 5)


if __name__ == "__main__":
    interop.main_guard(main)
