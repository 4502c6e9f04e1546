#!/usr/bin/env python3
"""fetchmail retrieves a mailbox from popperd.

fetchmail polls 127.0.0.1 with a private HOME and a 0600 rcfile, hands each
message to an MDA (store-message) and the test compares what it stored with
the fixture byte for byte. fetchmail adds one header of its own: Received.

Runs: --keep --uidl twice (fetchmail keeps the mail and sends TOP n 99999999
instead of RETR; the second run, after a delivery, must fetch only the new
message), a third time (nothing new), then --nokeep --all (RETR + DELE of
everything: spool empty, no drop file left).

With `auth`, against a daemon that offers APOP and SASL: `--auth password`
(USER/PASS), `--auth cram-md5` and `-p APOP` each log in (fetchmail -v shows
the command) and retrieve every message.

With `pop2`, over POP2 (RFC 937, `-p POP2`, on a `pop2_listen` address).
Debian's fetchmail is built without POP2 ("POP2 support is not
configured"): the test then skips, unless POPPERD_FETCHMAIL names one built
with `./configure --enable-POP2`. Such a fetchmail (6.3.26 and 6.4 read
alike) logs in with HELO, takes READ's "=n" as the message size and RETR's
n octets, but then passes that same n to its body reader after the headers
were read, so it waits for octets no RFC 937 server sends and gives up at
its timeout (fetchmail's driver.c/readbody, not popperd). What the test
checks is what such a client can show: the greeting, HELO's count, each
READ's size equal to the octets popperd then sends (compared with the
fixture's CRLF form), and that a client giving up mid-message deletes
nothing (the spool is the fixture again, no drop file left). The full
fetch-and-delete over POP2 is proved by tests/integration/pop2_test.cpp.

Quirks: fetchmail 6.4 sends STLS even though CAPA does not list it, and
gives up when it fails ("upgrade to TLS failed"); `sslproto ''` turns that
off. `--port` is obsolete: `--service N`.

usage: client_fetchmail.py POPPERD [auth|pop2]
"""
import getpass
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

ADDED_HEADERS = {"received"}
MECHANISMS = [  # options, secret, what fetchmail -v shows it send
    (["--auth", "password"], interop.PASSWORD, "POP3> USER %s" % interop.USER),
    (["--auth", "cram-md5"], interop.APOP_SECRET, "POP3> AUTH CRAM-MD5"),
    (["-p", "APOP"], interop.APOP_SECRET, "POP3> APOP %s " % interop.USER),
]


def write_rcfile(host, port, password, user=interop.USER, proto="POP3"):
    rcfile = os.path.join(host.home, ".fetchmailrc")
    with open(rcfile, "w") as f:
        f.write("set no syslog\n"
                "poll 127.0.0.1 with proto %s service %d timeout %d\n"
                "  user \"%s\" there with password \"%s\" is \"%s\" here\n"
                "  sslproto ''\n"
                "  mda \"%s %s\"\n"
                % (proto, port, interop.WAIT_S, user, password, getpass.getuser(),
                   interop.STORE_MESSAGE, host.fetched))
    os.chmod(rcfile, 0o600)  # fetchmail refuses a readable rcfile with a password
    return rcfile


FETCHMAIL = os.environ.get("POPPERD_FETCHMAIL", "fetchmail")
POP2_COMPILED_OUT = b"POP2 support is not configured"


def fetchmail(host, rcfile, port, args, proto="POP3", may_fail=False):
    out = interop.run([FETCHMAIL, "-v", "--nosyslog", "-f", rcfile,
                       "--idfile", os.path.join(host.home, ".fetchids"),
                       "--pidfile", os.path.join(host.home, "fetchmail.pid"),
                       "-p", proto, "--service", str(port)] + args,
                      env=host.client_env())
    if proto == "POP2" and POP2_COMPILED_OUT in out.stderr + out.stdout:
        print("skipped: %s: %s" % (FETCHMAIL, POP2_COMPILED_OUT.decode()))
        raise SystemExit(interop.SKIP)
    # 0: mail delivered; 1: no new mail.
    if out.returncode not in (0, 1) and not may_fail:
        interop.fail("fetchmail %s exited %d:\n%s" %
                     (" ".join(args), out.returncode, (out.stderr + out.stdout)[-4000:].decode()))
    return (out.stdout + out.stderr).decode("utf-8", "replace")


def mechanisms(popperd):
    host, daemon = interop.host_with_auth_daemon(popperd)
    for options, secret, shows in MECHANISMS:
        rcfile = write_rcfile(host, daemon.port, secret)
        trace = fetchmail(host, rcfile, daemon.port, ["--keep", "--all"] + options)
        interop.expect_mechanism("fetchmail", shows in trace, " ".join(options), host,
                                 ADDED_HEADERS)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), len(MECHANISMS))


def pop2(popperd):
    host, daemon = interop.host_with_daemon(popperd, "pop2_listen = 127.0.0.1:0\n")
    found = re.search(rb"listening on 127\.0\.0\.1:(\d+) pop2 ", daemon.log_text())
    if not found:
        interop.fail("no pop2_listen socket in the log:\n" + daemon.log_text().decode())
    port = int(found.group(1))
    rcfile = write_rcfile(host, port, interop.PASSWORD, proto="POP2")
    # fetchmail's own timeout ends its wait for octets that never come
    # (see above); a short one keeps the test quick.
    with open(rcfile) as f:
        text = f.read()
    with open(rcfile, "w") as f:
        f.write(re.sub(r"timeout \d+", "timeout 3", text))
    trace = fetchmail(host, rcfile, port, ["--keep"], proto="POP2", may_fail=True)
    first = interop.crlf(interop.FIXTURE[0])
    for seen in ("POP2< + POP2 popperd ready", "POP2> HELO %s" % interop.USER,
                 "POP2< #%d messages" % len(interop.FIXTURE), "POP2> READ 1",
                 "POP2< =%d" % len(first), "POP2> RETR",
                 "reading message %s@127.0.0.1:1 of %d (%d octets)" %
                 (interop.USER, len(interop.FIXTURE), len(first))):
        if seen not in trace:
            interop.fail("fetchmail -p POP2: %r not in its trace:\n%s" % (seen, trace[-4000:]))
    interop.note("ok: fetchmail -p POP2: HELO, READ 1 = %d octets, RETR" % len(first))
    interop.wait_until("the session to end", lambda: b"how=disconnected" in daemon.log_text())
    host.expect_spool(interop.FIXTURE, "fetchmail POP2 gave up mid-message")
    interop.note("ok: nothing deleted, the mail back in the spool")
    daemon.stop()
    text = daemon.log_text()
    if not re.search(rb"info: login: user=\S+ .* proto=pop2", text):
        interop.fail("no login logged with proto=pop2:\n" + text.decode())


def main():
    popperd = sys.argv[1]
    interop.require_tools(FETCHMAIL, "perl")
    if sys.argv[2:] == ["auth"]:
        return mechanisms(popperd)
    if sys.argv[2:] == ["pop2"]:
        return pop2(popperd)
    host, daemon = interop.host_with_daemon(popperd)
    rcfile = write_rcfile(host, daemon.port, interop.PASSWORD)

    def fetch(mode):
        fetchmail(host, rcfile, daemon.port,
                  ["--keep", "--uidl"] if mode == "keep" else ["--nokeep", "--all"])

    interop.leave_on_server_then_delete("fetchmail", host, fetch, ADDED_HEADERS)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 4)


if __name__ == "__main__":
    interop.main_guard(main)
