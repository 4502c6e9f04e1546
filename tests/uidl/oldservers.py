"""The POP3 servers popperd replaces, as Debian ships them, run from a
private root beside popperd (issue 15): popa3d, solid-pop3d, GNU Mailutils
pop3d and Dovecot's pop3.

They conflict as packages and start system services when installed, so
their .debs (and the libraries they need that this machine lacks) are
fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a
cache directory, once; nothing is installed.

popa3d and solid-pop3d have their paths compiled in (/var/mail/USER, PAM,
/etc/passwd; popa3d chroots into /var/lib/popa3d, solid-pop3d needs a user
spop3d). Each session of theirs, and of Mailutils' pop3d, runs in a mount
namespace of its own (unshare -m) where private copies are bind-mounted over
/etc/passwd, /etc/shadow, /etc/group, /etc/pam.d (pam_permit for their
services), /var/mail and /var/lib: the mailbox owner and the servers' users
exist only there, and nothing outside the namespace changes. Dovecot's pop3
runs preauthenticated from doveconf -e with a private config, behind a
relay that plays the login part of the conversation (Dovecot's pop3-login).
Its settings are Debian's defaults but for the paths (mbox_lazy_writes = yes:
a session still writes X-IMAPbase and X-UID into the mbox).

Every server is started inetd-style, one process per connection, on a TCP
socket we accepted (solid-pop3d wants a peer address). Needs root (mounts,
users); without it, or when a package cannot be had, the caller exits 77.
"""
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "crash"))
import mailhost  # noqa: E402  (one POP3 client for every Python test)

SKIP = 77
WAIT_S = 30  # bound of every wait for a server's answer

# The packages of each server; their dependencies missing here are added.
PACKAGES = {
    "popa3d": ["popa3d"],
    "solid-pop3d": ["solid-pop3d"],
    "mailutils": ["mailutils-pop3d"],
    "dovecot": ["dovecot-core", "dovecot-pop3d"],
}

# The mailbox owner and the servers' own users, in the namespace only.
MAIL_USER, MAIL_UID = "uidlold", 64990
PASSWORD = "secret"
SERVICE_USERS = [("popa3d", 64991), ("spop3d", 64992)]


def skip(reason):
    print("skipped: " + reason, flush=True)
    raise SystemExit(SKIP)


# --- the private root --------------------------------------------------------

def _installed(names):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\\n"] + names,
                         capture_output=True, text=True)
    return {line.split()[0] for line in out.stdout.splitlines()
            if line.endswith("install ok installed")}


def _depends(names):
    """For each package, its dependency groups (alternatives), from apt-cache."""
    out = subprocess.run(["apt-cache", "depends", "--no-recommends", "--no-suggests",
                          "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"]
                         + names, capture_output=True, text=True)
    groups, current, alternatives = [], None, []
    for line in out.stdout.splitlines():
        if not line.startswith(" "):
            current = line.strip()
            continue
        kind, _, name = line.strip().partition(": ")
        if name.strip():
            alternatives.append(name.strip())
        if not kind.startswith("|") and alternatives:  # "|Depends:" continues with an alternative
            groups.append(alternatives)
            alternatives = []
    return groups


def _closure(packages):
    """The packages plus, recursively, the first alternative of every
    dependency group of which nothing is installed."""
    wanted, frontier = set(packages), list(packages)
    while frontier:
        groups = _depends(frontier)
        names = sorted({n for g in groups for n in g if not n.startswith("<")})
        have = _installed(names) if names else set()
        frontier = []
        for group in groups:
            real = [n for n in group if not n.startswith("<")]
            if not real or any(n in have or n in wanted for n in real):
                continue
            wanted.add(real[0])
            frontier.append(real[0])
    return sorted(wanted)


def private_root(cache_dir):
    """The unpacked root of every server, made once under `cache_dir`."""
    if os.geteuid() != 0:
        skip("the old servers run as root in a mount namespace of their own")
    for tool in ("apt-get", "apt-cache", "dpkg-deb", "unshare", "mount"):
        if shutil.which(tool) is None:
            skip("missing " + tool)
    os.makedirs(cache_dir, exist_ok=True)
    root = os.path.join(cache_dir, "root")
    stamp = os.path.join(cache_dir, "ready")
    with open(os.path.join(cache_dir, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # ctest -j: one test unpacks, the others wait
        if os.path.exists(stamp):
            return root
        debs = os.path.join(cache_dir, "debs")
        shutil.rmtree(debs, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(debs)
        names = _closure([p for ps in PACKAGES.values() for p in ps])
        print("fetching %d packages: %s" % (len(names), " ".join(names)), flush=True)
        for attempt in range(2):
            got = subprocess.run(["apt-get", "download", "-q"] + names, cwd=debs,
                                 capture_output=True, text=True)
            if got.returncode == 0:
                break
            if attempt == 0:  # stale or missing package lists
                subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        else:
            skip("apt-get download failed: " + got.stderr[-2000:])
        for deb in sorted(os.listdir(debs)):
            subprocess.run(["dpkg-deb", "-x", os.path.join(debs, deb), root], check=True)
        with open(stamp, "w") as f:
            f.write("\n".join(names) + "\n")
        return root


def library_path(root):
    dirs = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib/dovecot",
            "usr/lib", "lib"]
    return ":".join(os.path.join(root, d) for d in dirs)


# --- one server --------------------------------------------------------------

class EndedBeforeGreeting(Exception):
    """The server's process closed the connection before its greeting:
    nothing was asked of it, so asking again changes nothing."""


class OldServer:
    """One server on one mailbox of its own (`self.mbox`), owned by
    MAIL_UID; session() runs a POP3 conversation against it."""

    def __init__(self, name, root, maildir=False):
        """maildir (dovecot only): the mailbox is a Maildir, self.maildir,
        whose UIDs and UIDLs live in Dovecot's index, not in the mail."""
        self.name, self.root = name, root
        self.dir = tempfile.mkdtemp(prefix="popperd-old-%s-" % name)
        os.chmod(self.dir, 0o755)
        self.maildir = os.path.join(self.dir, "Maildir") if maildir else None
        self.mail_dir = os.path.join(self.dir, "mail")
        os.mkdir(self.mail_dir)
        os.chmod(self.mail_dir, 0o1777)
        self.mbox = os.path.join(self.mail_dir, MAIL_USER)
        if name == "dovecot":
            self._dovecot_config()
        else:
            self._namespace_files()

    def add_to_maildir(self, key, message):
        """A delivered message, as an MDA writes it into Maildir/new."""
        path = os.path.join(self.maildir, "new", "1796680707.M%dP1.uidltest" % key)
        with open(path, "wb") as f:
            f.write(message)
        os.chown(path, MAIL_UID, MAIL_UID)

    def close(self):
        if not os.environ.get("POPPERD_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def write_mbox(self, data):
        with open(self.mbox, "wb") as f:
            f.write(data)
        os.chown(self.mbox, MAIL_UID, MAIL_UID)
        os.chmod(self.mbox, 0o600)

    def read_mbox(self):
        with open(self.mbox, "rb") as f:
            return f.read()

    def _namespace_files(self):
        etc = os.path.join(self.dir, "etc")
        os.mkdir(etc)
        users = [(MAIL_USER, MAIL_UID)] + SERVICE_USERS
        with open("/etc/passwd") as f:
            passwd = f.read()
        with open("/etc/group") as f:
            group = f.read()
        with open("/etc/shadow") as f:
            shadow = f.read()
        hashed = subprocess.run(["perl", "-e", "print crypt($ARGV[0], '$6$uidlold')", PASSWORD],
                                check=True, capture_output=True, text=True).stdout
        for name, uid in users:
            passwd += "%s:x:%d:%d::/nonexistent:/bin/sh\n" % (name, uid, uid)
            group += "%s:x:%d:\n" % (name, uid)
            shadow += "%s:%s:19000:0:99999:7:::\n" % (name, hashed if name == MAIL_USER else "*")
        for name, text, mode in (("passwd", passwd, 0o644), ("group", group, 0o644),
                                 ("shadow", shadow, 0o640)):
            path = os.path.join(etc, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, mode)
        pam = os.path.join(self.dir, "pam.d")
        shutil.copytree("/etc/pam.d", pam)
        for service in ("popa3d", "solid-pop3d", "spop3d", "pop3d", "pop3", "other"):
            with open(os.path.join(pam, service), "w") as f:
                f.write("auth required pam_permit.so\naccount required pam_permit.so\n"
                        "session required pam_permit.so\npassword required pam_permit.so\n")
        os.makedirs(os.path.join(self.dir, "varlib", "popa3d"))
        # Mailutils: the mailbox is /var/mail/USER by default, and no site config.
        self.binds = [("etc/passwd", "/etc/passwd"), ("etc/shadow", "/etc/shadow"),
                      ("etc/group", "/etc/group"), ("pam.d", "/etc/pam.d"),
                      ("mail", "/var/mail"), ("varlib", "/var/lib")]

    def _dovecot_config(self):
        for sub in ("home", "index", "run", "state"):
            os.mkdir(os.path.join(self.dir, sub))
        self.conf = os.path.join(self.dir, "dovecot.conf")
        location = "mbox:%s/home:INBOX=%s:INDEX=%s/index" % (self.dir, self.mbox, self.dir)
        if self.maildir:
            location = "maildir:%s:INDEX=%s/index" % (self.maildir, self.dir)
            for sub in ("", "cur", "new", "tmp"):
                os.mkdir(os.path.join(self.maildir, sub))
                os.chown(os.path.join(self.maildir, sub), MAIL_UID, MAIL_UID)
        with open(self.conf, "w") as f:
            f.write("base_dir = %(d)s/run\nstate_dir = %(d)s/state\nlog_path = %(d)s/log\n"
                    "protocols = pop3\nssl = no\n"
                    "mail_location = %(loc)s\n"
                    "pop3_uidl_format = %%08Xu%%08Xv\n"
                    "mail_uid = %(u)d\nmail_gid = %(u)d\n"
                    "first_valid_uid = 1\nfirst_valid_gid = 1\n"
                    % {"d": self.dir, "u": MAIL_UID, "loc": location})
        for sub in ("home", "index"):
            os.chown(os.path.join(self.dir, sub), MAIL_UID, MAIL_UID)

    def argv(self):
        sbin = os.path.join(self.root, "usr", "sbin")
        if self.name == "popa3d":
            return [os.path.join(sbin, "popa3d")]
        if self.name == "solid-pop3d":
            return [os.path.join(sbin, "solid-pop3d")]
        if self.name == "mailutils":
            return [os.path.join(sbin, "pop3d"), "--no-config", "--inetd"]
        lib = os.path.join(self.root, "usr", "lib", "dovecot")
        return [os.path.join(self.root, "usr", "bin", "doveconf"), "-c", self.conf,
                "-f", "service=pop3", "-m", "pop3", "-e", os.path.join(lib, "pop3"),
                "-c", self.conf]

    def spawn(self, conn):
        """The server for one accepted connection."""
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
               "LD_LIBRARY_PATH": library_path(self.root), "LC_ALL": "C"}
        if self.name == "dovecot":
            env.update(USER=MAIL_USER, HOME=os.path.join(self.dir, "home"))
            argv = self.argv()
        else:
            mounts = " && ".join("mount --bind %s %s" % (os.path.join(self.dir, src), dst)
                                 for src, dst in self.binds)
            argv = ["unshare", "-m", "sh", "-c",
                    "mount --make-rprivate / && %s && exec \"$@\"" % mounts, "sh"] + self.argv()
        log = open(os.path.join(self.dir, "server.log"), "ab")
        try:
            if self.name != "dovecot":
                return subprocess.Popen(argv, stdin=conn, stdout=conn, stderr=log, env=env,
                                        close_fds=True)
            # Dovecot's pop3 refuses a socket as its standard input (it
            # belongs behind pop3-login): relay the connection over pipes.
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=log, env=env, close_fds=True)
            _relay(conn.dup(), proc)
            return proc
        finally:
            log.close()

    def connect(self):
        """A connection to a fresh server process: (client, process)."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname(), timeout=WAIT_S)
        conn, _ = listener.accept()
        listener.close()
        proc = self.spawn(conn)
        conn.close()
        return mailhost.TcpPopSession(sock=client), proc

    def session(self, commands):
        """Logs in, runs `commands`, QUITs; returns [(status line, body
        lines or None)] of them.

        A server process that ends before its greeting (seen once from
        popa3d under a loaded sanitizer run: its namespace setup or the
        server itself gave up, and it is not the program under test) is
        started once more, with what it logged shown; twice is a failure."""
        for attempt in (1, 2):
            try:
                return self._session(commands)
            except EndedBeforeGreeting:
                logs = "".join("--- %s:\n%s" % item for item in self.log_text())
                print("%s ended before its greeting (attempt %d)\n%s" %
                      (self.name, attempt, logs), flush=True)
                if attempt == 2:
                    raise EOFError("%s ended before its greeting twice" % self.name)

    def _session(self, commands):
        client, proc = self.connect()
        try:
            try:
                greeting = client.greeting()
            except EOFError:
                raise EndedBeforeGreeting() from None
            if not greeting.startswith(b"+OK"):
                raise RuntimeError("%s greeting: %r" % (self.name, greeting))
            for cmd in ("USER " + MAIL_USER, "PASS " + PASSWORD):
                status, _ = client.cmd(cmd)
                if not status.startswith(b"+OK"):
                    return [(status, None)]
            out = run_commands(client, commands)
            client.cmd("QUIT")
            return out
        finally:
            client.finish()
            try:
                proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log_text(self):
        for name in ("server.log", "log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    yield name, f.read().decode("utf-8", "replace")


# The USER lines clients sent to the relay, for tests of how they log in.
LOGINS = []


def _preauth_login(conn):
    """Dovecot's pop3 runs preauthenticated, in the TRANSACTION state: the
    relay plays the AUTHORIZATION state for it (greeting, USER, PASS), so
    that clients log in as they would to Dovecot's pop3-login. Returns the
    octets the client sent after PASS, or None when it left."""
    conn.sendall(b"+OK Dovecot ready (pop3 preauthenticated, login by the test relay)\r\n")
    buf = b""
    while True:
        while b"\n" not in buf:
            data = conn.recv(65536)
            if not data:
                return None
            buf += data
        line, buf = buf.split(b"\n", 1)
        verb = line.strip().split(b" ")[0].upper()
        if verb == b"USER":
            LOGINS.append(line.strip()[5:].decode("utf-8", "replace"))
        if verb == b"QUIT":
            conn.sendall(b"+OK Logging out\r\n")
            return None
        conn.sendall(b"+OK\r\n" if verb in (b"USER", b"PASS") else b"-ERR\r\n")
        if verb == b"PASS":
            return buf


def _relay(conn, proc):
    """Copies the connection to the process's stdin and its stdout back."""
    def inbound():
        try:
            rest = _preauth_login(conn)
            if rest is None:
                return
            proc.stdin.write(rest)
            proc.stdin.flush()
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                proc.stdin.write(data)
                proc.stdin.flush()
        except OSError:
            pass
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def outbound():
        try:
            while True:
                data = proc.stdout.read1(65536)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    threading.Thread(target=inbound, daemon=True).start()
    threading.Thread(target=outbound, daemon=True).start()


def run_commands(session, commands):
    """[(status line, body lines or None)] of each command on a
    mailhost.PopSession."""
    out = []
    for c in commands:
        status, body = session.cmd(c, multiline=is_multiline(c))
        out.append((status, body.split(b"\n")[:-1] if body is not None else None))
    return out


def is_multiline(cmd):
    words = cmd.split()
    return (words[0].upper() in ("UIDL", "LIST") and len(words) == 1) or \
        words[0].upper() in ("RETR", "TOP", "CAPA")


class InetdListener:
    """A listening socket on 127.0.0.1 that starts the server for each
    connection, as inetd would: for clients (fetchmail, getmail)."""

    def __init__(self, server, port=0):
        self.server = server
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.procs = []
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.procs.append(self.server.spawn(conn))
            conn.close()

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        except OSError:
            pass
        self.thread.join(WAIT_S)
        self.sock.close()
        deadline = time.time() + WAIT_S
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
