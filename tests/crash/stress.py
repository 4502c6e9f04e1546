#!/usr/bin/env python3
"""Concurrency stress of the maildrop, bounded in count and time.

An MTA-style deliverer appends messages (our own dotlock + fcntl appender,
or Debian's real procmail) while several POP clients repeatedly log in,
LIST, RETR everything, DELE some and QUIT, and a local mail reader keeps
rewriting the spool in place as mutt does when it syncs: under the dotlock
and an fcntl lock it reads the spool and adds a `Status: RO` header to a
message that has none (DESIGN.md invariant 6). Every RETR must be the
message as delivered (or as the reader flagged it before the login), byte
for byte in POP3 form, its size the one LIST gave at login. At the end
every delivered message was either deleted by a session whose QUIT
answered +OK, or is in the spool — exactly once, never both, never twice,
unchanged but for the reader's Status header.

usage: stress.py POPPERD DELIVERER      DELIVERER: python | procmail
"""
import collections
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import (MailHost, PopSession, dot_stuffed, ids_in, login, message,  # noqa: E402
                      pop_form, require_tools, split_mbox, without_rewritten_headers)

MESSAGES = {"python": 240, "procmail": 30}
CLIENTS = 3
# Between a client's sessions; procmail retries a held lock only every second.
PAUSE_S = {"python": 0.01, "procmail": 0.15}
DEADLINE_S = 240
# Between two passes of the local reader; procmail sleeps a second whenever
# it finds the spool locked, so the reader leaves it more room.
READER_PAUSE_S = {"python": 0.02, "procmail": 0.2}


def procmail_body(msg_id):
    return "Message-ID: <%s@test>\nSubject: %s\n\nbody of %s\nFrom inside the body\n" % (msg_id, msg_id, msg_id)


def with_status(raw):
    """A stored message with "Status: RO" added at the end of its header
    section, where mutt puts it."""
    end = raw.find(b"\n\n")
    if end < 0:
        return raw
    return raw[:end + 1] + b"Status: RO\n" + raw[end + 1:]


def reader_pass(host, rng):
    """One sync of a local mail reader: lock as mutt does, read the spool,
    add Status: RO to one message without a Status header, write the file
    back in place from that message on. Returns the message's id or None."""
    with host.spool_locked() as fd:
        if fd is None:
            return None
        size = os.fstat(fd).st_size
        data = os.pread(fd, size, 0)
        messages, offset, unflagged = split_mbox(data), 0, []
        for raw in messages:
            offset = data.index(raw, offset)
            head = raw.split(b"\n\n", 1)[0] + b"\n"
            if b"\nStatus:" not in head and b"\n\n" in raw:
                unflagged.append((offset, raw))
            offset += len(raw)
        if not unflagged:
            return None
        offset, raw = rng.choice(unflagged)
        tail = with_status(raw) + data[offset + len(raw):]
        os.pwrite(fd, tail, offset)
        os.ftruncate(fd, offset + len(tail))
        found = ids_in(raw)
        return found[0] if found else None


def procmail_deliver(host, msg_id):
    rc = os.path.join(host.dir, "procmailrc")
    if not os.path.exists(rc):
        with open(rc, "w") as f:
            # procmail waits LOCKSLEEP seconds (default 8) between attempts.
            f.write("LOCKSLEEP=1\n:0:\n%s\n" % host.spool)
    body = procmail_body(msg_id)
    # As the mailbox owner, as procmail delivers for a user: a spool that
    # procmail created as root and we chowned afterwards would, for a moment,
    # be one that the session (running as the owner) cannot open, and since
    # a login moves the spool away, it may be gone by the time we chown.
    as_owner = (["setpriv", "--reuid=%d" % host.uid, "--regid=%d" % host.gid, "--clear-groups"]
                if os.geteuid() == 0 else [])
    done = subprocess.run(as_owner + ["procmail", "-f", "mta@example.org", "-m", rc], input=body.encode(),
                          stderr=subprocess.PIPE)
    # procmail run as nobody says it cannot chdir to nobody's home: not an error.
    if done.returncode != 0:
        raise RuntimeError("procmail exited %d: %s" % (done.returncode, done.stderr.decode(errors="replace")))


def main():
    popperd, deliverer = sys.argv[1], sys.argv[2]
    tools = ["perl"]
    if deliverer == "procmail":
        tools += ["procmail"] + (["setpriv"] if os.geteuid() == 0 else [])
    require_tools(*tools)
    host = MailHost(popperd)
    host.write_spool("")
    delivered = []
    deleted_ok = collections.Counter()
    errors = []
    stop = threading.Event()
    lock = threading.Lock()
    stats = collections.Counter()
    deadline = time.time() + DEADLINE_S
    flagged = set()
    # What a RETR of each message may send: the POP3 form of the message as
    # delivered, or of the reader's flagged version of it.
    expected = {}

    def expect(mid, raw):
        expected[mid] = (pop_form(raw), pop_form(with_status(raw)))

    def deliver_all():
        try:
            for i in range(MESSAGES[deliverer]):
                mid = "m%d" % i
                if deliverer == "procmail":
                    # procmail writes its own From_ line (dropped in POP3
                    # form) and escapes the body's From line (unescaped).
                    expect(mid, ("From mta@example.org\n" + procmail_body(mid)).encode())
                    procmail_deliver(host, mid)
                else:
                    expect(mid, split_mbox(message(mid).encode())[0])
                    host.deliver(message(mid))
                delivered.append(mid)
                time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported as a test failure
            errors.append("deliverer: %r" % e)
        finally:
            stop.set()

    def local_reader():
        rng = random.Random(5)
        try:
            while not stop.is_set() and time.time() < deadline:
                mid = reader_pass(host, rng)
                with lock:
                    stats["reader passes"] += 1
                    if mid:
                        flagged.add(mid)
                time.sleep(READER_PAUSE_S[deliverer])
        except Exception as e:  # noqa: BLE001 - reported as a test failure
            errors.append("local reader: %r" % e)

    def client(n):
        rounds = 0
        while time.time() < deadline and not (stop.is_set() and rounds > 2):
            rounds += 1
            session = PopSession(host, None, "client%d.log" % n)
            try:
                status = login(session)
                if not status.startswith(b"+OK"):
                    with lock:
                        stats["in-use" if b"IN-USE" in status else "login-failed"] += 1
                    if b"IN-USE" not in status:
                        errors.append("client %d: login: %r" % (n, status))
                    time.sleep(0.02)
                    continue
                count = int(session.cmd("STAT")[0].split()[1])
                _, listed = session.cmd("LIST", multiline=True)
                sizes = dict(line.split() for line in listed.splitlines())
                doomed = []
                for k in range(1, count + 1):
                    status, body = session.cmd_raw("RETR %d" % k)
                    ids = ids_in(body or b"")
                    if len(ids) != 1:
                        errors.append("client %d: RETR %d gave %r, ids %s" % (n, k, status, ids))
                        continue
                    plain, flagged_form = expected.get(ids[0], (None, None))
                    if body not in (dot_stuffed(plain or b""), dot_stuffed(flagged_form or b"")):
                        errors.append("client %d: RETR %d (%s): not the message as delivered: %r"
                                      % (n, k, ids[0], body[:200]))
                    elif len(plain if body == dot_stuffed(plain) else flagged_form) != int(sizes[b"%d" % k]):
                        errors.append("client %d: RETR %d (%s): %d octets, LIST said %s"
                                      % (n, k, ids[0], len(body), sizes[b"%d" % k].decode()))
                    with lock:
                        stats["retrs"] += 1
                        if body != dot_stuffed(plain):
                            stats["flagged retrs"] += 1
                    if (k + rounds) % 2 == 0:
                        session.cmd("DELE %d" % k)
                        doomed.append(ids[0])
                status, _ = session.cmd("QUIT")
                with lock:
                    stats["sessions"] += 1
                    if status.startswith(b"+OK"):
                        deleted_ok.update(doomed)
                    else:
                        errors.append("client %d: QUIT: %r" % (n, status))
            except EOFError:
                errors.append("client %d: connection closed early" % n)
            finally:
                session.finish()
            time.sleep(PAUSE_S[deliverer] * (1 + n))

    threads = [threading.Thread(target=deliver_all), threading.Thread(target=local_reader)]
    threads += [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    in_spool = collections.Counter(ids_in(host.read_file(host.spool)))
    for raw in split_mbox(host.read_file(host.spool)):
        ids = ids_in(raw)
        if len(ids) == 1 and ids[0] in expected:
            if pop_form(without_rewritten_headers(raw)) != expected[ids[0]][0]:
                errors.append("message %s changed in the spool: %r" % (ids[0], raw[:200]))
    for name in os.listdir(host.drop_dir):
        if ".pop" in name and not name.endswith((".journal", ".index")):
            errors.append("drop file left behind: %s" % name)
    total = deleted_ok + in_spool
    for mid in delivered:
        if total[mid] != 1:
            errors.append("message %s: deleted %d times, in spool %d times" % (mid, deleted_ok[mid], in_spool[mid]))
    extra = set(total) - set(delivered)
    if extra:
        errors.append("messages nobody delivered: %s" % sorted(extra))
    print("stress/%s: %d delivered, %d sessions, %d deleted, %d left in spool, %d IN-USE answers"
          % (deliverer, len(delivered), stats["sessions"], sum(deleted_ok.values()),
             sum(in_spool.values()), stats["in-use"]))
    print("stress/%s: local reader: %d passes, %d messages flagged Status: RO; %d RETRs, %d of a flagged message"
          % (deliverer, stats["reader passes"], len(flagged), stats["retrs"], stats["flagged retrs"]))
    if len(flagged) < 3:
        errors.append("the local reader flagged only %d messages" % len(flagged))
    if errors:
        print("stress/%s: %d errors, the first ones:" % (deliverer, len(errors)))
    for e in errors[:10]:
        print(e)
    if not errors:
        host.close()
    else:
        print("files kept in", host.dir)
    return 1 if errors or stats["sessions"] < 5 or len(delivered) != MESSAGES[deliverer] else 0


if __name__ == "__main__":
    sys.exit(main())
