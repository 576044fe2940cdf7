#!/usr/bin/env python3
"""The reader never hangs and never loses an image, whatever the file does
under it.  Every case runs under both I/O engines, each scan bounded by a
timeout (a hang fails the test instead of stalling the suite):

- a /sys file whose stat size (4096) is larger than its content (the hang of
  issue 8: a re-queued read that was never submitted);
- faultfs (tests/faultfs.c): a file that lies about its size; a file short
  for exactly one read and whole again (the O_DIRECT resubmit that asked for
  more than the buffer holds: EFAULT with registered buffers); a read error
  at a chosen offset; a file swapped for a symlink between the walk's lstat
  and the open (never followed: not opened, reported as changed); a file
  that grows, or whose bytes change, while it is read ("changed during the
  scan", no digest claimed);
- faultfs: a read that never returns (--read-timeout: that image fails
  with ETIMEDOUT, the others are whole, the report is written; with
  io_uring imgscan exits at once, its last descriptors left to the
  "imgscan-close" process, which ends when the file system answers); a
  slow image (50 ms a read) beside fast ones: they are not held up by it;
  the file system stops answering after one image on it was read whole:
  the calls after its reads (fstat, identification, close) do not hold the
  run (bounded by --read-timeout, the close made by a child);
- a file truncated and regrown on a real file system during a slow scan.
Other images in the same run are always complete and correct."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name  # noqa: E402

ENGINES = (("uring", []), ("pread", ["--io", "pread"]))
# An ASan build's leak check stops every thread at exit (ptrace), and waits
# for one left in a file system request that is not answered (sanitizers.sh).
LEAK_CHECK_AT_EXIT = "detect_leaks=1" in os.environ.get("ASAN_OPTIONS", "")
MODES = (("auto", []), ("direct", ["--direct"]), ("buffered", ["--read-mode", "buffered"]))


def short_sys_file():
    """A /sys attribute whose stat size is larger than what it holds."""
    for p in ("/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/mm/transparent_hugepage/defrag",
              "/sys/power/state", "/sys/kernel/profiling"):
        try:
            if os.path.getsize(p) > len(open(p, "rb").read()) > 0:
                return p
        except OSError:
            pass
    return None


def scan(*args, timeout=60):
    try:
        return itlib.scan("-q", "--no-tsk", *args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, "TIMEOUT (hang)"


def random_files(directory, sizes):
    """Files of random bytes: {name: size}."""
    os.makedirs(directory, exist_ok=True)
    for name, size in sizes.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(os.urandom(size))


def testhooks(c):
    """imgscan-testhooks beside imgscan, or None (a failed check)."""
    hooks = os.path.join(os.path.dirname(os.path.abspath(itlib.IMGSCAN)), "imgscan-testhooks")
    if not os.access(hooks, os.X_OK):
        c.true("imgscan-testhooks is built beside imgscan", False, hooks)
        return None
    return hooks


def wait_status(proc, seconds, kill=False):
    """proc's exit status within seconds, or None (killed then, with kill)."""
    try:
        return proc.wait(seconds)
    except subprocess.TimeoutExpired:
        if kill:
            proc.kill()
        return None


def error_of(img):
    return img["errors"][0] if img["errors"] else {}


def check_sys_file(c):
    path = short_sys_file()
    if not path:
        print("no short /sys file here: that case is skipped")
        return
    held = len(open(path, "rb").read())
    for engine, eargs in ENGINES:
        status, rep, err = scan("--all-files", *eargs, path, timeout=30)
        c.true("%s %s: ends (no hang)" % (path, engine), status is not None, err)
        if status is None:
            continue
        img = rep["images"][0]
        c.eq("%s %s: exit 2" % (path, engine), status, 2)
        c.eq("%s %s: error at the real end" % (path, engine), error_of(img).get("offset"), held)
        c.true("%s %s: no digest claimed" % (path, engine), img["hashes"] is None, img["hashes"])


def check_on_faultfs(c, top):
    backing = os.path.join(top, "backing")
    random_files(backing, {"good.img": 3 << 20, "liar.img": 300000, "regrow.img": 2 << 20, "eio.img": 3 << 20,
                           "swapped.img": 1 << 20, "other.img": 1 << 20, "grow.img": 3 << 20,
                           "change.img": 3 << 20, "seg.001": 1 << 20, "seg.002": 1 << 20})
    want = {n: itlib.xxhsum(os.path.join(backing, n)) for n in os.listdir(backing)}
    rules = ("lie-size liar.img 5000000\n"
             "regrow regrow.img 100 0\n"       # the first read of it ends at byte 100
             "eio eio.img 1572864 4096\n"      # a bad sector 1.5 MiB in
             "swap swapped.img other.img 1\n"  # a symlink after the walk's lstat
             "grow grow.img 65536 1\n"        # 64 KiB longer after its first read
             "change change.img 1\n"          # every byte another after its first read
             "change seg.002 0\n")            # a segment of media changes as it is read
    for engine, eargs in ENGINES:
        for mode, margs in MODES:
            with itlib.faultfs(backing, rules) as m:
                status, rep, err = scan("--queue-depth", "1", "--images", "1", *eargs, *margs, m)
            what = "%s/%s" % (engine, mode)
            c.true("faultfs %s: ends (no hang)" % what, status is not None, err)
            if status is None:
                continue
            c.eq("faultfs %s: exit 2" % what, status, 2)
            c.true("faultfs %s: the whole listing, no walk error" % what,
                   (rep["summary"]["walk_errors"], len(rep["images"])) == (0, 9),
                   (rep["summary"]["walk_errors"], len(rep["images"]), rep.get("skipped")))
            good = by_name(rep, "good.img")
            c.eq("faultfs %s: the clean image is whole" % what, good["hashes"]["xxh128"], want["good.img"])
            liar = by_name(rep, "liar.img")
            c.eq("faultfs %s: size lie: error at the real end" % what, error_of(liar).get("offset"), 300000)
            regrow = by_name(rep, "regrow.img")
            c.eq("faultfs %s: one short read, then whole: no error" % what, regrow["errors"], [])
            c.eq("faultfs %s: ... and the right digest" % what, (regrow["hashes"] or {}).get("xxh128"),
                 want["regrow.img"])
            eio = by_name(rep, "eio.img")
            c.eq("faultfs %s: EIO reported as EIO" % what, error_of(eio).get("errno"), "EIO")
            c.eq("faultfs %s: ... at the failing block" % what, error_of(eio).get("offset"), 1 << 20)
            c.true("faultfs %s: ... no digest claimed" % what, eio["hashes"] is None, eio["hashes"])
            sw = by_name(rep, "swapped.img")
            c.eq("faultfs %s: swapped for a symlink: not opened" % what, error_of(sw).get("stage"), "open")
            c.true("faultfs %s: ... said so" % what, "changed after it was listed" in error_of(sw).get("message", ""),
                   sw["errors"])
            c.true("faultfs %s: ... and the link's target was not read" % what, sw["hashes"] is None, sw["hashes"])
            for name in ("grow.img", "change.img"):
                img = by_name(rep, name)
                c.true("faultfs %s: %s: changed during the scan" % (what, name),
                       "changed during the scan" in error_of(img).get("message", ""), img["errors"])
                c.true("faultfs %s: %s: ... no digest claimed" % (what, name),
                       img["hashes"] is None and not img["read"]["complete"], (img["hashes"], img["read"]))
            media = by_name(rep, "seg.001")
            segs = (media.get("media") or {}).get("segments") or [{}, {}]
            c.true("faultfs %s: a changed segment: changed, no digest for it or the media" % what,
                   "changed during the scan" in error_of(media).get("message", "") and media["hashes"] is None
                   and segs[1].get("xxh128") is None, (media["errors"], segs))


def closers_on(mnt):
    """The imgscan-close processes holding a file under mnt."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open("/proc/%s/comm" % pid).read().strip() != "imgscan-close":
                continue
            fds = os.listdir("/proc/%s/fd" % pid)
            if any(os.readlink("/proc/%s/fd/%s" % (pid, fd)).startswith(mnt + "/") for fd in fds):
                found.append(int(pid))
        except OSError:
            pass
    return found


def wait_for(cond, seconds):
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.05)
    return cond()


def check_hung_read(c, top):
    """The second read of one image never returns (a dead server): with
    --read-timeout 2 it fails with ETIMEDOUT after about 2 s, no digest; the
    images beside it (on a real file system) are whole; the report is
    written.  io_uring: imgscan exits at once (exit 2), and the process it
    leaves the stuck descriptors to ends once the file system answers.  pread:
    the thread stuck in the read holds the exit until then (documented)."""
    backing, real = os.path.join(top, "hang-backing"), os.path.join(top, "hang-real")
    random_files(backing, {"hang.img": 4 << 20, "hang2.img": 4 << 20})
    random_files(real, {"r%d.img" % i: 64 << 20 for i in range(3)})
    want = {n: itlib.xxhsum(os.path.join(real, n)) for n in os.listdir(real)}
    for engine, eargs in ENGINES:
        out = os.path.join(top, "hang-%s.json" % engine)
        # --direct: the images beside it go through the engine too (a cached
        # block is copied by a hashing thread); depth 30: the ring's room for
        # the cancels of timed-out reads is tight.
        with itlib.faultfs(backing, "hang hang.img 1\nhang hang2.img 1\n") as m:
            t0 = time.monotonic()
            proc = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "--read-timeout", "2", "--direct",
                                     "--queue-depth", "30", *eargs, "-o", out, m, real],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            written = wait_for(lambda: os.path.exists(out), 40)
            c.true("hung read %s: the report is written (no hung run)" % engine, written)
            if engine == "uring":
                status = wait_status(proc, 10)
                c.true("hung read uring: imgscan exits", status is not None)
                c.true("hung read uring: in seconds, not after the read (%.1f s)" % (time.monotonic() - t0),
                       time.monotonic() - t0 < 20)
                closers = closers_on(m)
                c.eq("hung read uring: one imgscan-close holds the stuck file", len(closers), 1)
        # faultfs is stopped now: the stuck read and the closes get their answers.
        if engine == "uring":
            c.true("hung read uring: imgscan-close ends when the file system answers",
                   wait_for(lambda: not any(os.path.exists("/proc/%d" % p) and
                                            "imgscan-close" in open("/proc/%d/comm" % p).read()
                                            for p in closers), 15), closers)
        else:
            status = wait_status(proc, 15, kill=True)
            c.true("hung read pread: exits once the read returns", status is not None)
        proc.stderr.close()
        if not written:
            continue
        c.eq("hung read %s: exit 2" % engine, status, 2)
        rep = itlib.json.load(open(out))
        c.eq("hung read %s: not partial" % engine, rep["summary"]["partial"], False)
        hung = by_name(rep, "hang.img")
        c.eq("hung read %s: ETIMEDOUT" % engine, error_of(hung).get("errno"), "ETIMEDOUT")
        c.true("hung read %s: ... said so" % engine,
               "did not return within 2 s (--read-timeout)" in error_of(hung).get("message", ""), hung["errors"])
        c.true("hung read %s: ... no digest claimed" % engine, hung["hashes"] is None, hung["hashes"])
        for n, digest in want.items():
            c.eq("hung read %s: %s beside it is whole" % (engine, n), (by_name(rep, n)["hashes"] or {}).get("xxh128"),
                 digest)
        c.eq("hung read %s: run.options.read_timeout_seconds" % engine,
             rep["run"]["options"].get("read_timeout_seconds"), 2)
    # Alone, on the first read: the reader must not be the thread that waits.
    with itlib.faultfs(backing, "hang hang.img 0\n") as m:
        status, rep, err = scan("--read-timeout", "1", m, timeout=30)
    c.true("hung first read, alone: ends", status is not None, err)
    if status is not None:
        c.eq("hung first read, alone: exit 2, ETIMEDOUT, not partial",
             (status, error_of(rep["images"][0]).get("errno"), rep["summary"]["partial"]), (2, "ETIMEDOUT", False))


def check_dies_after_read(c, top):
    """The file system stops answering after one image on it was read whole
    (faultfs serves one request at a time, and the third read of the other
    image never returns, so every later request waits: a server that died).
    The calls after the reads (the change check's fstat, identification's
    reads, the close) must not hold the run: before, a hashing thread
    waited in that fstat for ever and no report was written.  Both images
    are in the report: the hung one ETIMEDOUT, the other read whole but with
    no digest claimed (whether it changed could not be asked) or, if its
    calls were answered before the hang, its digest."""
    backing = os.path.join(top, "dies-backing")
    random_files(backing, {"a.img": 1 << 20, "z.img": 8 << 20})
    want = itlib.xxhsum(os.path.join(backing, "a.img"))
    for engine, eargs in ENGINES:
        out = os.path.join(top, "dies-%s.json" % engine)
        with itlib.faultfs(backing, "hang z.img 2\n") as m:
            t0 = time.monotonic()
            proc = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "--read-timeout", "2", *eargs,
                                     "-o", out, m], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            written = wait_for(lambda: os.path.exists(out), 40)
            c.true("dies after a read %s: the report is written" % engine, written, time.monotonic() - t0)
            status = None
            if engine == "uring" and not LEAK_CHECK_AT_EXIT:
                status = wait_status(proc, 10)
                c.true("dies after a read uring: imgscan exits (%.1f s)" % (time.monotonic() - t0),
                       status is not None)
        if status is None:  # pread: its stuck read thread holds the exit until faultfs stops (documented)
            status = wait_status(proc, 15, kill=True)
        proc.stderr.close()
        if not written:
            continue
        c.eq("dies after a read %s: exit 2" % engine, status, 2)
        rep = itlib.json.load(open(out))
        c.eq("dies after a read %s: z.img ETIMEDOUT" % engine, error_of(by_name(rep, "z.img")).get("errno"),
             "ETIMEDOUT")
        a = by_name(rep, "a.img")
        digest = (a["hashes"] or {}).get("xxh128")
        msgs = [e.get("message", "") for e in a["errors"]]
        said = any("did not return within 2 s" in m for m in msgs)
        denied = any("no digest is claimed" in m for m in msgs)
        c.true("dies after a read %s: a.img in the report, its digest right or none with the reason" % engine,
               (digest == want and not denied) or (digest is None and said and denied), (digest, msgs))


OUT_OF_THREADS = (
    # two hung images beside 16 MiB ones: reads of those still queued
    ("images", {"h1.img": 1 << 20, "h2.img": 1 << 20}, "hang h1.img 0\nhang h2.img 0\n",
     {"r%d.img" % i: 16 << 20 for i in range(4)}),
    # the same beside images of one block each: a refused block is an
    # image's last (the image was in no report, after the drain's 30 s)
    ("one-block images", {"h1.img": 1 << 20, "h2.img": 1 << 20}, "hang h1.img 0\nhang h2.img 0\n",
     {"r%d.img" % i: 512 << 10 for i in range(4)}),
    # files of unknown extension (probed first), one of them healthy: one
    # the stop leaves undecided is closed (by a child: the reader's own
    # close, a FUSE FLUSH, never returned) and counted as another file
    ("probed", {"h1.dat": 1 << 20, "h2.dat": 1 << 20, "x.dat": 1 << 20}, "hang h1.dat 0\nhang h2.dat 0\n",
     {"r%d.img" % i: 512 << 10 for i in range(4)}),
)


def check_out_of_threads(c, top):
    """The pread engine runs out of I/O threads: every one is stuck in a read
    past --read-timeout and no more may replace them (imgscan-testhooks:
    IMGSCAN_TEST_PREAD_REPLACEMENTS=0, two threads at --queue-depth 2, two
    files whose first read never returns).  The run stops with that reason
    (partial, exit 2), at once; as any stopped run, it lists the images it
    had reached, all of them (one it had reached but not finished held the
    drain its 30 s and was then dropped: the bound on the time checks it).
    Before, the reads still queued ended as read errors (EIO) of healthy
    images on another disk, the drain waited its 30 s for a read the engine
    never had, an image whose refused block was its last was in no report,
    and a probed file on the stuck mount was closed by the reader itself (a
    FUSE FLUSH that never returns: no report at all)."""
    hooks = testhooks(c)
    if not hooks:
        return
    for name, stuck, rules, healthy in OUT_OF_THREADS:
        what = "out of threads (%s)" % name
        backing, real = os.path.join(top, "oot-%s-fuse" % name), os.path.join(top, "oot-%s-real" % name)
        random_files(backing, stuck)
        random_files(real, healthy)
        out = os.path.join(top, "oot-%s.json" % name)
        with itlib.faultfs(backing, rules) as m:
            t0 = time.monotonic()
            # --direct: the images on the real disk go through the engine too
            # (a cached block would be copied by a hashing thread).
            proc = subprocess.Popen([hooks, "scan", "-q", "--no-tsk", "--io", "pread", "--queue-depth", "2",
                                     "--direct", "--read-timeout", "1", "-o", out, m, real],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    env=dict(os.environ, IMGSCAN_TEST_PREAD_REPLACEMENTS="0"))
            written = wait_for(lambda: os.path.exists(out), 40)
            took = time.monotonic() - t0
        status = wait_status(proc, 15, kill=True)
        proc.stderr.close()
        c.true("%s: the report is written, in seconds (%.1f s), not after the drain's 30" % (what, took),
               written and took < 20)
        if not written:
            continue
        rep = itlib.json.load(open(out))
        c.eq("%s: exit 2, partial" % what, (status, rep["summary"]["partial"]), (2, True))
        c.true("%s: stopped_by names --read-timeout" % what,
               "--read-timeout" in (rep["summary"]["stopped_by"] or ""), rep["summary"]["stopped_by"])
        c.eq("%s: no image charged a read error (EIO)" % what,
             [i["path"] for i in rep["images"] if any(e.get("errno") == "EIO" for e in i["errors"])], [])
        c.eq("%s: the summary counts the images listed" % what, rep["summary"]["images"], len(rep["images"]))
        c.true("%s: the first hung file is in the report, ETIMEDOUT" % what,
               any(os.path.basename(i["path"]) == sorted(stuck)[0] and error_of(i).get("errno") == "ETIMEDOUT"
                   for i in rep["images"]), [i["path"] for i in rep["images"]])


def check_slow_image(c, top):
    """Each read of one image takes 50 ms (faultfs delay): the images beside
    it on a real file system stream meanwhile, each done in a fraction of
    the slow one's time, and the slow one finishes whole."""
    backing, real = os.path.join(top, "slow-backing"), os.path.join(top, "slow-real")
    random_files(backing, {"slow.img": 4 << 20})
    random_files(real, {"r%d.img" % i: 32 << 20 for i in range(3)})
    slow_want = itlib.xxhsum(os.path.join(backing, "slow.img"))
    for engine, eargs in ENGINES:
        with itlib.faultfs(backing, "delay slow.img 50\n") as m:
            status, rep, err = scan("--read-size", "128K", "--direct", *eargs, m, real, timeout=120)
        c.true("slow image %s: ends" % engine, status is not None, err)
        if status is None:
            continue
        slow = by_name(rep, "slow.img")
        c.eq("slow image %s: finishes whole" % engine, (slow["hashes"] or {}).get("xxh128"), slow_want)
        fast = [by_name(rep, "r%d.img" % i)["read"]["seconds"] for i in range(3)]
        print("slow image %s: slow.img %.2f s, the others %s s" % (engine, slow["read"]["seconds"],
                                                                   ", ".join("%.2f" % s for s in fast)))
        c.true("slow image %s: the others are not held up (each under a third of its time)" % engine,
               all(s < slow["read"]["seconds"] / 3 for s in fast), (slow["read"]["seconds"], fast))


def check_truncate_regrow(c, top):
    """A real file on a real file system shrinks under a slow scan (one
    block per read, one image at a time) and grows back: the scan ends with
    an error for it (or, if it won the race, a complete digest), never a
    hang, and the image beside it is whole."""
    d = os.path.join(top, "real")
    random_files(d, {"a-victim.img": 48 << 20, "b-bystander.img": 48 << 20})
    victim, bystander = os.path.join(d, "a-victim.img"), os.path.join(d, "b-bystander.img")
    want = itlib.xxhsum(bystander)
    for engine, eargs in ENGINES:
        out = os.path.join(top, "trunc-%s.json" % engine)
        proc = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "--direct", "--read-size", "64K",
                                 "--queue-depth", "2", "--images", "1", *eargs, "-o", out, d])
        with open(victim, "r+b") as f:
            data = f.read()
            f.truncate(1 << 20)
            f.flush()
            f.seek(0)
            f.write(data)
        status = wait_status(proc, 60, kill=True)
        c.true("truncate+regrow %s: ends (no hang)" % engine, status is not None)
        if status is None:
            continue
        rep = itlib.json.load(open(out))
        c.eq("truncate+regrow %s: the image beside it is whole" % engine,
             by_name(rep, "b-bystander.img")["hashes"]["xxh128"], want)
        v = by_name(rep, "a-victim.img")
        c.true("truncate+regrow %s: an error, or a right digest" % engine,
               v["errors"] or v["hashes"]["xxh128"] == itlib.xxhsum(victim), v)


def check_engine_failure(c, top):
    """The engine dies with reads in flight (imgscan-testhooks: submit fails
    with EIO after 10 reads): every image that was started is reported, cut
    short with the reason; nothing is left open or half-written; the summary
    says the run is partial; exit 2."""
    import json
    hooks = testhooks(c)
    if not hooks:
        return
    arch, lists = os.path.join(top, "ef-arch"), os.path.join(top, "ef-lists")
    os.makedirs(lists)
    random_files(arch, {"d%d.img" % i: 8 << 20 for i in range(8)})
    for engine, eargs in ENGINES:
        out = os.path.join(top, "ef-%s.json" % engine)
        # 8 reads in flight: the 32 blocks of the first four images cannot
        # all be out before the 10th completes (then no image was cut short).
        p = subprocess.run([hooks, "scan", "-q", "--direct", "--queue-depth", "8", *eargs,
                            "--sector-hashes", lists, "-o", out, arch],
                           env=dict(os.environ, IMGSCAN_TEST_ENGINE_FAIL="10"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        c.eq("engine failure %s: exit 2" % engine, p.returncode, 2)
        rep = json.load(open(out))
        c.eq("engine failure %s: partial" % engine, rep["summary"]["partial"], True)
        c.true("engine failure %s: stopped_by says why" % engine,
               "Input/output error" in (rep["summary"]["stopped_by"] or ""), rep["summary"]["stopped_by"])
        imgs = rep["images"]
        c.true("engine failure %s: the images in flight are reported" % engine, len(imgs) >= 1, imgs)
        c.true("engine failure %s: some cut short, with the reason" % engine,
               any("I/O engine failed" in error_of(i).get("message", "") for i in imgs), [i["errors"] for i in imgs])
        # An image wholly read when the engine failed is finished, not thrown away.
        c.true("engine failure %s: each one cut short with the reason, or whole and right" % engine,
               all((not i["read"]["complete"] and "I/O engine failed" in error_of(i).get("message", ""))
                   or (i["read"]["complete"] and not i["errors"]
                       and i["hashes"]["xxh128"] == itlib.xxhsum(i["path"])) for i in imgs),
               [i["errors"] for i in imgs])
        c.eq("engine failure %s: no sector-list temporaries" % engine,
             [n for n in os.listdir(lists) if n.startswith(".imgscan-sectors.")], [])
    status, rep, err = itlib.scan("-q", "--direct", arch, env=dict(os.environ, IMGSCAN_TEST_ENGINE_FAIL="10"))
    # (random bytes: high-entropy, an info note: exit 0)
    c.true("the shipped imgscan has no engine fault hook", status == 0 and not rep["summary"]["partial"],
           (status, err))


def check_emptied_while_pending(c, top):
    """A file of unknown extension waits for a free image slot while a slow
    image streams; it is emptied before it is opened.  It is then another
    (empty) file: the run ends (it once hung here forever)."""
    backing = os.path.join(top, "pending")
    random_files(backing, {"a.iso": 4 << 20})
    with open(os.path.join(backing, "b.dat"), "wb") as f:
        f.write(b"some notes\n" * 500)
    out = os.path.join(top, "pending.json")
    with itlib.faultfs(backing, "delay a.iso 300\n") as m:
        proc = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "--images", "1", "--queue-depth", "2",
                                 "-o", out, m])
        import time
        time.sleep(0.5)
        os.truncate(os.path.join(backing, "b.dat"), 0)
        status = wait_status(proc, 60, kill=True)
    c.true("emptied while pending: the run ends", status is not None)
    if status is not None:
        rep = itlib.json.load(open(out))
        c.eq("emptied while pending: counted as another file", rep["summary"]["other_files"], 1)
        c.eq("emptied while pending: the image is reported", [os.path.basename(i["path"]) for i in rep["images"]],
             ["a.iso"])


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        check_sys_file(c)
        check_engine_failure(c, top)
        check_truncate_regrow(c, top)
        try:
            check_on_faultfs(c, top)
            check_emptied_while_pending(c, top)
            check_hung_read(c, top)
            check_dies_after_read(c, top)
            check_out_of_threads(c, top)
            check_slow_image(c, top)
        except itlib.FuseUnavailable as e:
            print("FUSE not available (%s): the faultfs cases are skipped" % e)
    finally:
        itlib.sh("rm", "-rf", top)
    c.done()


if __name__ == "__main__":
    main()
