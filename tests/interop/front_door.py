#!/usr/bin/env python3
"""popperd behind the programs that terminate TLS and route users for it:
the recipes of conf/ (stunnel, haproxy, nginx's mail proxy) started for
real with a CA and a certificate this test makes (openssl), on ephemeral
loopback ports, and used by real clients over TLS: curl (pop3s:// and
--ssl-reqd), openssl s_client -starttls pop3, fetchmail --ssl, mpop --tls
and --tls-starttls, Python poplib (POP3_SSL, stls). Every client leaves the
mail on the server and must have received the fixture byte for byte.

The client that poplib drives connects from 127.0.0.2: popperd must log
that address, not the front door's (PeerInfo, the PROXY header, stunnel's
REMOTE_HOST). Each popperd runs with allow_plaintext = tls where the front
door says TLS (stunnel's `exec popperd -i -S`, haproxy's PROXY v2 SSL TLV),
so a login that works proves popperd knew.

Modes, one ctest each (they run in parallel):
  stunnel  POP3S and STLS (protocol = pop3), each `exec popperd -i -S`
  haproxy  TLS on one port, PROXY v2 with the SSL TLV to a `proxy` listener;
           a clear port with PROXY v1 whose USER is refused (not TLS)
  nginx    the mail proxy with `starttls on` and `listen ... ssl`,
           `proxy_protocol on`, users routed by an auth_http that nginx
           answers itself from a map: alice to one popperd on 127.0.0.3,
           bob to another on 127.0.0.4 (README "Several machines")
  environment  ucspi-tcp's way: `popperd -i [-S]` on a socket pair with
           TCPREMOTEIP; only -S counts as TLS. And a socket systemd passes
           on the address of a `listen ... proxy` line requires the header

usage: front_door.py POPPERD stunnel|haproxy|nginx|environment
"""
import getpass
import os
import poplib
import re
import shutil
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import FIXTURE, crlf, fail, note  # noqa: E402

SOURCE_DIR = interop.SOURCE_DIR
CLIENT_SOURCE = "127.0.0.2"  # poplib's and curl's address, which popperd must log


# --- a CA and a server certificate --------------------------------------------

class Pki:
    """A throwaway CA and a certificate for localhost / 127.0.0.1 it signed."""

    def __init__(self, directory):
        self.dir = directory
        self.ca = os.path.join(directory, "ca.pem")
        self.cert = os.path.join(directory, "server.pem")
        self.key = os.path.join(directory, "server.key")
        self.combined = os.path.join(directory, "server-combined.pem")  # haproxy's crt
        ca_key = os.path.join(directory, "ca.key")
        csr = os.path.join(directory, "server.csr")
        ext = os.path.join(directory, "server.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName = DNS:localhost, IP:127.0.0.1\n"
                    "extendedKeyUsage = serverAuth\n")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        self._openssl(["req", "-x509"] + ec + ["-keyout", ca_key, "-out", self.ca, "-days", "2",
                                              "-subj", "/CN=popperd test CA"])
        self._openssl(["req"] + ec + ["-keyout", self.key, "-out", csr, "-subj", "/CN=localhost"])
        self._openssl(["x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key,
                       "-CAcreateserial", "-out", self.cert, "-days", "2", "-extfile", ext])
        with open(self.combined, "wb") as f:
            for part in (self.cert, self.key):
                with open(part, "rb") as p:
                    f.write(p.read())
        os.chmod(self.key, 0o644)  # nginx and stunnel read it before any privilege change

    @staticmethod
    def _openssl(args):
        out = interop.run(["openssl"] + args)
        if out.returncode != 0:
            fail("openssl %s: %s" % (args[0], out.stderr.decode()))


# --- the clients ----------------------------------------------------------------

def expect_fixture(what, host, added=frozenset(), form=crlf):
    interop.expect_mechanism(what, True, "TLS", host, set(added), form)


def curl(what, host, url_base, pki, extra=()):
    """RETR of every message with curl; `url_base` is pop3s://.../ or
    pop3://.../ (with --ssl-reqd in `extra`: STLS or nothing)."""
    args = []
    for i in range(len(FIXTURE)):
        args += [url_base + str(i + 1), "--output", os.path.join(host.fetched, "%04d" % (i + 1))]
    out = interop.run(["curl", "--verbose", "--silent", "--show-error", "--max-time",
                       "%d" % interop.WAIT_S, "--cacert", pki.ca, "--interface", CLIENT_SOURCE,
                       "--user", "%s:%s" % (interop.USER, interop.PASSWORD)] + list(extra) + args,
                      env=host.client_env())
    trace = out.stderr.decode("utf-8", "replace")
    if out.returncode != 0:
        fail("%s: curl exited %d:\n%s" % (what, out.returncode, trace[-3000:]))
    if "SSL connection using" not in trace:
        fail("%s: curl did not use TLS:\n%s" % (what, trace[-3000:]))
    expect_fixture(what, host)


def fetchmail(what, host, port, pki, starttls):
    rcfile = os.path.join(host.home, ".fetchmailrc")
    with open(rcfile, "w") as f:
        f.write("set no syslog\n"
                "poll localhost with proto POP3 service %d timeout %d\n"
                "  user \"%s\" there with password \"%s\" is \"%s\" here\n"
                "  %s sslcertck sslcertfile \"%s\"\n"
                "  mda \"%s %s\"\n"
                % (port, interop.WAIT_S, interop.USER, interop.PASSWORD, getpass.getuser(),
                   "sslproto 'tls1.2+'" if starttls else "ssl", pki.ca,
                   interop.STORE_MESSAGE, host.fetched))
    os.chmod(rcfile, 0o600)
    out = interop.run(["fetchmail", "-v", "--nosyslog", "-f", rcfile, "--keep", "--all",
                       "--idfile", os.path.join(host.home, ".fetchids"),
                       "--pidfile", os.path.join(host.home, "fetchmail.pid")],
                      env=host.client_env())
    trace = (out.stdout + out.stderr).decode("utf-8", "replace")
    if out.returncode not in (0, 1):
        fail("%s: fetchmail exited %d:\n%s" % (what, out.returncode, trace[-4000:]))
    expect_fixture(what, host, {"received"}, lambda m: m)


def mpop(what, host, port, pki, starttls):
    rcfile = os.path.join(host.home, ".mpoprc")
    with open(rcfile, "w") as f:
        f.write("account frontdoor\nhost localhost\nport %d\ntimeout %d\n"
                "tls on\ntls_starttls %s\ntls_trust_file %s\n"
                "auth user\nuser %s\npassword %s\ndelivery mda \"%s %s\"\n"
                "uidls_file %s\n"
                % (port, interop.WAIT_S, "on" if starttls else "off", pki.ca, interop.USER,
                   interop.PASSWORD, interop.STORE_MESSAGE, host.fetched,
                   os.path.join(host.home, "mpop-uidls")))
    os.chmod(rcfile, 0o600)
    out = interop.run(["mpop", "-C", rcfile, "--keep=on", "--only-new=off", "frontdoor"],
                      env=host.client_env())
    if out.returncode != 0:
        fail("%s: mpop exited %d:\n%s" % (what, out.returncode,
                                          (out.stderr + out.stdout)[-4000:].decode()))
    expect_fixture(what, host, {"received"}, lambda m: m)


def s_client(what, port, pki):
    """openssl s_client -starttls pop3: a login and STAT over the TLS it set up."""
    proc = subprocess.run(
        ["openssl", "s_client", "-quiet", "-starttls", "pop3", "-CAfile", pki.ca,
         "-verify_return_error", "-connect", "127.0.0.1:%d" % port],
        input=("USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n" % (interop.USER, interop.PASSWORD))
        .encode(), capture_output=True, timeout=interop.RUN_S)
    lines = proc.stdout.decode("utf-8", "replace").split("\r\n")
    want = "+OK %d %d" % (len(FIXTURE), sum(len(crlf(m)) for m in FIXTURE))
    if want not in lines:
        fail("%s: openssl s_client: no %r in %r (stderr %r)" %
             (what, want, lines, proc.stderr[-1000:]))
    note("ok: %s: openssl s_client -starttls pop3 logged in: %s" % (what, want))


def _connect_from_source(pop, timeout):
    """poplib from CLIENT_SOURCE: the address popperd must log."""
    return socket.create_connection((pop.host, pop.port), timeout,
                                    source_address=(CLIENT_SOURCE, 0))


class Pop3From(poplib.POP3):
    _create_socket = _connect_from_source


class Pop3SslFrom(poplib.POP3_SSL):
    def _create_socket(self, timeout):
        return self.context.wrap_socket(_connect_from_source(self, timeout),
                                        server_hostname=self.host)


def poplib_retrieve(what, pop):
    """Every message by RETR, compared with the fixture's wire form."""
    count, _ = pop.stat()
    if count != len(FIXTURE):
        fail("%s: STAT says %d messages, expected %d" % (what, count, len(FIXTURE)))
    for i, message in enumerate(FIXTURE):
        _, lines, _ = pop.retr(i + 1)
        if b"".join(l + b"\r\n" for l in lines) != crlf(message):
            fail("%s: RETR %d differs from the fixture" % (what, i + 1))
    if not pop.quit().startswith(b"+OK"):
        fail("%s: QUIT refused" % what)
    note("ok: %s: poplib RETR of %d messages byte for byte" % (what, len(FIXTURE)))


def poplib_ssl(what, port, pki, user=interop.USER):
    context = ssl.create_default_context(cafile=pki.ca)
    pop = Pop3SslFrom("localhost", port, context=context, timeout=interop.WAIT_S)
    pop.user(user)
    pop.pass_(interop.PASSWORD)
    poplib_retrieve(what, pop)


def poplib_stls(what, port, pki, user=interop.USER):
    context = ssl.create_default_context(cafile=pki.ca)
    pop = Pop3From("localhost", port, timeout=interop.WAIT_S)
    pop.stls(context=context)
    pop.user(user)
    pop.pass_(interop.PASSWORD)
    poplib_retrieve(what, pop)


def expect_logged(what, log_text, pattern):
    text = log_text.decode("utf-8", "replace") if isinstance(log_text, bytes) else log_text
    if not re.search(pattern, text):
        fail("%s: no log line matches %r:\n%s" % (what, pattern, text[-4000:]))
    note("ok: %s: logged %r" % (what, pattern))


# --- processes ------------------------------------------------------------------

def start_logged(argv, log_path, ready):
    """Starts a front door in the foreground; waits until `ready()`."""
    log = open(log_path, "ab")
    proc = interop.start(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def up():
        if proc.poll() is not None:
            with open(log_path, "rb") as f:
                fail("%s exited %d:\n%s" % (argv[0], proc.returncode, f.read().decode()[-3000:]))
        return ready()
    interop.wait_until(argv[0] + " to listen", up)
    return proc


def port_open(port, address="127.0.0.1"):
    def check():
        try:
            with socket.create_connection((address, port), timeout=1):
                return True
        except OSError:
            return False
    return check


def recipe(name):
    with open(os.path.join(SOURCE_DIR, "conf", "front-door", name)) as f:
        return f.read()


def fill(template, replacements):
    """The shipped recipe with this test's paths, addresses and ports: each
    (shipped text, ours) pair replaced; shipped text that is not there
    means the recipe changed under the test."""
    text = template
    for shipped, ours in replacements:
        if shipped not in text:
            fail("recipe no longer holds %r" % shipped)
        text = text.replace(shipped, str(ours))
    return text


# --- the modes --------------------------------------------------------------------

def stunnel(popperd, pki, work):
    interop.require_tools("stunnel4", "curl", "fetchmail", "mpop", "openssl")
    host = interop.Host(popperd, "allow_plaintext = tls\n")
    pop3s, stls = interop.free_port(), interop.free_port()
    conf = os.path.join(work, "stunnel.conf")
    with open(conf, "w") as f:
        f.write("foreground = yes\n" + fill(recipe("stunnel.conf"), [
            ("pid = /run/stunnel-popperd.pid", "pid ="),
            ("/etc/ssl/certs/pop.example.org.pem", pki.cert),
            ("/etc/ssl/private/pop.example.org.key", pki.key),
            ("0.0.0.0:995", "127.0.0.1:%d" % pop3s), ("0.0.0.0:110", "127.0.0.1:%d" % stls),
            ("/usr/sbin/popperd", popperd), ("/etc/popperd/popperd.conf", host.conf)]))
    log = os.path.join(work, "stunnel.log")
    proc = start_logged(["stunnel4", conf], log, port_open(stls))
    port_open(pop3s)  # both services come up together
    curl("stunnel POP3S, curl pop3s://", host, "pop3s://127.0.0.1:%d/" % pop3s, pki)
    curl("stunnel STLS, curl --ssl-reqd", host, "pop3://127.0.0.1:%d/" % stls, pki,
         ["--ssl-reqd"])
    s_client("stunnel STLS", stls, pki)
    fetchmail("stunnel POP3S, fetchmail --ssl", host, pop3s, pki, False)
    mpop("stunnel POP3S, mpop --tls", host, pop3s, pki, False)
    mpop("stunnel STLS, mpop --tls-starttls", host, stls, pki, True)
    poplib_ssl("stunnel POP3S, poplib POP3_SSL", pop3s, pki)
    poplib_stls("stunnel STLS, poplib stls", stls, pki)
    interop.stop(proc)
    with open(log, "rb") as f:
        text = f.read()
    # popperd -i logs to stunnel's stderr; REMOTE_HOST names the client.
    expect_logged("stunnel", text, r"connect: addr=127\.0\.0\.2 tls=yes")
    expect_logged("stunnel", text, r"login: user=alice addr=127\.0\.0\.2 ")
    if re.search(rb"addr=local", text):
        fail("stunnel: a session logged addr=local: REMOTE_HOST was not used")


def haproxy(popperd, pki, work):
    interop.require_tools("haproxy", "curl", "fetchmail", "mpop", "openssl")
    host = interop.Host(popperd, "listen = 127.0.0.1:0 proxy\n"
                                 "proxy_trusted_networks = 127.0.0.1\nallow_plaintext = tls\n")
    daemon = interop.Daemon(host)
    pop3s, clear = interop.free_port(), interop.free_port()
    conf = os.path.join(work, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(fill(recipe("haproxy.cfg"), [
            ("/run/haproxy-popperd.pid", os.path.join(work, "haproxy.pid")),
            ("0.0.0.0:995", "127.0.0.1:%d" % pop3s),
            ("/etc/haproxy/pop.example.org.pem", pki.combined),
            ("127.0.0.1:1110 send-proxy", "127.0.0.1:%d send-proxy" % daemon.port)]) +
                # Not in the recipe: a clear port, to show a session without
                # the SSL TLV is not under TLS.
                "\nlisten pop3-clear\n    bind 127.0.0.1:%d\n    mode tcp\n"
                "    timeout client 1m\n    timeout server 1m\n    timeout connect 5s\n"
                "    server popperd 127.0.0.1:%d send-proxy\n" % (clear, daemon.port))
    proc = start_logged(["haproxy", "-db", "-f", conf], os.path.join(work, "haproxy.log"),
                        port_open(pop3s))
    interop.wait_until("haproxy's clear port", port_open(clear))
    curl("haproxy TLS, curl pop3s://", host, "pop3s://127.0.0.1:%d/" % pop3s, pki)
    fetchmail("haproxy TLS, fetchmail --ssl", host, pop3s, pki, False)
    mpop("haproxy TLS, mpop --tls", host, pop3s, pki, False)
    poplib_ssl("haproxy TLS, poplib POP3_SSL", pop3s, pki)
    pop = Pop3From("127.0.0.1", clear, timeout=interop.WAIT_S)
    try:
        pop.user(interop.USER)
        fail("haproxy clear port: USER accepted without TLS")
    except poplib.error_proto as e:
        if b"[AUTH]" not in e.args[0] or b"TLS" not in e.args[0]:
            fail("haproxy clear port: USER refused with %r" % e.args[0])
        note("ok: haproxy clear port (PROXY v1, no SSL TLV): %r" % e.args[0])
    pop.quit()
    interop.stop(proc)
    daemon.stop()
    text = daemon.log_text()
    expect_logged("haproxy", text, r"connect: addr=127\.0\.0\.2 sender=127\.0\.0\.1 tls=yes")
    expect_logged("haproxy", text, r"login: user=alice addr=127\.0\.0\.2 ")
    expect_logged("haproxy", text, r"connect: addr=127\.0\.0\.2 sender=127\.0\.0\.1 tls=no")


def backend(popperd, address, user, users_line=None):
    """A popperd on `address` behind nginx, holding `user`'s mailbox."""
    host = interop.Host(popperd, "listen = %s:0 proxy\nproxy_trusted_networks = 127.0.0.1\n"
                        % address)
    if user != interop.USER:
        # The fixture's mailbox under another name: alice lives elsewhere.
        with open(os.path.join(host.dir, "users"), "w") as f:
            f.write("%s:%s:%d:%d::/nonexistent:\n" %
                    (user, interop.mailhost.crypt_sha512(interop.PASSWORD), host.uid, host.gid))
        os.rename(host.spool, os.path.join(host.spool_dir, user))
        host.spool = os.path.join(host.spool_dir, user)
    return host, interop.Daemon(host)


def nginx(popperd, pki, work):
    interop.require_tools("nginx", "curl", "mpop", "openssl")
    module = "/usr/lib/nginx/modules/ngx_mail_module.so"
    if not os.path.exists(module):
        print("skipped: nginx's mail module (libnginx-mod-mail) is not installed")
        raise SystemExit(interop.SKIP)
    alice_host, alice_daemon = backend(popperd, "127.0.0.3", interop.USER)
    bob_host, bob_daemon = backend(popperd, "127.0.0.4", "bob")
    starttls, pop3s, auth = interop.free_port(), interop.free_port(), interop.free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(fill(recipe("nginx.conf"), [
            ("/run/nginx-popperd.pid", os.path.join(work, "nginx.pid")),
            ("/var/log/nginx/popperd-error.log", os.path.join(work, "nginx-error.log")),
            ("/var/lib/nginx/", work + "/"),
            ("/etc/ssl/certs/pop.example.org.pem", pki.cert),
            ("/etc/ssl/private/pop.example.org.key", pki.key),
            ("127.0.0.1:9110", "127.0.0.1:%d" % auth),
            ("0.0.0.0:110", "127.0.0.1:%d" % starttls), ("0.0.0.0:995", "127.0.0.1:%d" % pop3s),
            ("192.0.2.11", "127.0.0.3"), ("192.0.2.12", "127.0.0.4"),
            ("default 1110;\n        alice   1110;\n        bob     1110;",
             "default %d;\n        alice   %d;\n        bob     %d;" %
             (alice_daemon.port, alice_daemon.port, bob_daemon.port))]))
    proc = start_logged(["nginx", "-e", os.path.join(work, "nginx-error.log"), "-p", work,
                         "-c", conf, "-g", "daemon off; master_process off;"],
                        os.path.join(work, "nginx.out"), port_open(starttls))
    interop.wait_until("nginx's pop3s port", port_open(pop3s))
    s_client("nginx starttls", starttls, pki)
    curl("nginx STLS, curl --ssl-reqd (alice)", alice_host, "pop3://127.0.0.1:%d/" % starttls,
         pki, ["--ssl-reqd"])
    curl("nginx ssl, curl pop3s:// (alice)", alice_host, "pop3s://127.0.0.1:%d/" % pop3s, pki)
    mpop("nginx STLS, mpop --tls-starttls (alice)", alice_host, starttls, pki, True)
    poplib_ssl("nginx ssl, poplib POP3_SSL (bob)", pop3s, pki, "bob")
    poplib_stls("nginx STLS, poplib stls (bob)", starttls, pki, "bob")
    interop.stop(proc)
    alice_daemon.stop()
    bob_daemon.stop()
    for who, daemon, other in (("alice", alice_daemon, "bob"), ("bob", bob_daemon, "alice")):
        text = daemon.log_text()
        expect_logged("nginx -> %s's back-end" % who, text,
                      r"login: user=%s addr=127\.0\.0\.2 " % who)
        if re.search(rb"user=" + other.encode() + rb" ", text):
            fail("nginx: %s reached %s's back-end" % (other, who))
    note("ok: nginx routed alice to 127.0.0.3 and bob to 127.0.0.4, each with the real address")


def environment(popperd, pki, work):
    """ucspi-tcp's tcpserver: pipes, TCPREMOTEIP. On a socket pair (no inet
    socket), `popperd -i` takes the client from the environment; -S makes
    the session one under TLS, and nothing else does."""
    host = interop.Host(popperd, "allow_plaintext = tls\n")
    for flags, tls in ((["-S"], True), ([], False)):
        ours, theirs = socket.socketpair()
        env = dict(os.environ, TCPREMOTEIP="192.0.2.9", TCPREMOTEPORT="40001")
        env.pop("REMOTE_HOST", None)
        log_path = os.path.join(work, "inetd%s.log" % "".join(flags))
        with open(log_path, "wb") as log:
            proc = interop.start([popperd, "-i"] + flags + ["-c", host.conf], stdin=theirs,
                                 stdout=theirs, stderr=log, env=env)
        theirs.close()
        ours.settimeout(interop.WAIT_S)
        reader = ours.makefile("rb")
        reader.readline()
        ours.sendall(b"USER alice\r\nQUIT\r\n")
        reply = reader.readline()
        reader.readline()
        ours.close()
        proc.wait(timeout=interop.WAIT_S)
        if reply.startswith(b"+OK") != tls:
            fail("popperd -i %s: USER answered %r" % (" ".join(flags), reply))
        with open(log_path, "rb") as f:
            expect_logged("popperd -i %s" % " ".join(flags), f.read(),
                          r"connect: addr=192\.0\.2\.9%s" % (" tls=yes" if tls else "\n"))
    systemd_proxy_socket(popperd, work)


def systemd_proxy_socket(popperd, work):
    """A socket systemd passes (systemd-socket-activate, Accept=no) on the
    address of a `listen ... proxy` line is a proxy listener too."""
    if not shutil.which("systemd-socket-activate"):
        note("skipped part: systemd-socket-activate is not installed")
        return
    port = interop.free_port()
    host = interop.Host(popperd, "listen = 127.0.0.1:%d proxy\n"
                                 "proxy_trusted_networks = 127.0.0.1\n" % port)
    log_path = os.path.join(work, "systemd.log")
    start_logged(["systemd-socket-activate", "--listen", "127.0.0.1:%d" % port, popperd, "-f",
                  "-c", host.conf], log_path, port_open(port))
    with socket.create_connection(("127.0.0.1", port), timeout=interop.WAIT_S) as s:
        s.sendall(b"PROXY TCP4 192.0.2.5 127.0.0.1 40000 110\r\nQUIT\r\n")
        reader = s.makefile("rb")
        greeting = reader.readline()
    if not greeting.startswith(b"+OK"):
        fail("systemd socket marked proxy: greeting %r" % greeting)
    with open(log_path, "rb") as f:
        text = f.read()
    expect_logged("systemd socket", text, r"listening on 127\.0\.0\.1:%d proxy " % port)
    expect_logged("systemd socket", text, r"connect: addr=192\.0\.2\.5 sender=127\.0\.0\.1")


def main():
    popperd = os.path.abspath(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) > 2 else ""
    modes = {"stunnel": stunnel, "haproxy": haproxy, "nginx": nginx, "environment": environment}
    if mode not in modes:
        fail("usage: front_door.py POPPERD stunnel|haproxy|nginx|environment")
    interop.require_tools("openssl", "perl")
    work = interop.tempdir("popperd-front-")
    os.chmod(work, 0o755)
    modes[mode](popperd, Pki(work), work)


if __name__ == "__main__":
    interop.main_guard(main)
