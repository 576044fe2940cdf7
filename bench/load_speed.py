#!/usr/bin/env python3
"""How fast `imgscan load` puts a 10,000-image report into SQLite and into
PostgreSQL, in images per second (median of 5 loads into a fresh database
each), beside the floor for PostgreSQL: psql's \\copy of the same report's
image lines into one jsonb column (moving the bytes in, no schema).

The report is made by imgscan itself over 10,000 real images, made by real
tools and copied with a few unique bytes at the end of each (so that every
image has its own digests): a quarter each FAT12 (mkfs.vfat), an MBR disk
with a FAT16 partition (sfdisk, mkfs.vfat), ISO 9660 (genisoimage) and ext2
(mkfs.ext2); each gives its rows of digests, partitions, file systems (ours
and The Sleuth Kit's). PostgreSQL is a server of its own (tests/itlib.py),
with its default durability (fsync on).

    python3 bench/load_speed.py --imgscan build/imgscan [--dir /tmp/imgscan-load] [--images 10000]
"""
import argparse
import os
import shutil
import stat
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import itlib  # noqa: E402

REPS = 5


def templates(work):
    t = {}
    t["fat"] = os.path.join(work, "t-fat.img")
    itlib.sh("mkfs.vfat", "-C", t["fat"], "64")
    t["mbr"] = os.path.join(work, "t-mbr.img")
    with open(t["mbr"], "wb") as f:
        f.truncate(2 << 20)
    subprocess.run(["sfdisk", "-q", t["mbr"]], input=b"start=2048, type=06\n", check=True)
    part = os.path.join(work, "t-part.img")
    itlib.sh("mkfs.vfat", "-C", part, "1024")
    with open(part, "rb") as src, open(t["mbr"], "r+b") as dst:
        dst.seek(2048 * 512)
        dst.write(src.read())
    src_dir = os.path.join(work, "iso-src")
    os.makedirs(src_dir)
    with open(os.path.join(src_dir, "a.txt"), "w") as f:
        f.write("load speed\n")
    t["iso"] = os.path.join(work, "t.iso")
    itlib.sh("genisoimage", "-quiet", "-V", "LOADSPEED", "-o", t["iso"], src_dir)
    t["ext"] = os.path.join(work, "t-ext.img")
    itlib.sh("mkfs.ext2", "-q", "-F", t["ext"], "256")
    return t


def make_archive(root, n):
    stamp = os.path.join(root, ".complete-%d" % n)
    archive = os.path.join(root, "archive")
    if os.path.exists(stamp):
        return archive
    shutil.rmtree(root, ignore_errors=True)
    work = os.path.join(root, "work")
    os.makedirs(work)
    t = templates(work)
    kinds = sorted(t)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        d = os.path.join(archive, "%03d" % (i // 1000))
        os.makedirs(d, exist_ok=True)
        dst = os.path.join(d, "%s-%05d.%s" % (kind, i, "iso" if kind == "iso" else "img"))
        subprocess.run(["cp", "--sparse=always", t[kind], dst], check=True)
        with open(dst, "r+b") as f:  # the last 16 bytes: unused by every template
            f.seek(-16, 2)
            f.write(i.to_bytes(16, "little"))
    shutil.rmtree(work)
    open(stamp, "w").close()
    return archive


def timed(cmd, **kw):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    dt = time.monotonic() - t0
    if p.returncode:
        raise RuntimeError("%s: exit %d: %s" % (cmd[:3], p.returncode, p.stderr.decode(errors="replace")))
    return dt


def sqlite_loads(imgscan, report, work):
    times = []
    for r in range(REPS):
        db = os.path.join(work, "load-%d.db" % r)
        times.append(timed([imgscan, "load", "-q", "--db", "sqlite:" + db, report]))
        con = sqlite3.connect(db)
        rows = sum(con.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in
                   ("runs", "images", "digests", "findings", "partitions", "filesystems", "errors", "skipped"))
        con.close()
        os.unlink(db)
    return times, rows


def pg_loads(imgscan, report, lines_file):
    times, floor = [], []
    with itlib.postgres_server(fsync=True) as pg:
        for r in range(REPS):
            uri = pg()
            times.append(timed([imgscan, "load", "-q", "--db", uri, report]))
            uri = pg()
            subprocess.run(["psql", "-X", "-q", uri, "-c", "CREATE TABLE raw (line jsonb)"], check=True)
            # CSV with a quote and a delimiter no JSON line holds: each line is one value
            floor.append(timed(["psql", "-X", "-q", uri, "-c",
                                "\\copy raw FROM '%s' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
                                % lines_file]))
    return times, floor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--imgscan", default="build/imgscan")
    ap.add_argument("--dir", default="/tmp/imgscan-load")
    ap.add_argument("--images", type=int, default=10000)
    a = ap.parse_args()
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        sys.exit("/dev/null is not a character device: figures taken now would be void; restore it first")
    imgscan = os.path.abspath(a.imgscan)
    archive = make_archive(a.dir, a.images)
    work = tempfile.mkdtemp(prefix="imgscan-load-")
    try:
        report = os.path.join(work, "report.json")
        jsonl = os.path.join(work, "report.jsonl")
        subprocess.run([imgscan, "scan", "-q", "-o", report, archive], check=False)
        subprocess.run([imgscan, "scan", "-q", "--format", "jsonl", "-o", jsonl, archive], check=False)
        lines = os.path.join(work, "image-lines.jsonl")
        with open(jsonl) as src, open(lines, "w") as dst:
            for line in src:
                if line.startswith('{"index"') or '"type":"image"' in line[:40]:
                    dst.write(line)
        n = sum(1 for _ in open(lines))
        size = os.path.getsize(report)
        sq, rows = sqlite_loads(imgscan, report, work)
        pg, floor = pg_loads(imgscan, report, lines)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    print("report: %d images, %.1f MB (JSON), %d rows per load" % (n, size / 1e6, rows))
    print("sqlite:     %s s -> median %.2f s, %.0f images/s" % (
        " ".join("%.2f" % t for t in sq), med(sq), n / med(sq)))
    print("postgresql: %s s -> median %.2f s, %.0f images/s" % (
        " ".join("%.2f" % t for t in pg), med(pg), n / med(pg)))
    print("postgresql floor (psql \\copy of the image lines into one jsonb column): %s s -> median %.2f s;"
          " load / floor = %.2f" % (" ".join("%.2f" % t for t in floor), med(floor), med(pg) / med(floor)))


if __name__ == "__main__":
    main()
