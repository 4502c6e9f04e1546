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

Quirks: fetchmail 6.4 sends STLS even though CAPA does not list it, and
gives up when it fails ("upgrade to TLS failed"); `sslproto ''` turns that
off. `--port` is obsolete: `--service N`.

usage: client_fetchmail.py POPPERD [auth]
"""
import getpass
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

ADDED_HEADERS = {"received"}
MECHANISMS = [  # options, secret, what fetchmail -v shows it send
    (["--auth", "password"], interop.PASSWORD, "POP3> USER %s" % interop.USER),
    (["--auth", "cram-md5"], interop.APOP_SECRET, "POP3> AUTH CRAM-MD5"),
    (["-p", "APOP"], interop.APOP_SECRET, "POP3> APOP %s " % interop.USER),
]


def write_rcfile(host, port, password, user=interop.USER):
    rcfile = os.path.join(host.home, ".fetchmailrc")
    with open(rcfile, "w") as f:
        f.write("set no syslog\n"
                "poll 127.0.0.1 with proto POP3 service %d timeout %d\n"
                "  user \"%s\" there with password \"%s\" is \"%s\" here\n"
                "  sslproto ''\n"
                "  mda \"%s %s\"\n"
                % (port, interop.WAIT_S, user, password, getpass.getuser(),
                   interop.STORE_MESSAGE, host.fetched))
    os.chmod(rcfile, 0o600)  # fetchmail refuses a readable rcfile with a password
    return rcfile


def fetchmail(host, rcfile, port, args):
    out = interop.run(["fetchmail", "-v", "--nosyslog", "-f", rcfile,
                       "--idfile", os.path.join(host.home, ".fetchids"),
                       "--pidfile", os.path.join(host.home, "fetchmail.pid"),
                       "-p", "POP3", "--service", str(port)] + args,
                      env=host.client_env())
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


def main():
    popperd = sys.argv[1]
    interop.require_tools("fetchmail", "perl")
    if sys.argv[2:] == ["auth"]:
        return mechanisms(popperd)
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
