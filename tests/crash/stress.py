#!/usr/bin/env python3
"""Concurrency stress of the maildrop (issue 5 §3), bounded in count and time.

An MTA-style deliverer appends messages (our own dotlock + fcntl appender,
or Debian's real procmail) while several POP clients repeatedly log in,
RETR everything, DELE some and QUIT. At the end every delivered message was
either deleted by a session whose QUIT answered +OK, or is in the spool —
exactly once, never both, never twice.

usage: stress.py POPPERD DELIVERER      DELIVERER: python | procmail
"""
import collections
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import MailHost, PopSession, login, message, ids_in, require_tools  # noqa: E402

MESSAGES = {"python": 240, "procmail": 30}
CLIENTS = 3
# Between a client's sessions; procmail retries a held lock only every second.
PAUSE_S = {"python": 0.01, "procmail": 0.15}
DEADLINE_S = 240


def procmail_deliver(host, msg_id):
    rc = os.path.join(host.dir, "procmailrc")
    if not os.path.exists(rc):
        with open(rc, "w") as f:
            # procmail waits LOCKSLEEP seconds (default 8) between attempts.
            f.write("LOCKSLEEP=1\n:0:\n%s\n" % host.spool)
    body = "Message-ID: <%s@test>\nSubject: %s\n\nbody of %s\nFrom inside the body\n" % (msg_id, msg_id, msg_id)
    subprocess.run(["procmail", "-f", "mta@example.org", "-m", rc], input=body.encode(), check=True)
    host.fix_owner(host.spool)


def main():
    popperd, deliverer = sys.argv[1], sys.argv[2]
    require_tools("perl", *(["procmail"] if deliverer == "procmail" else []))
    host = MailHost(popperd)
    host.write_spool("")
    delivered = []
    deleted_ok = collections.Counter()
    errors = []
    stop = threading.Event()
    lock = threading.Lock()
    stats = collections.Counter()
    deadline = time.time() + DEADLINE_S

    def deliver_all():
        try:
            for i in range(MESSAGES[deliverer]):
                mid = "m%d" % i
                if deliverer == "procmail":
                    procmail_deliver(host, mid)
                else:
                    host.deliver(message(mid))
                delivered.append(mid)
                time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported as a test failure
            errors.append("deliverer: %r" % e)
        finally:
            stop.set()

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
                doomed = []
                for k in range(1, count + 1):
                    _, body = session.cmd("RETR %d" % k, multiline=True)
                    ids = ids_in(body)
                    if len(ids) != 1:
                        errors.append("client %d: RETR %d gave ids %s" % (n, k, ids))
                        continue
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

    threads = [threading.Thread(target=deliver_all)]
    threads += [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    in_spool = collections.Counter(ids_in(host.read_file(host.spool)))
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
    for e in errors[:10]:
        print(e)
    if not errors:
        host.close()
    else:
        print("files kept in", host.dir)
    return 1 if errors or stats["sessions"] < 5 or len(delivered) != MESSAGES[deliverer] else 0


if __name__ == "__main__":
    sys.exit(main())
