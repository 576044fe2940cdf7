#!/usr/bin/env python3
"""imgscan benchmark: imgscan against the tools users would pick instead, in
the same run, on the same files, cold and warm, with medians of paired ratios.

  python3 bench/bench.py --dir /tmp/imgscan-bench --imgscan build/imgscan

Data set (built once under --dir, reused): a pool of 1 GiB images, ISO 9660
(genisoimage) and ext4 (mkfs.ext4 -d) alternately, filled with incompressible
files; the large set is the first four.  A small set of 2,000 FAT images of
64 KiB (mkfs.vfat), hard-linked into 100 / 1,000 / 10,000-image sets for the
scaling run.  Cold runs drop the page cache (root only; skipped otherwise).
The order of the tools changes from one repetition to the next, so that no
tool always gets the disk's burst.

Rescan with --state (also alone: --only rescan): per repetition a fresh
catalog in the data directory, the first scan from a cold page cache, a
rescan right after it (warm) and one after dropping the caches (cold); each
rescan must report every image reused and 0 bytes hashed, else the run
fails.  Large set and the 1,000-image small set; the catalog's size too.

A real tree (--only tree --tree /usr): the cost of deciding what is not an
image, imgscan beside file -s and find + head -c 4096 over the same
regular files, warm, at least 5 rounds; needs no data set and writes only
in its own temporary directory (bench/README.md with --write-readme).
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

GIB = 1 << 30
# imgscan's own report during timed runs: a file in the data set's directory,
# never /dev/null (imgscan replaces a regular file atomically; older builds
# replaced whatever -o named, /dev/null included).  Set in main().
REPORT = [None]
RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


# ---- data set ---------------------------------------------------------------

def random_file(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 16 << 20)
            f.write(os.urandom(n))
            left -= n


def make_pool(root, count, size):
    """count images of `size` bytes: ISO 9660 and ext4, alternately."""
    src = os.path.join(root, "src")
    pool = os.path.join(root, "pool")
    os.makedirs(pool, exist_ok=True)
    chunk = 64 << 20 if size >= GIB else max(size // 16, 1 << 20)
    nchunks = (size * 3 // 4) // chunk  # leave room for file-system metadata
    if not os.path.exists(os.path.join(src, ".done-%d" % nchunks)):
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        for i in range(nchunks):
            random_file(os.path.join(src, "data%02d.bin" % i), chunk)
        open(os.path.join(src, ".done-%d" % nchunks), "w").close()
    paths = []
    for i in range(count):
        kind = "iso" if i % 2 == 0 else "img"
        path = os.path.join(pool, "image%02d.%s" % (i, kind))
        paths.append(path)
        if os.path.exists(path):
            continue
        log("making %s" % path)
        work = tempfile.mkdtemp(dir=root)
        for name in os.listdir(src):
            if not name.startswith("."):
                os.link(os.path.join(src, name), os.path.join(work, name))
        random_file(os.path.join(work, "unique.bin"), 1 << 20)  # every image differs
        tmp = path + ".tmp"
        if kind == "iso":
            sh(["genisoimage", "-quiet", "-J", "-R", "-V", "BENCH%02d" % i, "-o", tmp, work])
            # Pad to exactly `size` so every image counts the same bytes.
            with open(tmp, "ab") as f:
                f.truncate(max(size, os.path.getsize(tmp)))
        else:
            with open(tmp, "wb") as f:
                f.truncate(size)
            sh(["mkfs.ext4", "-q", "-F", "-L", "BENCH%02d" % i, "-d", work, tmp])
        os.rename(tmp, path)
        shutil.rmtree(work)
    return paths


def make_small(root, unique, total):
    """`unique` FAT images of 64 KiB, hard-linked up to `total` names."""
    base = os.path.join(root, "small-unique")
    os.makedirs(base, exist_ok=True)
    names = []
    for i in range(unique):
        p = os.path.join(base, "fat%05d.img" % i)
        names.append(p)
        if not os.path.exists(p):
            sh(["mkfs.vfat", "-C", "-n", "S%05d" % i, p, "64"])
    sets = {}
    for n in sorted({100, 1000, unique, total}):
        d = os.path.join(root, "small%d" % n)
        if not os.path.isdir(d):
            os.makedirs(d + ".tmp", exist_ok=True)
            for i in range(n):
                os.link(names[i % unique], os.path.join(d + ".tmp", "f%05d.img" % i))
            os.rename(d + ".tmp", d)
        sets[n] = d
    return sets


# ---- measurement ------------------------------------------------------------

def can_drop_caches():
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        return True
    except OSError:
        return False


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")


def warm(paths):
    """Bring files into the page cache (untimed)."""
    for p in paths:
        with open(p, "rb", buffering=0) as f:
            while f.read(16 << 20):
                pass


LAST_CPU = [0.0]


def timed(cmd, shell=False):
    """Run cmd under GNU time: (wall seconds, peak RSS KiB, exit status); the
    CPU seconds (user + system, children included) go to LAST_CPU."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = ["/usr/bin/time", "-o", tf.name, "-f", "%e %U %S %M"] + (["sh", "-c", cmd] if shell else cmd)
        t0 = time.monotonic()
        p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.monotonic() - t0
        fields = tf.read().split()
        rss = int(fields[-1]) if fields else 0
        LAST_CPU[0] = float(fields[-3]) + float(fields[-2]) if len(fields) >= 4 else 0.0
    return wall, rss, p.returncode


def fio_cmds(files, name):
    common = ["fio", "--ioengine=io_uring", "--rw=read", "--bs=1M", "--iodepth=32", "--output=/dev/null"]
    one = common + ["--name=%s" % name, "--direct=1", "--filename=" + ":".join(files)]
    par_b, par_d = list(common) + ["--direct=0"], list(common) + ["--direct=1"]
    for i, f in enumerate(files):
        par_b += ["--name=j%d" % i, "--filename=" + f]
        par_d += ["--name=j%d" % i, "--filename=" + f]
    return {"fio 1 job QD32 direct": one, "fio job/file buffered": par_b, "fio job/file direct": par_d}


def large_tools(files, imgscan):
    q = " ".join("'%s'" % f for f in files)
    tools = dict(fio_cmds(files, "large"))
    tools.update({
        "cat": ("cat %s > /dev/null" % q, True),
        "xxhsum -H2": ["xxhsum", "-H2"] + files,
        "b3sum": ["b3sum"] + files,
        "hashdeep md5": ["hashdeep", "-c", "md5"] + files,
        "hashdeep sha256": ["hashdeep", "-c", "sha256"] + files,
        "sha256sum": ["sha256sum"] + files,
        "rhash --sha256": ["rhash", "--sha256"] + files,
        "file -s": ["file", "-s"] + files,
        "blkid -p": ("blkid -p %s; true" % q, True),
        "imgscan": [imgscan, "scan", "-q", "-o", REPORT[0]] + files,
        "imgscan --io uring": [imgscan, "scan", "-q", "-o", REPORT[0], "--io", "uring"] + files,
        "imgscan --io pread": [imgscan, "scan", "-q", "-o", REPORT[0], "--io", "pread"] + files,
        "imgscan --hash sha256": [imgscan, "scan", "-q", "-o", REPORT[0], "--hash", "sha256"] + files,
    })
    return tools


def small_tools(d, imgscan):
    return {
        "file -s": ("file -s %s/* > /dev/null" % d, True),
        "blkid -p": ("blkid -p %s/* > /dev/null; true" % d, True),
        "xxhsum -H2": ("xxhsum -H2 %s/* > /dev/null" % d, True),
        "imgscan": [imgscan, "scan", "-q", "-o", REPORT[0], d],
        "imgscan --io uring": [imgscan, "scan", "-q", "-o", REPORT[0], "--io", "uring", d],
        "imgscan --io pread": [imgscan, "scan", "-q", "-o", REPORT[0], "--io", "pread", d],
    }


def run_tool(cmd, cold, paths, warmup=None):
    """Cold: drop the page cache (data, programs and libraries alike).  Warm:
    the data in the cache, and the program with its libraries too, by an
    untimed run of the same tool on one tiny file first."""
    if cold:
        drop_caches()
    else:
        if warmup is not None:
            if isinstance(warmup, tuple):
                subprocess.run(["sh", "-c", warmup[0]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            else:
                subprocess.run(warmup, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        warm(paths)
    if isinstance(cmd, tuple):
        return timed(cmd[0], shell=True)
    return timed(cmd)


def measure_once(label, mode, rep, name, cmd, paths, units, warmup):
    """One timed run of one tool: its record (the figures every table and
    ratio is made from)."""
    wall, rss, rc = run_tool(cmd, mode == "cold", paths, warmup)
    return {"set": label, "tool": name, "mode": mode, "rep": rep, "seconds": wall, "cpu_seconds": LAST_CPU[0],
            "rate": units / wall if wall > 0 else 0, "peak_rss_kib": rss, "exit": rc}


def run_set(label, tools, paths, units, reps, modes, warmups):
    """All tools, every mode, `reps` times, the order rotating per repetition."""
    names = list(tools)
    runs = []
    for rep in range(reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        if rep % 2:
            order.reverse()
        for mode in modes:
            for name in order:
                r = measure_once(label, mode, rep, name, tools[name], paths, units, warmups.get(name))
                runs.append(r)
                log("  %-6s rep %d %-24s %7.2f s %9.2f %s  RSS %6d KiB%s" % (
                    mode, rep, name, r["seconds"], r["rate"] / 1e9 if label == "large" else r["rate"],
                    "GB/s" if label == "large" else "img/s", r["peak_rss_kib"],
                    "" if r["exit"] in (0, 1) else "  exit %d" % r["exit"]))
    return runs


# ---- summaries --------------------------------------------------------------

def medians(runs, set_label):
    out = {}
    for r in runs:
        if r["set"] == set_label:
            out.setdefault((r["tool"], r["mode"]), []).append(r)
    return {k: {"rate": statistics.median(x["rate"] for x in v),
                "rates": [x["rate"] for x in sorted(v, key=lambda x: x["rep"])],
                "seconds": statistics.median(x["seconds"] for x in v),
                "cpu_seconds": statistics.median(x.get("cpu_seconds", 0) for x in v),
                "peak_rss_kib": max(x["peak_rss_kib"] for x in v), "n": len(v)} for k, v in out.items()}


def paired_ratio(runs, set_label, mode, num, den):
    """Median over repetitions of rate(num) / rate(den), both from the same repetition."""
    ratios = paired_ratios(runs, set_label, mode, num, den)
    return statistics.median(ratios) if ratios else None


def paired_ratios(runs, set_label, mode, num, den, key="rate"):
    """Each repetition's key(num) / key(den) (den: one tool, or the best of several), in order."""
    by = {}
    for r in runs:
        if r["set"] == set_label and r["mode"] == mode:
            by.setdefault(r["rep"], {})[r["tool"]] = r[key]
    ratios = []
    for _rep, rep in sorted(by.items()):
        d = max(rep[t] for t in den if t in rep) if isinstance(den, (list, tuple)) else rep.get(den)
        if num in rep and d:
            ratios.append(rep[num] / d)
    return ratios


FIOS = ["fio 1 job QD32 direct", "fio job/file buffered", "fio job/file direct"]


def targets(runs, buffers_mib):
    rss = max((r["peak_rss_kib"] for r in runs if r["tool"].startswith("imgscan")), default=0)
    t = [
        ("cold large: imgscan / best fio (physical limit)", "large", "cold", "imgscan", FIOS, 0.95),
        ("warm large: imgscan / xxhsum -H2", "large", "warm", "imgscan", "xxhsum -H2", 1.4),
        ("warm small: imgscan / file -s (images/s)", "small", "warm", "imgscan", "file -s", 1.0),
        ("warm large: imgscan --hash sha256 / rhash --sha256", "large", "warm", "imgscan --hash sha256",
         "rhash --sha256", 1.6),
        ("cold large: --io uring / --io pread", "large", "cold", "imgscan --io uring", "imgscan --io pread", None),
        ("warm large: --io uring / --io pread", "large", "warm", "imgscan --io uring", "imgscan --io pread", None),
        ("cold small: --io uring / --io pread", "small", "cold", "imgscan --io uring", "imgscan --io pread", None),
    ]
    out = []
    for name, st, mode, num, den, goal in t:
        rs = paired_ratios(runs, st, mode, num, den)
        r = statistics.median(rs) if rs else None
        out.append({"target": name, "ratio": r, "ratios": rs, "goal": goal,
                    "met": (r is not None and r >= goal) if goal else None})
    out.append({"target": "peak RSS of imgscan (MiB), goal < 64 + %d of buffers" % buffers_mib,
                "ratio": rss / 1024, "goal": 64 + buffers_mib, "met": rss / 1024 < 64 + buffers_mib})
    return out


def target_rows(tg):
    rows = []
    for t in tg:
        reps = t.get("ratios") or []
        rows.append("| %s | %s%s | %s | %s |" % (
            t["target"], "-" if t["ratio"] is None else "%.2f" % t["ratio"],
            " (%s)" % ", ".join("%.2f" % x for x in reps) if len(reps) > 1 else "",
            "-" if t["goal"] is None else t["goal"],
            "-" if t["met"] is None else ("yes" if t["met"] else "**no**")))
    return rows


def disk_of(path):
    """The whole disk that holds path, as the kernel names it: (name, model)."""
    try:
        dev = os.stat(path).st_dev
        sysdir = os.path.realpath("/sys/dev/block/%d:%d" % (os.major(dev), os.minor(dev)))
        if os.path.exists(os.path.join(sysdir, "partition")):
            sysdir = os.path.dirname(sysdir)
        name = os.path.basename(sysdir)
        model = ""
        for f in ("device/model", "device/vendor", "device/device"):
            try:
                with open(os.path.join(sysdir, f)) as fh:
                    model = fh.read().strip()
            except OSError:
                continue
            if model:
                if f != "device/model":
                    model = "%s %s" % (f.split("/")[1], model)  # virtio: no model, the PCI vendor id
                break
        try:
            with open(os.path.join(sysdir, "queue/rotational")) as fh:
                rot = fh.read().strip() == "1"
        except OSError:
            rot = None
        return {"name": name, "model": model, "rotational_flag": rot}
    except OSError:
        return {"name": "", "model": "", "rotational_flag": None}


def machine(data_dir=None):
    def first(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, shell=True).stdout.decode().strip()
        except OSError:
            return ""
    m = {"cpu": first("lscpu | sed -n 's/^Model name: *//p' | head -1"), "cores": os.cpu_count(),
         "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1),
         "kernel": platform.release(), "os": first(". /etc/os-release; echo $PRETTY_NAME"),
         "caches": first("lscpu | grep -E '^L[123]' | sed 's/  */ /g' | paste -sd';'"),
         "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if data_dir:
        m["disk"] = disk_of(data_dir)
    return m


def machine_line(m):
    d = m.get("disk") or {}
    disk = ", disk %s%s" % (d.get("name", "?"), " (%s)" % d["model"] if d.get("model") else "") if d else ""
    return "%s, %s cores, %s GiB RAM, kernel %s, %s%s; %s" % (
        m["cpu"], m["cores"], m["memory_gib"], m["kernel"], m["os"], disk, m["date"])


def rate_cell(v, unit):
    """The median, then every repetition's figure in brackets: the noise shows."""
    fmt = (lambda r: "%.2f" % (r / 1e9)) if unit == "GB/s" else (lambda r: "%.0f" % r)
    reps = v.get("rates") or []
    return fmt(v["rate"]) + (" (%s)" % ", ".join(fmt(r) for r in reps) if len(reps) > 1 else "")


def table(meds, label, unit, modes):
    tools = []
    for (tool, _m) in meds:
        if tool not in tools:
            tools.append(tool)
    lines = ["| tool | " + " | ".join("%s %s" % (m, unit) for m in modes) + " | CPU s (" + ", ".join(modes) +
             ") | peak RSS MiB | imgscan / tool (" + ", ".join(modes) + ") |", "|---|" + "---|" * (len(modes) + 3)]
    for tool in tools:
        cells = []
        ratios = []
        for m in modes:
            v = meds.get((tool, m))
            ref = meds.get(("imgscan", m))
            cells.append(rate_cell(v, unit) if v else "-")
            ratios.append("%.2f" % (ref["rate"] / v["rate"]) if v and ref and v["rate"] else "-")
        rss = max((meds[(tool, m)]["peak_rss_kib"] for m in modes if (tool, m) in meds), default=0)
        cpu = " / ".join("%.2f" % meds[(tool, m)]["cpu_seconds"] if (tool, m) in meds else "-" for m in modes)
        lines.append("| %s | %s | %s | %.1f | %s |" % (tool, " | ".join(cells), cpu, rss / 1024, " / ".join(ratios)))
    return "\n".join(lines)


def plot(meds, path_svg):
    if not shutil.which("gnuplot"):
        return None
    dat = path_svg[:-4] + ".dat"
    with open(dat, "w") as f:
        for (tool, mode) in sorted({(t, m) for (t, m) in meds}, key=lambda x: x[0]):
            pass
        tools = sorted({t for (t, m) in meds})
        for t in tools:
            c = meds.get((t, "cold"), {}).get("rate", 0) / 1e9
            w = meds.get((t, "warm"), {}).get("rate", 0) / 1e9
            f.write('"%s" %.3f %.3f\n' % (t, c, w))
    script = """set terminal svg size 1100,520 dynamic background rgb 'white'
set output '%s'
set title 'imgscan and reference tools, large set: median throughput'
set ylabel 'GB/s'
set style data histogram
set style histogram cluster gap 1
set style fill solid border -1
set boxwidth 0.9
set xtics rotate by -35 scale 0 font ',10'
set grid ytics
set key top left
plot '%s' using 2:xtic(1) title 'cold' lc rgb '#4477aa', '' using 3 title 'warm' lc rgb '#ee6677'
""" % (path_svg, dat)
    subprocess.run(["gnuplot"], input=script.encode(), check=False)
    return path_svg


def scaling(pool, small_sets, imgscan, reps):
    rows = []
    for n in (1, 2, 4, 8):
        if n > len(pool):
            break
        files = pool[:n]
        for rep in range(reps):
            warm(files)
            subprocess.run([imgscan, "scan", "-q", "-o", REPORT[0], files[0]], stdout=subprocess.DEVNULL)
            wall, rss, rc = timed([imgscan, "scan", "-q", "-o", REPORT[0]] + files)
            rows.append({"set": "large", "n": n, "bytes": sum(os.path.getsize(f) for f in files), "seconds": wall,
                         "peak_rss_kib": rss, "rep": rep})
            log("  scaling %d GiB: %.2f s, RSS %d KiB" % (n, wall, rss))
    for n, d in sorted(small_sets.items()):
        for rep in range(reps):
            wall, rss, rc = timed([imgscan, "scan", "-q", "-o", REPORT[0], d])
            rows.append({"set": "small", "n": n, "seconds": wall, "peak_rss_kib": rss, "rep": rep})
            log("  scaling %d images: %.2f s, RSS %d KiB" % (n, wall, rss))
    return rows


def scaling_table(rows):
    out = ["| set | size | median s | per unit | peak RSS MiB |", "|---|---|---|---|---|"]
    groups = {}
    for r in rows:
        groups.setdefault((r["set"], r["n"]), []).append(r)
    for (s, n), v in sorted(groups.items()):
        secs = statistics.median(x["seconds"] for x in v)
        rss = max(x["peak_rss_kib"] for x in v) / 1024
        if s == "large":
            gib = v[0]["bytes"] / GIB
            out.append("| large | %d images, %.2f GiB | %.2f | %.3f s/GiB | %.1f |" % (n, gib, secs, secs / gib, rss))
        else:
            out.append("| small | %d images | %.2f | %.0f images/s | %.1f |" % (n, secs, n / secs, rss))
    return "\n".join(out)


# ---- rescan of an unchanged archive with --state -------------------------------

RESCAN_GOAL = 50.0  # the first scan (cold page cache) / a rescan, at least
RESCAN_BEGIN, RESCAN_END = "<!-- bench:rescan:begin -->", "<!-- bench:rescan:end -->"


class RescanError(Exception):
    pass


def wait_past_racy(paths, margin=3.0):
    """imgscan reads a file again next time when its ctime is within 2 s of
    its measurement (racy timestamps): the newest ctime of the set must be
    older than that before the first scan, or the rescan reads."""
    newest = max(os.stat(p).st_ctime for p in paths)
    delay = newest + margin - time.time()
    if delay > 0:
        log("  data changed %.1f s ago: waiting %.1f s (racy-timestamp guard is 2 s)" % (margin - delay, delay))
        time.sleep(delay)


def remove_catalog(cat):
    for p in (cat, cat + "-wal", cat + "-shm", cat + ".lock"):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def catalog_size(cat):
    """(database bytes, WAL bytes): the catalog as it is left after a run."""
    db = os.path.getsize(cat)
    wal = os.path.getsize(cat + "-wal") if os.path.exists(cat + "-wal") else 0
    return db, wal


def state_scan(imgscan, cat, report, paths):
    """One timed `imgscan scan --state` run; the report (a file in the data
    directory) is read back for its summary."""
    try:
        os.unlink(report)  # never read a previous run's report
    except FileNotFoundError:
        pass
    wall, rss, rc = timed([imgscan, "scan", "-q", "--state", cat, "-o", report] + paths)
    cpu = LAST_CPU[0]
    try:
        with open(report) as f:
            summ = json.load(f)["summary"]
    except (OSError, ValueError, KeyError) as e:
        raise RescanError("imgscan --state exited %d and left no readable report %s: %s" % (rc, report, e))
    return {"seconds": wall, "cpu_seconds": cpu, "peak_rss_kib": rss, "exit": rc,
            "imgscan_wall_seconds": summ.get("wall_seconds"), "bytes_hashed": summ.get("bytes_hashed"),
            "images": summ.get("images"), "images_reused": summ.get("images_reused"),
            "catalog": summ.get("catalog"), "report": report}


def check_state_run(run, what, n, nbytes, rescan):
    """A first scan must have read and catalogued every image; a rescan must
    have read none (a "rescan" that reads is not a rescan)."""
    cat = run["catalog"] or {}
    bad = []
    if run["exit"] not in (0, 1):
        bad.append("exit status %d" % run["exit"])
    if run["catalog"] is None:
        bad.append("summary.catalog is null")
    elif cat.get("error"):
        bad.append("catalog error: %s" % cat["error"])
    if run["images"] != n:
        bad.append("%s images in the report, %d expected" % (run["images"], n))
    if rescan:
        if cat.get("reused") != n:
            bad.append("summary.catalog.reused = %s, expected %d" % (cat.get("reused"), n))
        if run["bytes_hashed"] != 0:
            bad.append("bytes_hashed = %s, expected 0" % run["bytes_hashed"])
        for k in ("new", "changed", "reread"):
            if cat.get(k):
                bad.append("summary.catalog.%s = %s, expected 0" % (k, cat[k]))
    else:
        if cat.get("new") != n:
            bad.append("summary.catalog.new = %s, expected %d" % (cat.get("new"), n))
        if run["bytes_hashed"] != nbytes:
            bad.append("bytes_hashed = %s, expected %d" % (run["bytes_hashed"], nbytes))
    if bad:
        raise RescanError("%s: %s (catalog %s; report %s)" % (what, "; ".join(bad), json.dumps(cat), run["report"]))


def rescan_set(label, imgscan, data_dir, args, files, reps, cold):
    """Per repetition: a fresh catalog; the first scan from a cold page cache;
    a rescan right after it (warm: metadata cached); a rescan after dropping
    the caches again (cold metadata, program and catalog: the worst case).
    Without root the first scan runs warm and the cold rescan is skipped."""
    n, nbytes = len(files), sum(os.path.getsize(f) for f in files)
    cat = os.path.join(data_dir, "rescan-%s.catalog" % label)
    rep_path = lambda phase: os.path.join(data_dir, "rescan-%s-%s.json" % (label, phase))
    wait_past_racy(files)
    runs = []
    for rep in range(reps):
        remove_catalog(cat)
        if cold:
            drop_caches()
        else:
            warm(files)
        first = state_scan(imgscan, cat, rep_path("first"), args)
        check_state_run(first, "%s rep %d: first scan" % (label, rep), n, nbytes, False)
        db, wal = catalog_size(cat)
        rw = state_scan(imgscan, cat, rep_path("rescan-warm"), args)
        check_state_run(rw, "%s rep %d: warm rescan" % (label, rep), n, nbytes, True)
        rc = None
        if cold:
            drop_caches()
            rc = state_scan(imgscan, cat, rep_path("rescan-cold"), args)
            check_state_run(rc, "%s rep %d: cold rescan" % (label, rep), n, nbytes, True)
        runs.append({"rep": rep, "first": first, "rescan_warm": rw, "rescan_cold": rc,
                     "catalog_db_bytes": db, "catalog_wal_bytes": wal})
        log("  rescan %-5s rep %d: first %s %.3f s; rescan warm %.1f ms (x%.0f)%s; catalog %d B + WAL %d B" % (
            label, rep, "cold" if cold else "warm", first["seconds"], rw["seconds"] * 1e3,
            first["seconds"] / rw["seconds"],
            "" if rc is None else ", cold %.1f ms (x%.0f)" % (rc["seconds"] * 1e3, first["seconds"] / rc["seconds"]),
            db, wal))
    remove_catalog(cat)
    return {"images": n, "bytes": nbytes, "runs": runs, "summary": rescan_summary(runs, n)}


def rescan_summary(runs, n):
    med = statistics.median

    def phase(key):
        rs = [r[key] for r in runs if r[key] is not None]
        if not rs:
            return None
        walls = [x["imgscan_wall_seconds"] for x in rs if x["imgscan_wall_seconds"] is not None]
        return {"seconds": med(x["seconds"] for x in rs), "cpu_seconds": med(x["cpu_seconds"] for x in rs),
                "imgscan_wall_seconds": med(walls) if walls else None,
                "peak_rss_kib": max(x["peak_rss_kib"] for x in rs), "n": len(rs)}

    def ratio(key):
        rs = [r["first"]["seconds"] / r[key]["seconds"] for r in runs if r[key] is not None and r[key]["seconds"] > 0]
        return med(rs) if rs else None

    size = med(r["catalog_db_bytes"] + r["catalog_wal_bytes"] for r in runs)
    return {"first": phase("first"), "rescan_warm": phase("rescan_warm"), "rescan_cold": phase("rescan_cold"),
            "ratio_warm": ratio("rescan_warm"), "ratio_cold": ratio("rescan_cold"),
            "catalog_bytes": size, "catalog_db_bytes": med(r["catalog_db_bytes"] for r in runs),
            "catalog_wal_bytes": med(r["catalog_wal_bytes"] for r in runs),
            "catalog_bytes_per_image": size / n, "catalog_kib_per_1000_images": size / n * 1000 / 1024}


def rescan_targets(res):
    out = []
    for label in ("large", "small"):
        s = res["sets"].get(label)
        if not s:
            continue
        for kind in ("warm", "cold"):
            r = s["summary"]["ratio_" + kind]
            # The goal is against a first scan from a cold page cache: not assessed without one.
            goal = RESCAN_GOAL if res["cold"] else None
            out.append({"target": "rescan %s: first scan (cold) / rescan (%s)" % (label, kind), "ratio": r,
                        "goal": goal, "met": (r is not None and r >= goal) if goal and r is not None else None})
    return out


def measure_rescan(imgscan, data_dir, large, small_dir, reps, cold):
    if not cold:
        log("not root (cannot drop the page cache): rescan part runs its first scan warm and skips the cold "
            "rescan; the >= %gx goal (against a cold first scan) is not assessed" % RESCAN_GOAL)
    small_files = sorted(os.path.join(small_dir, x) for x in os.listdir(small_dir))
    res = {"machine": machine(), "reps": reps, "cold": cold, "goal": RESCAN_GOAL, "sets": {}}
    log("rescan with --state, large set: %d images" % len(large))
    res["sets"]["large"] = rescan_set("large", imgscan, data_dir, list(large), list(large), reps, cold)
    log("rescan with --state, small set: %d images" % len(small_files))
    res["sets"]["small"] = rescan_set("small", imgscan, data_dir, [small_dir], small_files, reps, cold)
    res["sets"]["small"]["distinct_inodes"] = len({os.stat(f).st_ino for f in small_files})
    res["targets"] = rescan_targets(res)
    return res


def rescan_md(res):
    m = res["machine"]
    fmt = lambda x, spec: "-" if x is None else spec % x
    yes = lambda t: "-" if t is None or t["met"] is None else ("yes" if t["met"] else "**no**")
    tg = {t["target"]: t for t in res["targets"]}
    lines = [RESCAN_BEGIN,
             "Rescan of an unchanged archive with `--state` (%s; %d repetition%s, medians; ratios are medians of "
             "the ratios paired within one repetition; ms: wall time of the whole process, in brackets "
             "imgscan's own `wall_seconds`)%s:" % (
                 m["date"], res["reps"], "" if res["reps"] == 1 else "s", "" if res["cold"] else
                 ". **Not root: first scan warm, no cold rescan, goal not assessed**"),
             "",
             "| set | first scan, %s, s | rescan warm, ms | rescan cold, ms | first / rescan warm | "
             "first / rescan cold | goal | met (warm, cold) |" % ("cold" if res["cold"] else "warm"),
             "|---|---|---|---|---|---|---|---|"]
    desc = {}
    for label in ("large", "small"):
        s = res["sets"].get(label)
        if not s:
            continue
        u = s["summary"]
        if label == "large":
            desc[label] = "%d images, %.2f GiB" % (s["images"], s["bytes"] / GIB)
        else:
            desc[label] = "%d images of %d KiB" % (s["images"], round(s["bytes"] / s["images"] / 1024))

        def ms(phase):
            if u[phase] is None:
                return "-"
            own = u[phase]["imgscan_wall_seconds"]
            return "%.1f (%s)" % (u[phase]["seconds"] * 1e3, "-" if own is None else "%.1f" % (own * 1e3))
        lines.append("| %s: %s | %.2f | %s | %s | %s | %s | %s | %s / %s |" % (
            label, desc[label], u["first"]["seconds"], ms("rescan_warm"), ms("rescan_cold"),
            fmt(u["ratio_warm"], "%.0f"), fmt(u["ratio_cold"], "%.0f"),
            "%g" % res["goal"] if res["cold"] else "-",
            yes(tg.get("rescan %s: first scan (cold) / rescan (warm)" % label)),
            yes(tg.get("rescan %s: first scan (cold) / rescan (cold)" % label))))
    lines += ["", "Catalog size after the first scan (the SQLite file, plus its -wal when one is left):", "",
              "| set | catalog bytes (db + WAL) | per 1,000 images | per image |", "|---|---|---|---|"]
    for label in ("small", "large"):
        s = res["sets"].get(label)
        if not s:
            continue
        u = s["summary"]
        # Per 1,000 images only where there are about that many: 4 images are a page or so.
        lines.append("| %s: %s | %d (%d + %d) | %s | %.0f B |" % (
            label, desc[label], u["catalog_bytes"], u["catalog_db_bytes"], u["catalog_wal_bytes"],
            "%.1f KiB" % u["catalog_kib_per_1000_images"] if s["images"] >= 100 else "-",
            u["catalog_bytes_per_image"]))
    lines.append(RESCAN_END)
    return "\n".join(lines)


def replace_rescan_section(s, section, anchor_before=None):
    """Put `section` (with its markers) in place of the one in `s`; if `s` has
    none, before `anchor_before` (when found) or at the end."""
    if RESCAN_BEGIN in s and RESCAN_END in s:
        return s[:s.index(RESCAN_BEGIN)] + section + s[s.index(RESCAN_END) + len(RESCAN_END):]
    if anchor_before and anchor_before in s:
        i = s.index(anchor_before)
        return s[:i].rstrip("\n") + "\n\n" + section + "\n\n" + s[i:]
    return s.rstrip("\n") + "\n\n" + section + "\n"


def rescan_only_update_readme(section):
    """--only rescan: rewrite the rescan part of the results section only,
    keeping the tool tables of the last full run."""
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    with open(README) as f:
        s = f.read()
    if begin not in s or end not in s:
        return False
    b, e = s.index(begin) + len(begin), s.index(end)
    block = s[b:e]
    anchor = "![throughput]" if "![throughput]" in block else None
    block = replace_rescan_section(block, section, anchor)
    if not block.endswith("\n"):
        block += "\n"
    with open(README, "w") as f:
        f.write(s[:b] + block + s[e:])
    return True


def update_readme(text):
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if not os.path.exists(README):
        return
    with open(README) as f:
        s = f.read()
    if begin in s and end in s:
        s = s[:s.index(begin) + len(begin)] + "\n" + text + "\n" + s[s.index(end):]
        with open(README, "w") as f:
            f.write(s)


# ---- the cost of deciding what is not an image: a real tree (--only tree) ------

TREE_BEGIN, TREE_END = "<!-- bench:tree:begin -->", "<!-- bench:tree:end -->"
TREE_MIN_REPS = 5
TREE_README_REPS = 5  # --write-readme only from a run of at least this many pairs
# The probes that make a worker look inside (formats/probe_compressed.c,
# probe_lz4.c): a file of unknown extension starting so is sent to one.
TREE_WORKER_MAGICS = [("gzip", b"\x1f\x8b\x08"), ("xz", b"\xfd7zXZ\x00"), ("zstd", b"\x28\xb5\x2f\xfd"),
                      ("bzip2", b"BZh"), ("zip", b"PK\x03\x04"), ("7z", b"7z\xbc\xaf\x27\x1c"),
                      ("lz4", b"\x04\x22\x4d\x18"), ("lz4", b"\x02\x21\x4c\x18")]


def tree_list(tree):
    """The regular files of the tree, as imgscan's walk finds them: os.walk,
    symlinks neither followed nor counted.  (paths, total bytes)."""
    import stat
    paths, total = [], 0
    for d, dirs, files in os.walk(tree):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(d, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                paths.append(p)
                total += st.st_size
    return paths, total


def tree_magic_count(paths, image_exts, probe_first):
    """What imgscan will send to a worker, told from the files' first bytes
    (the magic numbers of the compressed probes; the gzip and bzip2 probes
    check a byte or two more, so this is an upper bound), and the files it
    will stream whole for their image extension."""
    by_magic, named = {}, []
    for p in paths:
        base = os.path.basename(p)
        dot = base.rfind(".")
        ext = base[dot + 1:].lower() if dot > 0 else ""
        if ext in image_exts and ext not in probe_first:
            named.append(p)
            continue
        try:
            with open(p, "rb") as f:
                head = f.read(8)
        except OSError:
            continue
        for name, magic in TREE_WORKER_MAGICS:
            if head.startswith(magic):
                by_magic[name] = by_magic.get(name, 0) + 1
                break
    return by_magic, named


def tree_strace_count(imgscan, tree, work):
    """Files imgscan really sent to a worker: one untimed run under strace,
    counting the distinct files attached (SCM_RIGHTS) to the requests.
    (files, requests, {extension: files}) or None when strace cannot run."""
    if not shutil.which("strace"):
        return None
    log_path, report = os.path.join(work, "strace.log"), os.path.join(work, "strace-report.json")
    p = subprocess.run(["strace", "-f", "-qq", "-y", "-e", "trace=sendmsg", "-e", "signal=none", "-o", log_path,
                        imgscan, "scan", "-q", "-o", report, tree], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1) or not os.path.exists(log_path):
        log("  strace run failed (exit %d): %s" % (p.returncode, p.stderr.decode(errors="replace").strip()[:200]))
        return None
    files, requests = set(), 0
    with open(log_path, errors="replace") as f:
        for line in f:
            if "sendmsg(" not in line or "SCM_RIGHTS" not in line:
                continue
            i = line.find("cmsg_data=[")
            if i < 0:
                continue
            requests += 1
            first = line[i + len("cmsg_data=["):].split(">", 1)[0]  # "7</path/to/file"
            files.add(first.split("<", 1)[1] if "<" in first else first)
    os.unlink(log_path)
    by_ext = {}
    for f in files:
        base = os.path.basename(f)
        ext = base[base.rfind(".") + 1:].lower() if base.rfind(".") > 0 else "(none)"
        by_ext[ext] = by_ext.get(ext, 0) + 1
    return {"files": len(files), "requests": requests, "by_extension": by_ext}


def disk_read_bytes():
    """Bytes read from the disks so far (/proc/diskstats, whole disks only:
    /sys/block has no partitions; loop, ram and zram devices left out): on a
    warm cache, what a tool read past the page cache."""
    disks = {d for d in os.listdir("/sys/block") if not d.startswith(("loop", "ram", "zram"))}
    total = 0
    with open("/proc/diskstats") as f:
        for line in f:
            x = line.split()
            if len(x) > 5 and x[2] in disks:
                total += int(x[5]) * 512
    return total


def tree_tools(imgscan, tree, work, paths):
    """The tools over the same files: imgscan walks the tree itself; file -s
    is given the list (one process, -f; xargs -0 when a name holds a
    newline); find + head reads 4 KiB of each file."""
    import shlex
    report = os.path.join(work, "imgscan-report.json")
    if any("\n" in p for p in paths):
        lst = os.path.join(work, "files.list0")
        with open(lst, "wb") as f:
            f.write(b"\0".join(os.fsencode(p) for p in paths) + b"\0")
        file_cmd = "xargs -0 file -s < %s > /dev/null" % shlex.quote(lst)
    else:
        lst = os.path.join(work, "files.list")
        with open(lst, "wb") as f:
            f.write(b"\n".join(os.fsencode(p) for p in paths) + b"\n")
        file_cmd = "file -s -f %s > /dev/null" % shlex.quote(lst)
    return {
        "imgscan": [imgscan, "scan", "-q", "-o", report, tree],
        # Where the time goes: without the worker round trips; with the
        # first blocks read through the page cache; with neither (the walk,
        # the opens and the probes alone).
        "imgscan --inside none": [imgscan, "scan", "-q", "-o", report, "--inside", "none", tree],
        "imgscan --read-mode buffered": [imgscan, "scan", "-q", "-o", report, "--read-mode", "buffered", tree],
        "imgscan --inside none --read-mode buffered": [imgscan, "scan", "-q", "-o", report, "--inside", "none",
                                                       "--read-mode", "buffered", tree],
        "file -s": (file_cmd, True),
        "find + head -c 4096": ("find %s -type f -print0 | xargs -0 head -c 4096 > /dev/null" % shlex.quote(tree),
                                True),
    }, report


def tree_wait_quiet(max_load, max_wait):
    """Wait (up to max_wait s) until the 1-minute load average is below
    max_load; other engineers' builds on a 2-core machine skew everything."""
    t0 = time.monotonic()
    while os.getloadavg()[0] > max_load and time.monotonic() - t0 < max_wait:
        log("  load %.2f > %.2f: waiting (%.0f s so far)" % (os.getloadavg()[0], max_load, time.monotonic() - t0))
        time.sleep(20)
    load = os.getloadavg()
    if load[0] > max_load:
        log("  load still %.2f after %.0f s: measuring anyway (noted in the results)" % (load[0], max_wait))
    return load


def tree_untimed(cmd):
    if isinstance(cmd, tuple):
        subprocess.run(["sh", "-c", cmd[0]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tree_run(tools, report, reps, max_load, max_wait):
    """`reps` rounds of all tools, the order rotating and reversing from one
    round to the next.  Warm: each timed run comes right after an untimed
    run of the same command, which brings what it reads (metadata, first
    blocks, the program and its libraries) into the page cache.  Right
    after, not once at the start: this machine's kernel pages out memory
    not touched for about a minute (DAMON reclaim), so a cache warmed
    before the other tools ran would be partly cold again."""
    names = list(tools)
    runs = []
    for rep in range(reps):
        load = tree_wait_quiet(max_load, max_wait)
        order = names[rep % len(names):] + names[:rep % len(names)]
        if rep % 2:
            order.reverse()
        for name in order:
            cmd = tools[name]
            tree_untimed(cmd)
            disk0 = disk_read_bytes()
            wall, rss, rc = timed(cmd[0], shell=True) if isinstance(cmd, tuple) else timed(cmd)
            disk = disk_read_bytes() - disk0
            own = None
            if name.startswith("imgscan"):
                try:
                    with open(report) as f:
                        own = json.load(f)["summary"]
                except (OSError, ValueError, KeyError):
                    own = None
            runs.append({"tool": name, "rep": rep, "seconds": wall, "cpu_seconds": LAST_CPU[0],
                         "peak_rss_kib": rss, "exit": rc, "load_before": load[0], "disk_read_bytes": disk,
                         "imgscan_wall_seconds": own.get("wall_seconds") if own else None,
                         "other_files": own.get("other_files") if own else None,
                         "images": own.get("images") if own else None})
            log("  rep %d %-42s %7.2f s  CPU %6.2f s  RSS %6d KiB  disk %7.1f MB  exit %d  (load %.2f)" % (
                rep, name, wall, LAST_CPU[0], rss, disk / 1e6, rc, load[0]))
    return runs


def tree_summary(runs, nfiles):
    med = statistics.median
    tools = []
    for r in runs:
        if r["tool"] not in tools:
            tools.append(r["tool"])
    out = {}
    for t in tools:
        rs = [r for r in runs if r["tool"] == t]
        secs = med(r["seconds"] for r in rs)
        own = [r["imgscan_wall_seconds"] for r in rs if r["imgscan_wall_seconds"] is not None]
        out[t] = {"seconds": secs, "files_per_second": nfiles / secs if secs else 0,
                  "cpu_seconds": med(r["cpu_seconds"] for r in rs), "peak_rss_kib": max(r["peak_rss_kib"] for r in rs),
                  "disk_read_bytes": med(r["disk_read_bytes"] for r in rs),
                  "imgscan_wall_seconds": med(own) if own else None, "exits": sorted({r["exit"] for r in rs}),
                  "n": len(rs)}
    by_rep = {}
    for r in runs:
        by_rep.setdefault(r["rep"], {})[r["tool"]] = r["seconds"]
    for t in tools:
        rs = [rep["imgscan"] / rep[t] for rep in by_rep.values() if t in rep and "imgscan" in rep and rep[t] > 0]
        out[t]["imgscan_time_ratio"] = med(rs) if rs else None
    return out


def tree_md(res):
    m, s = res["machine"], res["summary"]
    loads = [r["load_before"] for r in res["runs"]]
    lines = [TREE_BEGIN,
             "Tree `%s`: %d regular files, %.2f GB (os.walk, symlinks not followed); %s, %s cores, kernel %s, %s; "
             "%s; warm page cache (each timed run right after an untimed run of the same command); %d rounds, the "
             "order rotating; medians (of the wall time, the CPU time and the bytes read from disk); "
             "1-minute load before a round %.2f to %.2f (median %.2f)." % (
                 res["tree"], res["files"], res["bytes"] / 1e9, m["cpu"], m["cores"], m["kernel"], m["os"],
                 m["date"], res["reps"], min(loads), max(loads), statistics.median(loads)),
             "",
             "| tool | median s | files/s | CPU s (user + sys) | read from disk MB | peak RSS MiB | "
             "imgscan time / tool time |",
             "|---|---|---|---|---|---|---|"]
    for t, v in s.items():
        own = " (own %.2f)" % v["imgscan_wall_seconds"] if v["imgscan_wall_seconds"] is not None else ""
        lines.append("| %s | %.2f%s | %.0f | %.2f | %.0f | %.1f | %s |" % (
            t, v["seconds"], own, v["files_per_second"], v["cpu_seconds"], v["disk_read_bytes"] / 1e6,
            v["peak_rss_kib"] / 1024,
            "-" if v["imgscan_time_ratio"] is None else "%.2f" % v["imgscan_time_ratio"]))
    w, mc = res["worker"], res["magic"]
    lines.append("")
    lines.append("Sent to a worker (one run under strace, counting the files attached to requests): %s. "
                 "By their first bytes, %d files start like a compressed stream or archive (%s); files "
                 "named with an image extension (streamed whole): %d. imgscan's report does not say which "
                 "files went to a worker." % (
                     "not counted (no strace)" if w is None else "%d files in %d requests (%s)" % (
                         w["files"], w["requests"], ", ".join("%s %d" % kv for kv in sorted(
                             w["by_extension"].items(), key=lambda kv: -kv[1])[:6])),
                     sum(mc["by_magic"].values()), ", ".join("%s %d" % kv for kv in sorted(
                         mc["by_magic"].items(), key=lambda kv: -kv[1])), len(mc["named"])))
    lines.append(TREE_END)
    return "\n".join(lines)


def tree_write_readme(section):
    """Replace the marked tree block of bench/README.md (outside the block a
    full run rewrites); False when the markers are not there."""
    with open(README) as f:
        s = f.read()
    if TREE_BEGIN not in s or TREE_END not in s:
        return False
    s = s[:s.index(TREE_BEGIN)] + section + s[s.index(TREE_END) + len(TREE_END):]
    with open(README + ".tmp", "w") as f:
        f.write(s)
    os.replace(README + ".tmp", README)
    return True


def main_tree(a, imgscan):
    """--only tree: the cost of deciding what is not an image, on a real
    tree, beside file -s and find + head.  Writes only in its own temporary
    directory (report, file list, strace log), removed at the end; with
    --write-readme also the marked block of bench/README.md."""
    tree = os.path.abspath(a.tree)
    reps = 1 if a.smoke else max(a.reps, TREE_MIN_REPS)
    if not shutil.which("file"):
        sys.exit("bench: --only tree needs file(1)")
    work = tempfile.mkdtemp(prefix="imgscan-bench-tree-")
    try:
        log("listing the regular files of %s" % tree)
        paths, nbytes = tree_list(tree)
        log("  %d regular files, %.2f GB" % (len(paths), nbytes / 1e9))
        cfg = json.loads(subprocess.run([imgscan, "scan", "--print-config"], stdout=subprocess.PIPE,
                                        check=True).stdout)
        image_exts = {e.lower() for e in cfg["image_extensions"]}
        by_magic, named = tree_magic_count(paths, image_exts, {e.lower() for e in cfg.get("probe_first_extensions", [])})
        log("  by their first bytes: %s; named as images: %d" % (by_magic, len(named)))
        log("counting the files sent to a worker (one untimed run under strace)")
        worker = tree_strace_count(imgscan, tree, work)
        log("  %s" % worker)
        tools, report = tree_tools(imgscan, tree, work, paths)
        log("measuring, warm cache, %d rounds" % reps)
        runs = tree_run(tools, report, reps, a.max_load, a.max_wait)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {"tree": tree, "files": len(paths), "bytes": nbytes, "reps": reps, "machine": machine(), "runs": runs,
           "summary": tree_summary(runs, len(paths)), "worker": worker,
           "magic": {"by_magic": by_magic, "named": named}}
    section = tree_md(res)
    print(section)
    print(json.dumps({k: v for k, v in res.items() if k != "magic"} | {"named_as_images": named}, indent=1),
          file=sys.stderr)
    if a.write_readme:
        if reps < TREE_README_REPS:
            log("fewer than %d rounds: bench/README.md left alone" % TREE_README_REPS)
        elif tree_write_readme(section):
            log("bench/README.md: tree section updated")
        else:
            log("bench/README.md has no %s ... %s block: left alone" % (TREE_BEGIN, TREE_END))


def machine_sane_or_exit():
    """Figures taken while /dev/null is a regular file are void: every
    `> /dev/null` then writes into the page cache."""
    import stat
    st = os.lstat("/dev/null")
    if not stat.S_ISCHR(st.st_mode) or st.st_rdev != os.makedev(1, 3):
        sys.exit("bench: /dev/null is not the character device 1,3; restore it first "
                 "(rm /dev/null && mknod -m 666 /dev/null c 1 3): no measurement is valid until then")


# ---- quick mode: the two ratios of issue 11, on anyone's machine ------------------

def alternate(runs_out, label, mode, tools, paths, units, reps, warmups):
    """Each repetition runs every tool once, the order reversing from one
    repetition to the next (A B, B A, ...): pairs taken in the same minutes."""
    names = list(tools)
    for rep in range(reps):
        for name in (names if rep % 2 == 0 else names[::-1]):
            r = measure_once(label, mode, rep, name, tools[name], paths, units, warmups.get(name))
            runs_out.append(r)
            log("  %-5s %-5s rep %d %-24s %6.3f s  CPU %6.3f s%s" % (
                label, mode, rep, name, r["seconds"], r["cpu_seconds"],
                "" if r["exit"] in (0, 1) else "  exit %d" % r["exit"]))
            if r["exit"] not in (0, 1):
                sys.exit("bench: %s exited %d" % (name, r["exit"]))


def quick_rows(runs):
    """(measure, each repetition's figure, median) rows for the quick table."""
    def figs(label, mode, tool, key, scale=1.0):
        v = [r[key] * scale for r in sorted(runs, key=lambda r: r["rep"])
             if r["set"] == label and r["mode"] == mode and r["tool"] == tool]
        return v
    rows = []
    def add(name, vals, fmt):
        if vals:
            rows.append((name, ", ".join(fmt % x for x in vals), fmt % statistics.median(vals), vals))
    fios = [t for t in FIOS if any(r["tool"] == t for r in runs)]
    for t in ["imgscan"] + fios:
        add("cold %s GB/s" % t, figs("large", "cold", t, "rate", 1e-9), "%.2f")
    add("cold imgscan / best fio", paired_ratios(runs, "large", "cold", "imgscan", fios), "%.2f")
    for t in ("imgscan", "xxhsum -H2"):
        add("warm %s s" % t, figs("large", "warm", t, "seconds"), "%.3f")
        add("warm %s CPU s" % t, figs("large", "warm", t, "cpu_seconds"), "%.3f")
    add("warm imgscan / xxhsum -H2 (speed)", paired_ratios(runs, "large", "warm", "imgscan", "xxhsum -H2"), "%.2f")
    add("warm CPU per byte, imgscan / xxhsum -H2",
        paired_ratios(runs, "large", "warm", "imgscan", "xxhsum -H2", key="cpu_seconds"), "%.2f")
    for t in ("imgscan", "file -s"):
        add("small warm %s images/s" % t, figs("small", "warm", t, "rate"), "%.0f")
    add("small warm imgscan / file -s", paired_ratios(runs, "small", "warm", "imgscan", "file -s"), "%.2f")
    return rows


QUICK_GOALS = {"cold imgscan / best fio": (0.95, ">="), "warm imgscan / xxhsum -H2 (speed)": (1.4, ">="),
               "warm CPU per byte, imgscan / xxhsum -H2": (1.2, "<="), "small warm imgscan / file -s": (1.0, ">=")}


def main_quick(a, imgscan):
    """make bench QUICK=1: the 4 GiB set (two ISO 9660, two ext4), 5
    alternating cold pairs against fio and warm pairs against xxhsum -H2,
    and warm pairs against file -s on 2,000 small images; a few minutes."""
    os.makedirs(a.dir, exist_ok=True)
    REPORT[0] = os.path.join(a.dir, "imgscan-report.json")
    large = make_pool(a.dir, 4, GIB)
    small_sets = make_small(a.dir, 2000, 2000)
    small_dir, tiny_dir = small_sets[2000], small_sets[100]
    small_paths = [os.path.join(small_dir, n) for n in os.listdir(small_dir)]
    large_bytes = sum(os.path.getsize(f) for f in large)
    tiny = os.path.join(tiny_dir, sorted(os.listdir(tiny_dir))[0])
    lt, warmups = large_tools(large, imgscan), large_tools([tiny], imgscan)
    st, swarm = small_tools(small_dir, imgscan), small_tools(tiny_dir, imgscan)
    runs = []
    cold = can_drop_caches()
    if cold:
        alternate(runs, "large", "cold", {k: lt[k] for k in ["imgscan"] + FIOS}, large, large_bytes, a.reps, warmups)
    else:
        log("not root (cannot drop the page cache): cold pairs skipped")
    alternate(runs, "large", "warm", {k: lt[k] for k in ("imgscan", "xxhsum -H2")}, large, large_bytes, a.reps, warmups)
    alternate(runs, "small", "warm", {k: st[k] for k in ("imgscan", "file -s")}, small_paths, len(small_paths),
              a.reps, swarm)
    mach = machine(a.dir)
    rows = quick_rows(runs)
    md = ["Quick mode (`make bench QUICK=1`): %s; %d alternating pairs per measure, imgscan at default options." % (
        machine_line(mach), a.reps), "",
        "Large set: 4 images, %.2f GB (two ISO 9660, two ext4); small set: %d FAT images of 64 KiB." % (
            large_bytes / 1e9, len(small_paths)), "",
        "| measure | each repetition | median | goal |", "|---|---|---|---|"]
    for name, each, med, vals in rows:
        g = QUICK_GOALS.get(name)
        goal = ""
        if g:
            m = statistics.median(vals)
            ok = m >= g[0] if g[1] == ">=" else m <= g[0]
            goal = "%s %s: %s" % (g[1], g[0], "met" if ok else "**not met**")
        md.append("| %s | %s | %s | %s |" % (name, each, med, goal))
    text = "\n".join(md)
    print(text)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "quick.json"), "w") as f:
        json.dump({"machine": mach, "large_bytes": large_bytes, "small_images": len(small_paths), "runs": runs,
                   "rows": [{"measure": n, "values": v, "median": statistics.median(v)} for n, _e, _m, v in rows]},
                  f, indent=1)
    with open(os.path.join(a.out, "quick.md"), "w") as f:
        f.write(text + "\n")
    log("results: %s/quick.{json,md}" % a.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/imgscan-bench", help="where the data set lives (default /tmp/imgscan-bench)")
    ap.add_argument("--imgscan", default="build/imgscan")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--pool", type=int, default=8, help="1 GiB images to make (the large set is the first 4)")
    ap.add_argument("--image-size-mib", type=int, default=1024)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--out", default=RESULTS_DIR)
    ap.add_argument("--quick", action="store_true",
                    help="the 4 GiB set only: 5 alternating cold pairs (imgscan, fio) and warm pairs (imgscan, "
                         "xxhsum -H2; imgscan, file -s on 2,000 small images): a few minutes")
    ap.add_argument("--smoke", action="store_true", help="tiny data set, one repetition (a smoke test)")
    ap.add_argument("--only", choices=["all", "rescan", "tree"], default="all",
                    help="rescan: only the --state part (first scan from a cold cache, rescan warm and cold, "
                         "catalog size) on the large set and the 1,000-image small set; merged into the "
                         "results of the last full run.  tree: the cost of deciding what is not an image, "
                         "imgscan against file -s and find + head over the regular files of --tree (warm "
                         "cache, at least 5 rounds); needs no data set")
    ap.add_argument("--tree", default="/usr", help="--only tree: the tree to walk (default /usr)")
    ap.add_argument("--max-load", type=float, default=1.0,
                    help="--only tree: wait before each round until the 1-minute load is below this")
    ap.add_argument("--max-wait", type=float, default=600,
                    help="--only tree: wait at most this many seconds for the load, then measure anyway")
    ap.add_argument("--write-readme", action="store_true",
                    help="--only tree: replace the tree block of bench/README.md with the results")
    a = ap.parse_args()
    machine_sane_or_exit()
    imgscan = os.path.abspath(a.imgscan)
    if a.quick:
        if a.reps == 3:
            a.reps = 5
        return main_quick(a, imgscan)
    if a.smoke:
        a.pool, a.image_size_mib, a.small, a.reps = 2, 64, 200, 1
    if a.only == "tree":
        return main_tree(a, imgscan)
    os.makedirs(a.dir, exist_ok=True)
    REPORT[0] = os.path.join(a.dir, "imgscan-report.json")
    log("data set in %s" % a.dir)
    pool = make_pool(a.dir, min(a.pool, 4) if a.only == "rescan" else a.pool, a.image_size_mib << 20)
    small_sets = make_small(a.dir, a.small, 10000 if not a.smoke else 400)
    large = pool[:4]
    # The figures that go into bench/README.md: 4 x 1 GiB, and 1,000 distinct small images.
    standard = not a.smoke and a.image_size_mib == 1024 and len(large) == 4 and a.small >= 1000
    cold = can_drop_caches()
    if a.only == "rescan":
        return main_rescan(a, imgscan, large, small_sets[1000], cold, standard)
    os.makedirs(a.out, exist_ok=True)
    modes = ["cold", "warm"] if cold else ["warm"]
    if not cold:
        log("not root (cannot drop the page cache): cold runs skipped")
    large_bytes = sum(os.path.getsize(f) for f in large)
    log("large set: %d images, %.2f GB" % (len(large), large_bytes / 1e9))
    tiny_dir = small_sets[100]
    tiny = os.path.join(tiny_dir, sorted(os.listdir(tiny_dir))[0])
    runs = run_set("large", large_tools(large, imgscan), large, large_bytes, a.reps, modes,
                   large_tools([tiny], imgscan))
    small_dir = small_sets[a.small]
    small_paths = [os.path.join(small_dir, n) for n in os.listdir(small_dir)]
    log("small set: %d images" % len(small_paths))
    runs += run_set("small", small_tools(small_dir, imgscan), small_paths, len(small_paths), a.reps, modes,
                    small_tools(tiny_dir, imgscan))
    scal = [] if a.no_scaling else scaling(pool, {k: v for k, v in small_sets.items() if k != a.small or k in (100, 1000, 10000)}, imgscan, a.reps)
    meds_l, meds_s = medians(runs, "large"), medians(runs, "small")
    tg = targets(runs, 48)  # read buffers: 1.5 x the queue depth of 32, 1 MiB each
    mach = machine(a.dir)
    svg = plot(meds_l, os.path.join(a.out, "latest.svg"))
    md = ["Machine: %s; %d repetitions, medians%s." % (machine_line(mach), a.reps,
        "" if cold else " (warm only: not root)"),
        "", "Large set: %d images, %.2f GB (ISO 9660 and ext4, incompressible content)" % (len(large), large_bytes / 1e9), "",
        table(meds_l, "large", "GB/s", modes), "",
        "Small set: %d FAT images of 64 KiB" % len(small_paths), "", table(meds_s, "small", "img/s", modes), "",
        "Targets (medians of ratios paired within one repetition; each repetition's ratio in brackets):", "",
        "| target | measured | goal | met |", "|---|---|---|---|"]
    md += target_rows(tg)
    if scal:
        md += ["", "Scaling (warm):", "", scaling_table(scal)]
    try:
        resc = measure_rescan(imgscan, a.dir, large, small_sets[1000], a.reps, cold)
    except RescanError as e:
        sys.exit("bench: %s" % e)
    md += ["", rescan_md(resc)]
    text = "\n".join(md)
    print(text)
    with open(os.path.join(a.out, "latest.json"), "w") as f:
        json.dump({"machine": mach, "large_bytes": large_bytes, "small_images": len(small_paths), "runs": runs,
                   "targets": tg, "scaling": scal, "rescan": resc}, f, indent=1)
    with open(os.path.join(a.out, "latest.md"), "w") as f:
        f.write(text + "\n")
    if not a.smoke:
        update_readme(text + ("\n\n![throughput](results/latest.svg)" if svg else ""))
    log("results: %s/latest.{json,md,svg}" % a.out)


def main_rescan(a, imgscan, large, small_dir, cold, standard):
    """--only rescan: measure, then merge into latest.json / latest.md (and the
    README's results section) without touching what the last full run wrote."""
    out = a.out
    if not standard and os.path.abspath(out) == os.path.abspath(RESULTS_DIR):
        out = os.path.join(a.dir, "results")
        log("not the standard data set (4 x 1 GiB, 1,000 distinct small images): results go to %s, "
            "bench/results and bench/README.md are left alone" % out)
    os.makedirs(out, exist_ok=True)
    try:
        resc = measure_rescan(imgscan, a.dir, large, small_dir, a.reps, cold)
    except RescanError as e:
        sys.exit("bench: %s" % e)
    section = rescan_md(resc)
    print(section)
    js = os.path.join(out, "latest.json")
    data = {}
    try:
        with open(js) as f:
            data = json.load(f)
    except (OSError, ValueError):
        pass
    data["rescan"] = resc
    with open(js + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
    os.replace(js + ".tmp", js)
    mdp = os.path.join(out, "latest.md")
    try:
        with open(mdp) as f:
            md = f.read()
    except OSError:
        md = ""
    with open(mdp + ".tmp", "w") as f:
        f.write(replace_rescan_section(md, section) if md else section + "\n")
    os.replace(mdp + ".tmp", mdp)
    if standard and os.path.abspath(out) == os.path.abspath(RESULTS_DIR):
        if rescan_only_update_readme(section):
            log("bench/README.md: rescan section updated")
    log("results: %s/latest.{json,md}" % out)


if __name__ == "__main__":
    main()
