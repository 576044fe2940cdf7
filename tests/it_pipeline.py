#!/usr/bin/env python3
"""What the pipeline says about its buffers (summary.pipeline, each image's
read.buffer_wait_seconds) is there and coherent; the queue depth and images
in flight it adapts stay within the ceilings, and values given on the
command line stay as given; the reserve of buffers and the any-thread
hashing order leave every digest equal to xxhsum's, with the O_DIRECT path,
the page-cache path, one hashing thread and several; --direct on a file
that refuses O_DIRECT ends."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

FIELDS = ("seconds", "reads_in_flight_mean", "blocks_waiting_mean", "threads_busy_mean", "disk_waited_seconds",
          "queue_depth", "images", "adapt_trials", "adapt_changes")


def make_images(d, src):
    names = []
    for i in range(3):
        p = os.path.join(d, "disk%d.img" % i)
        with open(p, "wb") as f:
            f.truncate(48 << 20)
        itlib.sh("mkfs.ext4", "-q", "-F", "-L", "P%d" % i, "-d", src, p)
        names.append(p)
    iso = os.path.join(d, "disc.iso")
    itlib.make_iso(iso, "PIPE", src)
    return names + [iso]


def check_run(c, what, rep, paths, qd_max, images_max, fixed=False):
    p = rep["summary"].get("pipeline")
    c.true(what + ": summary.pipeline", isinstance(p, dict), str(rep["summary"].keys()))
    if not isinstance(p, dict):
        return
    for k in FIELDS:
        c.true("%s: pipeline.%s is a number >= 0" % (what, k), isinstance(p.get(k), (int, float)) and p[k] >= 0,
               repr(p.get(k)))
    c.true(what + ": reads in flight within the queue depth", p["reads_in_flight_mean"] <= qd_max + 1e-6,
           repr(p))
    c.true(what + ": disk waited no longer than the run", p["disk_waited_seconds"] <= p["seconds"] + 1e-6, repr(p))
    c.true(what + ": queue depth within its ceiling", 1 <= p["queue_depth"] <= qd_max, repr(p))
    c.true(what + ": images within the ceiling", 1 <= p["images"] <= images_max, repr(p))
    if fixed:
        c.eq(what + ": a given queue depth stays", p["queue_depth"], qd_max)
        c.eq(what + ": given images stay", p["images"], images_max)
        c.eq(what + ": nothing tried", p["adapt_trials"], 0)
    for path in paths:
        img = itlib.by_name(rep, os.path.basename(path))
        w = img["read"].get("buffer_wait_seconds")
        c.true(what + ": buffer_wait_seconds of " + path, isinstance(w, (int, float)) and w >= 0, repr(w))
        c.eq(what + ": xxh128 of " + os.path.basename(path), (img.get("hashes") or {}).get("xxh128"),
             itlib.xxhsum(path))


def direct_refused(c):
    """--direct on a file that refuses O_DIRECT when it is opened (a sysfs
    attribute; FUSE and network file systems do the same): read buffered,
    counted as a fallback, and the scan ends.  The reader once took its own
    lock again there and hung until SIGKILL."""
    cands = ["/sys/kernel/mm/transparent_hugepage/enabled", "/sys/devices/system/cpu/online",
             "/sys/kernel/mm/transparent_hugepage/defrag"]
    path = next((p for p in cands if os.path.isfile(p) and os.path.getsize(p) > 0), None)
    if not path:
        print("no sysfs attribute here: the O_DIRECT refusal check is skipped")
        return
    try:
        status, rep, err = itlib.scan("--direct", "--all-files", "--no-tsk", "-q", path, timeout=30)
    except subprocess.TimeoutExpired:
        c.true("--direct, O_DIRECT refused: the scan ends", False, "still running after 30 s")
        return
    c.true("--direct, O_DIRECT refused: the file is listed", rep is not None and len(rep["images"]) == 1,
           err)
    if rep:
        c.eq("--direct, O_DIRECT refused: one fallback", rep["summary"]["direct_fallbacks"], 1)


def jsonl_streams(c, top):
    """`scan --format jsonl | loader` streams: each image's line reaches the
    pipe when the image is done, not all at the end (stdout to a pipe is
    block-buffered).  A small image first, then one whose reads take 0.3 s
    each (faultfs's delay): the first image line must arrive well before
    the summary."""
    back = os.path.join(top, "slow")
    os.makedirs(back)
    itlib.make_fat(os.path.join(back, "a-fast.img"), 12, "FAST", 1 << 20)
    itlib.make_fat(os.path.join(back, "b-slow.img"), 16, "SLOW", 16 << 20)
    try:
        with itlib.faultfs(back, "delay b-slow.img 300\n") as mnt:
            p = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "--images", "1", "--read-mode", "buffered",
                                  "--read-size", "4M", "--format", "jsonl", mnt], stdout=subprocess.PIPE)
            arrived = {}
            for line in p.stdout:
                kind = json.loads(line)["type"]
                arrived.setdefault(kind, time.monotonic())
            p.wait(timeout=120)
    except itlib.FuseUnavailable as e:
        print("FUSE unavailable (%s): the JSONL streaming check is skipped" % e)
        return
    c.true("JSONL: an image line and a summary", "image" in arrived and "summary" in arrived, arrived)
    if "image" in arrived and "summary" in arrived:
        gap = arrived["summary"] - arrived["image"]
        c.true("JSONL: the first image line arrives long before the summary", gap > 0.8, "%.2f s" % gap)


def main():
    top, src, imgs = itlib.workspace("src", "imgs")
    c = itlib.Checker()
    try:
        for i in range(4):
            with open(os.path.join(src, "f%d.bin" % i), "wb") as f:
                f.write(os.urandom(6 << 20))
        paths = make_images(imgs, src)
        for p in paths:  # out of the page cache: the engine reads them
            subprocess.run(["dd", "if=" + p, "iflag=nocache", "count=0", "status=none"], check=False)
        runs = [
            ("default, O_DIRECT", ["--read-mode", "direct"], 32, 4, False),
            ("given depth and images", ["--read-mode", "direct", "--queue-depth", "3", "--images", "2",
                                        "--read-size", "256K"], 3, 2, True),
            ("one thread, page cache", ["--read-mode", "buffered", "-j", "1", "--read-size", "64K"], 32, 4, False),
        ]
        for what, args, qd, images, fixed in runs:
            status, rep, err = itlib.scan("-q", *args, imgs)
            c.eq(what + ": exit status", status, 0)
            if rep:
                check_run(c, what, rep, paths, qd, images, fixed)
        # Warm: every block copied from the cache, no read in flight.
        for p in paths:
            with open(p, "rb") as f:
                while f.read(1 << 20):
                    pass
        status, rep, err = itlib.scan("-q", imgs)
        c.eq("warm: exit status", status, 0)
        if rep:
            check_run(c, "warm", rep, paths, 32, 4)
        direct_refused(c)
        jsonl_streams(c, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
