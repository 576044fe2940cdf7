#!/usr/bin/env python3
"""When the report's disk is full or read-only (small tmpfs file systems
mounted in the test's own directory): the error names the file and says
why, a previous report at that path is byte for byte what it was, nothing
is left beside it, and the exit status is 2, never 0 or 1, in every
--format.  A report bigger than the disk is written as images finish (the
temporary file grows during the scan) and fails part way.  The same for
--sector-hashes DIR filling up: the image whose list did not fit gets a
sector-hashes error and no list_file, the other images get theirs, the
run goes on.  And -o - to /dev/full or to a pipe closed early: exit 2 and
a message, no hang, no death by SIGPIPE.

Each tmpfs case runs with unnamed temporary files (O_TMPFILE: tmpfs has
them) and, where a mount namespace is allowed, again with /proc hidden,
where imgscan names its temporary files from the start (as on NFS or
FUSE): a leftover would show there.  Skipped (77) where tmpfs cannot be
mounted."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

FORMATS = ("json", "jsonl", "case")
NO_PROC = 'mount -t tmpfs -o size=4k none /proc && exec "$@"'


class Unavailable(Exception):
    """tmpfs cannot be mounted here: the test is skipped (77)."""


def umount(path):
    if subprocess.run(["umount", path], stderr=subprocess.DEVNULL).returncode:
        subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def tmpfs(path, size, inodes=64):
    """A tmpfs of size bytes at path (made here), unmounted on leaving."""
    os.makedirs(path)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,nr_inodes=%d,mode=0755" % (size, inodes), "tmpfs",
                        path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode:
        raise Unavailable("cannot mount a tmpfs: %s" % p.stdout.decode(errors="replace").strip())
    try:
        yield path
    finally:
        umount(path)


def read_only(path):
    itlib.sh("mount", "-o", "remount,ro", path)


def named_temps_possible():
    """Whether imgscan can be run with /proc hidden (a private mount
    namespace): it then names its temporary files at once."""
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", NO_PROC, "sh", "test", "!",
                        "-e", "/proc/self/fd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode == 0


def command(args, named):
    cmd = [itlib.IMGSCAN, "scan", *[str(a) for a in args]]
    if named:
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", NO_PROC, "sh", *cmd]
    return cmd


def run(args, named=False, stdout=subprocess.PIPE):
    return subprocess.run(command(args, named), stdout=stdout, stderr=subprocess.PIPE, timeout=120)


def used(path):
    s = os.statvfs(path)
    return (s.f_blocks - s.f_bfree) * s.f_frsize


def snapshot(d):
    """What is in d: every name with its bytes, and the space in use."""
    files = {}
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n), "rb") as f:
            files[n] = f.read()
    return files, used(d)


def check_untouched(c, what, d, before):
    files, space = snapshot(d)
    c.eq(what + ": the same names (no temporary file left)", sorted(files), sorted(before[0]))
    c.true(what + ": the previous report byte-identical", files == before[0])
    c.eq(what + ": the space in use as before", space, before[1])


def says(c, what, stderr, *parts):
    text = stderr.decode(errors="replace")
    c.true(what + ": stderr says " + " ... ".join(parts), all(p in text for p in parts), text)


def images_done(stderr):
    m = re.search(r"imgscan: (\d+) images?, ", stderr.decode(errors="replace"))
    return int(m.group(1)) if m else None


def fill(d):
    """Fill the file system of d to the last block."""
    fd = os.open(os.path.join(d, "filler"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def run_watching(args, d, named):
    """Run imgscan while watching the space in use on d.  Returns the exit
    status, stderr, and how long before imgscan ended d first held 128 KiB
    more (None if never): a report written as images finish holds that long
    before the last image (2 GiB of holes) is done; one written only at the
    end would show it in the last moment."""
    base = used(d)
    p = subprocess.Popen(command(args, named), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = []
    reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
    reader.start()
    grew_at, deadline = None, time.monotonic() + 120
    while p.poll() is None:
        if grew_at is None and used(d) - base >= 128 << 10:
            grew_at = time.monotonic()
        if time.monotonic() > deadline:
            p.kill()  # a hang: its status says so (-9)
        time.sleep(0.002)
    ended = time.monotonic()
    reader.join()
    return p.returncode, err[0], None if grew_at is None else ended - grew_at


def check_fills_mid_write(c, top, many, prev, fmt, named):
    """A report larger than the disk: it streams into the temporary file,
    the disk fills part way, the scan still ends."""
    what = "fills part way, %s%s" % (fmt, ", named temps" if named else "")
    with tmpfs(os.path.join(top, "mid-%s-%d" % (fmt, named)), 256 << 10) as d:
        out = os.path.join(d, "report." + fmt)
        shutil.copy(prev[fmt], out)
        before = snapshot(d)
        rc, err, early = run_watching(["--format", fmt, "-o", out, many["dir"]], d, named)
        c.eq(what + ": exit 2", rc, 2)
        says(c, what, err, "cannot write the report to " + out, "No space left on device")
        check_untouched(c, what, d, before)
        c.true(what + ": the temporary report grew while the scan ran", early is not None and early > 0.05,
               "(first 128 KiB seen %s s before the end)" % early)
        c.eq(what + ": every image was still scanned", images_done(err), many["images"])


def check_full_from_start(c, top, arch, prev):
    """A disk already full: the first write fails; the scan goes through,
    and the catalog (--state, elsewhere) keeps what it read."""
    what = "already full"
    state = os.path.join(top, "catalog.db")
    with tmpfs(os.path.join(top, "full"), 64 << 10) as d:
        out = os.path.join(d, "report.json")
        shutil.copy(prev["json"], out)
        fill(d)
        before = snapshot(d)
        p = run(["--state", state, "-o", out, arch])
        c.eq(what + ": exit 2", p.returncode, 2)
        says(c, what, p.stderr, "cannot write the report to " + out, "No space left on device")
        check_untouched(c, what, d, before)
    again = os.path.join(top, "again.json")
    p = run(["-q", "--state", state, "-o", again, arch])
    rep = json.load(open(again))
    c.eq(what + ": the catalog is usable afterwards", (p.returncode, rep["summary"]["catalog"].get("error")), (0, None))
    c.eq(what + ": the next run reuses every image the failed one read", rep["summary"]["images_reused"], 2)


def check_no_inodes(c, top, arch, prev, named):
    """No inode left: the temporary file cannot be made, refused before
    anything is scanned."""
    what = "no inode left" + (", named temps" if named else "")
    with tmpfs(os.path.join(top, "inodes-%d" % named), 64 << 10, inodes=4) as d:
        out = os.path.join(d, "report.json")
        shutil.copy(prev["json"], out)
        for i in range(8):
            try:
                open(os.path.join(d, "f%d" % i), "w").close()
            except OSError:
                break
        before = snapshot(d)
        p = run(["-o", out, arch], named)
        c.eq(what + ": exit 2", p.returncode, 2)
        says(c, what, p.stderr, "-o " + out, "No space left on device")
        c.eq(what + ": refused before the scan", images_done(p.stderr), None)
        check_untouched(c, what, d, before)


def check_read_only(c, top, arch, prev, fmt, named):
    what = "read-only, %s%s" % (fmt, ", named temps" if named else "")
    with tmpfs(os.path.join(top, "ro-%s-%d" % (fmt, named)), 64 << 10) as d:
        out = os.path.join(d, "report." + fmt)
        shutil.copy(prev[fmt], out)
        read_only(d)
        before = snapshot(d)
        p = run(["--format", fmt, "-o", out, arch], named)
        c.eq(what + ": exit 2", p.returncode, 2)
        says(c, what, p.stderr, out, "Read-only file system")
        check_untouched(c, what, d, before)


def list_header_ok(path, img):
    with open(path, "rb") as f:
        head = f.read(64)
    size = os.path.getsize(path)
    return (head[:8] == b"IMGSXH3\0" and head[32:48] == bytes.fromhex(img["hashes"]["xxh128"])
            and size == 64 + 8 * img["sectors"]["count"])


def whole_list_digest(top, image):
    """XXH128 of image's whole list of 512-byte sector hashes, written on a
    disk with room (SCHEMA.md: the list's bytes after its 64-byte header)."""
    d = os.path.join(top, "room")
    os.makedirs(d, exist_ok=True)
    p = run(["-q", "--no-tsk", "--sector-size", "512", "--sector-hashes", d, "-o", os.path.join(d, "r.json"), image])
    lst = json.load(open(os.path.join(d, "r.json")))["images"][0]["sectors"].get("list_file")
    if p.returncode > 1 or not lst:
        return "no list written (exit %d)" % p.returncode
    with open(lst, "rb") as f, open(os.path.join(d, "body"), "wb") as body:
        f.seek(64)
        shutil.copyfileobj(f, body)
    return itlib.xxhsum(os.path.join(d, "body"))


def check_sector_lists_full(c, top, lists_arch, named):
    """Sector lists into a 128 KiB tmpfs: the big image's list (256 KiB of
    512-byte sector hashes) fails part way; the small ones, read after it
    (one image at a time), get theirs."""
    what = "sector lists full" + (", named temps" if named else "")
    big, small = lists_arch["big"], lists_arch["small"]
    out = os.path.join(top, "lists-%d.json" % named)
    with tmpfs(os.path.join(top, "lists-%d" % named), 128 << 10) as d:
        p = run(["--sector-size", "512", "-j", "1", "--images", "1", "--sector-hashes", d, "-o", out, big, *small],
                named)
        c.eq(what + ": exit 2", p.returncode, 2)
        rep = json.load(open(out))
        says(c, what, p.stderr, "--sector-hashes %s: 1 sector-hash list not written" % d, big,
             "No space left on device")
        entry = itlib.by_name(rep, os.path.basename(big))
        c.eq(what + ": the big image's error", [(e["stage"], e["errno"]) for e in entry["errors"]],
             [("sector-hashes", "ENOSPC")])
        c.true(what + ": no list_file claimed for it", "list_file" not in entry["sectors"], entry["sectors"])
        c.eq(what + ": its digest still right", entry["hashes"]["xxh128"], itlib.xxhsum(big))
        c.eq(what + ": its sectors all counted", entry["sectors"]["count"], os.path.getsize(big) // 512)
        c.eq(what + ": its list digest that of the whole list", entry["sectors"]["list_xxh128"],
             whole_list_digest(top, big))
        want = []
        for path in small:
            img = itlib.by_name(rep, os.path.basename(path))
            name = img["hashes"]["xxh128"] + ".xxh3s"
            want.append(name)
            c.eq(what + ": %s has no error" % os.path.basename(path), img["errors"], [])
            c.eq(what + ": %s has its list" % os.path.basename(path), img["sectors"].get("list_file"),
                 os.path.join(d, name))
            c.true(what + ": %s's list is whole" % os.path.basename(path),
                   os.path.exists(os.path.join(d, name)) and list_header_ok(os.path.join(d, name), img))
        c.eq(what + ": only the whole lists in the directory", sorted(os.listdir(d)), sorted(want))
        pages = sum(-(-os.path.getsize(os.path.join(d, n)) // 4096) * 4096 for n in os.listdir(d))
        c.eq(what + ": no space held by anything else", used(d), pages)
        c.eq(what + ": the run went on", rep["summary"]["images"], 1 + len(small))


def check_sector_lists_read_only(c, top, arch):
    what = "sector lists read-only"
    out = os.path.join(top, "lists-ro.json")
    with tmpfs(os.path.join(top, "lists-ro"), 64 << 10) as d:
        read_only(d)
        p = run(["-q", "--sector-hashes", d, "-o", out, arch])
        rep = json.load(open(out))
        c.eq(what + ": exit 2, report written", (p.returncode, len(rep["images"])), (2, 2))
        c.eq(what + ": each image's error", [[(e["stage"], e["errno"]) for e in i["errors"]] for i in rep["images"]],
             [[("sector-hashes", "EROFS")]] * 2)
        says(c, what, p.stderr, "--sector-hashes %s: 2 sector-hash lists not written" % d, "Read-only file system")
        c.eq(what + ": nothing in the directory", os.listdir(d), [])


def check_dev_full(c, arch, fmt):
    what = "-o - to /dev/full, " + fmt
    with open("/dev/full", "wb") as full:
        p = run(["-q", "--format", fmt, "-o", "-", arch], stdout=full)
    c.eq(what + ": exit 2", p.returncode, 2)
    says(c, what, p.stderr, "cannot write the report to standard output: No space left on device")
    p = run(["-q", "--format", fmt, "-o", "/dev/full", arch])
    c.eq("-o /dev/full, %s: exit 2" % fmt, p.returncode, 2)
    says(c, "-o /dev/full, " + fmt, p.stderr, "cannot write the report to /dev/full: No space left on device")
    c.true("/dev/full is still a character device", os.path.exists("/dev/full") and not os.path.isfile("/dev/full"))


def check_closed_pipe(c, many, fmt):
    """imgscan scan -o - ... | head -c 10: the report (about 330 KB) is more
    than the pipe holds, so writes go on after head has gone."""
    what = "| head -c 10, " + fmt
    scan = subprocess.Popen(command(["--format", fmt, "-o", "-", many["dir"]], False), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-c", "10"], stdin=scan.stdout, stdout=subprocess.PIPE)
    scan.stdout.close()
    got = head.communicate(timeout=60)[0]
    try:
        err = scan.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        scan.kill()
        err = scan.communicate()[1]
        c.true(what + ": imgscan ended (it hung)", False)
    c.eq(what + ": head got its 10 bytes", len(got), 10)
    c.eq(what + ": exit 2, not killed by SIGPIPE", scan.returncode, 2)
    says(c, what, err, "cannot write the report to standard output: Broken pipe")
    c.eq(what + ": the scan still went to its end", images_done(err), many["images"])


def check_documented(c):
    p = subprocess.run([itlib.IMGSCAN, "scan", "--help"], stdout=subprocess.PIPE, timeout=60)
    c.true("scan --help: status 2 when the report could not be written",
           b"2   also: the report could not be written" in p.stdout)


def make_archives(top):
    arch = os.path.join(top, "archive")
    os.makedirs(arch)
    itlib.make_iso(os.path.join(arch, "cd.iso"), "FULL", itlib.content_dir(top))
    itlib.make_fat(os.path.join(arch, "floppy.img"), 12, "FULL", 1440 << 10)
    many = os.path.join(top, "many")
    os.makedirs(many)
    for i in range(300):  # about 1.1 KB of report each
        with open(os.path.join(many, "f%03d.img" % i), "wb") as f:
            f.write(os.urandom(4096))
    # Read last and slowly enough (2 GiB of holes) that the report's
    # temporary file has long been filling when the scan ends.
    itlib.sized(os.path.join(many, "zz-sparse.img"), 2 << 30)
    big = os.path.join(top, "big.img")
    with open(big, "wb") as f:
        f.write(os.urandom(16 << 20))
    lists = {"big": big, "small": [os.path.join(arch, "cd.iso"), os.path.join(arch, "floppy.img")]}
    return arch, {"dir": many, "images": 301}, lists


def previous_reports(top, arch):
    prev = {}
    for fmt in FORMATS:
        prev[fmt] = os.path.join(top, "previous." + fmt)
        p = run(["-q", "--format", fmt, "-o", prev[fmt], arch])
        if p.returncode:
            raise RuntimeError("the previous %s report: exit %d: %s" % (fmt, p.returncode, p.stderr))
    return prev


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        arch, many, lists = make_archives(top)
        prev = previous_reports(top, arch)
        variants = [False] + ([True] if named_temps_possible() else [])
        if len(variants) == 1:
            print("no private mount namespace here: the named-temporary-file cases are skipped")
        for named in variants:
            for fmt in FORMATS:
                check_fills_mid_write(c, top, many, prev, fmt, named)
                check_read_only(c, top, arch, prev, fmt, named)
            check_no_inodes(c, top, arch, prev, named)
            check_sector_lists_full(c, top, lists, named)
        check_full_from_start(c, top, arch, prev)
        check_sector_lists_read_only(c, top, arch)
        for fmt in FORMATS:
            check_dev_full(c, arch, fmt)
            check_closed_pipe(c, many, fmt)
        check_documented(c)
    except Unavailable as e:
        print("skipped: %s" % e)
        sys.exit(77)
    finally:
        shutil.rmtree(top, ignore_errors=True)  # every tmpfs is unmounted by now
    c.done()


if __name__ == "__main__":
    main()
