#!/usr/bin/env python3
"""curl retrieves a mailbox from popperd.

curl's pop3:// URLs: LIST (`pop3://host:port/`), RETR of every message in
one session (several URLs on one command line reuse the connection), TOP and
UIDL as custom requests, then DELE of every message. curl writes what the
server sent with the dot-stuffing undone and adds nothing, so each message
must equal the fixture's CRLF wire form exactly, and LIST sizes must be the
octets of that form (RFC 1939 §5). curl keeps no state between runs, so
the UIDL "leave mail on server" scenario is checked by its UIDL listing
only: the ids of the old messages stay the same after a new one arrives.

With `auth`, against a daemon that offers APOP and SASL: curl's
--login-options AUTH=PLAIN, AUTH=LOGIN, AUTH=CRAM-MD5 and AUTH=+APOP each
log in (curl -v shows the command) and retrieve every message.

Quirk: curl 7.88 writes a lone CRLF for an empty scan listing. It logs in
with AUTH PLAIN, not USER/PASS, as soon as CAPA lists SASL PLAIN.

usage: client_curl.py POPPERD [auth]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import FIXTURE, NEW_MESSAGE, crlf  # noqa: E402


MECHANISMS = [  # --login-options, secret, what curl -v shows it send
    ("AUTH=PLAIN", interop.PASSWORD, "> AUTH PLAIN"),
    ("AUTH=LOGIN", interop.PASSWORD, "> AUTH LOGIN"),
    ("AUTH=CRAM-MD5", interop.APOP_SECRET, "> AUTH CRAM-MD5"),
    ("AUTH=+APOP", interop.APOP_SECRET, "> APOP %s " % interop.USER),
]


def mechanisms(popperd):
    host, daemon = interop.host_with_auth_daemon(popperd)
    base = "pop3://127.0.0.1:%d/" % daemon.port
    for options, secret, shows in MECHANISMS:
        args = []
        for i in range(len(FIXTURE)):
            args += [base + str(i + 1), "--output", os.path.join(host.fetched, "%04d" % (i + 1))]
        out = interop.run(["curl", "--verbose", "--silent", "--show-error",
                           "--max-time", "%d" % interop.WAIT_S,
                           "--login-options", options,
                           "--user", "%s:%s" % (interop.USER, secret)] + args,
                          env=host.client_env())
        trace = out.stderr.decode("utf-8", "replace")
        if out.returncode != 0:
            interop.fail("curl %s exited %d:\n%s" % (options, out.returncode, trace[-3000:]))
        interop.expect_mechanism("curl", shows in trace, options, host, set(), crlf)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), len(MECHANISMS))


def main():
    popperd = sys.argv[1]
    interop.require_tools("curl", "perl")
    if sys.argv[2:] == ["auth"]:
        return mechanisms(popperd)
    host, daemon = interop.host_with_daemon(popperd)
    base = "pop3://127.0.0.1:%d/" % daemon.port
    env = host.client_env()

    def curl(*args):
        out = interop.run(["curl", "--silent", "--show-error", "--max-time", "%d" % interop.WAIT_S,
                           "--user", "%s:%s" % (interop.USER, interop.PASSWORD)] + list(args),
                          env=env)
        if out.returncode != 0:
            interop.fail("curl %s exited %d: %s" % (" ".join(args), out.returncode, out.stderr.decode()))
        return out.stdout

    def uidls():
        lines = curl("--request", "UIDL", base).decode().split("\r\n")
        assert lines[-1] == "", lines
        return [line.split(" ", 1)[1] for line in lines[:-1]]

    listing = curl(base)
    want = b"".join(b"%d %d\r\n" % (i + 1, len(crlf(m))) for i, m in enumerate(FIXTURE))
    if listing != want:
        interop.fail("curl LIST: got %r, expected %r" % (listing, want))
    interop.note("ok: curl LIST: sizes are the octets of the CRLF form")

    args = []
    for i in range(len(FIXTURE)):
        args += [base + str(i + 1), "--output", os.path.join(host.fetched, "%04d" % (i + 1))]
    curl(*args)
    interop.expect_messages("curl RETR 1..5 in one session", host.take_fetched(),
                            [crlf(m) for m in FIXTURE], set())

    top = curl("--request", "TOP 2 3", base)
    head, body = crlf(FIXTURE[1]).split(b"\r\n\r\n", 1)
    want = head + b"\r\n\r\n" + b"".join(l + b"\r\n" for l in body.split(b"\r\n")[:3])
    if top != want:
        interop.fail("curl TOP 2 3: got %r, expected %r" % (top, want))
    interop.note("ok: curl TOP 2 3: headers, blank line, three body lines starting with dots")

    before = uidls()
    if len(before) != len(FIXTURE) or len(set(before)) != len(before):
        interop.fail("curl UIDL: %r" % before)
    host.deliver_new()
    after = uidls()
    if after[:-1] != before or len(after) != len(FIXTURE) + 1 or after[-1] in before:
        interop.fail("curl UIDL after a delivery: %r, before %r" % (after, before))
    interop.note("ok: curl UIDL: unique, and unchanged for old mail after a delivery")
    newest = base + str(len(FIXTURE) + 1)
    curl(newest, "--output", os.path.join(host.fetched, "0001"))
    interop.expect_messages("curl RETR of the new message", host.take_fetched(),
                            [crlf(NEW_MESSAGE)], set())
    host.expect_spool(FIXTURE + [NEW_MESSAGE], "curl, after RETR without DELE")

    # -I: DELE answers with one line, no body to wait for.
    curl("--request", "DELE", "--head", *[base + str(i + 1) for i in range(len(FIXTURE) + 1)])
    host.expect_empty_spool("curl DELE 1..6 in one session")
    # Quirk: for an empty scan listing ("+OK", then "."), curl 7.88 writes
    # a lone CRLF.
    if curl(base) not in (b"", b"\r\n"):
        interop.fail("curl LIST after DELE: mailbox not empty")

    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 8)


if __name__ == "__main__":
    interop.main_guard(main)
