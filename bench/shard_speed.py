#!/usr/bin/env python3
"""What sharding costs, on one machine (the speed-up across machines is the
cluster's, not measurable here): an archive of 64 images (sizes from 1 to
64 MiB, so that bytes are uneven) among 20,000 small other files.

- Walk overhead: every shard walks the whole tree. The N = 8 shards by path,
  run one after another, against one scan of the archive: the ratio of
  their summed time to the single scan's is what walking eight times costs.
  The same with --shard-by size (a first walk more each).
- Balance: the largest shard's bytes against the mean (1.00 is perfect), by
  path and by size: how long the last machine runs after the others.
- Merge: `imgscan merge` of 8 shard reports holding 200,000 images in all
  (a real shard report's images under their own paths and digests) against
  the reference `jq -c '.images[]'` over the same files (parse and print
  every image), and merge's peak RSS.

Warm page cache, --no-tsk, median of 3 runs each.

    python3 bench/shard_speed.py --imgscan build/imgscan [--dir /tmp/imgscan-shard-bench]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

REPS = 3
N = 8


def timed(cmd, **kw):
    t = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    assert p.returncode in (0, 1), (cmd, p.returncode)
    return time.monotonic() - t


def make_archive(d):
    arch = os.path.join(d, "archive")
    for i in range(64):
        sub = os.path.join(arch, "images", "%02d" % (i % 8))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "disk-%02d.img" % i), "wb") as f:
            f.write(os.urandom(((i % 16) * 4 + 1) << 20))
    for i in range(20000):
        sub = os.path.join(arch, "docs", "%03d" % (i % 200))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "note-%05d.txt" % i), "w") as f:
            f.write("note %d\n" % i)
    return arch


def median_time(cmds):
    """Median over REPS of the summed time of cmds run one after another."""
    return statistics.median(sum(timed(c) for c in cmds) for _ in range(REPS))


def shard_cmds(imgscan, arch, d, by):
    return [[imgscan, "scan", "-q", "--no-tsk", "--shard", "%d/%d" % (k, N), "--shard-by", by, "-o",
             os.path.join(d, "%s-%d.json" % (by, k)), arch] for k in range(N)]


def balance(d, by):
    b = []
    for k in range(N):
        with open(os.path.join(d, "%s-%d.json" % (by, k))) as f:
            b.append(json.load(f)["summary"]["shard"]["bytes_taken"])
    return max(b) / (sum(b) / len(b)), b


def many(d, n_total):
    files = []
    with open(os.path.join(d, "path-0.json")) as f:
        base = json.load(f)
    img = base["images"][0]
    per = n_total // N
    for k in range(N):
        with open(os.path.join(d, "path-%d.json" % k)) as f:
            rep = json.load(f)
        rep["summary"]["images"] = per
        path = os.path.join(d, "many-%d.json" % k)
        with open(path, "w") as out:
            out.write('{"tool":%s,\n"images":[\n' % json.dumps(rep["tool"]))
            for i in range(per):
                one = dict(img, path="%s/many/%d/%d.img" % (rep["run"]["shard"]["roots"][0], k, i),
                           hashes={"xxh128": "%032x" % (k << 40 | i)})
                out.write(("," if i else "") + json.dumps(one) + "\n")
            out.write('],"skipped":[],"run":%s,"summary":%s}\n' % (json.dumps(rep["run"]),
                                                                  json.dumps(rep["summary"])))
        files.append(path)
    return files


def peak_rss_mib(cmd):
    """GNU time's maximum resident set size of cmd (a fork of this Python
    would count the interpreter's own pages before the exec)."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return int(p.stderr.decode().split()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--imgscan", required=True)
    ap.add_argument("--dir", default="/tmp/imgscan-shard-bench")
    a = ap.parse_args()
    imgscan = os.path.abspath(a.imgscan)
    if os.path.exists(a.dir):
        sys.exit("%s exists: give a new --dir" % a.dir)
    os.makedirs(a.dir)
    try:
        arch = make_archive(a.dir)
        single = [[imgscan, "scan", "-q", "--no-tsk", "-o", os.path.join(a.dir, "single.json"), arch]]
        timed(single[0])  # warm the cache
        t_single = median_time(single)
        t_path = median_time(shard_cmds(imgscan, arch, a.dir, "path"))
        t_size = median_time(shard_cmds(imgscan, arch, a.dir, "size"))
        bal_path, _ = balance(a.dir, "path")
        bal_size, _ = balance(a.dir, "size")
        files = many(a.dir, 200000)
        merged = os.path.join(a.dir, "merged.json")
        t_merge = median_time([[imgscan, "merge", "-q", "-o", merged, *files]])
        t_jq = statistics.median(
            timed(["sh", "-c", "jq -c '.images[]' \"$@\" > /dev/null", "jq", *files]) for _ in range(REPS))
        rss = peak_rss_mib([imgscan, "merge", "-q", "-o", merged, *files])
        mb = sum(os.path.getsize(f) for f in files) / 1e6
        rows = [
            ("single scan", "%.2f s" % t_single, ""),
            ("8 shards by path, one after another", "%.2f s" % t_path, "%.2fx the single scan" % (t_path / t_single)),
            ("8 shards by size, one after another", "%.2f s" % t_size, "%.2fx the single scan" % (t_size / t_single)),
            ("largest shard / mean, by path", "%.2f" % bal_path, ""),
            ("largest shard / mean, by size", "%.2f" % bal_size, ""),
            ("merge, 200,000 images (%.0f MB)" % mb, "%.2f s" % t_merge,
             "%.2fx jq -c '.images[]' (%.2f s); %.0f images/s; peak RSS %.1f MiB"
             % (t_merge / t_jq, t_jq, 200000 / t_merge, rss)),
        ]
        print("| what | time | |\n|---|---|---|")
        for r in rows:
            print("| %s | %s | %s |" % r)
    finally:
        shutil.rmtree(a.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
