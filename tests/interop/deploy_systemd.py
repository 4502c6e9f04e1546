#!/usr/bin/env python3
"""popperd under systemd socket activation, with the real
systemd-socket-activate (package systemd).

The command lines come from the shipped files, with the built popperd and
`-c` our config:

accept  popperd.socket (Accept=yes) + popperd@.service: one popperd per
        connection, which finds the connection in LISTEN_FDS (no -i).
inetd   conf/inetd.conf's `popperd -i` with the connection on stdin/stdout,
        as inetd starts it (systemd-socket-activate --accept --inetd).
listen  Accept=no: one long-running `popperd -f` (popperd.service's
        ExecStart, after its ExecStartPre `popperd -t`) gets the listening
        socket through LISTEN_FDS, ignores its own `listen` line (and says so),
        forks a session per connection, and on SIGTERM tells the open
        sessions (one logged in, several before login) that it is shutting
        down, deletes nothing, removes its pidfile and exits 0.

In each mode: sessions whose process titles read `popperd: [127.0.0.1]
AUTH`, then `popperd: alice [127.0.0.1] TRANSACTION`, retrieve the fixture
byte for byte, delete a message and QUIT; a failed login whose client sees
POP3 replies only.

usage: deploy_systemd.py POPPERD accept|inetd|listen
"""
import os
import re
import shlex
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

CONF = os.path.join(interop.SOURCE_DIR, "conf")
# Sessions before login open at SIGTERM: several, since telling them is racy
# (popperd 0.1.0: some get the connection closed without the reply).
PRE_LOGIN_SESSIONS = 6


def unit_value(unit, key):
    with open(os.path.join(CONF, "systemd", unit)) as f:
        values = re.findall(r"(?m)^%s=(.*)$" % re.escape(key), f.read())
    if len(values) != 1:
        interop.fail("%s: expected one %s= line, found %r" % (unit, key, values))
    return values[0].strip()


def command_of(words, host):
    """A shipped command line with our popperd and config."""
    if not words or words[0] != "/usr/sbin/popperd":
        interop.fail("shipped command does not run /usr/sbin/popperd: %r" % words)
    return [host.popperd] + words[1:] + ["-c", host.conf]


def exec_start(unit, key, host):
    line = unit_value(unit, key)
    return command_of(shlex.split(line.lstrip("-")), host)


def inetd_command(host):
    with open(os.path.join(CONF, "inetd.conf")) as f:
        lines = [l for l in f.read().splitlines() if l.strip() and not l.startswith("#")]
    fields = lines[0].split()
    # service type proto wait user server argv0 args...
    if len(lines) != 1 or fields[1:5] != ["stream", "tcp", "nowait", "root"]:
        interop.fail("conf/inetd.conf: unexpected service line %r" % lines)
    return command_of([fields[5]] + fields[7:], host)


def activate(host, flags, command):
    """systemd-socket-activate on a random 127.0.0.1 port (retried if taken)."""
    for attempt in range(5):
        port = interop.free_port()
        log_path = os.path.join(host.dir, "activate-%d.log" % attempt)
        log = open(log_path, "wb")
        proc = interop.start(["systemd-socket-activate", "--listen", "127.0.0.1:%d" % port]
                             + flags + ["--"] + command,
                             stdin=interop.subprocess.DEVNULL, stdout=log, stderr=log)
        state = interop.wait_until(
            "systemd-socket-activate to listen",
            lambda: ("ok" if re.search(rb"Listening on 127\.0\.0\.1:%d" % port,
                                       host.read_file(log_path))
                     else "exited" if proc.poll() is not None else None))
        if state == "ok":
            return proc, port, log_path
        text = host.read_file(log_path)
        if b"Address already in use" not in text:
            interop.fail("systemd-socket-activate failed: %s" % text.decode())
    interop.fail("no free port in 5 attempts")


def per_connection(host, mode):
    if mode == "accept":
        if unit_value("popperd.socket", "Accept") != "yes":
            interop.fail("popperd.socket is not Accept=yes")
        command, flags = exec_start("popperd@.service", "ExecStart", host), ["--accept"]
    else:
        command, flags = inetd_command(host), ["--accept", "--inetd"]
    interop.note("%s: %s" % (mode, " ".join(command)))
    ssa, port, log_path = activate(host, flags, command)
    what = "systemd %s" % ("Accept=yes" if mode == "accept" else "--inetd (inetd.conf)")
    left = interop.pop_session(what, host, port, interop.FIXTURE,
                               lambda: interop.children_of(ssa.pid))
    interop.failed_login(what, port)
    interop.pop_session(what + ", second connection", host, port, left,
                        lambda: interop.children_of(ssa.pid))
    interop.stop(ssa)
    log = host.read_file(log_path).decode("utf-8", "replace")
    interop.expect_no_sanitizer_report(what, log)
    if mode == "accept":
        # Its stderr is not the connection: log = stderr is honoured.
        for line in ("info: login: user=alice addr=127.0.0.1",
                     "notice: authentication failure: user=alice addr=127.0.0.1 reason=bad-password"):
            if line not in log:
                interop.fail("%s: no %r in popperd's stderr:\n%s" % (what, line, log))
        interop.note("ok: %s: popperd logged to its stderr, not to the client" % what)


def listening_socket(host):
    if interop.run(exec_start("popperd.service", "ExecStartPre", host)).returncode != 0:
        interop.fail("popperd.service's ExecStartPre (popperd -t) rejects the config")
    command = exec_start("popperd.service", "ExecStart", host)
    interop.note("listen: %s" % " ".join(command))
    ssa, port, log_path = activate(host, [], command)
    host.port = port
    # It execs popperd on the first connection: the listener keeps that pid.
    left = interop.pop_session("systemd Accept=no", host, port, interop.FIXTURE,
                               lambda: interop.children_of(ssa.pid))
    title = interop.proc_title(ssa.pid)
    if not title.startswith("popperd: listening on 127.0.0.1:%d" % port):
        interop.fail("listener's process title is %r" % title)
    interop.note("ok: systemd Accept=no: listener shows %r" % title)
    interop.failed_login("systemd Accept=no", port)
    left = interop.pop_session("systemd Accept=no, second session", host, port, left,
                               lambda: interop.children_of(ssa.pid))
    log = host.read_file(log_path).decode("utf-8", "replace")
    for line in ("notice: using 1 sockets passed by systemd; listen lines are ignored",
                 "notice: listening on 127.0.0.1:%d " % port):
        if line not in log:
            interop.fail("no %r in the log:\n%s" % (line, log))
    if interop.greeting(host.ignored_port, timeout=0.5) is not None:
        interop.fail("popperd bound its `listen` line although systemd passed a socket")
    interop.note("ok: systemd Accept=no: the passed socket is used, the listen line ignored")
    stop_with_sessions_open(host, ssa)
    code = interop.stop(ssa, signal.SIGTERM)
    host.expect_spool(left, "systemd Accept=no, after SIGTERM: a DELE without QUIT")
    interop.expect_no_sanitizer_report("systemd Accept=no", host.read_file(log_path))
    if code != 0 or os.path.exists(os.path.join(host.dir, "popperd.pid")):
        interop.fail("after SIGTERM: exit %d, pidfile %s" %
                     (code, "left" if os.path.exists(host.dir + "/popperd.pid") else "removed"))
    interop.note("ok: systemd Accept=no: SIGTERM: exit 0, pidfile removed")


def stop_with_sessions_open(host, listener):
    """`systemctl stop` (KillMode=mixed: SIGTERM to the listener) while one
    session is logged in with a message deleted and several are before
    login: each is told `-ERR [SYS/TEMP] Server shutting down` (popperd(8),
    SIGNALS). The caller checks that the deletion was not done."""
    what = "systemd Accept=no, SIGTERM"
    logged_in = interop.poplib.POP3("127.0.0.1", host.port, timeout=interop.WAIT_S)
    logged_in.user(interop.USER)
    logged_in.pass_(interop.PASSWORD)
    logged_in.dele(1)
    clients = [("logged-in session", logged_in)]
    for n in range(PRE_LOGIN_SESSIONS):
        earlier = set(interop.children_of(listener.pid))
        pre_login = interop.poplib.POP3("127.0.0.1", host.port, timeout=interop.WAIT_S)
        pre_login.capa()
        session = interop.wait_for_title(
            "%s, session %d before login" % (what, n + 1),
            lambda: [p for p in interop.children_of(listener.pid) if p not in earlier],
            "popperd: [127.0.0.1] AUTH")
        interop.wait_for_title("%s, its pre-login child" % what,
                               lambda: interop.children_of(session),
                               "popperd: [127.0.0.1] AUTH (pre-login)")
        clients.append(("session %d before login" % (n + 1), pre_login))
    listener.send_signal(signal.SIGTERM)
    want = b"-ERR [SYS/TEMP] Server shutting down\r\n"
    wrong = []
    for name, pop in clients:
        reply = pop.file.readline()
        pop.close()
        if reply != want:
            wrong.append("%s got %r" % (name, reply))
    if wrong:
        interop.fail("%s: every open session should get %r; %s" % (what, want, "; ".join(wrong)))
    interop.note("ok: %s: all %d open sessions told %r" % (what, len(clients), want.strip().decode()))


def main():
    popperd, mode = sys.argv[1], sys.argv[2]
    interop.require_tools("systemd-socket-activate", "perl")
    ignored_port = interop.free_port()
    host = interop.Host(popperd, "listen = 127.0.0.1:%d\n" % ignored_port)
    host.ignored_port = ignored_port
    if mode == "listen":
        listening_socket(host)
    else:
        per_connection(host, mode)


if __name__ == "__main__":
    interop.main_guard(main)
