#!/usr/bin/env python3
"""The shipped fail2ban filter and jail against popperd's own log lines.

popperd runs standalone and serves, from distinct loopback addresses, logins
that fail for every reason popperd logs (bad-password, unknown-user,
disabled, invalid-name, three failures in one connection, and a user name
that tries to forge an address) and logins that succeed. Its log is
collected in one of two forms:

stderr  `log = stderr`: `popperd[PID]: notice: authentication failure: ...`,
        and the same lines as fail2ban's systemd backend shows them when
        that stderr went to the journal: `HOST popperd[PID]: popperd[PID]: ...`
syslog  `log = syslog`: popperd's real syslog(3) datagrams, received on a
        private /dev/log (a mount namespace; skipped where unshare(1) cannot
        make one) and written as rsyslog writes /var/log/mail.log:
        `Mon DD HH:MM:SS HOST popperd[PID]: authentication failure: ...`;
        their facility must be mail.

`fail2ban-regex` with the shipped filter (installed in a private copy of
/etc/fail2ban beside Debian's common.conf) must report exactly the failed
logins, with the client's address, and no other line. `fail2ban-client
--test` then loads the shipped jail, enabled, on that log.

usage: deploy_fail2ban.py POPPERD stderr|syslog
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

CONF = os.path.join(interop.SOURCE_DIR, "conf", "fail2ban")
FAILURES = [  # (source address, user, failed PASS commands)
    ("127.0.0.2", interop.USER, 1),       # bad-password
    ("127.0.0.2", interop.USER, 1),
    ("127.0.0.3", "mallory", 1),          # unknown-user
    ("127.0.0.4", "carol", 1),            # disabled
    ("127.0.0.5", "-rf", 1),              # invalid-name
    ("127.0.0.6", "mallory", 3),          # max_auth_failures: disconnected
    ("127.0.0.7", "addr=10.9.9.9", 1),    # a name that looks like an address
]
REASONS = {"bad-password", "unknown-user", "disabled", "invalid-name"}


def failing_session(port, source, user, count):
    commands = []
    for _ in range(count):
        commands += ["USER " + user, "PASS wrong"]
    lines = interop.raw_transcript(port, commands + ["QUIT"], source)
    if sum(1 for l in lines if l.startswith("-ERR [AUTH]")) != count:
        interop.fail("from %s as %s: %r" % (source, user, lines))


def good_session(port):
    lines = interop.raw_transcript(port, ["USER " + interop.USER, "PASS " + interop.PASSWORD,
                                          "STAT", "QUIT"])
    if not all(l.startswith("+OK") for l in lines[:-1]):
        interop.fail("good login: %r" % lines)


def produce_log(host, daemon_argv, log_text):
    daemon = interop.Daemon(host, daemon_argv, log_text)
    good_session(daemon.port)
    for source, user, count in FAILURES:
        failing_session(daemon.port, source, user, count)
    good_session(daemon.port)
    daemon.stop()
    return daemon


class SyslogReceiver:
    """A /dev/log stand-in: keeps each datagram syslog(3) sends."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)  # sessions log after becoming the user
        self.messages = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            self.messages.append(self.sock.recv(65536))

    def as_mail_log(self):
        """Lines as rsyslog writes them: the timestamp, the host, the rest."""
        host = socket.gethostname().split(".")[0]
        out = []
        for m in self.messages:
            found = re.match(rb"<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*?)\n?$", m, re.S)
            if not found:
                interop.fail("not a syslog(3) datagram: %r" % m)
            if int(found.group(1)) >> 3 != 2:
                interop.fail("syslog facility is not mail: %r" % m)
            out.append(b"%s %s %s\n" % (found.group(2), host.encode(), found.group(3)))
        return b"".join(out)


def syslog_daemon_argv(host):
    """popperd -f in a private mount namespace whose /dev/log is ours."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        print("skipped: a private /dev/log needs root and unshare(1)")
        raise SystemExit(interop.SKIP)
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        print("skipped: no mount namespace here: %s" % probe.stderr.decode().strip())
        raise SystemExit(interop.SKIP)
    real_dev = os.path.join(host.dir, "real-dev")
    os.mkdir(real_dev)
    script = ('set -e; mount --bind /dev "$1"; mount -t tmpfs -o mode=0755 popperd-test-dev /dev; '
              'for n in null zero full random urandom; do touch /dev/$n; '
              'mount --bind "$1/$n" /dev/$n; done; ln -s "$2" /dev/log; shift 2; exec "$@"')
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
            real_dev, os.path.join(host.dir, "devlog"), host.popperd, "-f", "-c", host.conf]


def fail2ban_config(host, log_path):
    """A private /etc/fail2ban with the shipped filter and jail (enabled)."""
    config = os.path.join(host.dir, "fail2ban")
    shutil.rmtree(config, ignore_errors=True)
    shutil.copytree("/etc/fail2ban", config, symlinks=True)
    shutil.copy(os.path.join(CONF, "filter.d", "popperd.conf"), os.path.join(config, "filter.d"))
    os.makedirs(os.path.join(config, "jail.d"), exist_ok=True)
    for name in os.listdir(os.path.join(config, "jail.d")):
        os.unlink(os.path.join(config, "jail.d", name))  # only our jail
    shutil.copy(os.path.join(CONF, "jail.d", "popperd.conf"), os.path.join(config, "jail.d"))
    with open(os.path.join(config, "jail.local"), "w") as f:
        f.write("[DEFAULT]\nbanaction = dummy\nbanaction_allports = dummy\n\n"
                "[popperd]\nenabled = true\nbackend = polling\nlogpath = %s\n" % log_path)
    return config


def main():
    popperd, mode = sys.argv[1], sys.argv[2]
    interop.require_tools("fail2ban-regex", "fail2ban-client", "perl")
    host = interop.Host(popperd, "listen = 127.0.0.1:0\n")
    # carol is disabled: a "!" before her hash.
    host.add_user("carol:!%s:%d:%d::/nonexistent:" %
                  (interop.mailhost.crypt_sha512("wrong"), host.uid, host.gid))
    log_path = os.path.join(host.dir, "mail.log")
    if mode == "syslog":
        argv = syslog_daemon_argv(host)
        with open(host.conf) as f:
            conf = f.read()
        with open(host.conf, "w") as f:
            f.write(conf.replace("log = stderr\n", "log = syslog\n"))
        receiver = SyslogReceiver(os.path.join(host.dir, "devlog"))
        produce_log(host, argv, receiver.as_mail_log)
        interop.wait_until("the last syslog lines",
                           lambda: b"]: stopped\n" in receiver.as_mail_log())
        with open(log_path, "wb") as f:
            f.write(receiver.as_mail_log())
    else:
        daemon = produce_log(host, None, None)
        shutil.copy(daemon.log_path, log_path)
    check_filter(host, log_path, mode)
    if mode == "stderr":
        # The same lines as fail2ban's systemd backend shows popperd's stderr
        # under popperd.service: "HOST IDENT[PID]: MESSAGE".
        journal_path = os.path.join(host.dir, "journal.log")
        with open(log_path, "rb") as f, open(journal_path, "wb") as out:
            for line in f:
                pid = re.match(rb"popperd\[(\d+)\]: ", line).group(1)
                out.write(b"%s popperd[%s]: %s" % (socket.gethostname().encode(), pid, line))
        check_filter(host, journal_path, "journal")
    check_jail(host, log_path)


def check_filter(host, log_path, mode):
    with open(log_path, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    failure_lines = [l for l in log.splitlines() if "authentication failure: " in l]
    want_count = sum(count for _, _, count in FAILURES)
    if len(failure_lines) != want_count:
        interop.fail("expected %d failure lines in the %s log:\n%s" % (want_count, mode, log))
    for line in log.splitlines()[:3] + failure_lines[:1]:
        interop.note("  %s log: %s" % (mode, line))
    config = fail2ban_config(host, log_path)
    regex = ["fail2ban-regex", "--config", config]
    matched = interop.run(regex + ["--out", "msg", log_path, "popperd"])
    ips = interop.run(regex + ["--out", "ip", log_path, "popperd"])
    if matched.returncode != 0 or ips.returncode != 0:
        interop.fail("fail2ban-regex: %s %s" % (matched.stderr.decode(), ips.stderr.decode()))
    matched_lines = matched.stdout.decode().splitlines()
    if matched_lines != failure_lines:
        interop.fail("fail2ban-regex matched:\n%s\nexpected exactly the failed logins:\n%s" %
                     ("\n".join(matched_lines), "\n".join(failure_lines)))
    want_ips = [source for source, _, count in FAILURES for _ in range(count)]
    if ips.stdout.decode().split() != want_ips:
        interop.fail("fail2ban-regex addresses %r, expected %r" % (ips.stdout.decode().split(),
                                                                  want_ips))
    reasons = {re.search(r"reason=(\S+)", l).group(1) for l in failure_lines}
    if reasons != REASONS:
        interop.fail("reasons logged: %r, expected %r" % (reasons, REASONS))
    missed = [l for l in log.splitlines() if l not in failure_lines]
    if not any("login: user=alice addr=127.0.0.1" in l for l in missed):
        interop.fail("no successful login in the log:\n%s" % log)
    interop.note("ok: fail2ban-regex (%s form): the %d failed logins match, with addresses %s; "
                 "the %d other lines (successful logins, connects, too-many-failures) do not" %
                 (mode, want_count, " ".join(sorted(set(want_ips))), len(missed)))


def check_jail(host, log_path):
    config = fail2ban_config(host, log_path)
    test = interop.run(["fail2ban-client", "--conf", config, "--test"])
    dump = interop.run(["fail2ban-client", "--conf", config, "--dump"])
    text = (dump.stdout + dump.stderr).decode()
    if test.returncode != 0 or dump.returncode != 0 or "'add', 'popperd'" not in text \
            or not re.search(r"'set', 'popperd', 'addlogpath', '%s'" % re.escape(log_path), text):
        interop.fail("fail2ban-client --test/--dump with the shipped jail:\n%s\n%s" %
                     ((test.stdout + test.stderr).decode(), text[-3000:]))
    interop.note("ok: fail2ban-client --test loads the shipped jail [popperd] with the filter")


if __name__ == "__main__":
    interop.main_guard(main)
