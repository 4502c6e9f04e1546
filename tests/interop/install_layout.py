#!/usr/bin/env python3
"""What `cmake --install` and `cpack -G DEB` put where.

Nothing is compiled and the shared build tree is not touched: the source
tree is configured afresh in a private temp dir (default prefix, no tests,
CMAKE_SKIP_INSTALL_ALL_DEPENDENCY so that installing builds nothing), and
the popperd the other tests ran (and any other program the rules install,
from the same build) is put where that tree's install rules take it from. Then, in the temp dir:

prefix  `cmake --install TREE --prefix P`: P/sbin/popperd,
        P/share/man/man{5,8}, P/etc/popperd/popperd.conf, P/etc/fail2ban/...,
        P/lib/systemd/system (units run P/sbin/popperd), P/lib/tmpfiles.d,
        P/share/doc/popperd/examples; nothing outside P; the installed
        popperd runs and accepts the installed sample configuration.
destdir `DESTDIR=D cmake --install TREE --prefix /usr`: the Debian layout
        under D: /usr/sbin, /etc/popperd, /etc/fail2ban,
        /usr/lib/systemd/system, /usr/lib/tmpfiles.d.
deb     `cpack -G DEB` in TREE: `dpkg-deb -c` lists that layout (prefix /usr
        although TREE was configured for /usr/local), `dpkg-deb -e` gives
        conffiles naming exactly the /etc files, control says popperd,
        libc6, libcrypt1, postinst is sh; `dpkg-deb -x` gives the files.

usage: install_layout.py POPPERD prefix|destdir|deb
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402

SRC = interop.SOURCE_DIR
# installed path (ETC = the configuration root) -> source file
FILES = {
    "sbin/popperd": None,
    "share/man/man8/popperd.8": "man/popperd.8",
    "share/man/man5/popperd.conf.5": "man/popperd.conf.5",
    "ETC/popperd/popperd.conf": "conf/popperd.conf",
    "ETC/fail2ban/filter.d/popperd.conf": "conf/fail2ban/filter.d/popperd.conf",
    "ETC/fail2ban/jail.d/popperd.conf": "conf/fail2ban/jail.d/popperd.conf",
    "lib/systemd/system/popperd.service": "conf/systemd/popperd.service",
    "lib/systemd/system/popperd.socket": "conf/systemd/popperd.socket",
    "lib/systemd/system/popperd@.service": "conf/systemd/popperd@.service",
    "lib/tmpfiles.d/popperd.conf": "conf/tmpfiles.d/popperd.conf",
    "share/doc/popperd/examples/inetd.conf": "conf/inetd.conf",
    "share/doc/popperd/examples/xinetd.d/pop3": "conf/xinetd.d/pop3",
    "share/doc/popperd/examples/front-door/stunnel.conf": "conf/front-door/stunnel.conf",
    "share/doc/popperd/examples/front-door/haproxy.cfg": "conf/front-door/haproxy.cfg",
    "share/doc/popperd/examples/front-door/nginx.conf": "conf/front-door/nginx.conf",
}
CONFFILES = ["/etc/popperd/popperd.conf", "/etc/fail2ban/filter.d/popperd.conf",
             "/etc/fail2ban/jail.d/popperd.conf"]
# Other programs and pages may be added; nothing else may appear.
EXTRA_OK = re.compile(r"^(usr/)?(s?bin/[^/]+|share/man/man\d/[^/]+\.\d)$")


def expected(prefix_dir, etc_dir):
    return {os.path.normpath(p.replace("ETC", etc_dir, 1) if p.startswith("ETC")
                             else os.path.join(prefix_dir, p)): src for p, src in FILES.items()}


def files_under(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def check_tree(what, root, prefix_rel, etc_rel, sbin_path):
    """root holds exactly the expected files, with the sources' contents."""
    want = expected(prefix_rel, etc_rel)
    got = files_under(root)
    missing = sorted(set(want) - got)
    extra = sorted(p for p in got - set(want) if not EXTRA_OK.match(p))
    if missing or extra:
        interop.fail("%s: missing %s, unexpected %s" % (what, missing, extra))
    for path, src in want.items():
        with open(os.path.join(root, path), "rb") as f:
            data = f.read()
        if src is None:
            continue
        with open(os.path.join(SRC, src), "rb") as f:
            source = f.read()
        if "/systemd/" in path:  # ExecStart* point at the installed binary
            source = source.replace(b"/usr/sbin/popperd", sbin_path.encode())
        if data != source:
            interop.fail("%s: %s differs from %s" % (what, path, src))
    mode = os.stat(os.path.join(root, prefix_rel, "sbin/popperd")).st_mode
    if not mode & 0o111:
        interop.fail("%s: sbin/popperd is not executable" % what)
    interop.note("ok: %s: %d files where expected, contents as in the source tree%s" %
                 (what, len(want), "; units run " + sbin_path))


def run_installed(what, popperd, conf):
    version = interop.run([popperd, "-V"])
    check = interop.run([popperd, "-t", "-c", conf])
    if version.returncode != 0 or not version.stdout.startswith(b"popperd ") \
            or check.returncode != 0:
        interop.fail("%s: installed popperd -V: %r; -t -c %s: %r" %
                     (what, version.stdout, conf, check.stdout + check.stderr))
    interop.note("ok: %s: %s says %r and accepts the installed sample config" %
                 (what, popperd, version.stdout.decode().strip()))


def refuse_absolute_destinations(build):
    """A rule with an absolute path would write to this machine's /etc."""
    for d, _, names in os.walk(build):
        if "cmake_install.cmake" in names:
            with open(os.path.join(d, "cmake_install.cmake")) as f:
                found = re.findall(r'file\(INSTALL DESTINATION "(/[^"]*)"', f.read())
            if found:
                interop.fail("absolute install destinations %s in %s/cmake_install.cmake: "
                             "refusing to install" % (found, d))


def install(build, args, env=None):
    out = interop.run(["cmake", "--install", build] + args, env=env)
    if out.returncode != 0:
        interop.fail("cmake --install %s: %s" % (" ".join(args), (out.stdout + out.stderr).decode()))


def mode_prefix(build, scratch):
    prefix = os.path.join(scratch, "prefix")
    install(build, ["--prefix", prefix])
    with open(os.path.join(build, "install_manifest.txt")) as f:
        manifest = f.read().split()
    outside = [p for p in manifest if not p.startswith(prefix + "/")]
    if outside:
        interop.fail("cmake --install --prefix %s installed outside it: %s" % (prefix, outside))
    check_tree("--prefix P", prefix, ".", "etc", os.path.join(prefix, "sbin/popperd"))
    run_installed("--prefix P", os.path.join(prefix, "sbin/popperd"),
                  os.path.join(prefix, "etc/popperd/popperd.conf"))


def mode_destdir(build, scratch):
    root = os.path.join(scratch, "destdir")
    env = dict(os.environ, DESTDIR=root)
    install(build, ["--prefix", "/usr"], env)
    check_tree("DESTDIR=D --prefix /usr", root, "usr", "etc", "/usr/sbin/popperd")
    run_installed("DESTDIR=D --prefix /usr", os.path.join(root, "usr/sbin/popperd"),
                  os.path.join(root, "etc/popperd/popperd.conf"))


def mode_deb(build, scratch):
    interop.require_tools("cpack", "dpkg-deb")
    out_dir = os.path.join(scratch, "package")
    out = interop.run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"),
                       "-B", out_dir], timeout=interop.scaled(300))
    debs = [n for n in os.listdir(out_dir) if n.endswith(".deb")] if os.path.isdir(out_dir) else []
    if out.returncode != 0 or len(debs) != 1:
        interop.fail("cpack -G DEB: %s" % (out.stdout + out.stderr).decode())
    deb = os.path.join(out_dir, debs[0])
    if not re.match(r"popperd_\d+\.\d+\.\d+(-\w+)?_\w+\.deb$", debs[0]):
        interop.fail("package file name %s" % debs[0])

    listing = interop.run(["dpkg-deb", "-c", deb]).stdout.decode()
    listed = {l.split()[-1][2:] for l in listing.splitlines() if not l.startswith("d")}
    want = expected("usr", "etc")
    extra = sorted(p for p in listed - set(want) if not EXTRA_OK.match(p))
    if set(want) - listed or extra:
        interop.fail("dpkg-deb -c: missing %s, unexpected %s\n%s" %
                     (sorted(set(want) - listed), extra, listing))
    interop.note("ok: dpkg-deb -c %s: the Debian layout (/usr/sbin, /etc/popperd, /etc/fail2ban, "
                 "/usr/lib/systemd/system, /usr/lib/tmpfiles.d)" % debs[0])

    control = os.path.join(scratch, "control")
    if interop.run(["dpkg-deb", "-e", deb, control]).returncode != 0:
        interop.fail("dpkg-deb -e failed")
    with open(os.path.join(control, "conffiles")) as f:
        conffiles = f.read().split()
    if sorted(conffiles) != sorted(CONFFILES):
        interop.fail("conffiles %r, expected %r" % (conffiles, CONFFILES))
    fields = {}
    for field in ("Package", "Depends", "Version", "Architecture", "Section"):
        fields[field] = interop.run(["dpkg-deb", "-f", deb, field]).stdout.decode().strip()
    arch = interop.run(["dpkg", "--print-architecture"]).stdout.decode().strip()
    if fields["Package"] != "popperd" or fields["Depends"] != "libc6, libcrypt1" \
            or fields["Architecture"] != arch or fields["Section"] != "mail":
        interop.fail("control fields %r" % fields)
    postinst = os.path.join(control, "postinst")
    if not os.access(postinst, os.X_OK) or interop.run(["sh", "-n", postinst]).returncode != 0:
        interop.fail("postinst is not an executable sh script")
    interop.note("ok: dpkg-deb -e: conffiles %s; %s" %
                 (" ".join(conffiles), ", ".join("%s: %s" % kv for kv in fields.items())))

    root = os.path.join(scratch, "unpacked")
    if interop.run(["dpkg-deb", "-x", deb, root]).returncode != 0:
        interop.fail("dpkg-deb -x failed")
    check_tree("the .deb's files", root, "usr", "etc", "/usr/sbin/popperd")
    run_installed("the .deb", os.path.join(root, "usr/sbin/popperd"),
                  os.path.join(root, "etc/popperd/popperd.conf"))


def private_tree(popperd, scratch):
    """The source tree configured in scratch/tree, with `popperd` in place."""
    tree = os.path.join(scratch, "tree")
    out = interop.run(["cmake", "-S", SRC, "-B", tree, "-DPOPPER_BUILD_TESTS=OFF",
                       "-DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON"], timeout=interop.scaled(300))
    if out.returncode != 0:
        interop.fail("cmake configure: %s" % (out.stdout + out.stderr).decode())
    with open(os.path.join(tree, "cmake_install.cmake")) as f:
        programs = re.findall(r'TYPE EXECUTABLE FILES "([^"]*)"', f.read())
    if not any(os.path.basename(p) == "popperd" for p in programs):
        interop.fail("no install rule for the popperd executable in %s" % tree)
    for program in programs:  # popperd and any other installed program, as built
        built = os.path.join(os.path.dirname(popperd), os.path.basename(program))
        if not os.path.exists(built):
            interop.fail("%s is installed but not built beside %s" % (built, popperd))
        shutil.copy2(built, program)
    return tree


def main():
    popperd, mode = os.path.abspath(sys.argv[1]), sys.argv[2]
    interop.require_tools("cmake")
    scratch = interop.tempdir("popperd-install-")
    tree = private_tree(popperd, scratch)
    refuse_absolute_destinations(tree)
    {"prefix": mode_prefix, "destdir": mode_destdir, "deb": mode_deb}[mode](tree, scratch)


if __name__ == "__main__":
    interop.main_guard(main)
