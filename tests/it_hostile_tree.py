#!/usr/bin/env python3
"""Trees built to hurt a walker (issue 15, "Trees"): none may crash, hang or
lose an entry.  Every entry of each tree ends in the report as an image,
another file, a link, a special file or a walk error naming its path, call
and errno; the summary's counts add up; the exit status is 2 where there
were errors.  Every imgscan run is under a timeout.

1. A directory that cannot be listed (mode 000, scanned as nobody: root
   lists anything): "opendir" EACCES for it, the rest scanned.
2. Symlink loops with --follow-symlinks (a link to its own parent, two
   directories linking each other, a link to itself, a chain of links to a
   directory): "loop" entries, each image once per path met; without the
   option, links listed and not followed.
3. Paths longer than PATH_MAX (4096), built with mkdir relative to
   directory descriptors, with images at several depths: all scanned; a
   tree deeper than the walk holds directories open (walk.h) still walks
   while its paths are short, and where they are not, ends in walk errors.
4. 100,000 files in one directory against 10,000: time per entry and peak
   RSS flat (the figures are printed); the counts all there.
5. Names holding every byte 0x01..0xFF but '/': exact in the report
   (path_b64 where not UTF-8), and no raw control byte on stderr.
6. Directories replaced mid-walk, the walk held at a known point by an
   image read slowly through faultfs (tests/faultfs.c): a directory the walk
   is in, renamed away and replaced by a symlink to another tree (nothing of
   that tree may be read), and, ahead of the walk, directories replaced by a
   file, by a symlink, or removed.

Exits 77 (after running the others) when a case cannot run here: FUSE for
case 6.
"""
import base64
import collections
import errno
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

TIMEOUT = 120  # seconds for any one scan: a hang is a failure, not a stuck suite
NOBODY = 65534


# ---- running and reading -------------------------------------------------

def run_scan(args, report, prefix=(), timeout=TIMEOUT):
    """imgscan scan -o report ARGS (under prefix, e.g. setpriv); returns
    (exit status or None when it hung, the report or None, stderr bytes)."""
    try:
        p = subprocess.run([*prefix, itlib.IMGSCAN, "scan", "-o", report, *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, None, e.stderr or b""
    return p.returncode, load_report(report), p.stderr


def load_report(path):
    """The report, parsed from strict UTF-8 (the schema says all strings are)."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def path_bytes(obj):
    """An entry's exact path: path_b64 when the path is not UTF-8 (SCHEMA.md)."""
    if obj.get("path_lossy"):
        return base64.b64decode(obj["path_b64"], validate=True)
    return obj["path"].encode("utf-8")


def rel(obj, root):
    return os.path.relpath(path_bytes(obj), os.fsencode(root)).decode("utf-8", "surrogateescape")


def short(path):
    """A path of case 3 as failure messages show it: each 200-byte name cut."""
    return re.sub(r"(\d{3})d{197}", r"\1d..", path)


def walk_errors(rep, root):
    """{relative path: (error, errno)} of the report's walk errors."""
    return {rel(s, root): (s["error"], s.get("errno")) for s in rep["skipped"] if s["reason"] == "error"}


def images(rep, root):
    return collections.Counter(rel(i, root) for i in rep["images"])


def error_text(call, err):
    return "%s: %s" % (call, os.strerror(err))


def ran(c, what, status, rep):
    """The run ended by itself and wrote its report."""
    c.true(what + ": finished within %d s" % TIMEOUT, status is not None)
    c.true(what + ": report written", rep is not None)
    return status is not None and rep is not None


def accounts(c, what, status, rep):
    """The summary adds up, and the exit status says what it must."""
    s = rep["summary"]
    c.eq(what + ": exit status as summary.exit_status", status, s["exit_status"])
    c.eq(what + ": entries = images + other files + links + specials + walk errors", s["entries"],
         s["images"] + s["other_files"] + s["symlinks"] + s["special_files"] + s["walk_errors"])
    c.eq(what + ": images listed = summary.images", len(rep["images"]), s["images"])
    c.eq(what + ": skipped listed + not listed = links + specials + walk errors",
         len(rep["skipped"]) + s["skipped_not_listed"], s["symlinks"] + s["special_files"] + s["walk_errors"])
    if not s["skipped_not_listed"]:
        c.eq(what + ": walk errors listed = summary.walk_errors",
             sum(x["reason"] == "error" for x in rep["skipped"]), s["walk_errors"])
    c.true(what + ": each walk error names its call and errno",
           all(re.match(r"^[a-z]+: .+", x["error"]) and re.match(r"^E[A-Z0-9]+$", x.get("errno", ""))
               for x in rep["skipped"] if x["reason"] == "error"), rep["skipped"][:5])
    errors = s["walk_errors"] + s["images_with_errors"]
    c.eq(what + ": exit 2 exactly when something could not be read", status == 2, errors > 0)


def whole(img, digest):
    """The image was read completely, without error, and has this digest."""
    return ((img.get("read") or {}).get("complete") and not img["errors"] and
            (img["hashes"] or {}).get("xxh128") == digest)


def read_whole(c, what, rep, root, digests):
    """Each named image was read completely and has the digest of its source."""
    by_rel = {rel(i, root): i for i in rep["images"]}
    for name, digest in digests.items():
        img = by_rel.get(name)
        c.true("%s: %s read whole, no error, its source's digest" % (what, short(name)),
               img is not None and whole(img, digest),
               img and (img["errors"], (img["hashes"] or {}).get("xxh128"), digest))


# ---- making trees --------------------------------------------------------

def write_at(dir_fd, name, src):
    """Copy the file src to name in the directory dir_fd (any depth)."""
    with open(src, "rb") as f:
        data = f.read()
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dir_fd)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def mkdir_in(dir_fd, name):
    """mkdir name in dir_fd and open it: the next level's descriptor."""
    os.mkdir(name, dir_fd=dir_fd)
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=dir_fd)


def images_src(top):
    """The small real images every case copies: {name: (path, xxh128)}."""
    src = os.path.join(top, "src")
    os.mkdir(src)
    made = {}
    for name, label in (("fat", "TREES"), ("gate", "GATE"), ("three", "THREE"), ("other", "OUTSIDE"),
                        ("b", "BFILE")):
        made[name] = os.path.join(src, name + ".img")
        itlib.make_fat(made[name], 12, label, 1440 << 10)
    made["small"] = os.path.join(src, "small.img")
    itlib.make_fat(made["small"], 12, "SMALL", 160 << 10)
    made["iso"] = os.path.join(src, "disc.iso")
    itlib.make_iso(made["iso"], "DEEP", itlib.content_dir(src, nbytes=4000))
    return {k: (p, itlib.xxhsum(p)) for k, p in made.items()}


# ---- 1: a directory that cannot be listed --------------------------------

def case_unlistable(c, top, src):
    """As nobody (root lists a mode 000 directory anyway)."""
    base = os.path.join(top, "c1")
    tree = os.path.join(base, "tree")
    for d in ("a", "locked", "z"):
        os.makedirs(os.path.join(tree, d))
    for rel_path in ("a/x.img", "locked/y.img", "z/w.img", "a/secret.img"):
        write_at(None, os.path.join(tree, rel_path), src["fat"][0])
    out = os.path.join(base, "out")
    os.mkdir(out)
    prefix = ()
    if os.geteuid() == 0:
        prefix = ("setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups")
        os.chown(out, NOBODY, NOBODY)
        probe = subprocess.run([*prefix, "test", "-x", itlib.IMGSCAN, "-a", "-w", out])
        if probe.returncode:
            return "case 1: nobody (uid %d) cannot run %s or write %s" % (NOBODY, itlib.IMGSCAN, out)
    os.chmod(os.path.join(tree, "locked"), 0)
    os.chmod(os.path.join(tree, "a", "secret.img"), 0)
    status, rep, err = run_scan([tree], os.path.join(out, "r.json"), prefix)
    os.chmod(os.path.join(tree, "locked"), 0o755)
    if not ran(c, "unlistable", status, rep):
        return None
    accounts(c, "unlistable", status, rep)
    c.eq("unlistable: exit 2", status, 2)
    c.eq("unlistable: the directory is an opendir EACCES walk error", walk_errors(rep, tree),
         {"locked": (error_text("opendir", errno.EACCES), "EACCES")})
    c.eq("unlistable: everything else met once", images(rep, tree),
         collections.Counter(["a/x.img", "a/secret.img", "z/w.img"]))
    read_whole(c, "unlistable", rep, tree, {"a/x.img": src["fat"][1], "z/w.img": src["fat"][1]})
    secret = [i for i in rep["images"] if rel(i, tree) == "a/secret.img"]
    c.eq("unlistable: the unreadable image is an open EACCES error",
         [(e["stage"], e.get("errno")) for i in secret for e in i["errors"]], [("open", "EACCES")])
    c.eq("unlistable: entries", rep["summary"]["entries"], 4)
    return None


# ---- 2: symlink loops ----------------------------------------------------

LINKS = {"up": ".", "sub/parent": "..", "sub/here": ".", "p/to_r": "../r", "r/to_p": "../p", "self": "self",
         "chain1": "chain2", "chain2": "chain3", "chain3": "img"}


def case_loops(c, top, src):
    tree = os.path.join(top, "c2", "tree")
    for d in ("img", "sub", "p", "r"):
        os.makedirs(os.path.join(tree, d))
    write_at(None, os.path.join(tree, "img", "a.img"), src["fat"][0])
    for name, target in LINKS.items():
        os.symlink(target, os.path.join(tree, name))
    report = os.path.join(top, "c2", "r.json")

    status, rep, err = run_scan(["--follow-symlinks", tree], report)
    if ran(c, "loops followed", status, rep):
        accounts(c, "loops followed", status, rep)
        c.eq("loops followed: exit 2 (the loops are walk errors)", status, 2)
        want = collections.Counter(["img/a.img", "chain1/a.img", "chain2/a.img", "chain3/a.img"])
        c.eq("loops followed: the image once per path the walk meets", images(rep, tree), want)
        read_whole(c, "loops followed", rep, tree, {p: src["fat"][1] for p in want})
        loop = (error_text("loop", errno.ELOOP), "ELOOP")
        c.eq("loops followed: each loop a 'loop' walk error; the self link a stat ELOOP", walk_errors(rep, tree),
             {"up": loop, "sub/parent": loop, "sub/here": loop, "p/to_r/to_p": loop, "r/to_p/to_r": loop,
              "self": (error_text("stat", errno.ELOOP), "ELOOP")})
        c.eq("loops followed: entries", rep["summary"]["entries"], 10)

    status, rep, err = run_scan([tree], report)
    if ran(c, "loops not followed", status, rep):
        accounts(c, "loops not followed", status, rep)
        c.eq("loops not followed: exit 0", status, 0)
        c.eq("loops not followed: the image once", images(rep, tree), collections.Counter(["img/a.img"]))
        c.eq("loops not followed: every link listed with its target, none followed",
             sorted((rel(s, tree), s["reason"], s.get("link_target")) for s in rep["skipped"]),
             sorted((n, "symlink-not-followed", t) for n, t in LINKS.items()))


# ---- 3: paths longer than PATH_MAX ---------------------------------------

def case_deep(c, top, src):
    """32 levels of 200-byte names (6.4 KB of path), images on both sides
    of 4096 bytes; then 300 levels of 1-byte names (short paths, deeper than
    the walk holds directories open), and 300 of 20 bytes (deep and long)."""
    base = os.path.join(top, "c3")
    os.mkdir(base)
    deep = os.path.join(base, "deep")
    want, rel_dir = {}, ""
    fd = mkdir_in(None, deep)
    try:
        for level in range(1, 33):
            name = ("%03d" % level) + "d" * 197
            fd2 = mkdir_in(fd, name)
            os.close(fd)
            fd = fd2
            rel_dir = os.path.join(rel_dir, name)
            for kind, file, at in (("fat", "fat.img", (2, 21)), ("iso", "disc.iso", (19, 32))):
                if level in at:
                    write_at(fd, file, src[kind][0])
                    want[os.path.join(rel_dir, file)] = src[kind][1]
            if level == 32:  # unknown extension: found by probing its first block
                write_at(fd, "probed.dat", src["fat"][0])
                want[os.path.join(rel_dir, "probed.dat")] = src["fat"][1]
    finally:
        os.close(fd)
    longest = max(len(os.path.join(deep, p)) for p in want)
    print("deep: images at paths of %s bytes" % sorted(len(os.path.join(deep, p)) for p in want))
    c.true("deep: the tree goes past PATH_MAX (%d bytes)" % longest, longest > 4096)
    status, rep, err = run_scan([deep], os.path.join(base, "r.json"))
    if ran(c, "deep", status, rep):
        accounts(c, "deep", status, rep)
        c.eq("deep: no walk error", {short(p): v for p, v in walk_errors(rep, deep).items()}, {})
        c.eq("deep: every image, once", sorted(map(short, images(rep, deep).elements())), sorted(map(short, want)))
        read_whole(c, "deep", rep, deep, want)
        c.eq("deep: exit 1 (the .dat image is misnamed)", status, 1)
        iso = [i for i in rep["images"] if rel(i, deep).endswith("disc.iso")]
        c.true("deep: the deep ISO identified", iso and all(i["kind"] == "optical" for i in iso),
               [i["kind"] for i in iso])
    steep_and_long(c, base, src)


def chain(path, name, levels, src, every):
    """levels nested directories named name under path, the image src in
    every one whose level is a multiple of every; returns the images'
    relative paths."""
    made, rel_dir = [], ""
    fd = mkdir_in(None, path)
    try:
        for level in range(1, levels + 1):
            fd2 = mkdir_in(fd, name)
            os.close(fd)
            fd = fd2
            rel_dir = os.path.join(rel_dir, name)
            if level % every == 0:
                write_at(fd, "x.img", src)
                made.append(os.path.join(rel_dir, "x.img"))
    finally:
        os.close(fd)
    return made


def steep_and_long(c, base, src):
    steep = os.path.join(base, "steep")
    made = chain(steep, "s", 300, src["small"][0], 100)
    status, rep, err = run_scan([steep], os.path.join(base, "r.json"))
    if ran(c, "steep", status, rep):
        accounts(c, "steep", status, rep)
        c.eq("steep: 300 levels of short paths walk whole", (status, images(rep, steep), walk_errors(rep, steep)),
             (0, collections.Counter(made), {}))
        read_whole(c, "steep", rep, steep, {p: src["small"][1] for p in made})

    long_ = os.path.join(base, "long")
    made = chain(long_, "l" * 20, 300, src["small"][0], 25)
    status, rep, err = run_scan([long_], os.path.join(base, "r.json"))
    if not ran(c, "deep and long", status, rep):
        return
    accounts(c, "deep and long", status, rep)
    errors = walk_errors(rep, long_)
    got = images(rep, long_)
    c.eq("deep and long: exit 2", status, 2)
    c.true("deep and long: where the walk stops, ENAMETOOLONG walk errors", errors and all(
        v == (error_text("stat", errno.ENAMETOOLONG), "ENAMETOOLONG") for v in errors.values()), errors)
    c.true("deep and long: the images above that scanned, once", all(n == 1 for n in got.values()) and
           set(got) <= set(made) and len(got) >= 4, sorted(got))
    print("deep and long: %d of %d images scanned; walk errors at levels %s (paths of %s bytes)" %
          (len(got), len(made), sorted(e.count("/") + 1 for e in errors),
           sorted(len(os.path.join(long_, e)) for e in errors)))
    lost = [p for p in made if p not in got and not any(p.startswith(e + "/") for e in errors)]
    c.eq("deep and long: no image neither scanned nor under a walk error", lost, [])


# ---- 4: 100,000 files in one directory -----------------------------------

def make_flat(path, n):
    """n tiny text files (probed: opened, read, found no image)."""
    os.mkdir(path)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(n):
            f = os.open("f%06d" % i, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
            os.write(f, b"line %d\n" % i)
            os.close(f)
    finally:
        os.close(fd)


def measured(path, report):
    """Best of two runs: (wall seconds, peak RSS KiB by GNU time, status, report)."""
    best = None
    for _ in range(2):
        t0 = time.monotonic()
        try:
            p = subprocess.run(["/usr/bin/time", "-f", "RSS %M", itlib.IMGSCAN, "scan", "-q", "-o", report, path],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, None, None, None
        wall = time.monotonic() - t0
        rss = int(re.findall(rb"RSS (\d+)", p.stderr)[-1])
        if best is None or wall < best[0]:
            best = (wall, rss, p.returncode, load_report(report))
    return best


def case_many(c, top):
    base = os.path.join(top, "c4")
    os.mkdir(base)
    figures = {}
    for n in (10_000, 100_000):
        path = os.path.join(base, "n%d" % n)
        make_flat(path, n)
        wall, rss, status, rep = measured(path, os.path.join(base, "r.json"))
        if not ran(c, "%d files" % n, status, rep):
            return
        accounts(c, "%d files" % n, status, rep)
        s = rep["summary"]
        c.eq("%d files: all counted as other files, none lost" % n, (status, s["entries"], s["other_files"]),
             (0, n, n))
        figures[n] = (wall, rss)
        print("%d files in one directory: %.2f s (%.1f us per entry), peak RSS %d KiB" %
              (n, wall, wall / n * 1e6, rss))
    per_small, per_big = figures[10_000][0] / 10_000, figures[100_000][0] / 100_000
    growth = (figures[100_000][1] - figures[10_000][1]) * 1024 / 90_000
    print("time per entry at 100k / at 10k: %.2f; RSS growth %.0f bytes per added entry" %
          (per_big / per_small, growth))
    c.true("many: time per entry at 100k at most 3x that at 10k (not quadratic)", per_big <= 3 * per_small,
           "%.1f us vs %.1f us" % (per_big * 1e6, per_small * 1e6))
    # The walk keeps the directory's sorted names (some 40 bytes each here);
    # nothing per file beyond that: other files are counted, not kept.
    c.true("many: peak RSS grows by under 200 bytes per added entry", growth < 200, "%.0f" % growth)


# ---- 5: every byte in names ----------------------------------------------

ALL_BYTES = bytes(b for b in range(1, 256) if b != 0x2F)


def case_names(c, top, src):
    """254 hard links n<byte>.img to one small image; one name of all 254
    bytes (no image extension: a misnamed image, listed on stderr); a
    directory named with the bytes 0x80..0xFF and 0x01..0x1F."""
    tree = os.path.join(top, "c5", "tree").encode()
    os.makedirs(tree)
    want = [b"n" + bytes([b]) + b".img" for b in ALL_BYTES]
    want.append(ALL_BYTES)
    weird_dir = bytes(range(0x80, 0x100)[:120]) + bytes(range(1, 0x20))
    os.mkdir(os.path.join(tree, weird_dir))
    want.append(weird_dir + b"/x" + bytes([0x9B, 0x0D, 0x1B]) + b".img")
    for name in want:
        os.link(src["small"][0], os.path.join(tree, name))
    report = os.path.join(top, "c5", "r.json")
    status, rep, err = run_scan([tree], report)  # no -q: the summary and the misnamed list print
    if not ran(c, "names", status, rep):
        return
    accounts(c, "names", status, rep)
    got = sorted(os.path.relpath(path_bytes(i), tree) for i in rep["images"])
    c.eq("names: every name in the report, byte for byte", got, sorted(want))
    c.true("names: read whole", all(whole(i, src["small"][1]) for i in rep["images"]))
    c.eq("names: exit 1 (the all-bytes name is misnamed)", status, 1)
    c.true("names: the misnamed list printed, the all-bytes name in it escaped",
           b"misnamed (path -> suggested name)" in err and b"\\x01\\x02\\x03" in err, err[-300:])
    try:
        text = err.decode("utf-8")
    except UnicodeDecodeError as e:
        c.true("names: stderr is UTF-8 (bytes that are not are shown escaped)", False, e)
        return
    raw = sorted({"%04x" % ord(ch) for ch in text
                  if (ord(ch) < 0x20 and ch != "\n") or 0x7F <= ord(ch) <= 0x9F})
    c.eq("names: no raw C0, DEL or C1 control on stderr", raw, [])


# ---- 6: directories replaced mid-walk ------------------------------------

def open_by(pid, suffix):
    """Whether process pid holds a descriptor of a path ending in suffix."""
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except FileNotFoundError:
        return False
    for fd in fds:
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).endswith(suffix):
                return True
        except OSError:
            pass
    return False


def build_swap_tree(base, src):
    """tree/a/1slow/ (the gate's mount point), a/2gate.img, a/3.img,
    a/sub/y.img; b/, c/, d/ with an image each; outside/ holding the same
    names with another image (OUTSIDE), which no scan may read."""
    tree, outside = os.path.join(base, "tree"), os.path.join(base, "outside")
    for d in ("a/1slow", "a/sub", "b", "c", "d"):
        os.makedirs(os.path.join(tree, d))
    for d in ("sub",):
        os.makedirs(os.path.join(outside, d))
    for name, what in (("a/2gate.img", "gate"), ("a/3.img", "three"), ("a/sub/y.img", "fat"), ("b/x.img", "fat"),
                       ("c/x.img", "fat"), ("d/x.img", "fat")):
        write_at(None, os.path.join(tree, name), src[what][0])
    for name in ("2gate.img", "3.img", "sub/y.img", "x.img"):
        write_at(None, os.path.join(outside, name), src["other"][0])
    return tree, outside


def replace_while_held(tree, outside, src):
    """What the test does while the walk waits at a/2gate.img: a (the
    directory being walked) is renamed away and replaced by a symlink to
    outside, its sub/ removed; b becomes a file (an image), c a symlink to
    outside, d is removed."""
    os.rename(os.path.join(tree, "a"), os.path.join(tree, "a.moved"))
    os.symlink(outside, os.path.join(tree, "a"))
    subprocess.run(["rm", "-rf", os.path.join(tree, "a.moved", "sub")], check=True)
    subprocess.run(["rm", "-rf", os.path.join(tree, "b"), os.path.join(tree, "c"), os.path.join(tree, "d")],
                   check=True)
    write_at(None, os.path.join(tree, "b"), src["b"][0])
    os.symlink(outside, os.path.join(tree, "c"))


def held_scan(c, tree, outside, src, report):
    """Scan tree with one image at a time: while a/1slow/slow.img is read
    (slowly), the walk waits at a/2gate.img.  Returns (status, report)."""
    args = [itlib.IMGSCAN, "scan", "--no-tsk", "--images", "1", "--read-size", "256K", "-o", report, tree]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not open_by(p.pid, "/a/1slow/slow.img") and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        c.true("swap: the slow image opened (the walk is held)", open_by(p.pid, "/a/1slow/slow.img"))
        replace_while_held(tree, outside, src)
        c.true("swap: the tree changed while the walk was still held", open_by(p.pid, "/slow.img"))
        try:
            p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, load_report(report)


def case_swap(c, top, src):
    base = os.path.join(top, "c6")
    slowsrc = os.path.join(base, "slowsrc")
    os.makedirs(slowsrc)
    write_at(None, os.path.join(slowsrc, "slow.img"), src["fat"][0])
    tree, outside = build_swap_tree(base, src)
    gate = os.path.join(tree, "a", "1slow")
    with itlib.faultfs(slowsrc, "delay slow.img 400\n") as mnt:
        bind = subprocess.run(["mount", "--bind", mnt, gate], stderr=subprocess.PIPE)
        if bind.returncode:
            return "case 6: mount --bind refused: %s" % bind.stderr.decode(errors="replace").strip()
        try:
            status, rep = held_scan(c, tree, outside, src, os.path.join(base, "r.json"))
        finally:
            gate = os.path.join(tree, "a.moved", "1slow") if os.path.isdir(os.path.join(tree, "a.moved")) else gate
            subprocess.run(["umount", gate])
    if not ran(c, "swap", status, rep):
        return
    accounts(c, "swap", status, rep)
    c.eq("swap: exit 2", status, 2)
    outside_digest = src["other"][1]
    c.eq("swap: nothing read through a symlink the scan was not asked to follow",
         sorted(rel(i, tree) for i in rep["images"] if (i["hashes"] or {}).get("xxh128") == outside_digest), [])
    c.eq("swap: the walk went on in the directory it listed (renamed away), and b is what it now is",
         images(rep, tree), collections.Counter(["a/1slow/slow.img", "a/2gate.img", "a/3.img", "b"]))
    read_whole(c, "swap", rep, tree, {"a/1slow/slow.img": src["fat"][1], "a/2gate.img": src["gate"][1],
                                      "a/3.img": src["three"][1], "b": src["b"][1]})
    c.eq("swap: the removed directories are stat ENOENT walk errors", walk_errors(rep, tree),
         {"a/sub": (error_text("stat", errno.ENOENT), "ENOENT"), "d": (error_text("stat", errno.ENOENT), "ENOENT")})
    c.eq("swap: c, now a symlink, listed and not followed",
         [(rel(s, tree), s.get("link_target")) for s in rep["skipped"] if s["reason"] == "symlink-not-followed"],
         [("c", outside)])


def main():
    top = itlib.setup()
    os.chmod(top, 0o755)  # case 1 runs imgscan as nobody
    c = itlib.Checker()
    skipped = []
    try:
        src = images_src(top)
        for case in (case_unlistable, case_loops, case_deep, case_names):
            t0 = time.monotonic()
            why = case(c, top, src)
            if why:
                skipped.append(why)
            print("%s: %.1f s" % (case.__name__, time.monotonic() - t0))
        t0 = time.monotonic()
        case_many(c, top)
        print("case_many: %.1f s" % (time.monotonic() - t0))
        t0 = time.monotonic()
        try:
            why = case_swap(c, top, src)
            if why:
                skipped.append(why)
        except itlib.FuseUnavailable as e:
            skipped.append("case 6: FUSE is not available here (%s)" % e)
        print("case_swap: %.1f s" % (time.monotonic() - t0))
    finally:
        # rm (fts) removes trees deeper than PATH_MAX, and of mode 000.
        subprocess.run(["rm", "-rf", "--one-file-system", top])
    for why in skipped:
        print("skipped: " + why)
    if skipped and not c.failures:
        print("%d checks, 0 failures; some cases skipped" % c.checks)
        sys.exit(77)
    c.done()


if __name__ == "__main__":
    main()
