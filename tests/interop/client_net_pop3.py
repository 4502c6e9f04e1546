#!/usr/bin/env python3
"""Perl's Net::POP3 retrieves a mailbox from popperd.

net-pop3-fetch, a small "leave mail on server" client written with
Net::POP3 (login, list, uidl, get, delete, quit), keeps its seen UIDLs in a
state file. Net::POP3 undoes the dot-stuffing, turns CRLF into LF and adds
nothing, so each message must equal the fixture byte for byte.

With `auth`, against a daemon that offers APOP: Net::POP3's apop() with the
APOP secret logs in and retrieves every message. (Its auth() needs
Authen::SASL, which Debian's perl does not ship: not run.)

usage: client_net_pop3.py POPPERD [auth]
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

CLIENT = os.path.join(interop.HERE, "net-pop3-fetch")


def net_pop3_fetch(host, port, options, secret, mode):
    state = os.path.join(host.home, "net-pop3-uidls")
    out = interop.run(["perl", CLIENT] + options + [str(port), interop.USER, secret, mode,
                                                    state, host.fetched], env=host.client_env())
    if out.returncode != 0:
        interop.fail("net-pop3-fetch %s exited %d: %s" %
                     (mode, out.returncode, (out.stderr + out.stdout).decode()))


def main():
    popperd = sys.argv[1]
    interop.require_tools("perl")
    if subprocess.run(["perl", "-MNet::POP3", "-e", "1"], capture_output=True).returncode != 0:
        print("skipped: Perl's Net::POP3 (libnet) is missing")
        raise SystemExit(interop.SKIP)
    if sys.argv[2:] == ["auth"]:
        host, daemon = interop.host_with_auth_daemon(popperd)
        net_pop3_fetch(host, daemon.port, ["--apop"], interop.APOP_SECRET, "keep")
        interop.expect_mechanism("Net::POP3", True, "APOP", host, set())
        daemon.stop()
        interop.expect_clean_log(daemon.log_text(), 1)
        return
    host, daemon = interop.host_with_daemon(popperd)
    interop.leave_on_server_then_delete(
        "Net::POP3", host, lambda mode: net_pop3_fetch(host, daemon.port, [], interop.PASSWORD,
                                                       mode), set())
    daemon.stop()
    interop.expect_clean_log(daemon.log_text(), 4)


if __name__ == "__main__":
    interop.main_guard(main)
