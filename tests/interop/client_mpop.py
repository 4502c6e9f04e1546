#!/usr/bin/env python3
"""mpop retrieves a mailbox from popperd.

mpop runs with a private HOME and a 0600 configuration file (`auth user`,
`tls off`) and delivers each message to an MDA (store-message); the test
compares what it stored with the fixture byte for byte. mpop adds one
header of its own: Received.

Runs: `keep on` + `only_new on` with a uidls_file twice (the second run,
after a delivery, must fetch only the new message), a third time (nothing
new), then `keep off` + `only_new off` (everything retrieved and deleted:
spool empty, no drop file left).

With `auth`, against a daemon that offers APOP and SASL: --auth=user, plain,
login, cram-md5 and apop each log in (mpop --debug shows the command) and
retrieve every message.

usage: client_mpop.py POPPERD [auth]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

ADDED_HEADERS = {"received"}
MECHANISMS = [  # --auth, secret, what mpop --debug shows it send
    ("user", interop.PASSWORD, "--> USER %s" % interop.USER),
    ("plain", interop.PASSWORD, "--> AUTH PLAIN"),
    ("login", interop.PASSWORD, "--> AUTH LOGIN"),
    ("cram-md5", interop.APOP_SECRET, "--> AUTH CRAM-MD5"),
    ("apop", interop.APOP_SECRET, "--> APOP %s " % interop.USER),
]


def write_rcfile(host, port, password):
    rcfile = os.path.join(host.home, ".mpoprc")
    with open(rcfile, "w") as f:
        f.write("defaults\n"
                "timeout %d\n"
                "account interop\n"
                "host 127.0.0.1\n"
                "port %d\n"
                "tls off\n"
                "auth user\n"
                "user %s\n"
                "password %s\n"
                "delivery mda \"%s %s\"\n"
                "uidls_file %s\n"
                % (interop.WAIT_S, port, interop.USER, password, interop.STORE_MESSAGE,
                   host.fetched, os.path.join(host.home, "mpop-uidls")))
    os.chmod(rcfile, 0o600)  # mpop refuses a configuration with a password others can read
    return rcfile


def mpop(host, rcfile, args):
    out = interop.run(["mpop", "-C", rcfile, "--debug"] + args + ["interop"],
                      env=host.client_env())
    if out.returncode != 0:
        interop.fail("mpop %s exited %d:\n%s" %
                     (" ".join(args), out.returncode, (out.stderr + out.stdout)[-4000:].decode()))
    return (out.stdout + out.stderr).decode("utf-8", "replace")


def mechanisms(popperd):
    host, daemon = interop.host_with_auth_daemon(popperd)
    for method, secret, shows in MECHANISMS:
        rcfile = write_rcfile(host, daemon.port, secret)
        trace = mpop(host, rcfile, ["--auth=" + method, "--keep=on", "--only-new=off"])
        interop.expect_mechanism("mpop", shows in trace, "auth " + method, host, ADDED_HEADERS)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), len(MECHANISMS))


def main():
    popperd = sys.argv[1]
    interop.require_tools("mpop", "perl")
    if sys.argv[2:] == ["auth"]:
        return mechanisms(popperd)
    host, daemon = interop.host_with_daemon(popperd)
    rcfile = write_rcfile(host, daemon.port, interop.PASSWORD)

    def fetch(mode):
        mpop(host, rcfile, ["--keep=on", "--only-new=on"] if mode == "keep"
             else ["--keep=off", "--only-new=off"])

    interop.leave_on_server_then_delete("mpop", host, fetch, ADDED_HEADERS)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 4)


if __name__ == "__main__":
    interop.main_guard(main)
