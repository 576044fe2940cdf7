#!/usr/bin/env python3
"""What -o and --sector-hashes may write (report/outfile.h): a regular file or
a new path is replaced atomically (mode kept, umask honoured); a symlink's
target is written and the link stays; a dangling link is refused; devices,
FIFOs and /dev/fd paths are written directly and stay what they were; a
block device is refused with exit status 64.  Every node is built in the
test's own temporary directory: nothing outside it is ever named."""
import json
import os
import stat
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402


def run(args, umask=None, **kw):
    def pre():
        if umask is not None:
            os.umask(umask)
    return subprocess.run([itlib.IMGSCAN, "scan", "-q", *args], stdout=kw.pop("stdout", subprocess.PIPE),
                          stderr=subprocess.PIPE, preexec_fn=pre, timeout=120, **kw)


def is_report(data):
    try:
        return json.loads(data)["tool"]["name"] == "imgscan"
    except (ValueError, KeyError, TypeError):
        return False


def leftovers(*dirs):
    return [n for d in dirs for n in os.listdir(d) if ".tmp." in n or n.startswith(".imgscan-sectors.")]


def check_regular(c, top, arch):
    out = os.path.join(top, "new.json")
    p = run(["-o", out, arch], umask=0o027)
    c.eq("new report: exit 0", p.returncode, 0)
    c.eq("new report: 0666 less umask 027", stat.S_IMODE(os.stat(out).st_mode), 0o640)
    old = os.path.join(top, "old.json")
    with open(old, "w") as f:
        f.write("old")
    os.chmod(old, 0o640)
    ino = os.stat(old).st_ino
    p = run(["-o", old, arch], umask=0o022)
    st = os.stat(old)
    c.eq("replaced report keeps mode 0640", stat.S_IMODE(st.st_mode), 0o640)
    c.true("replaced report is a new inode with the report", st.st_ino != ino and is_report(open(old).read()))


def check_symlinks(c, top, arch):
    reports = os.path.join(top, "reports")
    os.makedirs(reports)
    target = os.path.join(reports, "2026.json")
    with open(target, "w") as f:
        f.write("old")
    link = os.path.join(top, "latest.json")
    os.symlink("reports/2026.json", link)
    p = run(["-o", link, arch])
    c.eq("symlink: exit 0", p.returncode, 0)
    c.true("symlink: still a link to the same target", os.path.islink(link) and os.readlink(link) == "reports/2026.json")
    c.true("symlink: the target holds the report", is_report(open(target).read()))
    dangling = os.path.join(top, "dangling.json")
    os.symlink("nowhere/none.json", dangling)
    p = run(["-o", dangling, arch])
    c.eq("dangling symlink: exit 64", p.returncode, 64)
    c.true("dangling symlink: clear message", b"symlink to nothing" in p.stderr, p.stderr)
    c.true("dangling symlink: link kept, nothing created",
           os.path.islink(dangling) and not os.path.exists(os.path.join(top, "nowhere")))
    c.eq("no temporary files left", leftovers(top, reports), [])


def check_fifo(c, top, arch):
    fifo = os.path.join(top, "report.fifo")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    p = run(["-o", fifo, arch])
    reader.join(60)
    c.eq("fifo: exit 0", p.returncode, 0)
    c.true("fifo: the reader got the report", got and is_report(got[0]))
    c.true("fifo: still a FIFO", stat.S_ISFIFO(os.lstat(fifo).st_mode))


def check_char_device(c, top, arch):
    node = os.path.join(top, "null")
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    p = run(["-o", node, arch])
    st = os.lstat(node)
    c.eq("char device: exit 0", p.returncode, 0)
    c.true("char device: still char 1,3", stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3))
    c.eq("char device: no temporary files", leftovers(top), [])


def check_block_devices(c, top, arch):
    node = os.path.join(top, "blk")
    os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(7, 200))
    p = run(["-o", node, arch])
    c.eq("block device node: exit 64", p.returncode, 64)
    c.true("block device node: clear message", b"block device" in p.stderr, p.stderr)
    c.true("block device node: still a block device", stat.S_ISBLK(os.lstat(node).st_mode))
    link = os.path.join(top, "blk-link")
    os.symlink(node, link)
    p = run(["-o", link, arch])
    c.eq("symlink to a block device: exit 64", p.returncode, 64)
    backing = os.path.join(top, "loop-backing.img")
    itlib.sized(backing, 1 << 20)
    lo = itlib.sh("losetup", "-f", "--show", backing, check=False)
    if lo.returncode:
        print("loop devices not available here: the real-device case is skipped")
        return
    dev = lo.stdout.decode().strip()
    try:
        before = itlib.xxhsum(backing)
        p = run(["-o", dev, arch])
        c.eq("loop device: exit 64", p.returncode, 64)
        c.eq("loop device: contents unchanged", itlib.xxhsum(backing), before)
    finally:
        itlib.sh("losetup", "-d", dev, check=False)


def private_dev(top):
    """A /dev of the test's own: /dev/stdout and /dev/fd are named by the
    cases below, and a broken build would replace them; inside a private
    mount namespace with this directory bound over /dev, only the copies
    here can be hit.  None where namespaces are not allowed."""
    dev = os.path.join(top, "dev")
    os.makedirs(dev)
    os.symlink("/proc/self/fd/1", os.path.join(dev, "stdout"))
    os.symlink("/proc/self/fd", os.path.join(dev, "fd"))
    os.mknod(os.path.join(dev, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            'mount --bind "$0" /dev && test -L /dev/stdout && test -L /dev/fd', dev],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return dev if probe.returncode == 0 else None


def in_dev(dev, args):
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /dev && exec "$@"', dev, itlib.IMGSCAN, "scan", "-q", *args]


def check_fd_paths(c, top, arch):
    dev = private_dev(top)
    if not dev:
        print("no private mount namespace here: the /dev/stdout and /dev/fd cases are skipped")
        return
    p = subprocess.run(in_dev(dev, ["-o", "/dev/stdout", arch]), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    c.true("/dev/stdout through a pipe: the report", p.returncode == 0 and is_report(p.stdout), p.stderr)
    r, w = os.pipe()
    got = []
    reader = threading.Thread(target=lambda: got.append(os.fdopen(r, "rb").read()))
    reader.start()
    p = subprocess.run(in_dev(dev, ["-o", "/dev/fd/%d" % w, arch]), pass_fds=(w,),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    os.close(w)
    reader.join(60)
    c.true("/dev/fd/N (a pipe): the report", p.returncode == 0 and got and is_report(got[0]), p.stderr)
    c.true("the private /dev is as it was", os.path.islink(os.path.join(dev, "stdout"))
           and os.path.islink(os.path.join(dev, "fd")) and sorted(os.listdir(dev)) == ["fd", "null", "stdout"])


def check_sector_lists(c, top, arch, image):
    lists = os.path.join(top, "lists")
    other = os.path.join(top, "elsewhere")
    os.makedirs(lists)
    os.makedirs(other)
    name = itlib.xxhsum(image) + ".xxh3s"
    os.symlink(os.path.join(other, "list.bin"), os.path.join(lists, name))
    with open(os.path.join(other, "list.bin"), "wb") as f:
        f.write(b"old")
    p = run(["-o", os.path.join(top, "s.json"), "--sector-hashes", lists, arch])
    c.eq("sector list through a symlink: exit 0", p.returncode, 0)
    c.true("sector list: link kept", os.path.islink(os.path.join(lists, name)))
    c.eq("sector list: written to the target", open(os.path.join(other, "list.bin"), "rb").read(8), b"IMGSXH3\0")
    os.unlink(os.path.join(lists, name))
    os.mknod(os.path.join(lists, name), 0o600 | stat.S_IFBLK, os.makedev(7, 201))
    p = run(["-o", os.path.join(top, "s2.json"), "--sector-hashes", lists, arch])
    rep = json.load(open(os.path.join(top, "s2.json")))
    c.eq("sector list over a block device: an error, exit 2", p.returncode, 2)
    c.true("sector list over a block device: said so", "block device" in json.dumps(rep["images"][0]["errors"]))
    c.true("sector list over a block device: node kept", stat.S_ISBLK(os.lstat(os.path.join(lists, name)).st_mode))
    c.eq("sector lists: no temporary files", leftovers(lists, other), [])
    p = run(["-o", os.path.join(top, "s3.json"), "--sector-hashes", os.path.join(top, "s.json"), arch])
    c.true("--sector-hashes on a file: says not a directory",
           p.returncode == 64 and b"not a directory" in p.stderr, p.stderr)


def swapper(a, b, stop):
    """Exchange two names atomically, as fast as possible, until stop is set
    (renameat2 RENAME_EXCHANGE through libc)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, exchange = -100, 2
    ba, bb = a.encode(), b.encode()
    while not stop.is_set():
        libc.renameat2(at_fdcwd, ba, at_fdcwd, bb, exchange)


def race(c, top, arch, what, setup, check, runs=150):
    """Run imgscan -o OUT runs times while OUT and OTHER are swapped under
    it; check(out, other) after each run must hold."""
    d = os.path.join(top, "race-" + what)
    os.makedirs(d)
    out, other = os.path.join(d, "out"), os.path.join(d, "other")
    setup(d, out, other)
    stop = threading.Event()
    t = threading.Thread(target=swapper, args=(out, other, stop))
    t.start()
    bad = 0
    try:
        for _ in range(runs):
            run(["--no-tsk", "-o", out, arch])
            stop.set()
            t.join()
            bad += not check(d, out, other)
            stop.clear()
            t = threading.Thread(target=swapper, args=(out, other, stop))
            t.start()
    finally:
        stop.set()
        t.join()
    c.eq("race %s: never violated in %d runs" % (what, runs), bad, 0)


def check_races(c, top, arch):
    victim = os.path.join(top, "victim.txt")

    def node_and_link(d, out, other):
        os.mknod(out, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.symlink(victim, other)
        with open(victim, "w") as f:
            f.write("V" * 100000)

    def victim_whole(d, out, other):
        """Untouched, or replaced whole by the symlink rule (out was the link
        when it was looked at); never a report written over its start."""
        data = open(victim).read()
        return data == "V" * 100000 or is_report(data)
    race(c, top, arch, "device node vs symlink to a file", node_and_link, victim_whole)

    def file_and_node(d, out, other):
        with open(out, "w") as f:
            f.write("old")
        os.mknod(other, 0o666 | stat.S_IFCHR, os.makedev(1, 3))

    def node_kept(d, out, other):
        return any(stat.S_ISCHR(os.lstat(p).st_mode) for p in (out, other))
    race(c, top, arch, "regular file vs device node", file_and_node, node_kept)


def check_refusals(c, top, arch, image):
    import socket
    sock = os.path.join(top, "report.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(sock)
    srv.listen(1)
    p = run(["-o", sock, arch])
    c.eq("socket: refused, exit 64", p.returncode, 64)
    c.true("socket: said so", b"socket" in p.stderr, p.stderr)
    srv.close()
    p = run(["-o", "/dev/fd/9", arch])
    c.eq("/dev/fd/N not passed in: exit 64 at once", p.returncode, 64)
    setid = os.path.join(top, "setid.json")
    with open(setid, "w") as f:
        f.write("old")
    os.chmod(setid, 0o4755)
    run(["-o", setid, arch])
    c.eq("replaced file: set-id bits never copied", stat.S_IMODE(os.stat(setid).st_mode), 0o755)
    lists = os.path.join(top, "fifo-lists")
    os.makedirs(lists)
    os.mkfifo(os.path.join(lists, itlib.xxhsum(image) + ".xxh3s"))
    try:
        p = run(["-o", os.path.join(top, "f.json"), "--sector-hashes", lists, arch])
        c.eq("FIFO at a sector-list name: an error, exit 2 (no hang)", p.returncode, 2)
    except subprocess.TimeoutExpired:
        c.true("FIFO at a sector-list name: no hang", False)
    c.eq("FIFO at a sector-list name: no temporaries", leftovers(lists), [])


def check_strftime(c, top, arch):
    """-o with strftime fields (nightly reports): expanded in local time, and
    the expanded name is in the report; %% is a literal percent sign."""
    import time
    before = time.strftime("%Y-%m-%d")
    p = run(["-o", os.path.join(top, "night-%Y-%m-%d-100%%.json"), arch])
    after = time.strftime("%Y-%m-%d")
    made = [n for n in os.listdir(top) if n.startswith("night-")]
    c.true("strftime -o: today's name", made in (["night-%s-100%%.json" % before], ["night-%s-100%%.json" % after]),
           made)
    if made:
        rep = json.load(open(os.path.join(top, made[0])))
        c.eq("strftime -o: the expanded name is in the report", rep["run"]["output"], os.path.join(top, made[0]))
    p = run(["-o", "%p%p%p" * 1500, arch])
    c.eq("strftime -o: a name too long is a usage error", p.returncode, 64)


def check_naming(c, top, arch):
    """Temporaries are unnamed (O_TMPFILE) only where they can be named at
    the end: without /proc (a chroot, a minimal container) the report and
    the lists are still written; a name too long fails before the scan."""
    out, lists = os.path.join(top, "noproc.json"), os.path.join(top, "noproc-lists")
    os.makedirs(lists)
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        'mount -t tmpfs none /proc && exec "$@"', "sh", itlib.IMGSCAN, "scan", "-q", "--no-tsk",
                        "--sector-hashes", lists, "-o", out, arch], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    if p.returncode != 0 and b"mount" in p.stderr:
        print("no private mount namespace here: the no-/proc case is skipped")
    else:
        c.eq("no /proc: the scan succeeds", p.returncode, 0)
        c.true("no /proc: the report is written", os.path.exists(out) and is_report(open(out).read()))
        c.eq("no /proc: the sector list is written", len([n for n in os.listdir(lists) if n.endswith(".xxh3s")]), 1)
    p = run(["-o", os.path.join(top, "a" * 250), arch])
    c.true("a name too long: refused before the scan", p.returncode == 2 and b"too long" in p.stderr, p.stderr)
    c.eq("a name too long: nothing left", leftovers(top), [])


def main():
    top, arch = itlib.workspace("archive")
    c = itlib.Checker()
    image = os.path.join(arch, "disk.img")
    itlib.make_fat(image, 12, "OUT", 1 << 20)
    p = run(["-o", top, arch])
    c.eq("-o a directory: exit 64", p.returncode, 64)
    check_regular(c, top, arch)
    check_symlinks(c, top, arch)
    check_fifo(c, top, arch)
    check_char_device(c, top, arch)
    check_block_devices(c, top, arch)
    check_fd_paths(c, top, arch)
    check_sector_lists(c, top, arch, image)
    check_refusals(c, top, arch, image)
    check_strftime(c, top, arch)
    check_naming(c, top, arch)
    check_races(c, top, arch)
    c.eq("nothing written into the scanned tree", sorted(os.listdir(arch)), ["disk.img"])
    itlib.sh("rm", "-rf", top)
    c.done()


if __name__ == "__main__":
    main()
