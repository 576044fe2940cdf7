"""shardlib - what the sharded-scan tests share: a small archive of real
images made at test time, reading reports (JSON or JSON lines), and the
comparison of a merged report with a single machine's scan of the same tree.

Used by it_shard_slurm.py (deploy/slurm on a real one-node Slurm cluster)
and it_shard_parallel.py (deploy/parallel with GNU parallel, locally).
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(REPO, "deploy")


def skip(why):
    print("SKIP: %s" % why)
    sys.exit(77)


def shard_support_missing():
    """Why the binary under test cannot run sharded scans (no --shard, no
    merge: only while the feature is being written), or None."""
    p = subprocess.run([itlib.IMGSCAN, "scan", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if b"--shard" not in p.stdout:
        return "%s scan --help does not mention --shard" % itlib.IMGSCAN
    p = subprocess.run([itlib.IMGSCAN, "merge", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        return "%s merge --help exits %d: no merge command" % (itlib.IMGSCAN, p.returncode)
    return None


def require_shard_support():
    """Skip (77) when shard_support_missing() says why."""
    why = shard_support_missing()
    if why:
        skip(why)


def build_archive(top):
    """A tree of 15 small real images in a few directories, with what a real
    archive has: a misnamed image (an ISO named .img: a finding), the same
    image stored twice (a duplicate group), a text file and a symlink.
    Returns the archive root."""
    arch = os.path.join(top, "archive")
    work = os.path.join(top, "archive-src")
    for d in ("iso", "iso/old", "floppy", "disks", "disks/vm", "misc", "copies"):
        os.makedirs(os.path.join(arch, d), exist_ok=True)
    src = itlib.content_dir(work, nbytes=64 << 10)
    src2 = itlib.content_dir(work, name="content2", nbytes=96 << 10)
    itlib.make_iso(os.path.join(arch, "iso", "install-1.iso"), "INSTALL1", src)
    itlib.make_iso(os.path.join(arch, "iso", "install-2.iso"), "INSTALL2", src2)
    itlib.make_iso(os.path.join(arch, "iso", "old", "udf-bridge.iso"), "BRIDGE", src, udf=True)
    itlib.make_iso(os.path.join(arch, "misc", "really-an-iso.img"), "MISNAMED", src2)  # misnamed
    itlib.make_udf(os.path.join(arch, "iso", "old", "plain-udf.iso"), "PLAINUDF", size=4 << 20)
    itlib.make_fat(os.path.join(arch, "floppy", "boot.img"), 12, "BOOT", 1440 << 10)
    itlib.make_fat(os.path.join(arch, "floppy", "data.img"), 12, "DATA", 1440 << 10)
    itlib.make_fat(os.path.join(arch, "floppy", "fat16.img"), 16, "FAT16", 20 << 20)
    itlib.make_ext(os.path.join(arch, "disks", "root.ext4"), "ext4", "ROOTFS", 8 << 20)
    itlib.make_ext(os.path.join(arch, "disks", "vm", "home.img"), "ext4", "HOME", 8 << 20)
    itlib.make_ext(os.path.join(arch, "disks", "vm", "boot.ext2"), "ext2", "VMBOOT", 4 << 20)
    itlib.make_mbr_disk(os.path.join(arch, "disks", "mbr.img"), work, size=16 << 20)
    itlib.make_qemu(os.path.join(arch, "disks", "vm", "guest.qcow2"), "qcow2",
                    src=os.path.join(arch, "floppy", "data.img"))
    itlib.make_fat(os.path.join(arch, "misc", "fat32.img"), 32, "FAT32", 34 << 20)
    # The same image twice, in another directory: one duplicate group.
    shutil.copy(os.path.join(arch, "iso", "install-1.iso"), os.path.join(arch, "copies", "install-1-copy.iso"))
    with open(os.path.join(arch, "misc", "NOTES.txt"), "w") as f:
        f.write("not an image\n")
    os.symlink("../iso/install-2.iso", os.path.join(arch, "misc", "latest.iso"))
    shutil.rmtree(work)
    return arch


def settle(arch, seconds=2.5):
    """Wait until every file in arch was changed (ctime) more than seconds ago:
    the catalog (--state) keeps no digest of a file changed within 2 s of its
    read (it could be written again unseen within the clock's granularity)."""
    newest = max(os.lstat(os.path.join(d, n)).st_ctime for d, _, names in os.walk(arch) for n in names)
    wait = newest + seconds - time.time()
    if wait > 0:
        time.sleep(wait)


def load_report(path):
    """A scan or merged report as one document, JSON or JSON lines: a JSON
    lines report is put back together (run line, image lines, summary line)."""
    with open(path, "rb") as f:
        text = f.read().decode()
    try:
        doc = json.loads(text)
        if doc.get("type") != "run":
            return doc
    except json.JSONDecodeError:  # "Extra data": more than one line
        pass
    doc = {"images": [], "skipped": []}
    for line in text.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        t = obj.pop("type", None)
        if t == "run":
            doc["tool"], doc["run"] = obj.get("tool"), obj.get("run")
        elif t == "image":
            doc["images"].append(obj)
        elif t == "skipped":
            doc["skipped"].append(obj)
        elif t == "summary":
            obj.pop("end", None)
            doc["summary"] = obj
    return doc


def _images(report):
    return {img["path"]: img for img in report["images"]}


def _dup_groups(report):
    groups = report["summary"].get("duplicates") or []
    return sorted(sorted(i["path"] for i in g["images"]) for g in groups)


# Summary counts a merge must give exactly as one machine's scan does.
SUMMARY_KEYS = ("entries", "images", "findings", "misnamed", "by_kind", "other_files", "symlinks",
                "images_with_errors", "walk_errors", "bytes_hashed", "exit_status", "partial")


def compare(c, what, merged, single, skip_keys=()):
    """Check (itlib.Checker c) that merged holds what single does: the same
    images by path, digests, kinds, finding codes; the same summary counts
    and duplicate groups; the same skipped entries."""
    m, s = _images(merged), _images(single)
    c.eq("%s: the same images (by path)" % what, sorted(m), sorted(s))
    c.eq("%s: no image listed twice" % what, len(merged["images"]), len(m))
    for path in sorted(set(m) & set(s)):
        a, b = m[path], s[path]
        rel = os.path.basename(path)
        c.eq("%s: %s xxh128" % (what, rel), (a.get("hashes") or {}).get("xxh128"),
             (b.get("hashes") or {}).get("xxh128"))
        c.eq("%s: %s kind" % (what, rel), a.get("kind"), b.get("kind"))
        c.eq("%s: %s finding codes" % (what, rel), itlib.codes(a), itlib.codes(b))
        c.eq("%s: %s size" % (what, rel), a.get("size"), b.get("size"))
    for k in SUMMARY_KEYS:
        if k in skip_keys:
            continue
        if k in single["summary"] or k in merged["summary"]:
            c.eq("%s: summary.%s" % (what, k), merged["summary"].get(k), single["summary"].get(k))
    c.eq("%s: duplicate groups" % what, _dup_groups(merged), _dup_groups(single))
    c.eq("%s: skipped entries" % what, sorted(x.get("path") for x in merged.get("skipped") or []),
         sorted(x.get("path") for x in single.get("skipped") or []))


def check_archive_sanity(c, single):
    """The archive is what it is meant to be, so the comparison means something."""
    s = single["summary"]
    c.eq("single scan: 15 images", s["images"], 15)
    c.true("single scan: the misnamed image found", s.get("misnamed", 0) >= 1, str(s.get("misnamed")))
    c.eq("single scan: one duplicate group", len(_dup_groups(single)), 1)
    c.eq("single scan: exit status 1 (findings)", s.get("exit_status"), 1)


def check_shards(c, what, shard_reports, count, single):
    """Each shard report says which shard it is; together they list every
    image exactly once."""
    seen = {}
    for k, rep in enumerate(shard_reports):
        shard = (rep.get("run") or {}).get("shard") or {}
        c.eq("%s: shard %d run.shard.index" % (what, k), shard.get("index"), k)
        c.eq("%s: shard %d run.shard.count" % (what, k), shard.get("count"), count)
        for img in rep["images"]:
            seen.setdefault(img["path"], []).append(k)
    c.eq("%s: every image in exactly one shard" % what,
         sorted(p for p, ks in seen.items() if len(ks) == 1), sorted(_images(single)))


def scan_single(out, arch):
    """One machine's whole scan of the archive: the reference."""
    p = subprocess.run([itlib.IMGSCAN, "scan", "-q", "-o", out, arch], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    if p.returncode not in (0, 1):
        raise RuntimeError("single scan exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
    return load_report(out)
