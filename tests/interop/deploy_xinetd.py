#!/usr/bin/env python3
"""popperd started by the real xinetd.

The shipped conf/xinetd.d/pop3 is turned into a private, single-file xinetd
configuration: the same service with the built popperd, `-c` our config,
and what a test needs on top (type = UNLISTED, a random 127.0.0.1 high
port, a private log file). xinetd runs in the foreground (-dontfork
-stayalive, -pidfile, -filelog in the temp dir); a port taken meanwhile is
retried with another one.

Through it: a session whose process title reads `popperd: [127.0.0.1] AUTH`
then `popperd: alice [127.0.0.1] TRANSACTION`, retrieves the fixture byte
for byte, deletes one message and QUITs; a failed login, whose client sees
POP3 replies only although popperd is configured with `log = stderr` (its
stderr is the connection, so it logs to syslog instead).

usage: deploy_xinetd.py POPPERD
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

SHIPPED = os.path.join(interop.SOURCE_DIR, "conf", "xinetd.d", "pop3")


def private_config(host, port):
    with open(SHIPPED) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^(\s*server\s*=).*$", r"\1 " + host.popperd, text)
    text, m = re.subn(r"(?m)^(\s*server_args\s*=\s*-i)\s*$", r"\1 -c " + host.conf, text)
    if n != 1 or m != 1:
        interop.fail("%s: expected one `server` and one `server_args = -i` line" % SHIPPED)
    if os.geteuid() != 0:  # xinetd can change user only as root
        text = re.sub(r"(?m)^\s*user\s*=.*\n", "", text)
    extra = ("    type            = UNLISTED\n"
             "    port            = %d\n"
             "    bind            = 127.0.0.1\n"
             "    log_type        = FILE %s/xinetd-service.log\n" % (port, host.dir))
    text = re.sub(r"(?m)^\{\n", "{\n" + extra, text, count=1)
    path = os.path.join(host.dir, "xinetd.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def start_xinetd(host):
    for attempt in range(5):
        port = interop.free_port()
        conf = private_config(host, port)
        log = os.path.join(host.dir, "xinetd.log")
        proc = interop.start(["xinetd", "-f", conf, "-dontfork", "-stayalive",
                              "-pidfile", os.path.join(host.dir, "xinetd.pid"),
                              "-filelog", log],
                             stdout=open(os.path.join(host.dir, "xinetd.out"), "ab"),
                             stderr=open(os.path.join(host.dir, "xinetd.out"), "ab"))

        def ready():
            if proc.poll() is not None:
                return "exited"
            text = host.read_file(log)
            if re.search(rb"bind failed|failed to start", text):
                return "port"
            answer = interop.greeting(port, timeout=0.5)
            return "ok" if answer and answer.startswith(b"+OK ") else None
        state = interop.wait_until("xinetd on 127.0.0.1:%d" % port, ready)
        if state == "ok":
            interop.note("ok: xinetd serves popperd -i on 127.0.0.1:%d" % port)
            return proc, port
        interop.stop(proc)
        if state == "exited":
            interop.fail("xinetd exited: %s %s" % (host.read_file(log).decode(),
                                                  host.read_file(host.dir + "/xinetd.out").decode()))
    interop.fail("xinetd could not bind a port in 5 attempts")


def main():
    popperd = sys.argv[1]
    interop.require_tools("xinetd", "perl")
    host = interop.Host(popperd)
    xinetd, port = start_xinetd(host)
    interop.pop_session("xinetd", host, port, interop.FIXTURE,
                        lambda: interop.children_of(xinetd.pid))
    interop.failed_login("xinetd", port)
    interop.note("ok: xinetd: a failed login shows the client POP3 replies only")
    code = interop.stop(xinetd)
    interop.note("xinetd stopped (%d)" % code)


if __name__ == "__main__":
    interop.main_guard(main)
