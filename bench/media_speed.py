#!/usr/bin/env python3
"""What reading evidence media as segments costs: imgscan over one 2 GiB raw
disk image, and over the same bytes split into segments (split -b 1000000,
so no segment is a multiple of the read size, and split -b 640M), beside the
reference `cat SEGMENTS | xxhsum -H2`, which computes the same digest.
Warm page cache (each file read once before), so the figure is the work of
the pipeline, not the disk's; median of 5 runs each, --no-tsk (identification
is not what is measured), and the digests of every run checked equal.

    python3 bench/media_speed.py --imgscan build/imgscan [--dir /tmp/imgscan-media] [--mib 2048]
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

REPS = 5


def timed(cmd, shell=False):
    t = time.monotonic()
    out = subprocess.run(cmd, shell=shell, check=False, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return time.monotonic() - t, out.stdout.decode()


def imgscan_digest(imgscan, target, report):
    secs, _ = timed([imgscan, "scan", "-q", "--no-tsk", target, "-o", report])
    with open(report) as f:
        images = json.load(f)["images"]
    assert len(images) == 1, [i["path"] for i in images]
    return secs, images[0]["hashes"]["xxh128"], images[0]["kind"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--imgscan", required=True)
    ap.add_argument("--dir", default="/tmp/imgscan-media")
    ap.add_argument("--mib", type=int, default=2048)
    a = ap.parse_args()
    imgscan = os.path.abspath(a.imgscan)
    shutil.rmtree(a.dir, ignore_errors=True)
    os.makedirs(os.path.join(a.dir, "one"))
    raw = os.path.join(a.dir, "one", "disk.raw")
    subprocess.run(["head", "-c", str(a.mib << 20), "/dev/urandom"], stdout=open(raw, "wb"), check=True)
    sets = {"1000000": "1000000", "640M": "640M"}
    for name, size in sets.items():
        d = os.path.join(a.dir, "split-" + name)
        os.makedirs(d)
        subprocess.run(["split", "-b", size, "--numeric-suffixes=1", "-a", "4", raw, os.path.join(d, "disk.")],
                       check=True)
    want = timed(["xxhsum", "-H2", raw])[1].split()[0]
    report = os.path.join(a.dir, "report.json")
    rows = []
    for label, target in [("one file", raw)] + [("split -b " + n, os.path.join(a.dir, "split-" + n)) for n in sets]:
        segs = sorted(glob.glob(os.path.join(target, "disk.*"))) if os.path.isdir(target) else [raw]
        timed("cat %s >/dev/null" % " ".join(segs), shell=True)  # warm
        ours, ref = [], []
        for _ in range(REPS):
            secs, digest, kind = imgscan_digest(imgscan, target, report)
            assert digest == want, (label, digest, want)
            ours.append(secs)
            secs, out = timed("cat %s | xxhsum -H2" % " ".join(segs), shell=True)
            assert out.split()[0] == want, (label, out)
            ref.append(secs)
        m, r = statistics.median(ours), statistics.median(ref)
        rows.append((label, len(segs), kind, (a.mib << 20) / m / 1e9, (a.mib << 20) / r / 1e9, r / m))
    print("| input | files | kind | imgscan GB/s | cat \\| xxhsum -H2 GB/s | ratio |")
    print("|---|---|---|---|---|---|")
    for label, n, kind, g, rg, ratio in rows:
        print("| %s | %d | %s | %.2f | %.2f | %.2fx |" % (label, n, kind, g, rg, ratio))
    shutil.rmtree(a.dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
