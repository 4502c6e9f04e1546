#!/usr/bin/env python3
"""Real local mail readers on the spool during a POP session (DESIGN.md
invariant 6: the session serves only its drop file).

mutt or s-nail runs in a pseudo-terminal (tmux) as the mailbox owner, on
the same spool that a POP session has open, while an MTA-style deliverer
appends to it. Per scenario the POP side logs in, and after the reader has
written the spool back it RETRs and TOPs every message (each must be +OK
and byte-identical to the message as the spool held it at login: From_ line
removed, CRLF, dot-stuffed), checks LIST/UIDL unchanged, DELEs messages 3
and 5 and QUITs. Afterwards the spool holds every message exactly once:
the drop's kept messages first, then the mail delivered meanwhile, nothing
lost, duplicated or changed other than the headers mail readers rewrite
(Status, Content-Length, ...); what the reader deleted and wrote back stays
deleted, what the POP client deleted stays deleted even when a reader wrote
a stale copy of it back ("echo"). A clean login then serves exactly that.

Scenarios (each with the drop dir on the spool's filesystem and, when
there is one, on another):
  after-login-delete   reader opens after the login (sees only the mail
                       delivered since), deletes its message 1, writes back
  after-login-read     reader opens after the login, reads its message 1
                       (Status: RO) and writes back
  before-login-deliver-last
                       reader has the mailbox open before the login, deletes
                       its message 1 after it and writes back; the MTA
                       delivers after the reader is gone. The spool path is
                       absent meanwhile: mutt says "Mailbox was corrupted!"
                       and closes it, s-nail writes nothing.
  before-login-deliver-first
                       the same, but the MTA delivers before the reader
                       writes. mutt notices the change ("Mailbox was
                       externally modified", it shows the new mail; or it
                       had closed the mailbox already: it watches the inode
                       with inotify) and writes nothing stale. s-nail
                       (quit.c compares only the size) overwrites the
                       delivered mail with its stale view, an s-nail
                       property: that mail is lost by s-nail, the test says
                       which, and checks that the echoes of the drop's
                       messages are neither duplicated nor resurrected.

usage: readers.py POPPERD READER [SCENARIO...]      READER: mutt | snail
Environment: POPPER_TEST_TIMEOUT_SCALE multiplies every wait (default 1);
POPPERD_KEEP_TMP keeps a failed scenario's directory.
"""
import collections
import os
import re
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailhost import (Checks, MailHost, PopSession, dot_stuffed, header_value, login,  # noqa: E402
                      message, message_id_of, other_filesystem_dir, pop_form, require_tools,
                      split_mbox, without_rewritten_headers)

SCALE = float(os.environ.get("POPPER_TEST_TIMEOUT_SCALE", "1") or 1)
WAIT_S = 60 * SCALE
LIFETIME_S = 900
SCENARIOS = ("after-login-delete", "after-login-read", "before-login-deliver-last",
             "before-login-deliver-first")
POP_DELETES = (3, 5)

check = Checks("readers")


def tricky(msg_id):
    """A message whose POP form needs every rule: dot-stuffing, a lone ".",
    mboxrd unescaping, an mboxo "From " line inside the body."""
    return ("From mta@example.org Mon Nov 30 06:00:00 2026\n"
            "Message-ID: <%s@test>\nSubject: %s\n\n"
            ".leading dot\n.\n>From escaped\n>>From twice\nbody\nFrom inside the body\nend of %s\n\n"
            % (msg_id, msg_id, msg_id))


def drop_mail():
    """The spool at login: five messages, one of them already read once."""
    a4 = message("a4").replace("Subject: a4\n", "Subject: a4\nStatus: RO\nX-Status: A\n")
    return message("a1") + tricky("a2") + message("a3", body_lines=40) + a4 + message("a5")


# --- The terminal ------------------------------------------------------------

class Terminal:
    """A command in a private tmux server's pane: keys in, screen out."""

    def __init__(self, directory, name, command, width=132, height=45):
        self.sock = os.path.join(directory, "tmux-%s.sock" % name)
        self.exit_file = os.path.join(directory, "%s.exit" % name)
        # Bounded lifetimes: nothing outlives a test that was killed.
        wrapped = "timeout --foreground -s KILL %d %s; echo $? > %s; echo '[reader exited]'; exec sleep %d" % (
            LIFETIME_S, command, shlex.quote(self.exit_file), LIFETIME_S)
        self._tmux("-f", "/dev/null", "new-session", "-d", "-x", str(width), "-y", str(height), wrapped)

    def _tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock] + list(args), check=True,
                              capture_output=True, text=True).stdout

    def screen(self):
        return self._tmux("capture-pane", "-p", "-t", "0")

    def wait_until(self, done, what, timeout=None, seen=None, must=True):
        """Polls the screen until done(screen); returns that screen, or None
        after `timeout` when not `must`. `seen` collects the bottom lines
        shown meanwhile (a reader's messages)."""
        timeout = WAIT_S if timeout is None else timeout
        deadline = time.time() + timeout
        while True:
            screen = self.screen()
            if seen is not None:
                bottom = ([line for line in screen.splitlines() if line.strip()] or [""])[-1].strip()
                if not seen or seen[-1] != bottom:
                    seen.append(bottom)
            if done(screen):
                return screen
            if time.time() > deadline:
                if not must:
                    return None
                raise RuntimeError("no %s on the screen after %.0f s:\n%s" % (what, timeout, screen))
            time.sleep(0.05)

    def wait_for(self, pattern, what, seen=None):
        found = re.compile(pattern, re.M)
        return self.wait_until(lambda screen: found.search(screen), what, seen=seen)

    def keys(self, *keys):
        self._tmux("send-keys", "-t", "0", *keys)

    def text(self, text):
        self._tmux("send-keys", "-t", "0", "-l", text)

    def wait_exit(self):
        self.wait_for(r"^\[reader exited\]", "reader exit")
        with open(self.exit_file) as f:
            return int(f.read().strip() or -1)

    def close(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True)


# --- The readers -------------------------------------------------------------

class Reader:
    """A local mail reader run as the mailbox owner, on `host.spool`."""

    def __init__(self, host):
        self.host = host
        self.home = os.path.join(host.dir, "home-" + self.name)
        os.makedirs(os.path.join(self.home, "Mail"))
        for path in (self.home, os.path.join(self.home, "Mail")):
            host.fix_owner(path)
        self.term = None
        self.exit_code = None
        self.transcript = []

    def as_owner(self, command):
        if os.geteuid() == 0:
            return "setpriv --reuid=%d --regid=%d --clear-groups %s" % (self.host.uid, self.host.gid, command)
        return command

    def start(self):
        self.term = Terminal(self.host.dir, self.name, self.as_owner(self.command()))
        self.transcript.append(self.wait_ready())

    def quit(self):
        self.press_quit()
        self.exit_code = self.term.wait_exit()
        self.transcript.append(self.term.screen())

    def close(self):
        if self.term:
            self.term.close()

    def ids_shown(self):
        """The messages the reader showed (their subject is their id)."""
        return {m for screen in self.transcript for m in re.findall(r"\b([an]\d)\s*$", screen, re.M)}


class Mutt(Reader):
    name = "mutt"
    tool = "mutt"
    step = 0

    def command(self):
        settings = ("set move=no delete=yes quit=yes mbox_type=mbox sort=mailbox-order "
                    "beep=no wait_key=no folder=%s/Mail" % self.home)
        return "env HOME=%s TERM=xterm mutt -n -F /dev/null -e %s -f %s" % (
            shlex.quote(self.home), shlex.quote(settings), shlex.quote(self.host.spool))

    def wait_ready(self):
        return self.term.wait_for(r"---Mutt: ", "mutt index")

    def _press(self, key, what):
        """A key, then `:echo MARKER` until the marker shows: mutt reads
        keys one at a time, so then the key's work (a sync: the write) is
        done. An error (no mailbox open, say) makes mutt discard typeahead:
        hence the wait for the key's first effect, and the retries."""
        self.step += 1
        marker = "popperd-test-step-%d" % self.step
        shown = re.compile(r"^%s\b" % marker, re.M)
        before = self.term.screen()
        seen = []
        self.term.keys(key)
        self.term.wait_until(lambda screen: screen != before, what, 2 * SCALE, seen, must=False)
        deadline = time.time() + WAIT_S
        while True:
            self.term.keys(":")
            self.term.text("echo " + marker)
            self.term.keys("Enter")
            screen = self.term.wait_until(lambda screen: shown.search(screen), what, 3 * SCALE, seen, must=False)
            if screen is not None:
                break
            if time.time() > deadline:
                raise RuntimeError("mutt did not get to %s after %s:\n%s" % (marker, what, self.term.screen()))
        self.transcript.append(screen)
        said = [line for line in seen if "popperd-test-step-" not in line and not re.match(r"-.-Mutt: ", line)]
        if said:
            print("     mutt after %s: %s" % (what, " | ".join(said)))

    def delete_first(self):
        # The cursor starts on message 1 (all are new; mailbox order).
        self._press("d", "d (delete)")

    def write_back(self):
        self._press("$", "$ (sync)")

    def read_first(self):
        self.term.keys("Enter")
        self.transcript.append(self.term.wait_for(r"^i:Exit ", "mutt pager"))
        self.term.keys("i")
        self.transcript.append(self.term.wait_for(r"^q:Quit ", "mutt index after the pager"))

    def press_quit(self):
        self.term.keys("q")


class SNail(Reader):
    name = "snail"
    tool = "s-nail"

    def command(self):
        return "env MAIL=%s HOME=%s TERM=xterm s-nail -n -Shold -Skeep" % (
            shlex.quote(self.host.spool), shlex.quote(self.home))

    def wait_ready(self):
        return self.term.wait_for(r"\A(?s:.*)^\?\s*\Z", "s-nail prompt")

    def _command(self, text):
        self.term.text(text)
        self.term.keys("Enter")
        pattern = r"^\? %s\s*$(?s:.*)^\?\s*\Z" % re.escape(text)
        self.transcript.append(self.term.wait_for(pattern, "s-nail prompt after %r" % text))

    def delete_first(self):
        self._command("d 1")

    def write_back(self):
        pass  # s-nail writes the mailbox when it quits

    def read_first(self):
        self._command("p 1")

    def press_quit(self):
        self.term.text("q")
        self.term.keys("Enter")


READERS = {"mutt": Mutt, "snail": SNail}


# --- One scenario ------------------------------------------------------------

def spool_messages(host):
    """{message id: stored bytes} and the ids in file order."""
    messages = split_mbox(host.read_file(host.spool))
    return {message_id_of(m): m for m in messages}, [message_id_of(m) for m in messages]


def listing(session, command):
    status, body = session.cmd(command, multiline=True)
    if not status.startswith(b"+OK"):
        return status, None
    return status, [tuple(line.split(b" ", 1)) for line in body.splitlines()]


def check_served(label, session, listed):
    """RETR and TOP of every listed message: +OK and exactly the bytes the
    spool held at login. Returns the number of wrong answers."""
    wrong = 0
    for n, raw in enumerate(listed, 1):
        mid = message_id_of(raw)
        for command, expected in (("RETR %d" % n, pop_form(raw)), ("TOP %d 0" % n, pop_form(raw, 0)),
                                  ("TOP %d 2" % n, pop_form(raw, 2))):
            status, body = session.cmd_raw(command)
            ok = status.startswith(b"+OK") and body == dot_stuffed(expected)
            if not ok:
                wrong += 1
                if wrong <= 4:
                    print("     %s: %s of %s: %r\n       got      %r\n       expected %r"
                          % (label, command, mid, status, (body or b"")[:160], dot_stuffed(expected)[:160]))
    return wrong


def run_scenario(popperd, reader_class, scenario, drop_fs):
    label = "%s/%s/%s" % (reader_class.name, scenario, "other-fs" if drop_fs else "same-fs")
    print("---- %s" % label)
    host = MailHost(popperd, drop_fs=drop_fs)
    reader = reader_class(host)
    session = None
    failures_before = len(check.failures)
    try:
        host.write_spool(drop_mail())
        listed = split_mbox(host.read_file(host.spool))
        listed_ids = [message_id_of(m) for m in listed]
        delivered = collections.OrderedDict()  # id -> stored bytes as delivered

        def deliver(data):
            host.deliver(data)
            raw = split_mbox(data.encode())[0]
            delivered[message_id_of(raw)] = raw

        pre_login = scenario.startswith("before-login")
        if pre_login:
            reader.start()
            reader_saw = listed_ids
        session = PopSession(host, log_name="session.log")
        status = login(session)
        check(status.startswith(b"+OK"), "%s: login (%r)" % (label, status))
        if not status.startswith(b"+OK"):
            return
        _, login_list = listing(session, "LIST")
        _, login_uidl = listing(session, "UIDL")
        check(login_list == [(b"%d" % n, b"%d" % len(pop_form(m))) for n, m in enumerate(listed, 1)],
              "%s: LIST at login: %d messages, the octets of their CRLF form" % (label, len(listed)))
        after_login = spool_messages(host)[1]
        served_in_place = bool(set(after_login) & set(listed_ids))
        check(not after_login, "%s: during the session the spool holds none of the session's mail (%s)"
              % (label, after_login))
        # Not even an empty file: s-nail writes its stale view back over a
        # spool that is not larger than what it read, an empty one included.
        check(not os.path.exists(host.spool), "%s: right after login the spool path does not exist (%s)"
              % (label, "absent" if not os.path.exists(host.spool) else "%d octets"
                 % os.path.getsize(host.spool)))

        # The reader acts; `before`/`after` are the spool around its write.
        if scenario in ("after-login-delete", "after-login-read"):
            deliver(message("n1"))
            deliver(tricky("n2"))
            reader.start()
            before = spool_messages(host)
            reader_saw = before[1]
            if scenario == "after-login-delete":
                reader.delete_first()
                reader.write_back()
            else:
                reader.read_first()
            reader.quit()
            after = spool_messages(host)
            deliver(message("n3"))
        elif scenario == "before-login-deliver-last":
            before = spool_messages(host)
            reader.delete_first()
            reader.write_back()
            reader.quit()
            after = spool_messages(host)
            deliver(message("n1"))
            deliver(tricky("n2"))
        else:  # before-login-deliver-first
            deliver(message("n1"))
            before = spool_messages(host)
            reader.delete_first()
            reader.write_back()
            reader.quit()
            after = spool_messages(host)
            deliver(tricky("n2"))
        check(reader.exit_code == 0, "%s: %s exited with status %s" % (label, reader.name, reader.exit_code))
        removed = [m for m in before[1] if m not in after[0]]
        written = [m for m in after[1] if m in before[0] and after[0][m] != before[0][m]]
        added = [m for m in after[1] if m not in before[0]]
        echoes_written = [m for m in added if m in listed_ids]
        # Delivered mail that left the spool without the reader ever showing
        # it. (mutt watches the spool's inode with inotify: woken by the
        # session at the drop, it may re-read the spool path and show mail
        # delivered after the login before it takes the next key.)
        shown = set(reader_saw) | reader.ids_shown()
        overwritten = [m for m in removed if m in delivered and m not in shown]
        reread = [m for m in removed if m in delivered and m not in reader_saw and m in shown]
        if reread:
            print("     %s: NOTE %s re-read the spool, showed %s and deleted it" % (label, reader.name, reread))
        print("     %s: spool before the reader wrote %s, after %s: removed %s, rewrote %s, added %s"
              % (label, before[1], after[1], removed, written, added))
        if scenario == "after-login-delete":
            check(len(removed) == 1, "%s: %s deleted its message 1 and wrote that back (%s)"
                  % (label, reader.name, removed))
        if scenario == "after-login-read":
            first = before[1][0] if before[1] else None
            flags = header_value(after[0].get(first, b""), "Status") or b""
            check(b"R" in flags, "%s: %s wrote Status: %s for the message it read (%s)"
                  % (label, reader.name, flags.decode(), first))
        s_nail_overwrite = (reader_class is SNail and scenario == "before-login-deliver-first")
        if overwritten:
            print("     %s: NOTE %s overwrote delivered message(s) %s with its stale view %s%s"
                  % (label, reader.name, overwritten, after[1],
                     " (the s-nail property: quit.c compares only the size)" if s_nail_overwrite else ""))
        if not s_nail_overwrite and not served_in_place:
            check(not echoes_written, "%s: %s wrote no stale copy of the session's mail (%s)"
                  % (label, reader.name, echoes_written))

        # The POP side: everything as listed at login, whatever the reader did.
        wrong = check_served(label, session, listed)
        check(wrong == 0, "%s: RETR, TOP 0 and TOP 2 of all %d messages +OK and byte-identical to the "
              "spool at login (%d wrong)" % (label, len(listed), wrong))
        check(listing(session, "LIST")[1] == login_list and listing(session, "UIDL")[1] == login_uidl,
              "%s: LIST and UIDL unchanged since login" % label)
        dele_ok = all(session.cmd("DELE %d" % n)[0].startswith(b"+OK") for n in POP_DELETES)
        check(dele_ok, "%s: DELE %s" % (label, " ".join(map(str, POP_DELETES))))
        at_quit = spool_messages(host)
        status, _ = session.cmd("QUIT")
        check(status.startswith(b"+OK"), "%s: QUIT (%r)" % (label, status))
        quit_ok = status.startswith(b"+OK")
        session.finish()
        session = None

        # The spool after QUIT.
        pop_deleted = [listed_ids[n - 1] for n in POP_DELETES] if quit_ok else []
        final_raw = host.read_file(host.spool)
        final = split_mbox(final_raw)
        final_ids = [message_id_of(m) for m in final]
        counts = collections.Counter(final_ids)
        kept = [m for m in listed_ids if m not in pop_deleted and m not in removed]
        # A reader that wrote back a stale view (the s-nail sub-case) left out
        # what it deleted in that view; whether the session's copy of such a
        # message stays is not asserted, only reported.
        stale_deleted = [m for m in reader_saw if m in listed_ids and m not in after[0]] if echoes_written else []
        if stale_deleted:
            print("     %s: NOTE %s deleted %s in its stale view: after QUIT %s" % (
                label, reader.name, stale_deleted, "kept" if all(m in final_ids for m in stale_deleted) else "gone"))
        kept = [m for m in kept if m not in stale_deleted]
        expected_new = [m for m in delivered if m not in removed]
        echoes_at_quit = [m for m in at_quit[1] if m in listed_ids]
        print("     %s: spool at QUIT %s; after QUIT %s" % (label, at_quit[1], final_ids))
        check(all(c == 1 for c in counts.values()),
              "%s: no message twice (%s)" % (label, [m for m, c in counts.items() if c > 1]))
        check(not [m for m in pop_deleted if m in counts],
              "%s: POP-deleted %s stay deleted%s" % (label, pop_deleted,
                                                     " (echoes at QUIT: %s)" % echoes_at_quit if echoes_at_quit else ""))
        check(not [m for m in removed if m in counts],
              "%s: what the reader deleted and wrote back stays deleted (%s)" % (label, removed))
        lost = [m for m in kept + expected_new if m not in counts]
        check(not lost, "%s: nothing lost (%s)" % (label, lost))
        unknown = [m for m in counts if m not in listed_ids and m not in delivered]
        check(not unknown, "%s: nothing that nobody delivered (%s)" % (label, unknown))
        from_drop = [m for m in final_ids if m in listed_ids]
        check(final_ids[:len(from_drop)] == from_drop == [m for m in listed_ids if m in from_drop],
              "%s: the drop's kept messages first, in order, then the mail delivered meanwhile" % label)
        originals = dict(zip(listed_ids, listed))
        originals.update(delivered)
        changed = [m for m, raw in zip(final_ids, final)
                   if m in originals and without_rewritten_headers(raw) != without_rewritten_headers(originals[m])]
        check(not changed, "%s: every message as delivered but for Status/Content-Length/Lines headers (%s)"
              % (label, changed))
        if scenario == "after-login-read" and before[1]:
            first = before[1][0]
            final_flags = header_value(dict(zip(final_ids, final)).get(first, b""), "Status") or b""
            check(b"R" in final_flags, "%s: the reader's Status: %s of %s survives the QUIT"
                  % (label, final_flags.decode(), first))
        log = host.read_file(session_log(host)).decode(errors="replace")
        warnings = [line for line in log.splitlines() if "warning:" in line or "error:" in line]
        for line in warnings:
            print("     log: %s" % line)
        if echoes_at_quit and not served_in_place:
            check(any("warning:" in line for line in warnings),
                  "%s: a warning logged for the stale copies %s" % (label, echoes_at_quit))
        leftovers = [n for n in os.listdir(host.drop_dir)
                     if ".pop" in n and not n.endswith((".journal", ".index"))]
        check(not leftovers, "%s: no drop file left behind (%s)" % (label, leftovers))

        # A clean login serves exactly that, UIDLs stable, and changes nothing.
        clean = PopSession(host, log_name="clean.log")
        try:
            status = login(clean)
            check(status.startswith(b"+OK"), "%s: clean login (%r)" % (label, status))
            _, uidl = listing(clean, "UIDL")
            uidl = uidl or []
            by_id = dict(zip(listed_ids, [u for _, u in login_uidl]))
            check(len(uidl) == len(final) and len({u for _, u in uidl}) == len(uidl),
                  "%s: clean login lists the %d messages, UIDLs unique" % (label, len(final)))
            check(all(by_id[m] == u for m, (_, u) in zip(final_ids, uidl) if m in by_id),
                  "%s: kept messages keep their UIDLs" % label)
            check(check_served(label + " clean", clean, final) == 0,
                  "%s: clean login RETRs every message byte-identical to the spool" % label)
            status, _ = clean.cmd("QUIT")
            check(status.startswith(b"+OK"), "%s: clean QUIT (%r)" % (label, status))
        finally:
            clean.finish()
        check(host.read_file(host.spool) == final_raw, "%s: a session that deleted nothing left the spool "
              "byte-identical" % label)
    except (RuntimeError, EOFError, OSError, subprocess.CalledProcessError) as e:
        check(False, "%s: %s" % (label, e))
    finally:
        try:
            if session is not None:
                session.finish()
            if len(check.failures) > failures_before:
                for screen in reader.transcript[-4:]:
                    lines = [s for s in screen.rstrip().splitlines() if s.strip()]
                    print("     screen:\n" + "\n".join("       | " + s for s in lines))
                log = host.read_file(session_log(host)).decode(errors="replace")
                print("     session log:\n" + "\n".join("       " + s for s in log.splitlines()[-15:]))
        finally:
            reader.close()
            if len(check.failures) > failures_before and os.environ.get("POPPERD_KEEP_TMP"):
                print("     files kept in", host.dir)
            else:
                host.close()


def session_log(host):
    return os.path.join(host.dir, "session.log")


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in READERS:
        print(__doc__)
        return 2
    popperd, reader_class = sys.argv[1], READERS[sys.argv[2]]
    scenarios = sys.argv[3:] or SCENARIOS
    tools = ["perl", "tmux", reader_class.tool] + (["setpriv"] if os.geteuid() == 0 else [])
    require_tools(*tools)
    started = time.time()
    other = other_filesystem_dir()
    for scenario in scenarios:
        for drop_fs in (None, other) if other else (None,):
            run_scenario(popperd, reader_class, scenario, drop_fs)
    print("readers/%s: %d scenarios in %.1f s" % (reader_class.name, len(scenarios) * (2 if other else 1),
                                                   time.time() - started))
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
