#!/usr/bin/env python3
"""APOP, SASL and plaintext policy on the real binary:
RFC 1939 §7 APOP with the greeting's stamp, RFC 5034 AUTH with PLAIN (RFC
4616), LOGIN and CRAM-MD5 (RFC 2195), initial responses, "*" cancel,
malformed base64, CAPA's SASL line, allow_plaintext = no, the same reply for
unknown users, and curl's AUTH as a real client.

usage: auth.py POPPERD
"""
import base64
import hashlib
import hmac
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crash"))
from mailhost import (Checks, ListeningDaemon, MailHost, PopSession, message,  # noqa: E402
                      require_tools, USER, PASSWORD)
from waits import scaled  # noqa: E402

SECRET = "apop-secret"
check = Checks("auth")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def make_host(popperd, conf):
    host = MailHost(popperd, conf)
    secrets = os.path.join(host.dir, "apop-secrets")
    with open(secrets, "w") as f:
        f.write("%s:%s\n" % (USER, SECRET))
    os.chmod(secrets, 0o600)
    with open(host.conf, "a") as f:
        f.write("apop_secrets_file = %s\n" % secrets)
    host.write_spool(message("a"))
    return host


def session(host):
    s = PopSession(host)
    return s, s.greeting()


def quit_ok(s):
    try:
        return s.cmd("QUIT")[0].startswith(b"+OK")
    finally:
        s.finish()


def pid_of(log_line):
    return int(re.search(rb"popperd\[(\d+)\]", log_line).group(1))


def check_pooled(popperd):
    """The same mechanisms through pooled pre-login processes
    (preauth_process_connections > 1): every connection still gets its own
    APOP stamp and CRAM-MD5 challenges, made by its privileged process."""
    host = make_host(popperd, "apop = yes\nauth_mechanisms = PLAIN LOGIN CRAM-MD5\n"
                              "preauth_process_connections = 5\n")
    daemon = ListeningDaemon(host)
    try:
        stamps, challenges = [], []
        for _ in range(2):
            s = daemon.connect()
            stamps.append(re.search(rb"<[^>]+>", s.greeting()).group(0))
            r = s.cmd("AUTH CRAM-MD5")[0]
            challenges.append(base64.b64decode(r[2:]))
            s.cmd("*")
            s.finish()
        check(stamps[0] != stamps[1] and challenges[0] != challenges[1],
              "pooled: a new APOP stamp and CRAM-MD5 challenge for each connection")
        s = daemon.connect()
        stamp = re.search(rb"<[^>]+>", s.greeting()).group(0)
        old = hashlib.md5(stamps[0] + SECRET.encode()).hexdigest()
        r = s.cmd("APOP %s %s" % (USER, old))[0]
        check(r.startswith(b"-ERR [AUTH]"), "pooled: an APOP digest of an earlier stamp fails (%r)" % r)
        r = s.cmd("AUTH CRAM-MD5")[0]
        replay = "%s %s" % (USER, hmac.new(SECRET.encode(), challenges[0], hashlib.md5).hexdigest())
        r = s.cmd(b64(replay))[0]
        check(r.startswith(b"-ERR [AUTH]"), "pooled: an answer to an earlier CRAM-MD5 challenge fails (%r)" % r)
        digest = hashlib.md5(stamp + SECRET.encode()).hexdigest()
        r = s.cmd("APOP %s %s" % (USER, digest))[0]
        check(r.startswith(b"+OK"), "pooled: APOP with this connection's stamp logs in (%r)" % r)
        check(quit_ok(s), "pooled: APOP session QUIT")
        s = daemon.connect()
        s.greeting()
        r = s.cmd("AUTH CRAM-MD5")[0]
        answer = "%s %s" % (USER, hmac.new(SECRET.encode(), base64.b64decode(r[2:]), hashlib.md5).hexdigest())
        r = s.cmd(b64(answer))[0]
        check(r.startswith(b"+OK"), "pooled: AUTH CRAM-MD5 logs in (%r)" % r)
        check(quit_ok(s), "pooled: CRAM-MD5 session QUIT")
        failures = [line for line in daemon.log_text().splitlines() if b"authentication failure" in line]
        check(len(failures) == 2 and pid_of(failures[0]) == pid_of(failures[1]),
              "pooled: the failures of two connections were seen by one pre-login process")
        if shutil.which("curl"):
            for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
                r = subprocess.run(["curl", "-s", "--max-time", "20", "-u",
                                    "%s:%s" % (USER, PASSWORD if mech != "CRAM-MD5" else SECRET),
                                    "--login-options", "AUTH=" + mech,
                                    "pop3://127.0.0.1:%d/1" % daemon.port], capture_output=True)
                check(r.returncode == 0 and b"Message-ID: <a@test>" in r.stdout,
                      "pooled: curl AUTH=%s fetches message 1 (rc %d)" % (mech, r.returncode))
        log = daemon.log_text().decode(errors="replace")
        check(PASSWORD not in log and SECRET not in log, "pooled: no password or secret in the log")
    finally:
        check(daemon.stop() == 0, "pooled: the daemon stops with exit 0")
        host.close()


def main():
    popperd = sys.argv[1]
    require_tools("perl")
    host = make_host(popperd, "apop = yes\nauth_mechanisms = PLAIN LOGIN CRAM-MD5\nmax_auth_failures = 10\n")
    try:
        s, greeting = session(host)
        stamp = re.search(rb"<[^>]+>", greeting)
        check(stamp is not None and re.fullmatch(rb"<\d+\.\d+\.[0-9a-f]+@[^>]+>", stamp.group(0)),
              "greeting carries an APOP stamp (%r)" % greeting)
        _, capa = s.cmd("CAPA", multiline=True)
        check(b"SASL PLAIN LOGIN CRAM-MD5\n" in capa and b"USER\n" in capa, "CAPA lists SASL and USER")
        digest = hashlib.md5(stamp.group(0) + SECRET.encode()).hexdigest()
        bad = s.cmd("APOP %s %s" % (USER, "0" * 32))[0]
        check(bad.startswith(b"-ERR [AUTH]"), "APOP with a wrong digest: -ERR [AUTH] (%r)" % bad)
        ok = s.cmd("APOP %s %s" % (USER, digest))[0]
        check(ok.startswith(b"+OK"), "APOP with the right digest logs in (%r)" % ok)
        check(s.cmd("STAT")[0].startswith(b"+OK 1 "), "APOP session serves the mailbox")
        check(quit_ok(s), "APOP session QUIT")

        s, _ = session(host)
        r = s.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))[0]
        check(r.startswith(b"+OK"), "AUTH PLAIN with initial response (%r)" % r)
        check(quit_ok(s), "AUTH PLAIN QUIT")

        s, _ = session(host)
        r = s.cmd("AUTH PLAIN")[0]
        check(r == b"+ ", "AUTH PLAIN without initial response asks with '+ ' (%r)" % r)
        r = s.cmd(b64("\0%s\0wrong" % USER))[0]
        check(r.startswith(b"-ERR [AUTH]"), "AUTH PLAIN wrong password: -ERR [AUTH] (%r)" % r)
        r = s.cmd("AUTH LOGIN")[0]
        check(r == b"+ VXNlcm5hbWU6", "AUTH LOGIN asks Username: (%r)" % r)
        r = s.cmd(b64(USER))[0]
        check(r == b"+ UGFzc3dvcmQ6", "AUTH LOGIN asks Password: (%r)" % r)
        r = s.cmd(b64(PASSWORD))[0]
        check(r.startswith(b"+OK"), "AUTH LOGIN logs in (%r)" % r)
        check(quit_ok(s), "AUTH LOGIN QUIT")

        s, _ = session(host)
        r = s.cmd("AUTH CRAM-MD5")[0]
        challenge = base64.b64decode(r[2:])
        check(r.startswith(b"+ ") and re.fullmatch(rb"<[^>]+>", challenge), "CRAM-MD5 challenge (%r)" % challenge)
        answer = "%s %s" % (USER, hmac.new(SECRET.encode(), challenge, hashlib.md5).hexdigest())
        r = s.cmd(b64(answer))[0]
        check(r.startswith(b"+OK"), "AUTH CRAM-MD5 logs in (%r)" % r)
        check(quit_ok(s), "AUTH CRAM-MD5 QUIT")

        s, _ = session(host)
        r1 = s.cmd("AUTH LOGIN")[0]
        r = s.cmd("*")[0]
        check(r1.startswith(b"+ ") and r.startswith(b"-ERR"), "'*' cancels an exchange (%r)" % r)
        r = s.cmd("AUTH PLAIN !!!notbase64")[0]
        check(r.startswith(b"-ERR"), "malformed base64: -ERR (%r)" % r)
        r = s.cmd("AUTH GSSAPI")[0]
        check(r.startswith(b"-ERR"), "unsupported mechanism: -ERR (%r)" % r)
        unknown = s.cmd("AUTH PLAIN " + b64("\0nobody-here\0%s" % PASSWORD))[0]
        wrong = s.cmd("AUTH PLAIN " + b64("\0%s\0nope" % USER))[0]
        check(unknown == wrong, "unknown user and wrong password get the same reply (%r)" % unknown)
        s.finish()
        log = host.read_file(os.path.join(host.dir, "session.log")).decode(errors="replace")
        check(PASSWORD not in log and SECRET not in log, "no password or secret in the log")

        if shutil.which("curl"):
            # curl needs a port: run the real listener.
            with open(host.conf, "a") as f:
                f.write("listen = 127.0.0.1:0\n")
            proc = subprocess.Popen([popperd, "-f", "-c", host.conf], stderr=subprocess.PIPE)
            try:
                line = b""
                while b"listening on" not in line:
                    line = proc.stderr.readline()
                    if not line:
                        break
                port = re.search(rb"127\.0\.0\.1:(\d+)", line)
                for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
                    r = subprocess.run(["curl", "-s", "--max-time", "%d" % scaled(30), "-u", "%s:%s" % (USER, PASSWORD if mech != "CRAM-MD5" else SECRET),
                                        "--login-options", "AUTH=" + mech,
                                        "pop3://127.0.0.1:%s/1" % port.group(1).decode()],
                                       capture_output=True)
                    check(r.returncode == 0 and b"Message-ID: <a@test>" in r.stdout,
                          "curl AUTH=%s fetches message 1 (rc %d)" % (mech, r.returncode))
            finally:
                proc.terminate()
                proc.wait(timeout=scaled(30))
    finally:
        host.close()

    check_pooled(popperd)

    # allow_plaintext = no
    host = make_host(popperd, "allow_plaintext = no\nauth_mechanisms = PLAIN LOGIN CRAM-MD5\n")
    try:
        s, _ = session(host)
        _, capa = s.cmd("CAPA", multiline=True)
        check(b"USER\n" not in capa and b"SASL CRAM-MD5\n" in capa,
              "allow_plaintext = no: CAPA offers neither USER nor PLAIN/LOGIN (%r)" % capa)
        r = s.cmd("USER " + USER)[0]
        check(r.startswith(b"-ERR [AUTH]"), "allow_plaintext = no: USER refused (%r)" % r)
        r = s.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))[0]
        check(r.startswith(b"-ERR [AUTH]"), "allow_plaintext = no: AUTH PLAIN refused (%r)" % r)
        s.finish()
    finally:
        host.close()

    # A secrets file anyone can read stops the daemon from starting.
    host = make_host(popperd, "apop = yes\n")
    try:
        os.chmod(os.path.join(host.dir, "apop-secrets"), 0o644)
        r = subprocess.run([popperd, "-t", "-c", host.conf], capture_output=True)
        check(r.returncode == 78 and b"apop-secrets" in r.stderr,
              "a 0644 secrets file: popperd refuses to start, exit 78 naming it (%r)" % r.stderr)
    finally:
        host.close()
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
