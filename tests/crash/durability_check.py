#!/usr/bin/env python3
"""Power-loss durability of the maildrop, read from an strace log of the real
binary: SIGKILL keeps the page cache, so only the order of
fsyncs can show that a power cut loses nothing.

Rules checked on every rename(A, B) of a whole session (open with a
leftover drop, DELE, delivery during the session, QUIT):
  1. A, if created or written in the session, was fsynced after its last
     write and before the rename (the new content is durable first);
  2. dirname(B) is fsynced after the rename and before the next rename or
     unlink, and before the next reply to the client (the step is durable
     before the one that relies on it: drop durable before the spool is
     emptied, new spool durable before the drop is removed).

usage: durability_check.py POPPERD
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_sweep import Scenario  # noqa: E402
from mailhost import other_filesystem_dir, require_tools  # noqa: E402

LINE_RE = re.compile(r"^(?:\d+\s+)?(\w+)\((.*)\)\s+=\s+(-?\d+)")
FD_PATH_RE = re.compile(r"^\d+<([^>]*)>")
STR_RE = re.compile(r'"([^"]*)"')


def events(trace_path):
    with open(trace_path, errors="replace") as f:
        for line in f:
            m = LINE_RE.match(line)
            if m and int(m.group(3)) >= 0:
                yield m.group(1), m.group(2)


def check(trace_path, client_fds=("0<", "1<")):
    problems = []
    dirty = {}          # path -> True when written since its last fsync
    pending_dir = None  # (dir, rename text) awaiting an fsync of dir
    renames = 0
    for name, args in events(trace_path):
        fd_path = FD_PATH_RE.match(args)
        if name == "openat" and "O_CREAT" in args:
            dirty[STR_RE.search(args).group(1)] = True
        elif name in ("write", "pwrite64") and fd_path:
            if args.startswith(client_fds) and pending_dir:
                problems.append("reply sent before fsync of %s after %s" % pending_dir)
                pending_dir = None
            dirty[fd_path.group(1)] = True
        elif name == "copy_file_range":
            out = re.search(r"\], (\d+<([^>]*)>)", args)
            if out:
                dirty[out.group(2)] = True
        elif name in ("fsync", "fdatasync") and fd_path:
            path = fd_path.group(1)
            dirty[path] = False
            if pending_dir and path == pending_dir[0]:
                pending_dir = None
        elif name in ("rename", "renameat", "renameat2", "unlink", "unlinkat"):
            paths = STR_RE.findall(args)
            if pending_dir:
                problems.append("%s before fsync of %s after %s" % (name, pending_dir[0], pending_dir[1]))
                pending_dir = None
            if name.startswith("rename"):
                src, dst = paths[0], paths[-1]
                renames += 1
                if dirty.get(src):
                    problems.append("rename %s -> %s before fsync of %s" % (src, dst, src))
                dirty[dst] = dirty.pop(src, False)
                pending_dir = (os.path.dirname(dst), "rename %s -> %s" % (src, dst))
    if pending_dir:
        problems.append("session ended before fsync of %s after %s" % pending_dir)
    return renames, problems


def main():
    require_tools("strace", "perl")
    popperd = sys.argv[1]
    total = 0
    failed = False
    other_fs = other_filesystem_dir()
    # Same filesystem: the login's rename spool -> drop and the unchanged
    # QUIT's rename back (first-login), the compacting QUITs, a leftover drop.
    runs = [(n, None) for n in ("first-login", "leftover-drop", "dele-some", "dele-all")]
    if other_fs:  # the copying paths too, with the drop dir on another filesystem
        runs += [(n, other_fs) for n in ("leftover-drop", "dele-some", "first-login")]
    for name, drop_fs in runs:
        scenario = Scenario(popperd, name, drop_fs)
        host = scenario.setup()
        try:
            trace = os.path.join(host.dir, "trace")
            scenario.drive(host, ["-y", "-o", trace])
            renames, problems = check(trace)
            total += renames
            for p in problems:
                print("%s: %s" % (name, p))
                failed = True
            if renames == 0:
                print("%s: no rename seen: the check cannot have checked anything" % name)
                failed = True
        finally:
            host.close()
    print("durability: %d renames checked, %s" % (total, "FAILED" if failed else "all ordered"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
