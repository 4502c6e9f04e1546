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

With `pop2`, over POP2 (RFC 937, `-p POP2`, on a `pop2_listen` address):
--keep --all (HELO, READ n, RETR, ACKS: every message, spool unchanged),
then after a delivery --nokeep --all (ACKD: every message fetched, spool
empty at QUIT, no drop file left). POP2 has no UIDL, so every run fetches
all. fetchmail -v shows the POP2 commands it sends. Debian's fetchmail is
built without POP2 ("POP2 support is not configured"): the test then
skips, unless POPPERD_FETCHMAIL names a fetchmail built with
`./configure --enable-POP2`.

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


def fetchmail(host, rcfile, port, args, proto="POP3"):
    out = interop.run([FETCHMAIL, "-v", "--nosyslog", "-f", rcfile,
                       "--idfile", os.path.join(host.home, ".fetchids"),
                       "--pidfile", os.path.join(host.home, "fetchmail.pid"),
                       "-p", proto, "--service", str(port)] + args,
                      env=host.client_env())
    if proto == "POP2" and POP2_COMPILED_OUT in out.stderr + out.stdout:
        print("skipped: %s: %s" % (FETCHMAIL, POP2_COMPILED_OUT.decode()))
        raise SystemExit(interop.SKIP)
    # 0: mail delivered; 1: no new mail.
    if out.returncode not in (0, 1):
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
    trace = fetchmail(host, rcfile, port, ["--keep", "--all"], proto="POP2")
    for sent in ("POP2> HELO %s" % interop.USER, "POP2> READ 1", "POP2> RETR", "POP2> ACKS"):
        if sent not in trace:
            interop.fail("fetchmail -p POP2 --keep did not send %r:\n%s" % (sent, trace[-4000:]))
    interop.expect_messages("fetchmail POP2 run 1 (keep)", host.take_fetched(),
                            interop.FIXTURE, ADDED_HEADERS)
    host.expect_spool(interop.FIXTURE, "fetchmail POP2 run 1 (keep)")
    host.deliver_new()
    trace = fetchmail(host, rcfile, port, ["--nokeep", "--all"], proto="POP2")
    if "POP2> ACKD" not in trace:
        interop.fail("fetchmail -p POP2 --nokeep did not send ACKD:\n" + trace[-4000:])
    interop.expect_messages("fetchmail POP2 run 2 (retrieve all and delete)",
                            host.take_fetched(), interop.FIXTURE + [interop.NEW_MESSAGE],
                            ADDED_HEADERS)
    host.expect_empty_spool("fetchmail POP2 run 2 (delete)")
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 2)
    if len(re.findall(rb"info: login: user=\S+ .* proto=pop2", daemon.log_text())) != 2:
        interop.fail("expected 2 logins logged with proto=pop2:\n" + daemon.log_text().decode())


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
