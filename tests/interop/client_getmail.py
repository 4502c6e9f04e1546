#!/usr/bin/env python3
"""getmail6 retrieves a mailbox from popperd.

getmail runs with a private HOME and getmail directory, SimplePOP3Retriever
on 127.0.0.1 and an MDA_external destination (store-message); the test
compares what it stored with the fixture byte for byte. getmail adds three
headers of its own: Return-Path, Delivered-To and Received.

Runs: `read_all = false`, `delete = false` twice (getmail's oldmail file
tracks UIDLs; the second run, after a delivery, must fetch only the new
message), a third time (nothing new), then `read_all = true`,
`delete = true` (everything retrieved and deleted: spool empty, no drop
file left).

With `auth`, against a daemon that offers APOP: `use_apop = true` logs in
with the APOP secret (USER/PASS would fail with it) and retrieves every
message. getmail's POP3 retrievers have no SASL.

Quirk: as root, getmail refuses to run an external MDA ("refuse to invoke
external commands as root or GID 0 by default") unless the destination says
`allow_root_commands = true`, and still reports the messages as retrieved.

usage: client_getmail.py POPPERD [auth]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

ADDED_HEADERS = {"return-path", "delivered-to", "received"}


def write_rcfile(getmaildir, name, port, host, password, read_all, delete, extra="",
                 user=interop.USER):
    with open(os.path.join(getmaildir, name), "w") as f:
        f.write("[retriever]\n"
                "type = SimplePOP3Retriever\n"
                "server = 127.0.0.1\n"
                "port = %d\n"
                "username = %s\n"
                "password = %s\n"
                "timeout = %d\n"
                "%s"
                "\n"
                "[destination]\n"
                "type = MDA_external\n"
                "path = %s\n"
                "arguments = (\"%s\",)\n"
                "allow_root_commands = true\n"
                "\n"
                "[options]\n"
                "verbose = 2\n"
                "read_all = %s\n"
                "delete = %s\n"
                % (port, user, password, interop.WAIT_S, extra, interop.STORE_MESSAGE,
                   host.fetched, read_all, delete))


def getmail(host, getmaildir, rcfile):
    out = interop.run(["getmail", "--getmaildir", getmaildir, "--rcfile", rcfile],
                      env=host.client_env())
    text = (out.stdout + out.stderr).decode("utf-8", "replace")
    if out.returncode != 0 or "error" in text.lower():
        interop.fail("getmail (%s) exited %d:\n%s" % (rcfile, out.returncode, text[-4000:]))


def private_getmaildir(host):
    getmaildir = os.path.join(host.home, ".getmail")
    os.mkdir(getmaildir, 0o700)
    return getmaildir


def mechanisms(popperd):
    host, daemon = interop.host_with_auth_daemon(popperd)
    getmaildir = private_getmaildir(host)
    write_rcfile(getmaildir, "apop.rc", daemon.port, host, interop.APOP_SECRET, "true", "false",
                 "use_apop = true\n")
    getmail(host, getmaildir, "apop.rc")
    interop.expect_mechanism("getmail", True, "use_apop = true", host, ADDED_HEADERS)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 1)


def main():
    popperd = sys.argv[1]
    interop.require_tools("getmail", "perl")
    if sys.argv[2:] == ["auth"]:
        return mechanisms(popperd)
    host, daemon = interop.host_with_daemon(popperd)
    getmaildir = private_getmaildir(host)
    write_rcfile(getmaildir, "keep.rc", daemon.port, host, interop.PASSWORD, "false", "false")
    write_rcfile(getmaildir, "delete.rc", daemon.port, host, interop.PASSWORD, "true", "true")
    interop.leave_on_server_then_delete(
        "getmail", host, lambda mode: getmail(host, getmaildir, mode + ".rc"), ADDED_HEADERS)
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 4)


if __name__ == "__main__":
    interop.main_guard(main)
