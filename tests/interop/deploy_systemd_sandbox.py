#!/usr/bin/env python3
"""The sandboxing of the shipped systemd units lets popperd work.

No service manager runs here, so the unit's restrictions that the kernel can
apply without one are applied, and the others are checked against what
popperd really does:

- CapabilityBoundingSet= and NoNewPrivileges= are applied by setpriv(1)
  exactly as systemd applies them (bounding set dropped before execve);
- SystemCallFilter= and RestrictAddressFamilies= are checked on an strace of
  every process of the test: each system call made must be in the filter
  (the groups expanded by `systemd-analyze syscall-filter`), each socket's
  family in the list;
- `systemd-analyze verify` accepts the units (unknown keys fail the test).

standalone  popperd.service: the listener, sessions as alice (mailbox in
            the spool) and bob (mailbox in a 0700 home directory, owner
            looked up by root: CAP_DAC_READ_SEARCH), then SIGTERM while a
            session logged in as its user is open: the listener must signal
            it (CAP_KILL) and both end cleanly.
accept      popperd@.service behind systemd-socket-activate --accept.

usage: deploy_systemd_sandbox.py POPPERD standalone|accept
"""
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

UNITS = os.path.join(interop.SOURCE_DIR, "conf", "systemd")


def service_settings(unit):
    settings = {}
    with open(os.path.join(UNITS, unit)) as f:
        section = None
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
    return settings


def syscall_groups():
    out = interop.run(["systemd-analyze", "syscall-filter"]).stdout.decode()
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif current is not None and line.startswith("    ") and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def allowed_syscalls(settings):
    groups = syscall_groups()

    def expand(name, seen):
        if not name.startswith("@"):
            return {name}
        if name in seen:
            return set()
        seen.add(name)
        return set().union(*(expand(n, seen) for n in groups[name]))
    allowed = set()
    for value in settings.get("SystemCallFilter", []):
        for name in value.split():
            allowed |= expand(name, set())
    return allowed | expand("@default", set())


def verify_units():
    scratch = interop.tempdir("popperd-units-")
    for unit in ("popperd.service", "popperd.socket", "popperd@.service"):
        with open(os.path.join(UNITS, unit)) as f:
            text = f.read().replace("/usr/sbin/popperd", os.path.realpath(sys.argv[1]))
        with open(os.path.join(scratch, unit), "w") as f:
            f.write(text)
    out = interop.run(["systemd-analyze", "verify", "--man=no"] +
                      [os.path.join(scratch, u) for u in os.listdir(scratch)])
    text = (out.stdout + out.stderr).decode()
    if out.returncode != 0 or re.search(r"(?m)^%s/" % re.escape(scratch), text):
        interop.fail("systemd-analyze verify:\n" + text)
    interop.note("ok: systemd-analyze verify accepts popperd.service, popperd.socket, "
                 "popperd@.service")


def sandboxed(settings, trace, command):
    caps = settings["CapabilityBoundingSet"][0].split()
    bounding = "-all," + ",".join("+" + c.lower().replace("cap_", "") for c in caps)
    argv = ["setpriv", "--bounding-set", bounding]
    if settings.get("NoNewPrivileges") == ["yes"]:
        argv.append("--no-new-privs")
    # -D: the traced process keeps its pid (LISTEN_PID); -A: several straces append.
    return argv + ["strace", "-D", "-f", "-A", "-qq", "-o", trace, "--"] + command


def check_trace(what, trace, settings):
    with open(trace) as f:
        text = f.read()
    used = set(re.findall(r"(?m)^\d+ +(\w+)\(", text))
    if "execve" not in used or len(used) < 20:
        interop.fail("%s: strace saw too little: %s" % (what, sorted(used)))
    denied = sorted(used - allowed_syscalls(settings))
    if denied:
        interop.fail("%s: system calls outside SystemCallFilter=%s: %s" %
                     (what, settings.get("SystemCallFilter"), denied))
    # A capability the bounding set lacks shows as EPERM (or EACCES). The
    # only expected ones: checks that root cannot be regained after a drop.
    refused = [l for l in text.splitlines()
               if re.search(r"= -1 E(PERM|ACCES) ", l)
               and not re.match(r"\d+ +set[ug]id\(0\) ", l)]
    if refused:
        interop.fail("%s: system calls refused under CapabilityBoundingSet=%s:\n%s" %
                     (what, " ".join(settings["CapabilityBoundingSet"]), "\n".join(refused[:20])))
    families = set(re.findall(r"(?m)^\d+ +socket\((AF_\w+)", text))
    allowed_families = set(" ".join(settings.get("RestrictAddressFamilies", [])).split())
    if not families or families - allowed_families:
        interop.fail("%s: socket families %s, unit allows %s" % (what, families, allowed_families))
    interop.note("ok: %s: %d distinct system calls, all allowed by SystemCallFilter=%s, "
                 "none refused for want of a capability; sockets %s within "
                 "RestrictAddressFamilies" %
                 (what, len(used), " ".join(settings["SystemCallFilter"]), sorted(families)))


def add_home_user(host):
    """bob: mailbox in his own 0700 directory, uid/gid from its owner."""
    home = os.path.join(host.dir, "home-bob")
    os.mkdir(home, 0o700)
    host.fix_owner(home)
    mbox = os.path.join(home, "mbox")
    with open(mbox, "wb") as f:
        f.write(interop.mbox_entry(interop.NEW_MESSAGE))
    host.fix_owner(mbox)
    host.add_user("bob:%s:::Bob:%s:%s" % (interop.mailhost.crypt_sha512(interop.PASSWORD), home, mbox))
    return mbox


def bob_session(what, port, mbox):
    pop = interop.poplib.POP3("127.0.0.1", port, timeout=interop.WAIT_S)
    pop.user("bob")
    pop.pass_(interop.PASSWORD)
    _, lines, _ = pop.retr(1)
    if b"".join(l + b"\r\n" for l in lines) != interop.crlf(interop.NEW_MESSAGE):
        interop.fail("%s: bob's message differs: %r" % (what, lines))
    pop.dele(1)
    pop.quit()
    if os.path.getsize(mbox) != 0:
        interop.fail("%s: bob's mailbox not emptied" % what)
    interop.note("ok: %s: bob, whose mailbox is in a 0700 home, RETR + DELE + QUIT" % what)


def standalone(host, mbox):
    settings = service_settings("popperd.service")
    trace = os.path.join(host.dir, "strace.out")
    daemon = interop.Daemon(host, sandboxed(settings, trace, [host.popperd, "-f", "-c", host.conf]))
    what = "popperd.service sandbox"
    interop.pop_session(what, host, daemon.port, interop.FIXTURE,
                        lambda: interop.children_of(daemon.proc.pid))
    bob_session(what, daemon.port, mbox)
    # When the listener stops, one session is logged in (running as its
    # user), another is before login (its pre-login child runs as nobody):
    # both must be told, through signals that need CAP_KILL.
    logged_in = open_session(daemon.port, login=True)
    pre_login = open_session(daemon.port, login=False)
    session = interop.wait_for_title(what + ", session before login", lambda: interop.children_of(
        daemon.proc.pid), "popperd: [127.0.0.1] AUTH")
    interop.wait_for_title(what + ", its pre-login child", lambda: interop.children_of(session),
                           "popperd: [127.0.0.1] AUTH (pre-login)")
    daemon.proc.send_signal(signal.SIGTERM)
    expect_shutdown_reply(what + ", logged-in session", logged_in)
    # Whether it answers is interop.systemd.listen's concern; here, that the
    # connection ends and (check_trace) no signal was refused.
    expect_shutdown_reply(what + ", session before login", pre_login, (b"",))
    daemon.stop()
    check_trace(what, trace, settings)


def open_session(port, login):
    pop = interop.poplib.POP3("127.0.0.1", port, timeout=interop.WAIT_S)
    if login:
        pop.user(interop.USER)
        pop.pass_(interop.PASSWORD)
        pop.stat()
    else:
        pop.capa()
    return pop


def expect_shutdown_reply(what, pop, also_accept=()):
    try:
        reply = pop.file.readline()
    finally:
        pop.close()
    if not reply.startswith(b"-ERR [SYS/TEMP]") and reply not in also_accept:
        interop.fail("%s: got %r on SIGTERM" % (what, reply))
    interop.note("ok: %s: SIGTERM answered %r" % (what, reply.strip().decode()))


def accept(host, mbox):
    settings = service_settings("popperd@.service")
    trace = os.path.join(host.dir, "strace.out")
    port = interop.free_port()
    log = open(os.path.join(host.dir, "activate.log"), "wb")
    ssa = interop.start(["systemd-socket-activate", "--accept", "--listen", "127.0.0.1:%d" % port,
                         "--"] + sandboxed(settings, trace, [host.popperd, "-c", host.conf]),
                        stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    interop.wait_until("systemd-socket-activate", lambda: b"Listening on" in
                       host.read_file(log.name) or ssa.poll() is not None)
    if ssa.poll() is not None:
        interop.fail("systemd-socket-activate: %s" % host.read_file(log.name).decode())
    what = "popperd@.service sandbox"
    interop.pop_session(what, host, port, interop.FIXTURE, lambda: interop.children_of(ssa.pid))
    bob_session(what, port, mbox)
    # `systemctl stop` of a session before login: SIGTERM to its main
    # process, which passes it on to its pre-login child (nobody).
    earlier = set(interop.children_of(ssa.pid))
    pre_login = open_session(port, login=False)
    session = interop.wait_for_title(
        what + ", session before login",
        lambda: [p for p in interop.children_of(ssa.pid) if p not in earlier],
        "popperd: [127.0.0.1] AUTH")
    interop.wait_for_title(what + ", its pre-login child", lambda: interop.children_of(session),
                           "popperd: [127.0.0.1] AUTH (pre-login)")
    os.kill(session, signal.SIGTERM)
    expect_shutdown_reply(what + ", session before login", pre_login, (b"",))
    interop.wait_until("the session to exit", lambda: session not in interop.children_of(ssa.pid))
    interop.stop(ssa)
    interop.expect_no_sanitizer_report(what, host.read_file(log.name))
    check_trace(what, trace, settings)


def main():
    popperd, mode = sys.argv[1], sys.argv[2]
    interop.require_tools("systemd-analyze", "systemd-socket-activate", "strace", "setpriv", "perl")
    if os.geteuid() != 0:
        print("skipped: the unit's capabilities matter only to a daemon started as root")
        raise SystemExit(interop.SKIP)
    verify_units()
    if "ASAN_OPTIONS" in os.environ:  # LeakSanitizer cannot run under ptrace (strace)
        os.environ["ASAN_OPTIONS"] += ":detect_leaks=0"
    host = interop.Host(popperd, "listen = 127.0.0.1:0\n")
    mbox = add_home_user(host)
    standalone(host, mbox) if mode == "standalone" else accept(host, mbox)


if __name__ == "__main__":
    interop.main_guard(main)
