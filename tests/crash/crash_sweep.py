#!/usr/bin/env python3
"""Crash and fault sweep of the maildrop on the real binary.

For one scenario, a recording run under strace lists every state-changing
system call of a whole session (open, transaction, QUIT). Then, for every
such call k, the session is replayed with strace injecting SIGKILL (or
ENOSPC, or EIO) at exactly that call. After each run, mail is delivered as
an MTA would, and a clean login must see every message exactly once, minus
the deleted ones when QUIT answered +OK (invariants 1 and 2 of DESIGN.md).

The "expire" scenario sweeps EXPIRE (RFC 2449 §6.6, issue 16): with
`expire=3` days and a state file saying some messages were first retrieved
long enough ago and others not, the session RETRs and QUITs. After each
crash a settling session (login, QUIT) applies whatever state the crash
left, so a state that a crash made wrong would delete early there; a
message not yet due must survive every crash, and the due ones are gone
when the swept QUIT answered +OK.

usage: crash_sweep.py POPPERD SCENARIO FAULT [--copy]
FAULT: kill | enospc | eio. --copy puts the drop dir on another filesystem
(/dev/shm), so the copying paths are swept instead of the renaming ones.
"""
import collections
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import MailHost, PopSession, login, message, ids_in, other_filesystem_dir, require_tools  # noqa: E402

SCENARIOS = {
    # name: (leftover drop messages, spool messages, DELE numbers, delivered during, QUIT?)
    "first-login": (0, 4, [], 0, True),
    "dele-all": (0, 4, [1, 2, 3, 4], 2, True),
    "dele-some": (0, 5, [2, 4], 2, True),
    "leftover-drop": (3, 2, [1, 4], 1, True),
    "disconnect": (0, 3, [1], 1, False),
    # Recovery swept too: a first session (5 messages, DELE 2 and 4, 2
    # delivered) is killed at its Nth rename, leaving a step half done; the
    # swept session is the next login, which must finish or undo that step.
    "recover-moving": (0, 0, [], 1, True),
    "recover-compact": (0, 0, [], 1, True),
    # The same with every message deleted: the tail replaces the spool and
    # the old mailbox is only unlinked (finish_compact's other branch).
    "recover-replace": (0, 0, [], 1, True),
    # EXPIRE: spool0 and spool2 are due, the others not (EXPIRE_STATE).
    "expire": (0, 5, [], 1, True),
}
# Days ago each message was first retrieved, for the "expire" scenario
# (expire=3): due at 3 days or more; spool3 and spool4 have no entry, and
# spool3 is retrieved by the swept session itself (its clock starts then).
EXPIRE_STATE = {"spool0": 10, "spool1": 1, "spool2": 4}
EXPIRE_DUE = {"spool0", "spool2"}
EXPIRE_RETR = [2, 4]
EXPIRE_CONF = "policy_file = %s\n"
# Which rename of the first session to die at (the session process's own
# count). Same filesystem: login 1 spool->drop; QUIT after DELE 2 drop->
# .compact, 3 .compact->spool (or, everything deleted, .tail->spool).
# recover-moving leaves a crashed session's drop first, and a login that
# finds one copies the spool's mail into a new drop: 1 .new->.moving (the
# spool is then unlinked), 2 .moving->drop. With --copy every login copies:
# 1 .new->.moving, 2 .moving->drop, then QUIT: 3 drop->.commit,
# 4 .popperd-new->spool.
PRECRASH_RENAME = {"recover-moving": 2, "recover-compact": 3, "recover-replace": 3}
PRECRASH_RENAME_COPY = {"recover-moving": 2, "recover-compact": 4, "recover-replace": 4}
# What the first session deletes before it is killed.
PRECRASH_DELE = {"recover-moving": [2, 4], "recover-compact": [2, 4], "recover-replace": [1, 2, 3, 4, 5]}

def expire_message(mid):
    """message(mid) with an X-UIDL, so the state can name it."""
    return message(mid).replace("Message-ID:", "X-UIDL: u-%s\nMessage-ID:" % mid, 1)


STATE_CHANGING = {"write", "pwrite64", "copy_file_range", "fsync", "fdatasync", "rename",
                  "renameat", "renameat2", "unlink", "unlinkat", "link", "linkat", "ftruncate",
                  "fchmod", "fchown", "utimensat", "flock", "mkdir", "openat", "fcntl"}
# Faults that a full or failing disk produces, by call.
ERROR_TARGETS = {"write", "pwrite64", "copy_file_range", "ftruncate", "fsync", "fdatasync",
                 "rename", "renameat", "renameat2", "link", "linkat", "openat"}

LINE_RE = re.compile(r"^(?:\d+\s+)?(\w+)\((.*)$")


def is_state_changing(name, args):
    if name not in STATE_CHANGING:
        return False
    if name == "openat":
        return any(flag in args for flag in ("O_CREAT", "O_WRONLY", "O_RDWR", "O_TRUNC"))
    if name == "fcntl":
        return "F_SETLK" in args or "F_OFD_SETLK" in args
    if name == "write":
        return not args.startswith("2<")  # log lines to stderr change no mail
    return True


def injection_points(trace_path):
    """(syscall, per-syscall invocation number) of every state-changing call."""
    counts = collections.Counter()
    points = []
    with open(trace_path, errors="replace") as f:
        for line in f:
            m = LINE_RE.match(line)
            if not m or "resumed>" in line:
                continue
            name, args = m.group(1), m.group(2)
            counts[name] += 1
            if is_state_changing(name, args):
                points.append((name, counts[name]))
    return points


class Scenario:
    def __init__(self, popperd, name, drop_fs=None):
        self.popperd = popperd
        self.drop_fs = drop_fs
        self.name = name
        self.drop_n, self.spool_n, self.dele, self.during_n, self.quit = SCENARIOS[name]

    def setup(self):
        extra = ""
        if self.name == "expire":
            extra = EXPIRE_CONF % "/nonexistent"  # replaced below, once the dir exists
        host = MailHost(self.popperd, extra_conf=extra, drop_fs=self.drop_fs)
        if self.name == "expire":
            self.setup_expire(host)
        self.old_ids = ["old%d" % i for i in range(self.drop_n)]
        self.spool_ids = ["spool%d" % i for i in range(self.spool_n)]
        self.maybe_deleted = set(EXPIRE_DUE) if self.name == "expire" else set()
        if self.name in PRECRASH_RENAME:
            self.precrash(host)
        if self.old_ids:
            path = os.path.join(host.drop_dir, "alice.pop")
            with open(path, "w") as f:
                f.write("".join(message(i) for i in self.old_ids))
            os.chmod(path, 0o600)
            host.fix_owner(path)
        if self.name not in PRECRASH_RENAME:
            make = expire_message if self.name == "expire" else message
            host.write_spool("".join(make(i) for i in self.spool_ids))
        return host

    def setup_expire(self, host):
        """The policy file, and the state that makes some messages due."""
        policy = os.path.join(host.dir, "policy")
        with open(policy, "w") as f:
            f.write("*: expire=3\n")
        os.chmod(policy, 0o600)
        with open(host.conf) as f:
            conf = f.read().replace("/nonexistent", policy)
        with open(host.conf, "w") as f:
            f.write(conf)
        now = int(time.time())
        state = os.path.join(host.drop_dir, "alice.state")
        with open(state, "w") as f:
            f.write("popperd-state 1\n" + "".join(
                "retrieved %d u-%s\n" % (now - days * 86400, mid)
                for mid, days in sorted(EXPIRE_STATE.items())))
        os.chmod(state, 0o600)
        host.fix_owner(state)

    def settle_expire(self, host):
        """A login and QUIT that applies the state the swept run left; then
        the state goes, so that the verifying session expires nothing."""
        session = PopSession(host, None, "settle.log")
        try:
            if not login(session).startswith(b"+OK"):
                return "settling login failed\n%s" % self.logs(host)
            status, _ = session.cmd("QUIT")
            if not status.startswith(b"+OK"):
                return "settling QUIT failed: %r" % status
        except EOFError:
            return "settling session ended early\n%s" % self.logs(host)
        finally:
            session.finish()
        state = os.path.join(host.drop_dir, "alice.state")
        if os.path.exists(state):
            os.unlink(state)
        return None

    def precrash(self, host):
        """Leaves the half-done step the swept login has to recover."""
        first = ["first%d" % i for i in range(5)]
        host.write_spool("".join(message(i) for i in first))
        crashed_drop = []
        if self.name == "recover-moving":
            crashed_drop = ["crashed%d" % i for i in range(2)]
            path = os.path.join(host.drop_dir, "alice.pop")
            with open(path, "w") as f:
                f.write("".join(message(i) for i in crashed_drop))
            os.chmod(path, 0o600)
            host.fix_owner(path)
        late = []
        when = (PRECRASH_RENAME_COPY if self.drop_fs else PRECRASH_RENAME)[self.name]
        session = PopSession(host, ["-o", "/dev/null", "--inject=rename:signal=SIGKILL:when=%d"
                                    % when], "precrash.log")
        try:
            if login(session).startswith(b"+OK"):
                for i in range(2):
                    host.deliver(message("firstlate%d" % i))
                    late.append("firstlate%d" % i)
                for number in PRECRASH_DELE[self.name]:
                    session.cmd("DELE %d" % number)
                session.cmd("QUIT")
        except (EOFError, ConnectionResetError, BrokenPipeError):
            pass
        finally:
            session.finish()
        # Mail from before the crash: the killed session never answered +OK,
        # so its deletions may stand or not (invariant 2).
        compacting = "alice.pop.commit" if self.drop_fs else "alice.pop.compact"
        left = {"recover-moving": "alice.pop.moving", "recover-compact": compacting,
                "recover-replace": compacting}
        if not os.path.exists(os.path.join(host.drop_dir, left[self.name])):
            raise SystemExit("%s: the first session did not leave %s behind: %s" % (
                self.name, left[self.name], sorted(os.listdir(host.drop_dir))))
        numbered = crashed_drop + first
        self.spool_ids = numbered + late
        self.maybe_deleted = {numbered[n - 1] for n in PRECRASH_DELE[self.name]}

    def drive(self, host, strace_args):
        """One session; returns (quit_sent, quit_ok)."""
        session = PopSession(host, strace_args)
        quit_sent = quit_ok = False
        self.delivered = []
        try:
            if not login(session).startswith(b"+OK"):
                return False, False
            for i in range(self.during_n):
                host.deliver(message("during%d" % i))
                self.delivered.append("during%d" % i)
            for n in self.dele:
                session.cmd("DELE %d" % n)
            if self.name == "expire":
                for n in EXPIRE_RETR:
                    session.cmd("RETR %d" % n, multiline=True)
            if self.quit:
                quit_sent = True
                status, _ = session.cmd("QUIT")
                quit_ok = status.startswith(b"+OK")
        except (EOFError, ConnectionResetError, BrokenPipeError):
            pass
        finally:
            session.finish()
        return quit_sent, quit_ok

    def verify(self, host, quit_sent, quit_ok, label):
        if self.name == "expire":
            problem = self.settle_expire(host)
            if problem:
                return "%s: %s" % (label, problem)
        host.deliver(message("after"))
        session = PopSession(host, None, "verify.log")
        try:
            status = login(session)
            if not status.startswith(b"+OK"):
                return "%s: verifying login failed: %r\n%s" % (label, status, self.logs(host))
            count = int(session.cmd("STAT")[0].split()[1])
            seen = []
            for n in range(1, count + 1):
                _, body = session.cmd("RETR %d" % n, multiline=True)
                seen += ids_in(body)
            status, _ = session.cmd("QUIT")
            if not status.startswith(b"+OK"):
                return "%s: verifying QUIT failed: %r" % (label, status)
        except EOFError:
            return "%s: verifying session ended early\n%s" % (label, self.logs(host))
        finally:
            session.finish()
        all_ids = self.old_ids + self.spool_ids + self.delivered
        all_ids.append("after")
        numbered = self.old_ids + self.spool_ids
        deleted = {numbered[n - 1] for n in self.dele}
        counts = collections.Counter(seen)
        for mid in all_ids:
            c = counts.pop(mid, 0)
            if mid in deleted and quit_sent:
                allowed = {0} if quit_ok else {0, 1}
            elif self.name == "expire" and mid in EXPIRE_DUE and quit_ok:
                allowed = {0}  # due, and the QUIT that saw it answered +OK
            elif mid in self.maybe_deleted:
                allowed = {0, 1}
            else:
                allowed = {1}
            if c not in allowed:
                return "%s: message %s seen %d times (allowed %s), quit_sent=%s quit_ok=%s\n%s" % (
                    label, mid, c, sorted(allowed), quit_sent, quit_ok, self.logs(host))
        if counts:
            return "%s: unexpected messages %s" % (label, dict(counts))
        spool_ids = collections.Counter(ids_in(host.read_file(host.spool)))
        if spool_ids != collections.Counter(seen):
            return "%s: spool after QUIT holds %s, session saw %s" % (label, dict(spool_ids), seen)
        leftovers = [f for f in os.listdir(host.drop_dir) if ".pop" in f and not f.endswith((".journal", ".index"))]
        if leftovers:
            return "%s: drop files left after a clean QUIT: %s" % (label, leftovers)
        return None

    @staticmethod
    def logs(host):
        out = []
        for name in ("session.log", "verify.log"):
            out.append("--- %s\n%s" % (name, host.read_file(os.path.join(host.dir, name)).decode(errors="replace")[-3000:]))
        return "\n".join(out)


def main():
    require_tools("strace", "perl")
    popperd, name, fault = sys.argv[1], sys.argv[2], sys.argv[3]
    drop_fs = None
    if "--copy" in sys.argv[4:]:
        drop_fs = other_filesystem_dir()
        if drop_fs is None:
            print("skipped: no second filesystem for the drop dir")
            return 77
        fault_label = fault + "/copy"
    else:
        fault_label = fault
    scenario = Scenario(popperd, name, drop_fs)
    host = scenario.setup()
    trace = os.path.join(host.dir, "trace")
    quit_sent, quit_ok = scenario.drive(host, ["-y", "-o", trace])
    points = injection_points(trace)
    failure = scenario.verify(host, quit_sent, quit_ok, "recording run")
    host.close()
    if failure:
        print(failure)
        return 1
    if fault != "kill":
        points = [p for p in points if p[0] in ERROR_TARGETS]
    action = {"kill": "signal=SIGKILL", "enospc": "error=ENOSPC", "eio": "error=EIO"}[fault]
    failures = []
    for syscall, nth in points:
        host = scenario.setup()
        try:
            label = "%s %s at %s#%d" % (name, fault, syscall, nth)
            quit_sent, quit_ok = scenario.drive(
                host, ["-o", "/dev/null", "--inject=%s:%s:when=%d" % (syscall, action, nth)])
            problem = scenario.verify(host, quit_sent, quit_ok, label)
            if problem:
                failures.append(problem)
        finally:
            host.close()
    print("%s/%s: %d injection points covered, %d failed" % (name, fault_label, len(points), len(failures)))
    for f in failures[:5]:
        print(f)
    return 1 if failures or not points else 0


if __name__ == "__main__":
    sys.exit(main())
