#!/usr/bin/env python3
"""Scans of real images under valgrind's memcheck (issue 15): the scan
itself and every worker process it starts (The Sleuth Kit, looking inside
compressed files and containers, EWF checks) must show no memory error and
no definite leak.

The workers are separate programs (imgscan-worker, started with fork and
fexecve by scanner/tsk_pool.c), so valgrind follows them
(--trace-children=yes) and each process writes its own log (%p).  A worker's
exit status is never looked at by imgscan (the pool closes its socket and
reaps it), so --error-exitcode only reaches us for the main process: every
log is read, and each must end with "ERROR SUMMARY: 0 errors" (a log
without a summary is a process that did not finish its check: a failure).
Library-internal leaks that are not imgscan's are suppressed, each with its
reason, in tests/valgrind.supp.

Why --io pread: valgrind does not see the kernel write into io_uring's read
buffers, so every byte read through the ring is "uninitialised" to it
(false positives in the hashing and every probe); and valgrind 3.19 keeps
its global lock across io_uring_enter, so the hashing threads never run
while the reader waits for a completion and the scan hangs (the same as
liburing issue 657).  IMGSCAN_VALGRIND_IO=uring tries the ring by hand.

Images: a GPT disk and an MBR disk (ext4), ISO 9660 with UDF, a FAT12
floppy, NTFS, the MBR disk as qcow2, VMDK and E01, a gzip'd FAT image and a
zip holding the ISO; scanned twice: JSON with every digest and the
sector-hash lists, and JSON lines with --inside full.  Then 30 bit-flipped
images of each of it_bitflip.py's seven bases (IMGSCAN_VALGRIND_MUTANTS=N
for N each, by hand), scanned once: damage that crashes nothing may still
read memory that was never written.
Usage: it_valgrind.py path/to/imgscan.  Exits 77 without valgrind."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
import it_bitflip  # noqa: E402  (its base images and mutations)

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = ("valgrind", "sfdisk", "ewfacquire", "gzip", "zip") + it_bitflip.TOOLS
RUN_TIMEOUT_S = 600
# Under valgrind every process runs some 20-50 times slower, and the
# worker's address space holds valgrind's own too: the Sleuth Kit step
# gets more time and room than its defaults (20 s, 1024 MiB).
SLOW = ["--tsk-timeout", "300", "--tsk-memory", "8192"]
# Per image: (kind, identification.tsk.status) the scan must report.
WANT = {
    "gpt.img": ("disk", "ok"), "mbr.img": ("disk", "ok"), "disc.iso": ("optical", "ok"),
    "floppy.img": ("disk", "ok"), "ntfs.img": ("disk", "ok"), "mbr.qcow2": ("container", "ok"),
    "mbr.vmdk": ("container", "ok"), "mbr.E01": ("container", "ok"), "fat.img.gz": ("compressed", "not-run"),
    "disc.zip": ("compressed", "not-run"),
}


def make_sample(d, work):
    """The images of WANT, small, made by their tools."""
    src = itlib.content_dir(work, nbytes=100_000)
    itlib.make_gpt_disk(os.path.join(d, "gpt.img"), work, size=36 << 20)
    raw = os.path.join(work, "mbr.raw")
    itlib.make_mbr_disk(raw, work, size=8 << 20, fs="ext4")
    shutil.copy(raw, os.path.join(d, "mbr.img"))
    itlib.make_iso(os.path.join(d, "disc.iso"), "VALGRIND", src, udf=True)
    itlib.make_fat(os.path.join(d, "floppy.img"), 12, "FLOPPY", 1440 << 10)
    itlib.make_ntfs(os.path.join(d, "ntfs.img"), "VGNTFS", size=4 << 20)
    itlib.make_qemu(os.path.join(d, "mbr.qcow2"), "qcow2", src=raw)
    itlib.make_qemu(os.path.join(d, "mbr.vmdk"), "vmdk", src=raw)
    itlib.make_e01(os.path.join(d, "mbr"), raw)
    itlib.compress(os.path.join(d, "floppy.img"), os.path.join(d, "fat.img.gz"), "gzip")
    itlib.sh("zip", "-q", "-j", os.path.join(d, "disc.zip"), os.path.join(d, "disc.iso"))


MUTANTS_PER_BASE = int(os.environ.get("IMGSCAN_VALGRIND_MUTANTS", "30"))


def make_mutants(d, work):
    """Bit-flipped images (tests/it_bitflip.py's bases and mutations, and
    its IMGSCAN_BITFLIP_SEED): damage that crashes nothing may still read
    what was never written.  Returns how many."""
    n, seed = 0, int(os.environ.get("IMGSCAN_BITFLIP_SEED", "15"))
    for base in it_bitflip.make_bases(work):
        for i in range(MUTANTS_PER_BASE):
            it_bitflip.make_mutant(seed, base, i, os.path.join(d, "%s-%02d.%s" % (base.name, i, base.ext)))
            n += 1
    return n


def valgrind_cmd(logs):
    return ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--trace-children=yes",
            "--child-silent-after-fork=yes", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite", "--num-callers=30", "--gen-suppressions=all",
            "--suppressions=" + os.path.join(HERE, "valgrind.supp"), "--log-file=" + os.path.join(logs, "vg.%p.log")]


def scan_under_valgrind(c, label, logs, args, statuses):
    """One scan under valgrind, which must exit with one of statuses:
    (exit status or None on a timeout, seconds)."""
    os.makedirs(logs)
    cmd = valgrind_cmd(logs) + [itlib.IMGSCAN, "scan", "-q", *SLOW, *args]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        c.true("%s: ends within %d s" % (label, RUN_TIMEOUT_S), False)
        return None, time.monotonic() - t0
    took = time.monotonic() - t0
    c.true("%s: exit status %s (99: valgrind found errors in imgscan itself)" % (label, statuses),
           p.returncode in statuses, "got %d" % p.returncode)
    if p.returncode not in statuses:
        print(p.stderr.decode(errors="replace")[-3000:])
    return p.returncode, took


def check_logs(c, label, logs):
    """Every process's log ends with zero errors; returns (processes, workers)."""
    workers = 0
    paths = sorted(glob.glob(os.path.join(logs, "vg.*.log")))
    for path in paths:
        with open(path, errors="replace") as f:
            text = f.read()
        command = re.search(r"Command: (\S+)", text)
        name = os.path.basename(command.group(1)) if command else "?"
        workers += name.endswith("-worker")
        summary = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        ok = summary is not None and summary.group(1) == "0"
        c.true("%s: %s (%s) has no memory errors" % (label, os.path.basename(path), name), ok,
               "\n" + text[-12000:] if not ok else "")
    c.true("%s: the scan's own log" % label, any("Command: " + itlib.IMGSCAN in open(p, errors="replace").read()
                                                for p in paths))
    c.true("%s: worker processes were traced" % label, workers >= 1, "%d logs" % len(paths))
    return len(paths), workers


def check_report(c, label, images):
    got = {os.path.basename(i["path"]): (i["kind"], i["identification"]["tsk"]["status"]) for i in images}
    c.eq(label + ": images, kinds and TSK status", got, WANT)
    for img in images:
        c.eq("%s: %s has no error" % (label, os.path.basename(img["path"])), img["errors"], [])
        if img.get("inside"):
            c.eq("%s: %s looked inside" % (label, os.path.basename(img["path"])), img["inside"]["status"], "ok")


def check_output(c, label, out, sectors, mutants):
    """The report of a run that ended: what it must say of the sample, or
    an entry for every mutant."""
    if label == "jsonl":
        check_report(c, label, [l for l in map(json.loads, open(out)) if l["type"] == "image"])
        return
    images = json.load(open(out))["images"]
    if label == "json":
        check_report(c, label, images)
        c.eq("json: sector-hash lists", len(os.listdir(sectors)), len(WANT))
    else:
        c.eq(label + ": an entry for every mutant", sorted(os.path.basename(i["path"]) for i in images),
             sorted(os.listdir(mutants)))


def main():
    top = itlib.setup()
    itlib.skip_without(TOOLS, top)
    io = os.environ.get("IMGSCAN_VALGRIND_IO", "pread")
    sample, mutants, sectors, work = (os.path.join(top, s) for s in ("sample", "mutants", "sectors", "work"))
    for made in (sample, mutants, sectors, work):
        os.makedirs(made)
    make_sample(sample, work)
    print("%d bit-flipped images" % make_mutants(mutants, os.path.join(work, "bitflip")))
    shutil.rmtree(work)
    c = itlib.Checker()
    out = os.path.join(top, "report-%s")
    # The sample is clean (exit 0); mutants have findings and may have errors.
    runs = (("json", ["--hash", "md5,sha1,sha256", "--sector-hashes", sectors, sample], (0,)),
            ("jsonl", ["--inside", "full", "--format", "jsonl", "-j", "1", sample], (0,)),
            ("bitflip", [mutants], (0, 1, 2)))
    for label, args, statuses in runs:
        rc, took = scan_under_valgrind(c, label, os.path.join(top, "logs-" + label),
                                       ["--io", io, "-o", out % label, *args], statuses)
        procs, workers = check_logs(c, label, os.path.join(top, "logs-" + label))
        print("%s: %d processes under valgrind (%d workers) in %.1f s" % (label, procs, workers, took))
        if rc is not None:
            check_output(c, label, out % label, sectors, mutants)
    shutil.rmtree(top)
    c.done()


if __name__ == "__main__":
    main()
