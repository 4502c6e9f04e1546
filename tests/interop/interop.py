"""Shared fixture of the interop tests: real clients and real
deployment tools against the real popperd binary.

What every interop test reuses, so that each test script only says what its
client or deployment path does:

- the mailbox fixture: messages as a client must deliver them, and their
  mboxrd spool form (From_ lines, ">From " escaping) as an MTA stores them;
- a private mail host (tests/crash/mailhost.py: temp dir, users file,
  config, spool owned by uid 65534 when run as root, MTA-style delivery with
  dotlock + fcntl);
- a standalone daemon on an ephemeral 127.0.0.1 port, read from its log;
- checks that compare delivered bytes with the fixture, naming the headers a
  client adds;
- process bookkeeping: everything started here is killed at exit, by pid.

Every wait is bounded. Nothing listens beyond 127.0.0.1.
"""
import atexit
import os
import poplib
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "crash"))
import mailhost  # noqa: E402  (one mail host for every Python test)
from waits import children_of, scaled  # noqa: E402  (POPPER_TEST_TIME_SCALE)

USER, PASSWORD = mailhost.USER, mailhost.PASSWORD
require_tools = mailhost.require_tools  # exits 77 (skip) when a tool is missing

# The MDA the clients deliver to: stores each message unchanged, in order.
STORE_MESSAGE = os.path.join(HERE, "store-message")
SKIP = 77  # ctest SKIP_RETURN_CODE: a tool is missing on this machine
# Bounds of waits, generous for a busy machine and scaled by
# POPPER_TEST_TIME_SCALE (tests/crash/waits.py): a wait ends as soon as what
# it waits for happens, so only a failure takes this long.
WAIT_S = scaled(30)  # for a daemon, a reply, a process title, a client's server
RUN_S = scaled(120)  # for a client or tool to run to completion


def fail(text):
    print("FAIL: " + text, flush=True)
    raise SystemExit(1)


def note(text):
    print(text, flush=True)


# --- the mailbox fixture -----------------------------------------------------

def _long_line(octets):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[i % len(alphabet)] for i in range(octets))


def _filler(lines):
    return "".join("%05d the quick brown fox jumps over the lazy dog, again and again\n" % i
                   for i in range(lines))


# Each message as a client must deliver it (LF line ends). Together they
# cover what POP3 transport changes: lines starting with a dot (stuffed on
# the wire), "From " lines (escaped in the mboxrd spool), folded headers,
# 8-bit text, trailing blanks, a 998-octet line (RFC 5322 §2.1.1 limit), a
# 300 KB message, a message with an empty body.
FIXTURE = [m.encode("utf-8") for m in [
    "From: Sender One <sender@example.org>\n"
    "To: alice@example.org\n"
    "Subject: plain\n"
    "Date: Mon, 30 Nov 2026 06:00:00 +0000\n"
    "Message-ID: <m1.interop@example.org>\n"
    "\n"
    "Hello Alice,\n\nthis is the first message.\n",

    "From: Sender Two <sender@example.org>\n"
    "To: alice@example.org\n"
    "Subject: dots, From lines and\n"
    "\tfolded headers\n"
    "Date: Mon, 30 Nov 2026 06:01:00 +0000\n"
    "Message-ID: <m2.interop@example.org>\n"
    "X-Folded: first part\n"
    "  second part\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    ".\n"
    "..\n"
    ".leading dot\n"
    "From the body: escaped in the spool, plain on the wire\n"
    ">From quoted once\n"
    ">>From quoted twice\n"
    "trailing blanks   \n"
    "\ttab indented\n"
    "UTF-8: Gr\u00fc\u00dfe, \u65e5\u672c\u8a9e, \u00e9t\u00e9\n"
    "\n"
    "\n"
    + _long_line(998) + "\n"
    "last line\n",

    "From: Sender Three <sender@example.org>\n"
    "To: alice@example.org\n"
    "Subject: large\n"
    "Date: Mon, 30 Nov 2026 06:02:00 +0000\n"
    "Message-ID: <m3.interop@example.org>\n"
    "\n"
    + _filler(2000) + ".a dotted line in the middle\n" + _filler(2000) +
    "the end\n",

    "From: Sender Four <sender@example.org>\n"
    "To: alice@example.org\n"
    "Subject: seen by a local MUA\n"
    "Date: Mon, 30 Nov 2026 06:03:00 +0000\n"
    "Message-ID: <m4.interop@example.org>\n"
    "Status: O\n"
    "\n"
    "A local mail reader marked this one with a Status header.\n",

    "From: Sender Five <sender@example.org>\n"
    "To: alice@example.org\n"
    "Subject: empty body\n"
    "Date: Mon, 30 Nov 2026 06:04:00 +0000\n"
    "Message-ID: <m5.interop@example.org>\n"
    "\n",
]]

# Delivered while a client leaves the first five on the server.
NEW_MESSAGE = ("From: Sender Six <sender@example.org>\n"
               "To: alice@example.org\n"
               "Subject: arrived between two runs\n"
               "Date: Mon, 30 Nov 2026 07:00:00 +0000\n"
               "Message-ID: <m6.interop@example.org>\n"
               "\n"
               "New mail.\n.\nFrom here on\n").encode("utf-8")

_MBOXRD_FROM = re.compile(rb"^(>*From )", re.M)


def mbox_entry(message, sender=b"sender@example.org"):
    """The spool form: From_ line, mboxrd-escaped content, separator line."""
    return (b"From " + sender + b" Mon Nov 30 06:00:00 2026\n" +
            _MBOXRD_FROM.sub(rb">\1", message) + b"\n")


def crlf(message):
    """What RETR sends, once the client undid the dot-stuffing."""
    return message.replace(b"\n", b"\r\n")


# --- the mail host -----------------------------------------------------------

class Host(mailhost.MailHost):
    """A private mail host (tests/crash/mailhost.py) serving the fixture."""

    def __init__(self, popperd, extra_conf=""):
        super().__init__(popperd, extra_conf)
        with open(self.conf, "a") as f:
            # Pre-login privilege separation (as root): a private chroot, and
            # nobody named outright (a test host has no "popper" user).
            f.write("unprivileged_user = nobody\npreauth_chroot = %s/empty\n" % self.dir)
        self.fetched = os.path.join(self.dir, "fetched")
        os.mkdir(self.fetched)
        self.home = os.path.join(self.dir, "home")  # clients' private HOME
        os.mkdir(self.home, 0o700)
        self.write_spool_bytes(b"".join(mbox_entry(m) for m in FIXTURE))
        if not os.environ.get("POPPERD_KEEP_TMP"):  # keep it to debug a failure
            atexit.register(self.close)

    def write_spool_bytes(self, data):
        with open(self.spool, "wb") as f:
            f.write(data)
        self.fix_owner(self.spool)

    def deliver_new(self, message=NEW_MESSAGE):
        """Appends like Postfix local(8): dotlock + fcntl (mailhost.deliver)."""
        self.deliver(mbox_entry(message).decode("utf-8"))

    def add_user(self, line):
        with open(os.path.join(self.dir, "users"), "a") as f:
            f.write(line + "\n")

    def client_env(self):
        env = dict(os.environ)
        env.update(HOME=self.home, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        for proxy in ("http_proxy", "https_proxy", "all_proxy", "ALL_PROXY", "no_proxy"):
            env.pop(proxy, None)
        return env

    def take_fetched(self):
        """The messages the MDA stored, in delivery order; empties the dir."""
        names = sorted(n for n in os.listdir(self.fetched) if n.isdigit())
        out = []
        for name in names:
            path = os.path.join(self.fetched, name)
            with open(path, "rb") as f:
                out.append(f.read())
            os.unlink(path)
        return out

    def spool_bytes(self):
        return self.read_file(self.spool)

    def drop_files(self):
        """Files that hold mail outside the spool: the drop (USER.pop) and
        those of an unfinished step (.new, .moving, .commit, .compact,
        .tail); the spool's temp copy and dotlock. The journal
        (USER.pop.journal) and the session lock (USER.session) are only
        consulted beside those, and may stay."""
        drop = [n for n in os.listdir(self.drop_dir)
                if n.startswith(USER + ".pop") and n != USER + ".pop.journal"]
        spool = [n for n in os.listdir(self.spool_dir) if n != USER]
        return sorted(drop + spool)

    def expect_spool(self, messages, what):
        want = b"".join(mbox_entry(m) for m in messages)
        got = self.spool_bytes()
        if got != want:
            fail("%s: spool holds %r..., expected the %d messages %s" %
                 (what, got[:200], len(messages), subjects(messages)))
        if self.drop_files():
            fail("%s: drop files left behind: %s" % (what, self.drop_files()))

    def expect_empty_spool(self, what):
        if self.spool_bytes() != b"":
            fail("%s: spool not empty: %r..." % (what, self.spool_bytes()[:200]))
        if self.drop_files():
            fail("%s: drop files left behind: %s" % (what, self.drop_files()))
        note("ok: %s: spool empty, no drop file left" % what)


# APOP (RFC 1939 §7) and CRAM-MD5 (RFC 2195) use a secret of their own,
# unlike the users file's PASSWORD: a login that works with it proves the
# mechanism was used, not USER/PASS.
APOP_SECRET = "apop-cram-secret"
AUTH_CONF = "apop = yes\nauth_mechanisms = PLAIN LOGIN CRAM-MD5\n"


def host_with_auth_daemon(popperd):
    """A daemon offering APOP and SASL PLAIN, LOGIN, CRAM-MD5, whose secrets
    file must be root's (popperd.conf(5)): skipped unless run as root."""
    if os.geteuid() != 0:
        print("skipped: apop_secrets_file must be owned by root")
        raise SystemExit(SKIP)
    host = Host(popperd, "listen = 127.0.0.1:0\n" + AUTH_CONF)
    secrets = os.path.join(host.dir, "apop-secrets")
    fd = os.open(secrets, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, ("%s:%s\n" % (USER, APOP_SECRET)).encode())
    os.close(fd)
    with open(host.conf, "a") as f:
        f.write("apop_secrets_file = %s\n" % secrets)
    daemon = Daemon(host)
    greeting_line = greeting(daemon.port) or b""
    if not re.match(rb"\+OK .*<[^<>@]+@[^<>]+>\r\n$", greeting_line):
        fail("APOP enabled, but the greeting has no timestamp: %r" % greeting_line)
    return host, daemon


def expect_mechanism(client, used, mechanism, host, added_headers, form=lambda m: m):
    """After a run that logged in with `mechanism`: the client's own trace
    `used` (True, or the text that shows the command) and every message
    delivered byte for byte, none deleted."""
    if used is not True and not used:
        fail("%s: no sign that %s was used" % (client, mechanism))
    expect_messages("%s with %s" % (client, mechanism), host.take_fetched(),
                    [form(m) for m in FIXTURE], added_headers)
    host.expect_spool(FIXTURE, "%s with %s" % (client, mechanism))


def subjects(messages):
    out = []
    for m in messages:
        found = re.search(rb"(?m)^Subject: ([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", m)
        out.append(re.sub(r"\s+", " ", found.group(1).decode()).strip() if found else "?")
    return out


# --- comparing what a client delivered ---------------------------------------

def _header_names(block):
    """Names of the header fields in `block` (whole lines), or None."""
    names = []
    for line in block.split(b"\n")[:-1]:
        if line[:1] in (b" ", b"\t") and names:
            continue
        m = re.match(rb"([!-9;-~]+):", line)
        if not m:
            return None
        names.append(m.group(1).decode().lower())
    return names


def expect_delivered(client, got, want, added_headers):
    """`got` must be `want` preceded only by header fields the client adds
    itself, named in `added_headers` (lower case). Returns the added names."""
    if not got.endswith(want):
        i = next((i for i in range(min(len(got), len(want)))
                  if got[-1 - i] != want[-1 - i]), min(len(got), len(want)))
        fail("%s: delivered %d octets, expected %r (%d octets) at the end; they differ "
             "%d octets from the end: got ...%r, expected ...%r" %
             (client, len(got), subjects([want]), len(want), i,
              got[max(0, len(got) - i - 40):len(got) - i + 20],
              want[max(0, len(want) - i - 40):len(want) - i + 20]))
    prefix = got[:len(got) - len(want)]
    names = _header_names(prefix) if prefix else []
    if names is None or any(n not in added_headers for n in names):
        fail("%s: unexpected text added before the message: %r" % (client, prefix[:500]))
    return names


def expect_messages(client, got, want, added_headers):
    if not want and not got:
        note("ok: %s: nothing delivered" % client)
        return
    if len(got) != len(want):
        fail("%s: %d messages delivered, expected %d (%s)" %
             (client, len(got), len(want), subjects(want)))
    added = set()
    for g, w in zip(got, want):
        added.update(expect_delivered(client, g, w, added_headers))
    note("ok: %s: %d messages byte for byte (%s)%s" %
         (client, len(want), ", ".join(subjects(want)),
          "; added headers: " + ", ".join(sorted(added)) if added else ""))


def leave_on_server_then_delete(client, host, fetch, added_headers, form=lambda m: m):
    """The scenario every client with UIDL support runs against one daemon.

    fetch("keep") runs the client once in "leave mail on server" mode: it
    retrieves only messages its UIDL state has not seen, and deletes none.
    fetch("delete") runs it with fresh state: it retrieves every message and
    deletes it. `form` maps a fixture message to the bytes the client
    delivers (LF as stored, or the CRLF wire form)."""
    fixture = [form(m) for m in FIXTURE]
    new = form(NEW_MESSAGE)
    fetch("keep")
    expect_messages(client + " run 1 (keep)", host.take_fetched(), fixture, added_headers)
    host.expect_spool(FIXTURE, client + " run 1 (keep)")
    host.deliver_new()
    fetch("keep")
    expect_messages(client + " run 2 (keep, UIDL: only the new one)", host.take_fetched(),
                    [new], added_headers)
    host.expect_spool(FIXTURE + [NEW_MESSAGE], client + " run 2 (keep)")
    fetch("keep")
    expect_messages(client + " run 3 (keep, nothing new)", host.take_fetched(), [],
                    added_headers)
    fetch("delete")
    expect_messages(client + " run 4 (retrieve all and delete)", host.take_fetched(),
                    fixture + [new], added_headers)
    host.expect_empty_spool(client + " run 4 (delete)")


def expect_no_sanitizer_report(what, log_text):
    """Under AddressSanitizer/UBSan builds: no report in popperd's stderr."""
    text = log_text.decode("utf-8", "replace") if isinstance(log_text, bytes) else log_text
    found = re.search(r"(?m)^.*(ERROR: \w+Sanitizer|runtime error:).*$", text)
    if found:
        start = max(0, found.start() - 200)
        fail("%s: sanitizer report in popperd's stderr:\n%s" % (what, text[start:start + 3000]))


def expect_clean_log(daemon_log, sessions_at_least):
    """Every session of the test ended with QUIT, and nothing was logged
    at error or warning level."""
    text = daemon_log.decode("utf-8", "replace")
    bad = [l for l in text.splitlines() if re.search(r"\]: (error|warning): ", l)]
    if bad:
        fail("popperd logged problems:\n" + "\n".join(bad))
    quits = len(re.findall(r"info: logout: user=\S+ addr=127\.0\.0\.1 how=quit ", text))
    others = re.findall(r"info: logout: .* how=(?!quit )\S+", text)
    if others or quits < sessions_at_least:
        fail("expected >= %d sessions ending in QUIT, got %d; others: %s\n%s" %
             (sessions_at_least, quits, others, text))
    note("ok: popperd log: %d sessions, each ended with QUIT; no error or warning" % quits)


# --- processes ---------------------------------------------------------------

_started = []


def start(cmd, **kw):
    """Popen in a new session, killed (group, by pid) at exit if still alive."""
    proc = subprocess.Popen(cmd, start_new_session=True, **kw)
    _started.append(proc)
    return proc


def stop(proc, sig=signal.SIGTERM, timeout=WAIT_S):
    """Signals `proc`, waits; SIGKILLs its process group if it hangs."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(proc)
    return proc.wait(timeout=timeout)


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _cleanup():
    for proc in _started:
        if proc.poll() is None:
            _kill_group(proc)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # Session processes outlive a killed parent in our process group.
        _kill_group(proc)


atexit.register(_cleanup)
# ctest's timeout sends SIGTERM: run the atexit cleanup on the way out.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def run(cmd, timeout=RUN_S, **kw):
    """Runs a client to completion (bounded); returns CompletedProcess."""
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        fail("%s did not finish within %ds: stdout %r stderr %r" %
             (cmd[0], timeout, (e.stdout or b"")[-2000:], (e.stderr or b"")[-2000:]))


def wait_until(what, predicate, timeout=WAIT_S, interval=0.02):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            fail("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(interval)


def proc_title(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None


def wait_for_title(what, pids, title):
    """Waits until one of pids() shows exactly `title`; returns its pid."""
    def found():
        for pid in pids():
            if proc_title(pid) == title:
                return pid
        return None
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        pid = found()
        if pid:
            note("ok: %s: session pid %d shows %r" % (what, pid, title))
            return pid
        time.sleep(0.02)
    fail("%s: no process shows %r; candidates: %s" %
         (what, title, [(p, proc_title(p)) for p in pids()]))


def pop_session(what, host, port, messages, candidates):
    """One POP3 session with poplib through a deployment path: checks the
    session's process title before and after login, retrieves every message
    (compared with the fixture's wire form), deletes the first and QUITs.
    Nothing but POP3 may reach the client: no log line, nothing after the
    QUIT reply. `candidates()` lists the pids that may be the session.
    Returns the messages left in the spool."""
    # A session of an earlier connection may still be exiting with the same
    # title (slowly, under AddressSanitizer): this one is a new process.
    earlier = set(candidates())
    pop = poplib.POP3("127.0.0.1", port, timeout=WAIT_S)
    if not pop.getwelcome().startswith(b"+OK "):
        fail("%s: greeting %r" % (what, pop.getwelcome()))
    pid = wait_for_title(what + " before login",
                         lambda: [p for p in candidates() if p not in earlier],
                         "popperd: [127.0.0.1] AUTH")
    pop.user(USER)
    pop.pass_(PASSWORD)
    title = "popperd: %s [127.0.0.1] TRANSACTION" % USER
    if wait_for_title(what + " after login", lambda: [pid], title) != pid:
        fail("%s: the session changed process" % what)
    want = (len(messages), sum(len(crlf(m)) for m in messages))
    if pop.stat() != want:
        fail("%s: STAT %r, expected %r" % (what, pop.stat(), want))
    for i, message in enumerate(messages):
        _, lines, _ = pop.retr(i + 1)
        if b"".join(l + b"\r\n" for l in lines) != crlf(message):
            fail("%s: RETR %d differs from the fixture" % (what, i + 1))
    pop.dele(1)
    reply = pop._shortcmd("QUIT")
    rest = pop.file.read()  # up to EOF: popperd closes after QUIT
    pop.close()
    if not reply.startswith(b"+OK") or rest:
        fail("%s: QUIT answered %r, then %r" % (what, reply, rest))
    wait_until("%s: session %d to exit" % (what, pid), lambda: proc_title(pid) is None
               or not os.path.exists("/proc/%d" % pid) or _zombie(pid))
    host.expect_spool(messages[1:], what + " after DELE 1 + QUIT")
    note("ok: %s: RETR of %d messages byte for byte, DELE 1, QUIT, spool rewritten; "
         "nothing but POP3 reached the client" % (what, len(messages)))
    return messages[1:]


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] == "Z"
    except OSError:
        return True


def raw_transcript(port, commands, source="127.0.0.1"):
    """Sends `commands` pipelined and returns every line the server sent
    until it closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S,
                                  source_address=(source, 0)) as s:
        s.sendall("".join(c + "\r\n" for c in commands).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", "replace").split("\r\n")


def failed_login(what, port, source="127.0.0.1", user=USER):
    """A wrong password: the client sees only POP3 replies, no log text."""
    lines = raw_transcript(port, ["USER " + user, "PASS wrong", "QUIT"], source)
    want = ["+OK", "+OK", "-ERR [AUTH]", "+OK", ""]
    if len(lines) != len(want) or any(not l.startswith(w) for l, w in zip(lines, want)):
        fail("%s: failed login transcript %r" % (what, lines))


# --- ports -------------------------------------------------------------------

def free_port():
    """A random high port that is free now (the caller retries if it is
    taken by the time its server binds it)."""
    for _ in range(100):
        port = random.randint(20000, 60000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    fail("no free port found")


def greeting(port, timeout=WAIT_S, source="127.0.0.1"):
    """The greeting line of a POP3 server on 127.0.0.1:port, or None. A short
    `timeout` checks that nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                      source_address=(source, 0)) as s:
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(512)
                if not chunk:
                    break
                data += chunk
            s.sendall(b"QUIT\r\n")
            return data
    except OSError:
        return None


# --- a standalone daemon -----------------------------------------------------

class Daemon:
    """`popperd -f` on 127.0.0.1:0 (or another loopback address); the port
    is read from its log line `listening on 127.0.0.1:PORT ...`."""

    def __init__(self, host, argv=None, log_text=None):
        """`log_text`, if given, reads the log (when it goes to syslog)."""
        self.host = host
        if log_text:
            self.log_text = log_text
        self.log_path = os.path.join(host.dir, "popperd.log")
        self.log = open(self.log_path, "ab")
        argv = argv or [host.popperd, "-f", "-c", host.conf]
        self.proc = start(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        m = wait_until("popperd to listen", lambda: self._listening() or self._died())
        self.port = int(m.group(1))

    def _listening(self):
        return re.search(rb"listening on 127\.\d+\.\d+\.\d+:(\d+) ", self.log_text())

    def _died(self):
        if self.proc.poll() is not None:
            fail("popperd exited with %d: %s" % (self.proc.returncode, self.log_text().decode()))
        return None

    def log_text(self):
        return self.host.read_file(self.log_path)

    def stop(self):
        code = stop(self.proc)
        self.log.close()
        expect_no_sanitizer_report("popperd", self.log_text())
        if code != 0:
            fail("popperd exited with %d after SIGTERM: %s" % (code, self.log_text().decode()))


def host_with_daemon(popperd, extra_conf=""):
    host = Host(popperd, "listen = 127.0.0.1:0\n" + extra_conf)
    return host, Daemon(host)


def main_guard(fn):
    """Runs a test's main(); a Python error fails it (never a skip)."""
    try:
        fn()
    except SystemExit:
        raise
    except BaseException:
        import traceback
        traceback.print_exc()
        raise SystemExit(1)
    note("PASS")
    raise SystemExit(0)


def tempdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d
