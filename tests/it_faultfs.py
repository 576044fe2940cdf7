#!/usr/bin/env python3
"""faultfs, the FUSE file system the error tests mount (tests/faultfs.c),
checked rule by rule with plain file operations: a listing that fails with
EIO after its first entries, a read failing with EIO at a given offset, a size
that lies, a file that shrinks or is short for one read, a slow file, a file
swapped for a symlink after one lstat.  Also: the mirror is faithful and
read-only, O_DIRECT|O_NOATIME|O_NONBLOCK opens work, and nothing stays mounted.
Exits 77 (skipped) where FUSE is not available."""
import errno
import mmap
import os
import shutil
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

RULES = """\
# one of each kind (the spec is at the top of tests/faultfs.c)
readdir-eio dir 2
eio bad.bin 8192 4096
lie-size sys/uevent 4096
shrink shrink.bin 5000 1
regrow regrow.bin 1000 1
delay slow.bin 300
swap swap1.img %(target)s
swap swap2.img %(target)s
swap swap3.img %(target)s 0
eio name\\040with\\040blank 0 1
"""


def make_backing(top):
    b = os.path.join(top, "backing")
    os.makedirs(os.path.join(b, "dir"))
    os.makedirs(os.path.join(b, "sys"))
    os.makedirs(os.path.join(b, "ok"))
    for n in ("e", "a", "d", "b", "c"):
        with open(os.path.join(b, "dir", n), "w") as f:
            f.write(n)
        with open(os.path.join(b, "ok", n), "w") as f:
            f.write(n)
    data = {}
    for name, size in (("bad.bin", 65536), ("shrink.bin", 16384), ("regrow.bin", 16384), ("slow.bin", 4096),
                       ("plain.bin", 1 << 20), ("swap1.img", 4096), ("swap2.img", 4096), ("swap3.img", 4096),
                       ("name with blank", 4096)):
        data[name] = os.urandom(size)
        with open(os.path.join(b, name), "wb") as f:
            f.write(data[name])
    with open(os.path.join(b, "sys", "uevent"), "w") as f:
        f.write("MAJOR=8\nMINOR=0\nDEVNAME\n")  # 23 bytes, like a /sys file
    target = os.path.join(top, "target.bin")
    with open(target, "wb") as f:
        f.write(b"the swap target\n")
    return b, data, target


def pread(path, size, off, flags=0):
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        return os.pread(fd, size, off)
    finally:
        os.close(fd)


def errno_of(fn):
    try:
        fn()
    except OSError as e:
        return e.errno
    return 0


def check_mirror(c, m, data):
    c.eq("root listing", sorted(os.listdir(m)), sorted(["dir", "sys", "ok", *data]))
    c.eq("a full listing", sorted(os.listdir(os.path.join(m, "ok"))), ["a", "b", "c", "d", "e"])
    p = os.path.join(m, "plain.bin")
    with open(p, "rb") as f:
        c.true("content mirrored", f.read() == data["plain.bin"])
    c.eq("size mirrored", os.stat(p).st_size, 1 << 20)
    # The scanner's own open: O_DIRECT, O_NOATIME, O_NONBLOCK, an aligned buffer.
    fd = os.open(p, os.O_RDONLY | os.O_DIRECT | os.O_NOATIME | os.O_NONBLOCK)
    buf = mmap.mmap(-1, 1 << 16)
    try:
        n = os.preadv(fd, [buf], 1 << 16)
        c.true("O_DIRECT|O_NOATIME read", n == 1 << 16 and buf[:] == data["plain.bin"][65536:131072])
    finally:
        os.close(fd)
        buf.close()
    for flags in (os.O_WRONLY, os.O_RDWR, os.O_RDONLY | os.O_TRUNC):
        c.eq("read-only (flags %#x)" % flags, errno_of(lambda: os.close(os.open(p, flags))), errno.EROFS)


def check_readdir_eio(c, m):
    seen, err = [], 0
    try:
        with os.scandir(os.path.join(m, "dir")) as it:
            for e in it:
                seen.append(e.name)
    except OSError as e:
        err = e.errno
    c.eq("listing: the first 2 entries, in strcmp order", seen, ["a", "b"])
    c.eq("listing then fails with EIO", err, errno.EIO)
    c.eq("os.listdir raises EIO", errno_of(lambda: os.listdir(os.path.join(m, "dir"))), errno.EIO)
    c.eq("its files are still there", pread(os.path.join(m, "dir", "e"), 10, 0), b"e")


def check_eio(c, m, data):
    p = os.path.join(m, "bad.bin")
    c.true("read before the bad range", pread(p, 4096, 0) == data["bad.bin"][:4096])
    c.true("read after the bad range", pread(p, 4096, 12288) == data["bad.bin"][12288:16384])
    for off, size in ((8192, 4096), (4096, 8192), (12287, 1), (0, 65536)):
        c.eq("read [%d, +%d) fails with EIO" % (off, size), errno_of(lambda: pread(p, size, off)), errno.EIO)
    c.eq("also with O_DIRECT", errno_of(lambda: pread(p, 4096, 8192, os.O_DIRECT)), errno.EIO)
    c.eq("an escaped blank in a rule's path", errno_of(lambda: pread(os.path.join(m, "name with blank"), 1, 0)),
         errno.EIO)


def check_lie_size(c, m):
    p = os.path.join(m, "sys", "uevent")
    c.eq("stat says 4096", os.stat(p).st_size, 4096)
    with open(p, "rb") as f:
        c.eq("fstat says 4096", os.fstat(f.fileno()).st_size, 4096)
        c.eq("the content is 23 bytes", f.read(), b"MAJOR=8\nMINOR=0\nDEVNAME\n")
    c.eq("read past the real end: 0 bytes", pread(p, 100, 100), b"")


def check_shrink(c, m, data):
    p = os.path.join(m, "shrink.bin")
    fd = os.open(p, os.O_RDONLY)
    try:
        c.true("read 1 sees the whole file", os.pread(fd, 4096, 4096) == data["shrink.bin"][4096:8192])
        c.eq("read 2 ends at 5000", os.pread(fd, 4096, 4096), data["shrink.bin"][4096:5000])
        c.eq("read 3 past 5000: 0 bytes", os.pread(fd, 4096, 8192), b"")
        c.eq("fstat keeps the old size while open", os.fstat(fd).st_size, 16384)
        c.eq("stat too", os.stat(p).st_size, 16384)
    finally:
        os.close(fd)
    c.eq("after the close, stat says 5000", os.stat(p).st_size, 5000)
    with open(p, "rb") as f:
        c.eq("the content stays cut", f.read(), data["shrink.bin"][:5000])


def check_regrow(c, m, data):
    p = os.path.join(m, "regrow.bin")
    fd = os.open(p, os.O_RDONLY)
    try:
        c.true("read 1 whole", os.pread(fd, 4096, 0) == data["regrow.bin"][:4096])
        c.eq("read 2 ends at 1000", os.pread(fd, 4096, 0), data["regrow.bin"][:1000])
        c.eq("stat the whole size meanwhile", os.fstat(fd).st_size, 16384)
        c.true("read 3 whole again", os.pread(fd, 4096, 12288) == data["regrow.bin"][12288:])
    finally:
        os.close(fd)
    c.eq("stat the whole size after", os.stat(p).st_size, 16384)


def check_delay(c, m):
    t = time.monotonic()
    pread(os.path.join(m, "slow.bin"), 4096, 0)
    slow = time.monotonic() - t
    t = time.monotonic()
    pread(os.path.join(m, "plain.bin"), 4096, 0)
    fast = time.monotonic() - t
    c.true("a read of the slow file takes 300 ms", 0.3 <= slow < 3, "(%.3f s)" % slow)
    c.true("other files are not slowed", fast < 0.3, "(%.3f s)" % fast)


def check_swap(c, m, target):
    p1, p2, p3 = (os.path.join(m, n) for n in ("swap1.img", "swap2.img", "swap3.img"))
    st = os.lstat(p1)
    c.true("first lstat: a file", stat.S_ISREG(st.st_mode))
    st2 = os.lstat(p1)
    c.true("second lstat: a symlink", stat.S_ISLNK(st2.st_mode))
    c.true("with another inode number", st2.st_ino != st.st_ino)
    c.eq("to the target", os.readlink(p1), target)
    c.true("listed as a symlink", [e.is_symlink() for e in os.scandir(m) if e.name == "swap1.img"] == [True])
    # The walk's sequence: lstat, then open (which follows the new symlink).
    c.true("swap2: lstat sees a file", stat.S_ISREG(os.lstat(p2).st_mode))
    with open(p2, "rb") as f:
        c.eq("swap2: the open that follows gets the target", f.read(), b"the swap target\n")
        c.eq("swap2: fstat is the target's", os.fstat(f.fileno()).st_ino, os.stat(target).st_ino)
    c.true("swap3 (after 0 lookups): a symlink at once", stat.S_ISLNK(os.lstat(p3).st_mode))


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        backing, data, target = make_backing(top)
        with itlib.faultfs(backing, RULES % {"target": target}) as m:
            check_mirror(c, m, data)
            check_readdir_eio(c, m)
            check_eio(c, m, data)
            check_lie_size(c, m)
            check_shrink(c, m, data)
            check_regrow(c, m, data)
            check_delay(c, m)
            check_swap(c, m, target)
        c.eq("unmounted on exit", itlib.fuse_mounted(m), False)
        c.eq("mount point removed", os.path.exists(m), False)
        with open(os.path.join(backing, "swap1.img"), "rb") as f:
            c.eq("the backing tree untouched", f.read(4096) == data["swap1.img"], True)
        try:
            with itlib.faultfs(backing, "frobnicate x\n"):
                c.true("a bad rules file is refused", False)
        except RuntimeError as e:
            c.true("a bad rules file is refused, with its line", "line 1" in str(e), str(e))
    except itlib.FuseUnavailable as e:
        print("FUSE is not available here (%s): skipped" % e)
        sys.exit(77)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
