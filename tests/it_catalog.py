#!/usr/bin/env python3
"""Incremental scans with --state (catalog/): a real SQLite catalog, real
images, real in-place rewrites, real concurrent processes for the lock and
real signals.  What is checked:
- an unchanged file is not read again: its earlier result is reported with
  "reused": true and its measured_at; bytes_hashed is 0;
- an in-place rewrite with the mtime set back (dd conv=notrunc, touch -d) is
  caught by ctime: only that image is read again, its digest = xxhsum -H2;
- --rehash, other hashing options, gone files, --state from the config;
- a stored digest that no longer matches on --rehash: CONTENT_CHANGED;
- a catalog from a newer imgscan, a corrupt one, a foreign SQLite file, a
  symlink or a FIFO: a clear error, exit 2, the report written all the
  same, the file left untouched;
- one run per catalog: exit 75 naming the holder, --wait waits;
- kill -9 mid-run leaves a catalog that opens and holds what was committed;
  SIGTERM keeps what finished and marks nothing gone."""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

RACY_WAIT = 2.2  # a file changed within 2 s of its measurement is read again


def run(*args, timeout=120):
    """imgscan scan -q ARGS; (status, report or None, stderr)."""
    p = subprocess.run([itlib.IMGSCAN, "scan", "-q", *[str(a) for a in args]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    out = None
    if "-o" in args:
        path = str(args[list(args).index("-o") + 1])
        if os.path.exists(path):
            with open(path, "rb") as f:
                out = json.load(f)
    return p.returncode, out, p.stderr.decode(errors="replace")


def images(report):
    return {os.path.basename(i["path"]): i for i in report["images"]}


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_archive(root):
    os.makedirs(os.path.join(root, "cds"))
    os.makedirs(os.path.join(root, "disks"))
    src = itlib.content_dir(os.path.dirname(root), "content-" + os.path.basename(root))
    itlib.make_iso(os.path.join(root, "cds", "disc.iso"), "DISC", src)
    itlib.make_iso(os.path.join(root, "cds", "named-wrong.img"), "WRONG", src)
    itlib.make_fat(os.path.join(root, "disks", "fat.img"), 16, "FAT16", 16 << 20)
    itlib.make_ext(os.path.join(root, "disks", "ext.img"), "ext4", "EXT", 8 << 20)
    with open(os.path.join(root, "notes.dat"), "wb") as f:  # probed, not an image
        f.write(os.urandom(300_000))


def check_reuse(c, top):
    arch = os.path.join(top, "arch")
    make_archive(arch)
    cat = os.path.join(top, "cat.db")
    time.sleep(RACY_WAIT)
    st1, r1, err = run("--state", cat, "-o", os.path.join(top, "r1.json"), arch)
    c.eq("first run: exit 1 (a misnamed image)", st1, 1)
    c.eq("first run: catalog counts", {k: r1["summary"]["catalog"][k] for k in ("new", "reused", "gone")},
         {"new": 4, "reused": 0, "gone": 0})
    c.true("first run: every image read (reused false, catalog new)",
           all(i["reused"] is False and i["catalog"] == "new" for i in r1["images"]), err)
    db = sqlite3.connect(cat)
    c.eq("catalog: user_version", db.execute("PRAGMA user_version").fetchone()[0], 1)
    c.eq("catalog: application_id 'IMGS'", db.execute("PRAGMA application_id").fetchone()[0], 0x494D4753)
    c.eq("catalog: journal_mode", db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
    c.eq("catalog: rows (4 images + 1 other file)", db.execute(
        "SELECT sum(is_image), sum(not is_image) FROM files").fetchone(), (4, 1))
    db.close()

    t0 = time.monotonic()
    st2, r2, err = run("--state", cat, "-o", os.path.join(top, "r2.json"), arch)
    took = time.monotonic() - t0
    c.eq("rescan: same exit status", st2, st1)
    c.eq("rescan: catalog counts", {k: r2["summary"]["catalog"][k] for k in ("new", "changed", "reused",
                                                                           "other_files_reused")},
         {"new": 0, "changed": 0, "reused": 4, "other_files_reused": 1})
    c.eq("rescan: nothing hashed", r2["summary"]["bytes_hashed"], 0)
    c.eq("rescan: images_reused", r2["summary"]["images_reused"], 4)
    c.eq("rescan: other files still counted", r2["summary"]["other_files"], r1["summary"]["other_files"])
    c.true("rescan: under a second", took < 1.0, "%.2f s" % took)
    a, b = images(r1), images(r2)
    for name in a:
        c.eq("rescan %s: reused" % name, (b[name]["reused"], b[name]["catalog"]), (True, "reused"))
        c.eq("rescan %s: digests as measured" % name, b[name]["hashes"], a[name]["hashes"])
        st = os.stat(b[name]["path"])
        c.eq("rescan %s: device and inode as they are (what rename checks)" % name,
             (b[name].get("device"), b[name].get("inode")), (st.st_dev, st.st_ino))
        c.eq("rescan %s: measured_at is the first run's" % name, b[name]["measured_at"], a[name]["measured_at"])
        c.eq("rescan %s: findings kept" % name, itlib.codes(b[name]), itlib.codes(a[name]))
    c.eq("rescan: summary findings", r2["summary"]["findings"], r1["summary"]["findings"])
    c.eq("rescan: by_kind", r2["summary"]["by_kind"], r1["summary"]["by_kind"])

    # The in-place rewrite with the mtime set back: caught by ctime.
    fat = os.path.join(arch, "disks", "fat.img")
    before = os.stat(fat)
    subprocess.run(["dd", "if=/dev/urandom", "of=" + fat, "bs=4096", "seek=1000", "count=1", "conv=notrunc",
                    "status=none"], check=True)
    os.utime(fat, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(fat)
    c.eq("rewrite: size and mtime as before", (after.st_size, after.st_mtime_ns),
         (before.st_size, before.st_mtime_ns))
    c.true("rewrite: ctime moved", after.st_ctime_ns != before.st_ctime_ns)
    st3, r3, err = run("--state", cat, "-o", os.path.join(top, "r3.json"), arch)
    c3 = images(r3)
    c.eq("rewrite: only fat.img read again", sorted(n for n, i in c3.items() if not i["reused"]), ["fat.img"])
    c.eq("rewrite: fat.img is 'changed'", c3["fat.img"]["catalog"], "changed")
    c.eq("rewrite: new digest = xxhsum -H2", c3["fat.img"]["hashes"]["xxh128"], itlib.xxhsum(fat))
    c.true("rewrite: digest differs from before", c3["fat.img"]["hashes"] != a["fat.img"]["hashes"])
    c.eq("rewrite: bytes hashed = that image", r3["summary"]["bytes_hashed"], after.st_size)
    c.eq("rewrite: counts", (r3["summary"]["catalog"]["changed"], r3["summary"]["catalog"]["reused"]), (1, 3))

    # Measured within 2 s of its change, fat.img's result is "racy": a write
    # in the same timestamp tick would not show, so it is read once more.
    time.sleep(RACY_WAIT)
    st4, r4, _ = run("--state", cat, "-o", os.path.join(top, "r4.json"), arch)
    c.eq("racy result: read once more", sorted(n for n, i in images(r4).items() if not i["reused"]), ["fat.img"])
    c.eq("racy result: as 'reread'", images(r4)["fat.img"]["catalog"], "reread")
    st4, r4, _ = run("--state", cat, "-o", os.path.join(top, "r4b.json"), arch)
    c.eq("after the rewrite: everything reused", r4["summary"]["catalog"]["reused"], 4)
    c.eq("after the rewrite: the new digest reused", images(r4)["fat.img"]["hashes"]["xxh128"], itlib.xxhsum(fat))

    st5, r5, _ = run("--state", cat, "--rehash", "-o", os.path.join(top, "r5.json"), arch)
    c.eq("--rehash: everything read again", (r5["summary"]["catalog"]["reread"], r5["summary"]["images_reused"]),
         (4, 0))
    c.eq("--rehash: no CONTENT_CHANGED", [n for n, i in images(r5).items() if "CONTENT_CHANGED" in itlib.codes(i)],
         [])
    c.eq("--rehash: bytes hashed", r5["summary"]["bytes_hashed"],
         sum(os.path.getsize(os.path.join(arch, d, n)) for d in ("cds", "disks")
             for n in os.listdir(os.path.join(arch, d))))

    # Bit rot, as the catalog sees it: the reference digest no longer matches.
    db = sqlite3.connect(cat)
    db.execute("UPDATE files SET reference_xxh128 = '00000000000000000000000000000000' WHERE path = ?",
               (os.path.join(arch, "disks", "ext.img").encode(),))
    db.commit()
    db.close()
    st6, r6, _ = run("--state", cat, "--rehash", "-o", os.path.join(top, "r6.json"), arch)
    c.eq("bit rot: CONTENT_CHANGED on ext.img only",
         [n for n, i in images(r6).items() if "CONTENT_CHANGED" in itlib.codes(i)], ["ext.img"])
    c.eq("bit rot: exit 1", st6, 1)
    time.sleep(RACY_WAIT)
    _, r6b, _ = run("--state", cat, "-o", os.path.join(top, "r6b.json"), arch)
    c.true("bit rot: the reused result still says so",
           "CONTENT_CHANGED" in itlib.codes(images(r6b)["ext.img"]) and images(r6b)["ext.img"]["reused"])
    _, r6c, _ = run("--state", cat, "--rehash", "-o", os.path.join(top, "r6c.json"), arch)
    c.true("bit rot: the next --rehash says so again (the bad digest is not the new reference)",
           "CONTENT_CHANGED" in itlib.codes(images(r6c)["ext.img"]))
    db = sqlite3.connect(cat)
    db.execute("UPDATE files SET reference_xxh128 = xxh128 WHERE path = ?",
               (os.path.join(arch, "disks", "ext.img").encode(),))

    db.commit()
    db.close()
    _, r6d, _ = run("--state", cat, "--rehash", "-o", os.path.join(top, "r6d.json"), arch)
    c.eq("restored: no CONTENT_CHANGED", [n for n, i in images(r6d).items() if "CONTENT_CHANGED" in itlib.codes(i)],
         [])

    # Other hashing options: read again once, then reused with them.
    st7, r7, _ = run("--state", cat, "--hash", "sha256", "-o", os.path.join(top, "r7.json"), arch)
    c.eq("--hash sha256: read again", r7["summary"]["catalog"]["reused"], 0)
    st8, r8, _ = run("--state", cat, "--hash", "sha256", "-o", os.path.join(top, "r8.json"), arch)
    c.eq("--hash sha256 twice: reused", r8["summary"]["catalog"]["reused"], 4)
    c.eq("--hash sha256 twice: sha256 reused = sha256sum", images(r8)["disc.iso"]["hashes"].get("sha256"),
         sha256_file(os.path.join(arch, "cds", "disc.iso")))

    # Gone: marked, not deleted; a scan of a subdirectory marks nothing outside it.
    os.unlink(os.path.join(arch, "cds", "named-wrong.img"))
    st9, r9, _ = run("--state", cat, "--hash", "sha256", "-o", os.path.join(top, "r9.json"),
                     os.path.join(arch, "disks"))
    c.eq("scan of disks/ only: nothing gone", r9["summary"]["catalog"]["gone"], 0)
    st10, r10, _ = run("--state", cat, "--hash", "sha256", "-o", os.path.join(top, "r10.json"), arch + "/")
    c.eq("deleted image: gone 1", r10["summary"]["catalog"]["gone"], 1)
    db = sqlite3.connect(cat)
    rows = db.execute("SELECT path, gone_run IS NOT NULL FROM files WHERE is_image ORDER BY path").fetchall()
    runs = db.execute("SELECT count(*), sum(ended IS NOT NULL) FROM runs").fetchone()
    db.close()
    c.eq("gone: kept in the catalog, marked", [(os.path.basename(p.decode()), g) for p, g in rows],
         [("disc.iso", 0), ("named-wrong.img", 1), ("ext.img", 0), ("fat.img", 0)])
    c.eq("runs: one row per run, each ended", runs, (14, 14))
    return arch, cat


def check_depends(c, top):
    """A result is reused only under what made it: the configuration and
    --all-files count; an image emptied to 0 bytes is not "gone"; a file
    changed just before a long read is not trusted next time."""
    arch = os.path.join(top, "dep")
    os.makedirs(arch)
    itlib.make_fat(os.path.join(arch, "fat.img"), 16, "F", 16 << 20)
    with open(os.path.join(arch, "notes.txt"), "w") as f:
        f.write("not an image\n" * 1000)
    itlib.compress(os.path.join(arch, "fat.img"), os.path.join(arch, "packed.dat"), "gzip")
    cat = os.path.join(top, "dep.db")
    time.sleep(RACY_WAIT)
    run("--state", cat, "--all-files", "-o", os.path.join(top, "d1.json"), arch)
    _, r, _ = run("--state", cat, "-o", os.path.join(top, "d2.json"), arch)
    c.eq("after --all-files: notes.txt is not an image in a normal run", sorted(images(r)), ["fat.img", "packed.dat"])
    _, r, _ = run("--state", cat, "-o", os.path.join(top, "d3.json"), arch)
    c.eq("normal run twice: reused", r["summary"]["catalog"]["reused"], 2)
    cfg = json.loads(subprocess.run([itlib.IMGSCAN, "scan", "--print-config"], stdout=subprocess.PIPE,
                                    check=True).stdout)
    cfg["naming"]["disk"]["accept"].remove("img")
    with open(os.path.join(top, "dep-config.json"), "w") as f:
        json.dump(cfg, f)
    _, r, _ = run("--state", cat, "--config", os.path.join(top, "dep-config.json"), "-o",
                  os.path.join(top, "d4.json"), arch)
    c.eq("another configuration: read again", (r["summary"]["catalog"]["reused"], r["summary"]["catalog"]["reread"]),
         (0, 2))
    c.true("another configuration: its verdict (fat.img misnamed now)", images(r)["fat.img"]["misnamed"])
    open(os.path.join(arch, "packed.dat"), "w").close()  # emptied: still there
    st, r, _ = run("--state", cat, "-o", os.path.join(top, "d5.json"), arch)
    c.eq("emptied image: not gone", r["summary"]["catalog"]["gone"], 0)
    c.eq("emptied image: counted as another file", sorted(images(r)), ["fat.img"])

    # A file changed right before a read that takes longer than 2 s.
    backing = os.path.join(top, "racy")
    os.makedirs(backing)
    with open(os.path.join(backing, "late.img"), "wb") as f:
        f.write(os.urandom(3 << 20))
    try:
        with itlib.faultfs(backing, "delay late.img 1000\n") as m:
            run("--no-tsk", "--read-size", "1M", "--state", os.path.join(top, "racy.db"), "-o",
                os.path.join(top, "racy.json"), m)
    except itlib.FuseUnavailable as e:
        print("skipped the long racy read: %s" % e)
        return
    db = sqlite3.connect(os.path.join(top, "racy.db"))
    c.eq("changed just before a long read: not reusable", db.execute("SELECT reusable FROM files").fetchall(), [(0,)])
    db.close()


def check_config_key(c, top, arch):
    cat = os.path.join(top, "from-config.db")
    cfg_text = subprocess.run([itlib.IMGSCAN, "scan", "--print-config"], stdout=subprocess.PIPE,
                              check=True).stdout.decode()
    cfg = json.loads(cfg_text)
    cfg["state"] = cat
    path = os.path.join(top, "config.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    run("--config", path, "-o", os.path.join(top, "c1.json"), arch)
    st, r, _ = run("--config", path, "-o", os.path.join(top, "c2.json"), arch)
    c.eq("config \"state\": catalog used", (r["summary"]["catalog"]["file"], r["summary"]["catalog"]["reused"]),
         (cat, 3))
    st, _, err = run("--rehash", "-o", os.path.join(top, "c3.json"), arch)
    c.eq("--rehash without a catalog: usage error", st, 64)


def check_refused(c, top, arch, name, make, want_msg):
    """A catalog that cannot be used: clear error, exit 2, report written,
    every image read, the file left exactly as it was."""
    cat = os.path.join(top, name)
    make(cat)
    digest = sha256_file(cat) if os.path.isfile(cat) and not os.path.islink(cat) else None
    out = os.path.join(top, name + ".json")
    st, r, err = run("--state", cat, "-o", out, arch, timeout=30)
    c.eq("%s: exit 2" % name, st, 2)
    c.true("%s: says why" % name, want_msg in err, err)
    c.true("%s: report written" % name, r is not None)
    if r:
        c.true("%s: error in summary.catalog" % name, want_msg in (r["summary"]["catalog"]["error"] or ""),
               r["summary"]["catalog"])
        c.eq("%s: every image read" % name, r["summary"]["images_reused"], 0)
        c.eq("%s: images reported" % name, r["summary"]["images"], 3)
    if digest:
        c.eq("%s: left untouched" % name, sha256_file(cat), digest)


def newer_catalog(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = %d" % 0x494D4753)
    db.execute("PRAGMA user_version = 99")
    db.execute("CREATE TABLE files (x)")
    db.commit()
    db.close()


def foreign_db(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (name TEXT)")
    db.commit()
    db.close()


def versioned_foreign_db(path):
    """Many applications set user_version and no application id."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 1")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()


def wal_foreign_db(path):
    """Another application's database caught with its tables still in the
    WAL (copied while open): a read-write open would checkpoint them in."""
    src = path + ".src"
    db = sqlite3.connect(src)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE photos (name TEXT)")
    db.execute("INSERT INTO photos VALUES ('x')")
    db.commit()
    for ext in ("", "-wal", "-shm"):
        shutil.copy(src + ext, path + ext)
    db.close()


def random_bytes(path):
    with open(path, "wb") as f:
        f.write(os.urandom(64 << 10))


def damaged_catalog(arch):
    def make(path):
        subprocess.run([itlib.IMGSCAN, "scan", "-q", "--state", path, "-o", path + ".first.json", arch],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = sqlite3.connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        size = os.path.getsize(path)
        with open(path, "r+b") as f:  # every page but the first: garbage
            f.seek(4096)
            f.write(os.urandom(size - 4096))
    return make


def check_bad_catalogs(c, top, arch):
    check_refused(c, top, arch, "newer.db", newer_catalog, "newer imgscan")
    check_refused(c, top, arch, "random.db", random_bytes, "not an SQLite database")
    check_refused(c, top, arch, "foreign.db", foreign_db, "not an imgscan catalog")
    check_refused(c, top, arch, "versioned.db", versioned_foreign_db, "not an imgscan catalog")
    wal = os.path.join(top, "walforeign.db")
    check_refused(c, top, arch, "walforeign.db", wal_foreign_db, "not an imgscan catalog")
    c.true("foreign WAL database: its WAL not checkpointed into it",
           os.path.exists(wal + "-wal") and os.path.getsize(wal + "-wal") > 0)
    victim = os.path.join(top, "victim.txt")
    with open(victim, "w") as f:
        f.write("someone's file\n")
    check_refused(c, top, arch, "hardlink.db", lambda p: os.link(victim, p), "hard links")
    check_refused(c, top, arch, "locklink.db", lambda p: os.link(victim, p + ".lock"), "lock file")
    with open(victim) as f:
        c.eq("hard-linked catalog or lock: the other file intact", f.read(), "someone's file\n")
    check_refused(c, top, arch, "damaged.db", damaged_catalog(arch), "malformed")
    check_refused(c, top, arch, "link.db", lambda p: os.symlink(os.path.join(top, "elsewhere.db"), p),
                  "symbolic link")
    c.true("symlinked catalog: nothing created at its target", not os.path.exists(os.path.join(top, "elsewhere.db")))
    check_refused(c, top, arch, "fifo.db", os.mkfifo, "not a regular file")


def wait_for(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def check_lock(c, top, arch):
    """The holder is a real imgscan, blocked writing its report to a FIFO
    nobody reads yet (it takes the lock before it opens -o)."""
    cat = os.path.join(top, "locked.db")
    fifo = os.path.join(top, "report.fifo")
    os.mkfifo(fifo)
    holder = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--state", cat, "-o", fifo, arch],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lockfile = cat + ".lock"
    c.true("lock: the holder says who it is", wait_for(
        lambda: os.path.exists(lockfile) and ("pid %d" % holder.pid) in open(lockfile).read()))
    t0 = time.monotonic()
    st, r, err = run("--state", cat, "-o", os.path.join(top, "second.json"), arch, timeout=30)
    c.eq("lock: second run exits 75", st, 75)
    c.true("lock: at once", time.monotonic() - t0 < 2)
    c.true("lock: names the holder's pid and start", ("pid %d" % holder.pid) in err and "started" in err, err)
    c.true("lock: nothing written", r is None)
    waiter = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--wait", "--state", cat, "-o",
                               os.path.join(top, "waited.json"), arch], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    time.sleep(0.5)
    c.true("--wait: still waiting while the holder runs", waiter.poll() is None)
    with open(fifo, "rb") as f:  # let the holder write its report and end
        f.read()
    c.true("lock: holder finished", holder.wait(30) in (0, 1))
    try:
        wst = waiter.wait(30)
    except subprocess.TimeoutExpired:
        waiter.kill()
        wst = None
    c.true("--wait: ran once the lock was free", wst in (0, 1), "exit %r" % wst)
    if os.path.exists(os.path.join(top, "waited.json")):
        with open(os.path.join(top, "waited.json")) as f:
            w = json.load(f)
        c.eq("--wait: the holder's results in the catalog", w["summary"]["catalog"]["error"], None)
    # A crashed holder leaves no stale lock.
    p = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--state", cat, "-o", fifo, arch],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: ("pid %d" % p.pid) in open(lockfile).read())
    p.kill()
    p.wait()
    st, _, err = run("--state", cat, "-o", os.path.join(top, "after-kill.json"), arch)
    c.true("lock: free after the holder was killed", st in (0, 1), "exit %d: %s" % (st, err))


def slow_archive(backing, n, size):
    os.makedirs(backing)
    names = ["img%02d.img" % i for i in range(n)]
    for name in names:
        with open(os.path.join(backing, name), "wb") as f:
            f.write(os.urandom(size))
    return names, "".join("delay %s 250\n" % name for name in names)


def check_kill9(c, top):
    """kill -9 mid-run: the catalog opens, passes integrity_check, and holds
    what was committed; the rescan reuses exactly that and reads the rest."""
    backing = os.path.join(top, "slow")
    names, rules = slow_archive(backing, 16, 1 << 20)
    cat = os.path.join(top, "killed.db")
    time.sleep(RACY_WAIT)
    with itlib.faultfs(backing, rules) as m:
        p = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "--images", "1", "-j", "1",
                              "--state", cat, "-o", os.path.join(top, "killed.json"), m],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2.6)
        p.send_signal(signal.SIGKILL)
        p.wait()
        db = sqlite3.connect(cat)
        c.eq("kill -9: integrity_check", db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        kept = db.execute("SELECT count(*) FROM files WHERE is_image AND reusable").fetchone()[0]
        unfinished = db.execute("SELECT count(*) FROM runs WHERE ended IS NULL").fetchone()[0]
        db.close()
        c.true("kill -9: some images committed, not all", 0 < kept < len(names), "kept %d" % kept)
        c.eq("kill -9: its run row is there, unended", unfinished, 1)
        st, r, err = run("--no-tsk", "--state", cat, "-o", os.path.join(top, "after-kill9.json"), m)
        c.eq("after kill -9: exit 0 (random bytes: HIGH_ENTROPY, info), no errors",
             (st, r["summary"]["images_with_errors"]), (0, 0))
        c.eq("after kill -9: reused what was committed", r["summary"]["catalog"]["reused"], kept)
        c.eq("after kill -9: read the rest", r["summary"]["catalog"]["new"], len(names) - kept)
        c.eq("after kill -9: every image once", sorted(images(r)), names)
        c.eq("after kill -9: every digest = xxhsum -H2",
             [n for n, i in images(r).items() if i["hashes"]["xxh128"] != itlib.xxhsum(os.path.join(backing, n))],
             [])


def check_sigterm(c, top):
    """SIGTERM mid-run: exit 143, partial, what finished is in the catalog,
    nothing marked gone by the partial run."""
    backing = os.path.join(top, "slow2")
    names, rules = slow_archive(backing, 12, 1 << 20)
    cat = os.path.join(top, "stopped.db")
    time.sleep(RACY_WAIT)
    with itlib.faultfs(backing, rules) as m:
        run("--no-tsk", "--state", cat, "-o", os.path.join(top, "full.json"), m)
        os.unlink(os.path.join(backing, names[0]))  # gone, but the stopped run must not say so
        p = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "--rehash", "--images", "1", "-j", "1",
                              "--state", cat, "-o", os.path.join(top, "stopped.json"), m],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        p.send_signal(signal.SIGTERM)
        st = p.wait(10)
    c.eq("SIGTERM: exit 143", st, 143)
    with open(os.path.join(top, "stopped.json")) as f:
        r = json.load(f)
    c.eq("SIGTERM: partial", r["summary"]["partial"], True)
    c.eq("SIGTERM: nothing marked gone", r["summary"]["catalog"]["gone"], 0)
    db = sqlite3.connect(cat)
    reread = db.execute("SELECT count(*) FROM files f JOIN runs r ON f.measured_run = r.id "
                        "WHERE r.uuid = ? AND f.reusable", (r["run"]["id"],)).fetchone()[0]
    gone = db.execute("SELECT count(*) FROM files WHERE gone_run IS NOT NULL").fetchone()[0]
    db.close()
    # Finished: read whole and identified without an error (an image whose
    # worker was stopped mid-look has an error, and is read again next time).
    finished = [i for i in r["images"] if i["hashes"] and not i["errors"]]
    c.true("SIGTERM: finished images in the catalog", reread == len(finished) and reread > 0,
           "catalog %d, report %d" % (reread, len(finished)))
    c.eq("SIGTERM: catalog marks nothing gone", gone, 0)


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        arch, _ = check_reuse(c, top)
        check_config_key(c, top, arch)
        check_depends(c, top)
        check_bad_catalogs(c, top, arch)
        check_lock(c, top, arch)
        try:
            check_kill9(c, top)
            check_sigterm(c, top)
        except itlib.FuseUnavailable as e:
            print("skipped the kill -9 and SIGTERM checks: %s" % e)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
