"""How long the Python tests wait, in one place.

POPPER_TEST_TIME_SCALE (a number, default 1; below 1 counts as 1)
multiplies every bound on a wait for popperd or a client, as it does for
the C++ tests (tests/support/wait_until.h), on a machine slower or busier
than the defaults allow for. The defaults are generous already: a wait
ends as soon as what it waits for happens, so a long bound costs a passing
test nothing; only a failure takes longer to report.

Work whose length grows with the data (a login that indexes 2 GiB) is
waited for by progress instead (PatientSocket): as long as the server's
processes use CPU or move data, the test waits; it fails only once they
have stalled.
"""
import os
import socket
import time


def scale():
    try:
        value = float(os.environ.get("POPPER_TEST_TIME_SCALE", "1"))
    except ValueError:
        value = 1.0
    return value if value > 1 else 1.0


def scaled(seconds):
    """`seconds` times POPPER_TEST_TIME_SCALE."""
    return seconds * scale()


def _stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    # pid (comm) state ppid ...: comm may hold blanks and parentheses.
    return stat[stat.rindex(")") + 2:].split()


def _parents():
    """{pid: parent pid} of every process."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent[int(entry)] = int(_stat_fields(int(entry))[1])
            except (OSError, ValueError, IndexError):
                pass
    return parent


def children_of(pid):
    """The processes whose parent is `pid`."""
    return [child for child, ppid in _parents().items() if ppid == pid]


def _tree(pid):
    """`pid` and its descendants."""
    parent = _parents()
    tree, grew = {pid}, True
    while grew:
        grew = False
        for child, ppid in parent.items():
            if ppid in tree and child not in tree:
                tree.add(child)
                grew = True
    return tree


def work_done(pid):
    """What `pid` and its descendants have done so far: their CPU ticks and,
    where /proc lets us read them, the octets they read and wrote. It
    changes while they are doing something."""
    work = []
    for p in sorted(_tree(pid)):
        try:
            fields = _stat_fields(p)
            work.append((p, int(fields[11]) + int(fields[12])))  # utime + stime
        except (OSError, ValueError, IndexError):
            continue
        try:
            with open("/proc/%d/io" % p) as f:
                io = dict(line.split(": ") for line in f.read().splitlines())
            work.append((p, int(io["rchar"]), int(io["wchar"])))
        except (OSError, ValueError, KeyError):
            pass
    return work


class PatientSocket:
    """A connected socket whose recv() waits as long as the server's
    processes (`pid` and its descendants) make progress, and raises
    socket.timeout only after `stall_s` (scaled) seconds in which they used
    no CPU and moved no data. Everything else is the socket's."""

    def __init__(self, sock, pid, stall_s=20):
        self._sock = sock
        self._pid = pid
        self._stall_s = scaled(stall_s)
        sock.settimeout(1.0)

    def recv(self, size):
        last_work = work_done(self._pid)
        last_progress = time.monotonic()
        while True:
            try:
                return self._sock.recv(size)
            except socket.timeout:
                work = work_done(self._pid)
                if work != last_work:
                    last_work, last_progress = work, time.monotonic()
                elif time.monotonic() - last_progress > self._stall_s:
                    raise

    def __getattr__(self, name):
        return getattr(self._sock, name)
