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
                wall, rss, rc = run_tool(tools[name], mode == "cold", paths, warmups.get(name))
                rate = units / wall if wall > 0 else 0
                runs.append({"set": label, "tool": name, "mode": mode, "rep": rep, "seconds": wall,
                             "cpu_seconds": LAST_CPU[0], "rate": rate, "peak_rss_kib": rss, "exit": rc})
                log("  %-6s rep %d %-24s %7.2f s %9.2f %s  RSS %6d KiB%s" % (
                    mode, rep, name, wall, rate / 1e9 if label == "large" else rate,
                    "GB/s" if label == "large" else "img/s", rss, "" if rc in (0, 1) else "  exit %d" % rc))
    return runs


# ---- summaries --------------------------------------------------------------

def medians(runs, set_label):
    out = {}
    for r in runs:
        if r["set"] == set_label:
            out.setdefault((r["tool"], r["mode"]), []).append(r)
    return {k: {"rate": statistics.median(x["rate"] for x in v),
                "seconds": statistics.median(x["seconds"] for x in v),
                "cpu_seconds": statistics.median(x.get("cpu_seconds", 0) for x in v),
                "peak_rss_kib": max(x["peak_rss_kib"] for x in v), "n": len(v)} for k, v in out.items()}


def paired_ratio(runs, set_label, mode, num, den):
    """Median over repetitions of rate(num) / rate(den), both from the same repetition."""
    by = {}
    for r in runs:
        if r["set"] == set_label and r["mode"] == mode:
            by.setdefault(r["rep"], {})[r["tool"]] = r["rate"]
    ratios = []
    for rep in by.values():
        d = max(rep[t] for t in den) if isinstance(den, (list, tuple)) else rep.get(den)
        if num in rep and d:
            ratios.append(rep[num] / d)
    return statistics.median(ratios) if ratios else None


def targets(runs, buffers_mib):
    fios = ["fio 1 job QD32 direct", "fio job/file buffered", "fio job/file direct"]
    rss = max((r["peak_rss_kib"] for r in runs if r["tool"].startswith("imgscan")), default=0)
    t = [
        ("cold large: imgscan / best fio (physical limit)", paired_ratio(runs, "large", "cold", "imgscan", fios), 0.95),
        ("warm large: imgscan / xxhsum -H2", paired_ratio(runs, "large", "warm", "imgscan", "xxhsum -H2"), 1.4),
        ("warm small: imgscan / file -s (images/s)", paired_ratio(runs, "small", "warm", "imgscan", "file -s"), 1.0),
        ("warm large: imgscan --hash sha256 / rhash --sha256",
         paired_ratio(runs, "large", "warm", "imgscan --hash sha256", "rhash --sha256"), 1.6),
        ("cold large: --io uring / --io pread", paired_ratio(runs, "large", "cold", "imgscan --io uring", "imgscan --io pread"), None),
        ("warm large: --io uring / --io pread", paired_ratio(runs, "large", "warm", "imgscan --io uring", "imgscan --io pread"), None),
        ("cold small: --io uring / --io pread", paired_ratio(runs, "small", "cold", "imgscan --io uring", "imgscan --io pread"), None),
    ]
    out = [{"target": n, "ratio": r, "goal": g, "met": (r is not None and g is not None and r >= g) if g else None}
           for n, r, g in t]
    out.append({"target": "peak RSS of imgscan (MiB), goal < 64 + %d of buffers" % buffers_mib,
                "ratio": rss / 1024, "goal": 64 + buffers_mib, "met": rss / 1024 < 64 + buffers_mib})
    return out


def machine():
    def first(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, shell=True).stdout.decode().strip()
        except OSError:
            return ""
    return {"cpu": first("lscpu | sed -n 's/^Model name: *//p' | head -1"), "cores": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1),
            "kernel": platform.release(), "os": first(". /etc/os-release; echo $PRETTY_NAME"),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


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
            cells.append(("%.2f" % (v["rate"] / 1e9) if unit == "GB/s" else "%.0f" % v["rate"]) if v else "-")
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


def machine_sane_or_exit():
    """Figures taken while /dev/null is a regular file are void: every
    `> /dev/null` then writes into the page cache."""
    import stat
    st = os.lstat("/dev/null")
    if not stat.S_ISCHR(st.st_mode) or st.st_rdev != os.makedev(1, 3):
        sys.exit("bench: /dev/null is not the character device 1,3; restore it first "
                 "(rm /dev/null && mknod -m 666 /dev/null c 1 3): no measurement is valid until then")


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
    ap.add_argument("--quick", action="store_true", help="tiny data set, one repetition (a smoke test)")
    a = ap.parse_args()
    machine_sane_or_exit()
    if a.quick:
        a.pool, a.image_size_mib, a.small, a.reps = 2, 64, 200, 1
    imgscan = os.path.abspath(a.imgscan)
    os.makedirs(a.dir, exist_ok=True)
    REPORT[0] = os.path.join(a.dir, "imgscan-report.json")
    os.makedirs(a.out, exist_ok=True)
    log("data set in %s" % a.dir)
    pool = make_pool(a.dir, a.pool, a.image_size_mib << 20)
    small_sets = make_small(a.dir, a.small, 10000 if not a.quick else 400)
    large = pool[:4]
    cold = can_drop_caches()
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
    tg = targets(runs, 32)
    mach = machine()
    svg = plot(meds_l, os.path.join(a.out, "latest.svg"))
    md = ["Machine: %s, %s cores, %s GiB RAM, kernel %s, %s; %s; %d repetitions, medians%s." % (
        mach["cpu"], mach["cores"], mach["memory_gib"], mach["kernel"], mach["os"], mach["date"], a.reps,
        "" if cold else " (warm only: not root)"),
        "", "Large set: %d images, %.2f GB (ISO 9660 and ext4, incompressible content)" % (len(large), large_bytes / 1e9), "",
        table(meds_l, "large", "GB/s", modes), "",
        "Small set: %d FAT images of 64 KiB" % len(small_paths), "", table(meds_s, "small", "img/s", modes), "",
        "Targets (medians of ratios paired within one repetition):", "",
        "| target | measured | goal | met |", "|---|---|---|---|"]
    for t in tg:
        md.append("| %s | %s | %s | %s |" % (t["target"], "-" if t["ratio"] is None else "%.2f" % t["ratio"],
                                            "-" if t["goal"] is None else t["goal"],
                                            "-" if t["met"] is None else ("yes" if t["met"] else "**no**")))
    if scal:
        md += ["", "Scaling (warm):", "", scaling_table(scal)]
    text = "\n".join(md)
    print(text)
    with open(os.path.join(a.out, "latest.json"), "w") as f:
        json.dump({"machine": mach, "large_bytes": large_bytes, "small_images": len(small_paths), "runs": runs,
                   "targets": tg, "scaling": scal}, f, indent=1)
    with open(os.path.join(a.out, "latest.md"), "w") as f:
        f.write(text + "\n")
    if not a.quick:
        update_readme(text + ("\n\n![throughput](results/latest.svg)" if svg else ""))
    log("results: %s/latest.{json,md,svg}" % a.out)


if __name__ == "__main__":
    main()
