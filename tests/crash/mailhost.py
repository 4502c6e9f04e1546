"""A private mail host for tests that drive the real popperd binary.

Shared by the crash sweep, the durability check and the concurrency stress
test: a temp dir with spool/, drop/, a users file and a config; an
MTA-style deliverer (dotlock + fcntl, as procmail and Postfix local do); a
POP3 client over `popperd -i` (optionally under strace); an mbox reader.
"""
import fcntl
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

PASSWORD = "secret"
USER = "alice"


def crypt_sha512(password, salt="crashsweep"):
    out = subprocess.run(["perl", "-e", "print crypt($ARGV[0], '$6$' . $ARGV[1])", password, salt],
                         check=True, capture_output=True, text=True)
    return out.stdout


def message(msg_id, body_lines=3, sender="mta@example.org"):
    """One mbox entry (From_ line + headers + body + separator)."""
    body = "".join("line %d of %s\n" % (i, msg_id) for i in range(body_lines))
    return ("From %s Mon Nov 30 06:00:00 2026\n"
            "Message-ID: <%s@test>\nSubject: %s\n\n%s\n" % (sender, msg_id, msg_id, body))


MSGID_RE = re.compile(rb"^Message-ID: <([^@>]+)@test>", re.M | re.I)


def ids_in(data):
    return [m.decode() for m in MSGID_RE.findall(data)]


def other_filesystem_dir():
    """A directory on a filesystem other than the temp dir's, or None."""
    tmp_dev = os.stat(tempfile.gettempdir()).st_dev
    for candidate in ("/dev/shm", "/run", "/var/tmp"):
        try:
            if os.stat(candidate).st_dev != tmp_dev and os.access(candidate, os.W_OK):
                return candidate
        except OSError:
            pass
    return None


class Checks:
    """Named checks that print ok/FAIL as they go; exit_code() sums up."""

    def __init__(self, name):
        self.name = name
        self.failures = []

    def __call__(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            self.failures.append(what)

    def exit_code(self):
        print("%s: %d checks failed" % (self.name, len(self.failures)))
        return 1 if self.failures else 0


def require_tools(*tools):
    """Exit 77 (ctest: skipped) when a tool the test needs is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print("skipped: missing %s" % ", ".join(missing))
        raise SystemExit(77)


class MailHost:
    def __init__(self, popperd, extra_conf="", drop_fs=None, base=None):
        """drop_fs: a directory on another filesystem for the drop dir, so
        the maildrop takes its copying paths instead of renaming."""
        self.popperd = popperd
        self.dir = tempfile.mkdtemp(prefix="popperd-crash-", dir=base)
        os.chmod(self.dir, 0o755)
        self.spool_dir = os.path.join(self.dir, "spool")
        self.other_fs_dir = tempfile.mkdtemp(prefix="popperd-drop-", dir=drop_fs) if drop_fs else None
        self.drop_dir = os.path.join(self.other_fs_dir or self.dir, "drop")
        if self.other_fs_dir:
            os.chmod(self.other_fs_dir, 0o755)
        os.mkdir(self.spool_dir)
        os.mkdir(self.drop_dir)
        self.spool = os.path.join(self.spool_dir, USER)
        # As root the session drops to the mailbox owner: use nobody.
        self.uid, self.gid = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("%s:%s:%d:%d::/nonexistent:\n" % (USER, crypt_sha512(PASSWORD), self.uid, self.gid))
        self.conf = os.path.join(self.dir, "popperd.conf")
        settings = {"users_file": self.dir + "/users", "spool_dir": self.spool_dir,
                    "drop_dir": self.drop_dir, "pidfile": self.dir + "/popperd.pid",
                    "log": "stderr", "log_level": "debug", "auth_failure_delay": "0ms",
                    "lock_timeout": "5"}
        # Lines of `extra_conf` override these defaults, key by key.
        for line in extra_conf.splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                settings[key.strip()] = value.strip()
        with open(self.conf, "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in settings.items()))
        self.fix_owner(self.spool_dir)
        self.fix_owner(self.drop_dir)

    def fix_owner(self, path):
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.other_fs_dir:
            shutil.rmtree(self.other_fs_dir, ignore_errors=True)

    def write_spool(self, data):
        with open(self.spool, "w") as f:
            f.write(data)
        self.fix_owner(self.spool)

    def read_file(self, path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def deliver(self, data, timeout=10.0):
        """Appends like an MTA: dotlock (O_EXCL) then fcntl, then write."""
        lock = self.spool + ".lock"
        deadline = time.time() + timeout
        while True:
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                os.close(fd)
                break
            except FileExistsError:
                if self._break_dead_dotlock(lock):
                    continue
                if time.time() > deadline:
                    raise RuntimeError("dotlock %s held too long" % lock)
                time.sleep(0.01)
        try:
            fd = os.open(self.spool, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX)
                os.write(fd, data.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            self.fix_owner(self.spool)
        finally:
            os.unlink(lock)


    @staticmethod
    def _break_dead_dotlock(lock):
        """Like an MTA's stale-lock check: a lock whose "pid host" owner is gone."""
        try:
            with open(lock) as f:
                pid = int(f.read().split()[0])
            os.kill(pid, 0)
            return False
        except ProcessLookupError:
            try:
                os.unlink(lock)
            except FileNotFoundError:
                pass
            return True
        except (OSError, ValueError, IndexError):
            return False


class PopSession:
    """popperd -i on one end of a real socket pair; we hold the other end.

    With `strace_args`, strace attaches to the session process once it has
    sent its greeting: only that (privileged) process is traced, never the
    pre-login child it forked, so injection counts are those of the process
    that owns the maildrop.
    """

    def __init__(self, host, strace_args=None, log_name="session.log"):
        self.sock, theirs = socket.socketpair()
        self.sock.settimeout(20)
        self.log_path = os.path.join(host.dir, log_name)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([host.popperd, "-i", "-c", host.conf], stdin=theirs,
                                     stdout=theirs, stderr=self.log, close_fds=True)
        theirs.close()
        self.buf = b""
        self.first_line = None
        self.strace = None
        if strace_args is not None:
            self.first_line = self._line()
            self.strace = subprocess.Popen(["strace", "-p", str(self.proc.pid)] + strace_args,
                                           stderr=subprocess.PIPE)
            for line in self.strace.stderr:
                if b"attached" in line:
                    break
    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def _multiline(self):
        lines = []
        while True:
            line = self._line()
            if line == b".":
                return b"\n".join(lines) + (b"\n" if lines else b"")
            lines.append(line[1:] if line.startswith(b".") else line)

    def cmd(self, text, multiline=False):
        """Returns (status line, body or None); raises EOFError when gone."""
        self.sock.sendall(text.encode() + b"\r\n")
        status = self._line()
        body = self._multiline() if multiline and status.startswith(b"+OK") else None
        return status, body

    def greeting(self):
        if self.first_line is not None:
            line, self.first_line = self.first_line, None
            return line
        return self._line()

    def finish(self, timeout=30):
        self.sock.close()
        try:
            code = self.proc.wait(timeout=timeout)
            if self.strace:
                self.strace.wait(timeout=timeout)
                self.strace.stderr.close()
        finally:
            self.log.close()
        return code


class TcpPopSession(PopSession):
    """The same client over TCP, to a standalone daemon (ListeningDaemon),
    or over a socket already connected to some server."""

    def __init__(self, port=None, sock=None, address="127.0.0.1"):
        self.sock = sock or socket.create_connection((address, port), timeout=20)
        self.sock.settimeout(20)
        self.buf = b""
        self.first_line = None
        self.strace = None
        self.proc = None
        self.log = None

    def finish(self, timeout=30):
        self.sock.close()
        return None


class ListeningDaemon:
    """`popperd -f` on 127.0.0.1 (or `address`) with an ephemeral port,
    stderr to a log file. `conf`: another config file than the host's (a
    second daemon on the same spool and drop dir)."""

    def __init__(self, host, log_name="daemon.log", address="127.0.0.1", conf=None):
        conf = conf or host.conf
        with open(conf, "a") as f:
            f.write("listen = %s:0\n" % address)
        self.address = address
        self.log_path = os.path.join(host.dir, log_name)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([host.popperd, "-f", "-c", conf], stdout=log,
                                     stderr=log, close_fds=True)
        log.close()
        self.port = None
        deadline = time.time() + 20
        while self.port is None and time.time() < deadline and self.proc.poll() is None:
            found = re.search(rb"listening on " + re.escape(address.encode()) + rb":(\d+)",
                              self.log_text())
            if found:
                self.port = int(found.group(1))
            else:
                time.sleep(0.02)
        if self.port is None:
            self.stop()
            raise RuntimeError("popperd did not start: %r" % self.log_text())

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def connect(self):
        return TcpPopSession(self.port, address=self.address)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=timeout)


def login(session):
    session.greeting()
    session.cmd("USER " + USER)
    status, _ = session.cmd("PASS " + PASSWORD)
    return status


# --- Byte-exact expectations: an mbox's messages and their POP3 forms --------
# Written from RFC 4155 / RFC 1939 and README "UIDL", independently of the
# daemon's code, so that a test compares popperd's bytes with an oracle.

# Headers that mail programs rewrite in place (README "UIDL"): a local reader
# may add or change them; they do not make a message a different one.
REWRITTEN_HEADERS = (b"status", b"x-status", b"x-keywords", b"x-uid", b"x-mozilla-status",
                     b"x-mozilla-status2", b"content-length", b"lines")

_LINE_RE = re.compile(rb"[^\n]*\n|[^\n]+\Z")
_ESCAPED_FROM_RE = re.compile(rb"^>+From ")


def _lines(data):
    return _LINE_RE.findall(data)


def _is_empty_line(line):
    return line in (b"\n", b"\r\n")


def split_mbox(data):
    """The messages of an mbox (bytes), each from its From_ line up to, not
    including, the separator's empty line. A "From " line starts a message at
    the start of the file or right after an empty line; one empty line at the
    end of the file belongs to the separator too."""
    messages, current, prev_empty = [], None, True
    for line in _lines(data):
        if prev_empty and line.startswith(b"From "):
            if current is not None:
                messages.append(current)
            current = [line]
        elif current is not None:
            current.append(line)
        prev_empty = _is_empty_line(line)
    if current is not None:
        messages.append(current)
    return [b"".join(m[:-1] if len(m) > 1 and _is_empty_line(m[-1]) else m) for m in messages]


def pop_form(raw, top_lines=None):
    """A stored message (From_ line first, as split_mbox gives it) as RETR
    sends it before dot-stuffing: From_ line dropped, one '>' removed from
    ^>+From lines, LF -> CRLF, a final CRLF when the last line has none. Its
    length is the LIST size. With top_lines: what TOP n top_lines sends (the
    header section, its empty line, then that many body lines)."""
    out, in_body, body_left = [], False, top_lines
    for line in _lines(raw)[1:]:
        if in_body and top_lines is not None:
            if body_left == 0:
                break
            body_left -= 1
        text = line[:-2] if line.endswith(b"\r\n") else line[:-1] if line.endswith(b"\n") else line
        if _ESCAPED_FROM_RE.match(text):
            text = text[1:]
        out.append(text + b"\r\n")
        if not in_body and text == b"":
            in_body = True
    return b"".join(out)


def dot_stuffed(pop_bytes):
    """pop_form() bytes as they travel: lines beginning with '.' get another."""
    return b"".join(b"." + line if line.startswith(b".") else line for line in _lines(pop_bytes))


def without_rewritten_headers(raw):
    """A message with the headers in REWRITTEN_HEADERS (and their
    continuation lines) removed from its header section: two versions of a
    message that a reader only re-flagged compare equal."""
    out, in_header, dropping = [], True, False
    for i, line in enumerate(_lines(raw)):
        if in_header and i > 0:
            if _is_empty_line(line):
                in_header = False
            elif line[:1] in (b" ", b"\t"):
                if dropping:
                    continue
            else:
                name = line.split(b":", 1)[0].strip().lower()
                dropping = b":" in line and name in REWRITTEN_HEADERS
                if dropping:
                    continue
        out.append(line)
    return b"".join(out)


def header_value(raw, name):
    """The first value of header `name` in a stored message, or None."""
    for line in _lines(raw)[1:]:
        if _is_empty_line(line):
            return None
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name.lower().encode():
            return value.strip()
    return None


def message_id_of(raw):
    found = MSGID_RE.search(raw)
    return found.group(1).decode() if found else None


def _mailhost_spool_locked(self, timeout=10.0):
    """Context manager: the spool's locks as a local mail reader takes them
    (a dotlock holding our pid, then fcntl on the open spool), yielding the
    spool opened read-write, or None when there is no spool file."""
    return _SpoolLock(self, timeout)


class _SpoolLock:
    def __init__(self, host, timeout):
        self.host, self.timeout, self.fd, self.lock = host, timeout, None, host.spool + ".lock"

    def __enter__(self):
        deadline = time.time() + self.timeout
        while True:
            try:
                fd = os.open(self.lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                os.write(fd, b"%d\n" % os.getpid())
                os.close(fd)
                break
            except FileExistsError:
                if MailHost._break_dead_dotlock(self.lock):
                    continue
                if time.time() > deadline:
                    raise RuntimeError("dotlock %s held too long" % self.lock)
                time.sleep(0.01)
        try:
            self.fd = os.open(self.host.spool, os.O_RDWR)
        except FileNotFoundError:
            return None
        except BaseException:
            os.unlink(self.lock)
            raise
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self.fd

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        os.unlink(self.lock)
        return False


MailHost.spool_locked = _mailhost_spool_locked


def _pop_session_cmd_raw(self, text):
    """A command with a multi-line answer, the answer's body exactly as it
    came over the wire (CRLF and dot-stuffing kept, the final ".\\r\\n" not):
    (status line, bytes or None)."""
    self.sock.sendall(text.encode() + b"\r\n")
    status = self._line()
    if not status.startswith(b"+OK"):
        return status, None
    while True:
        if self.buf.startswith(b".\r\n"):
            body, self.buf = b"", self.buf[3:]
            return status, body
        end = self.buf.find(b"\r\n.\r\n")
        if end >= 0:
            body, self.buf = self.buf[:end + 2], self.buf[end + 5:]
            return status, body
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk


PopSession.cmd_raw = _pop_session_cmd_raw
