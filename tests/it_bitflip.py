#!/usr/bin/env python3
"""Bit-flipped images (issue 15, "Hostile bytes"): no crash, no hang, every
run bounded, and the same answers twice.

Small real images are made here by their tools (genisoimage, mkfs.vfat for
FAT12 and FAT16, mkfs.ext4, mkntfs, sgdisk with an ext4 partition, qemu-img
for a qcow2 holding FAT16), then mutated: single bytes (a random new value or
one bit flipped) and blocks (512 bytes or 4 KiB zeroed, filled with 0xFF or
random bytes, or copied from another block of the image).  Offsets are
weighted toward the metadata the probes and The Sleuth Kit read, located by
parsing each image (volume descriptors and path table, boot sector, FATs and
root directory, superblock, group descriptors and inode table, boot sector and
MFT, both GPT headers and tables, qcow2 header, L1, L2 and refcount tables),
and toward the first 64 KiB.

Each base image's mutants go into one directory, with the base itself as a
control, and each directory is scanned by one imgscan run (TSK on, --inside
head) under a timeout, then a second time with other settings (--io pread,
-j 1, --images 8).  Checks: each run ends by itself with exit status 0, 1 or
2 (a signal or a timeout fails); every mutant has exactly one image entry,
read whole, with a digest other than its base's; the two runs give the same
answers per image (everything but timings and run metadata).  A Sleuth Kit
or inside worker that crashed, timed out or ran out of memory is contained by
the worker fence (the image says so, the scan goes on): those are counted
and printed with their recipe, not failed.

Environment:
  IMGSCAN_BITFLIP_SEED=N   the RNG seed (printed; default 15): the same seed
                           makes the same mutations of the same base images
  IMGSCAN_BITFLIP_COUNT=N  mutants in all (default 3500, about 20 s on 2
                           idle cores); more by hand, e.g. 50000 (5 minutes)
  IMGSCAN_BITFLIP_KEEP=DIR copy the base images to DIR/bases, and the
                           mutants that failed a check or whose worker failed
                           to DIR
  IMGSCAN_BITFLIP_BASES=DIR use the base images in DIR (DIR/bases of a kept
                           run) instead of making them
Each mutant's recipe (offset, what was written) is printed when it fails a
check; the mutations of mutant I of base B come from
random.Random("SEED/B/I") alone, so a seed reproduces every mutant of the
same bases.  The bases are made reproducibly where the tools allow it
(fixed ids, UUIDs, clocks and file times: FAT, ext4, GPT and qcow2 come out
the same bytes on every run); genisoimage stamps the ISO's volume and root
directory with the clock and mkntfs makes a random serial number and random
times, so those two differ from run to run (their XXH128 digests are
printed): IMGSCAN_BITFLIP_BASES gives a kept run's exact bytes.
"""
import collections
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

KIB, MIB = 1 << 10, 1 << 20
RUN_TIMEOUT_S = 120      # one run of one directory (a few seconds): a hang fails, it does not stall CI
FIRST_BYTES = 64 * KIB   # where every probe looks first
# Tools' clocks and ids, fixed, so that a seed reproduces the bases too.
FIXED_TIME = 1700000000
FIXED_UUID = "0badcafe-1500-4000-8000-0000000000%02d"
TOOL_ENV = dict(os.environ, E2FSPROGS_FAKE_TIME=str(FIXED_TIME), SOURCE_DATE_EPOCH=str(FIXED_TIME))
# Worker outcomes the fence contains (identification.tsk.status).
CONTAINED_TSK = ("crashed", "timed-out", "out-of-memory", "worker-error")
# One entry's fields that are timings or depend on the cache, not on the bytes.
NOT_ANSWERS = ("read", "measured_at")
# The summary's counts that are answers too.
SUMMARY_ANSWERS = ("images", "by_kind", "findings", "misnamed", "images_with_errors", "tsk_worker_restarts",
                   "exit_status")


class Base:
    """A base image: its bytes, the regions its metadata occupies, the 4 KiB
    blocks that hold anything (only those are written for a mutant, sparse),
    what a scan must say of it, and how many mutants it gets."""

    def __init__(self, name, ext, path, regions, want_kind, want_detail):
        with open(path, "rb") as f:
            self.data = f.read()
        self.name, self.ext, self.path = name, ext, path
        self.regions = [(s, n, what) for s, n, what in regions if n > 0 and s + n <= len(self.data)]
        self.want = (want_kind, want_detail)
        self.used_blocks = [o for o in range(0, len(self.data), 4 * KIB)
                            if any(self.data[o:o + 4 * KIB])]
        self.count = 0


# ---- base images: small, made by the real tools ----------------------------

def tool(*cmd):
    itlib.sh(*cmd, env=TOOL_ENV)


CONTENT = (("readme.txt", 60), ("sub/data.bin", 6000), ("sub/more.bin", 20000))


def content(top):
    """A few small files with fixed bytes and times: the images hold mostly
    metadata, which is what the mutations should hit."""
    d = os.path.join(top, "content")
    os.makedirs(os.path.join(d, "sub"))
    rng = random.Random(1)
    for name, size in CONTENT:
        with open(os.path.join(d, name), "wb") as f:
            f.write(rng.randbytes(size))
    for name in [n for n, _ in CONTENT] + ["sub"]:
        os.utime(os.path.join(d, name), (FIXED_TIME, FIXED_TIME))
    return d


def make_iso(path, src):
    tool("genisoimage", "-quiet", "-J", "-R", "-V", "BITFLIP", "-o", path, src)


def make_fat(path, bits, size, src):
    itlib.sized(path, size)
    tool("mkfs.vfat", "--invariant", "-i", "15151515", "-F", str(bits), "-s", "1", "-n", "FLIP%d" % bits, path)
    tool("mcopy", "-s", "-m", "-i", path, os.path.join(src, "readme.txt"), os.path.join(src, "sub"), "::/")


def make_ext4(path, size, src, n):
    """ext4 holding src; the inode times mke2fs copies from src that the
    test cannot fix there (ctime, and atime, which the copy itself moves)
    are set afterwards with debugfs."""
    itlib.sized(path, size)
    tool("mkfs.ext4", "-q", "-F", "-L", "FLIPEXT", "-U", FIXED_UUID % n, "-E", "hash_seed=" + FIXED_UUID % n,
         "-d", src, path)
    fix = "".join("set_inode_field /%s %s @%d\n" % (name, field, FIXED_TIME)
                  for name in [n for n, _ in CONTENT] + ["sub"] for field in ("atime", "ctime"))
    with open(path + ".debugfs", "w") as f:
        f.write(fix)
    tool("debugfs", "-w", "-f", path + ".debugfs", path)
    os.unlink(path + ".debugfs")


def make_ntfs(path, size):
    itlib.sized(path, size)
    tool("mkntfs", "-q", "-F", "-Q", "-L", "FLIPNTFS", path)


def make_gpt(path, size, part, src):
    itlib.sized(path, size)
    tool("sgdisk", "-U", FIXED_UUID % 1, "-n", "1:2048:+%dK" % ((size - 2 * MIB) // KIB), "-t", "1:8300",
         "-u", "1:" + FIXED_UUID % 2, "-c", "1:flipdata", path)
    make_ext4(part, size - 2 * MIB, src, 3)
    tool("dd", "if=" + part, "of=" + path, "bs=64K", "seek=%d" % MIB, "oflag=seek_bytes", "conv=notrunc,sparse",
         "status=none")


BASE_FILES = ("iso.iso", "fat12.img", "fat16.img", "ext4.img", "ntfs.img", "gpt.img", "qcow2.qcow2")


def make_base_files(d, top):
    src = content(top)
    p = lambda name: os.path.join(d, name)  # noqa: E731
    make_iso(p("iso.iso"), src)
    make_fat(p("fat12.img"), 12, 1440 * KIB, src)
    make_fat(p("fat16.img"), 16, 3 * MIB, src)
    make_ext4(p("ext4.img"), 2 * MIB, src, 4)
    make_ntfs(p("ntfs.img"), 2 * MIB)
    make_gpt(p("gpt.img"), 4 * MIB, p("part.tmp"), src)
    os.unlink(p("part.tmp"))
    tool("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", p("fat16.img"), p("qcow2.qcow2"))


def make_bases(top):
    """The base images: made here, or taken from $IMGSCAN_BITFLIP_BASES (a
    copy kept by IMGSCAN_BITFLIP_KEEP: the same bytes exactly)."""
    d = os.path.join(top, "bases")
    os.makedirs(d)
    given = os.environ.get("IMGSCAN_BITFLIP_BASES")
    if given:
        for name in BASE_FILES:
            shutil.copy(os.path.join(given, name), d)
    else:
        make_base_files(d, top)
    if os.environ.get("IMGSCAN_BITFLIP_KEEP"):
        shutil.copytree(d, os.path.join(os.environ["IMGSCAN_BITFLIP_KEEP"], "bases"), dirs_exist_ok=True)
    p = lambda name: os.path.join(d, name)  # noqa: E731
    return [
        Base("iso", "iso", p("iso.iso"), iso_regions(p("iso.iso")), "optical", "ISO 9660"),
        Base("fat12", "img", p("fat12.img"), fat_regions(p("fat12.img")), "disk", "fat12"),
        Base("fat16", "img", p("fat16.img"), fat_regions(p("fat16.img")), "disk", "fat16"),
        Base("ext4", "img", p("ext4.img"), ext4_regions(p("ext4.img")), "disk", "ext4"),
        Base("ntfs", "img", p("ntfs.img"), ntfs_regions(p("ntfs.img")), "disk", "ntfs"),
        Base("gpt", "img", p("gpt.img"), gpt_regions(p("gpt.img")), "disk", "GPT, ext4"),
        Base("qcow2", "qcow2", p("qcow2.qcow2"), qcow2_regions(p("qcow2.qcow2")), "container",
             "qcow2, contains, fat16"),
    ]


# ---- where each base keeps its metadata (start, length, what) --------------

def read_at(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def iso_regions(path):
    """The volume descriptors up to the terminator, the L path table and the
    root directory's extent (from the primary descriptor)."""
    pvd = read_at(path, 16 * 2048, 2048)
    vds = 1
    while vds < 16 and read_at(path, (16 + vds) * 2048, 1) not in (b"\xff", b""):
        vds += 1
    pt_size, pt_lba = struct.unpack_from("<I", pvd, 132)[0], struct.unpack_from("<I", pvd, 140)[0]
    root_lba, root_len = struct.unpack_from("<I", pvd, 158)[0], struct.unpack_from("<I", pvd, 166)[0]
    return [(16 * 2048, (vds + 1) * 2048, "volume descriptors"), (pt_lba * 2048, pt_size, "path table"),
            (root_lba * 2048, root_len, "root directory")]


def fat_regions(path, at=0):
    """Boot sector, reserved sectors, both FATs and the FAT12/16 root directory."""
    bs = read_at(path, at, 512)
    bps, reserved = struct.unpack_from("<H", bs, 11)[0], struct.unpack_from("<H", bs, 14)[0]
    nfats, root_entries, fat_sectors = bs[16], struct.unpack_from("<H", bs, 17)[0], struct.unpack_from("<H", bs, 22)[0]
    fats = at + reserved * bps
    return [(at, reserved * bps, "boot sector"), (fats, nfats * fat_sectors * bps, "FATs"),
            (fats + nfats * fat_sectors * bps, root_entries * 32, "root directory")]


def ext4_regions(path, at=0):
    """Superblock, group descriptors, and group 0's bitmaps and inode table."""
    sb = read_at(path, at + 1024, 1024)
    block = 1024 << struct.unpack_from("<I", sb, 24)[0]
    first, per_group, inode_size = (struct.unpack_from("<I", sb, 20)[0], struct.unpack_from("<I", sb, 40)[0],
                                    struct.unpack_from("<H", sb, 88)[0])
    gdt = at + (first + 1) * block
    block_bitmap, inode_bitmap, inode_table = struct.unpack_from("<III", read_at(path, gdt, 32), 0)
    return [(at + 1024, 1024, "superblock"), (gdt, block, "group descriptors"),
            (at + block_bitmap * block, block, "block bitmap"), (at + inode_bitmap * block, block, "inode bitmap"),
            (at + inode_table * block, per_group * inode_size, "inode table")]


def ntfs_regions(path):
    """Boot sector, the MFT's first 16 records and their mirror."""
    bs = read_at(path, 0, 512)
    cluster = struct.unpack_from("<H", bs, 11)[0] * bs[13]
    mft, mirror = struct.unpack_from("<QQ", bs, 0x30)
    raw = struct.unpack_from("<b", bs, 0x40)[0]
    record = raw * cluster if raw > 0 else 1 << -raw
    return [(0, 512, "boot sector"), (mft * cluster, 16 * record, "MFT"), (mirror * cluster, 4 * record, "MFT mirror")]


def gpt_regions(path):
    """Protective MBR, both GPT headers and tables, and the ext4 partition's metadata."""
    size = os.path.getsize(path)
    return [(0, 34 * 512, "MBR, GPT header and table"), (size - 33 * 512, 33 * 512, "backup GPT")] + \
        ext4_regions(path, MIB)


def qcow2_regions(path):
    """Header, L1 table, every L2 table, the refcount table and its blocks."""
    h = read_at(path, 0, 72)
    cluster = 1 << struct.unpack_from(">I", h, 20)[0]
    l1_size, l1_off, rc_off, rc_clusters = struct.unpack_from(">IQQI", h, 36)
    regions = [(0, cluster, "header"), (l1_off, l1_size * 8, "L1 table"),
               (rc_off, rc_clusters * cluster, "refcount table")]
    for i in range(l1_size):
        l2 = struct.unpack_from(">Q", read_at(path, l1_off + 8 * i, 8))[0] & 0x00fffffffffffe00
        if l2:
            regions.append((l2, cluster, "L2 table %d" % i))
    for i in range(rc_clusters * cluster // 8):
        blk = struct.unpack_from(">Q", read_at(path, rc_off + 8 * i, 8))[0]
        if blk:
            regions.append((blk, cluster, "refcount block %d" % i))
    return regions


# ---- mutations: each a list of (offset, length, what was done) --------------

def pick_offset(rng, base):
    """Where to mutate: in a metadata region (45%), in the first 64 KiB
    (35%), anywhere in the image (20%)."""
    r = rng.random()
    if r < 0.45 and base.regions:
        start, length, _ = rng.choice(base.regions)
        return start + rng.randrange(length)
    if r < 0.80:
        return rng.randrange(min(FIRST_BYTES, len(base.data)))
    return rng.randrange(len(base.data))


def mutate_bytes(rng, data, base):
    """One to eight single-byte changes: a bit flipped, or a random new value."""
    done = []
    for _ in range(rng.choice((1, 1, 1, 1, 2, 3, 8))):
        off = pick_offset(rng, base)
        new = data[off] ^ (1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256))
        done.append((off, 1, "byte@%d:%02x>%02x" % (off, data[off], new)))
        data[off] = new
    return done


def mutate_block(rng, data, base):
    """A 512-byte or 4 KiB block zeroed, filled with 0xff or random bytes, or
    copied from another used block of the image; [] when twenty tries all
    left the bytes as they were."""
    size = rng.choice((512, 4096))
    for _ in range(20):
        off = pick_offset(rng, base) // size * size
        n = min(size, len(data) - off)
        how = rng.choice(("zero", "ff", "random", "copy"))
        if how == "copy":
            src = min(rng.choice(base.used_blocks) + rng.randrange(4096 // size) * size, len(data) - n)
            new, how = bytes(data[src:src + n]), "copy(from %d)" % src
        else:
            new = {"zero": bytes(n), "ff": b"\xff" * n}.get(how) or rng.randbytes(n)
        if new != data[off:off + n]:
            data[off:off + n] = new
            return [(off, n, "%s%d@%d" % (how, size, off))]
    return []


def make_mutant(seed, base, i, path):
    """Write mutant i of base to path (sparse: only the blocks that hold
    anything); returns its recipe, a string.  Six in ten are byte changes,
    the rest a block; never the base's bytes again (two changes of one
    byte may undo each other)."""
    rng = random.Random("%d/%s/%d" % (seed, base.name, i))
    data = bytearray(base.data)
    done = (rng.random() < 0.6 and mutate_bytes(rng, data, base)) or mutate_block(rng, data, base)
    while data == base.data:
        done += mutate_bytes(rng, data, base)
    blocks = set(base.used_blocks)
    for off, n, _ in done:
        blocks.update(range(off // (4 * KIB) * 4 * KIB, off + n, 4 * KIB))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for b in sorted(blocks):
            os.pwrite(fd, data[b:b + 4 * KIB], b)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
    return " ".join(what for _, _, what in done)


# ---- scans and their answers -------------------------------------------------

# The second run reads through the other engine, with another number of
# hashing threads and images at once: completion order, and so the order in
# which images meet the workers, changes; the answers must not.
RUNS = (("first", []), ("second", ["--io", "pread", "-j", "1", "--images", "8"]))


def scan_dir(c, d, label, extra, names):
    """One imgscan run over d: its entries by file name and its summary's
    answers ({} when the run failed a check that leaves nothing to
    compare), and its seconds."""
    out = d + "-" + label + ".json"
    t0 = time.monotonic()
    try:
        p = subprocess.run([itlib.IMGSCAN, "scan", "-q", "-o", out, *extra, d], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        c.true("%s: the run ends within %d s" % (label, RUN_TIMEOUT_S), False)
        return {}, {}, time.monotonic() - t0
    took = time.monotonic() - t0
    err = p.stderr.decode(errors="replace")
    c.true("%s: exit status 0, 1 or 2 (no signal)" % label, p.returncode in (0, 1, 2),
           "exit %d; stderr: %s" % (p.returncode, err[-3000:]))
    if err:
        print("%s: stderr: %s" % (label, err[-3000:]))
    if not os.path.exists(out):
        c.true("%s: report written" % label, False, err[-3000:])
        return {}, {}, took
    rep = json.load(open(out, "rb"))
    os.unlink(out)
    c.eq("%s: exit status in the report" % label, rep["summary"]["exit_status"], p.returncode)
    seen = collections.Counter(os.path.basename(i["path"]) for i in rep["images"])
    c.eq("%s: entries listed more than once" % label, sorted(n for n, k in seen.items() if k > 1), [])
    c.eq("%s: mutants without an entry" % label, sorted(set(names) - set(seen)), [])
    c.eq("%s: entries that are no mutant" % label, sorted(set(seen) - set(names)), [])
    c.eq("%s: other files" % label, rep["summary"]["other_files"], 0)
    summary = {k: rep["summary"][k] for k in SUMMARY_ANSWERS}
    return {os.path.basename(i["path"]): i for i in rep["images"]}, summary, took


def answers(img):
    """What a scan says of an image, without timings and cache effects."""
    a = {k: v for k, v in img.items() if k not in NOT_ANSWERS}
    a["read"] = (img["read"]["bytes"], img["read"]["complete"])
    return a


def contained(img):
    """The worker failures the fence contained for this image: a list of
    (what failed, why)."""
    out = []
    tsk = img["identification"]["tsk"]
    if tsk["status"] in CONTAINED_TSK:
        out.append(("tsk " + tsk["status"], tsk.get("failure", "")))
    inside = img.get("inside") or {}
    if inside.get("failure", "").startswith("the worker "):
        out.append(("inside", inside["failure"]))
    return out


def differing_fields(a, b):
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def keep(d, name, tally):
    kept = os.environ.get("IMGSCAN_BITFLIP_KEEP")
    if kept:
        os.makedirs(kept, exist_ok=True)
        shutil.copy(os.path.join(d, name), os.path.join(kept, "%s-%s" % (os.path.basename(d), name)))
        tally["kept"] += 1


def check_entries(c, d, base, recipes, first, second, tally):
    """Every entry read whole; the control identified as it should be; each
    mutant's digest not its base's; the two runs' answers equal."""
    control = first.get("base." + base.ext)
    if control:
        c.eq(base.name + ": control identified", (control["kind"], control["detail"]), base.want)
        c.eq(base.name + ": control's TSK step", control["identification"]["tsk"]["status"], "ok")
        c.eq(base.name + ": control's digest", (control["hashes"] or {}).get("xxh128"), base.xxh128)
    for name, recipe in sorted(recipes.items()):
        a, b = first.get(name), second.get(name)
        if not a or not b:
            continue
        c.true("%s %s: read whole" % (base.name, name), a["read"]["complete"] and a["hashes"], recipe)
        c.true("%s %s: mutated" % (base.name, name), (a["hashes"] or {}).get("xxh128") != base.xxh128, recipe)
        diff = differing_fields(answers(a), answers(b))
        c.eq("%s %s (%s): fields that differ between the runs" % (base.name, name, recipe), diff, [])
        failures = sorted(set(contained(a) + contained(b)))
        for what, why in failures:
            print("contained worker failure: %s %s (%s): %s, %s" % (base.name, name, recipe, what, why))
            tally[what] += 1
        if diff or failures or not a["read"]["complete"]:
            keep(d, name, tally)
        tally["identified otherwise"] += (a["kind"], a["detail"]) != base.want
        tally["with errors"] += bool(a["errors"])
        tally["tsk refused"] += bool(a["identification"]["tsk"].get("errors"))


def run_base(c, top, seed, base, tally):
    """Make base's mutants in a directory of their own, scan it twice,
    compare, remove it."""
    d = os.path.join(top, base.name)
    os.makedirs(d)
    shutil.copy(base.path, os.path.join(d, "base." + base.ext))
    recipes = {}
    for i in range(base.count):
        name = "m%05d.%s" % (i, base.ext)
        recipes[name] = make_mutant(seed, base, i, os.path.join(d, name))
    names = ["base." + base.ext, *recipes]
    (first, sum1, t1), (second, sum2, t2) = (scan_dir(c, d, base.name + " " + label, extra, names)
                                             for label, extra in RUNS)
    print("%-6s %5d mutants: scanned in %.1f s and %.1f s" % (base.name, base.count, t1, t2))
    if not (sum1 and sum2) and os.environ.get("IMGSCAN_BITFLIP_KEEP"):
        # A run that crashed or hung names no mutant: keep them all.
        shutil.copytree(d, os.path.join(os.environ["IMGSCAN_BITFLIP_KEEP"], base.name + "-all"))
    if sum1 and sum2:
        c.eq(base.name + ": summary fields that differ between the runs", differing_fields(sum1, sum2), [])
    tally["mutants"] += base.count
    tally["scan seconds"] += t1 + t2
    check_entries(c, d, base, recipes, first, second, tally)
    shutil.rmtree(d)


TOOLS = ("genisoimage", "mkfs.vfat", "mcopy", "mkfs.ext4", "debugfs", "mkntfs", "sgdisk", "qemu-img", "xxhsum")


def main():
    top = itlib.setup()
    itlib.skip_without(TOOLS, top)
    seed = int(os.environ.get("IMGSCAN_BITFLIP_SEED", "15"))
    count = int(os.environ.get("IMGSCAN_BITFLIP_COUNT", "3500"))
    print("seed %d (IMGSCAN_BITFLIP_SEED=%d reproduces it), %d mutants" % (seed, seed, count))
    t0 = time.monotonic()
    bases = make_bases(top)
    for i, base in enumerate(bases):
        base.count = count // len(bases) + (i < count % len(bases))
        base.xxh128 = itlib.xxhsum(base.path)
        print("base %-6s %8d bytes, xxh128 %s, %d metadata regions" % (base.name, len(base.data), base.xxh128,
                                                                         len(base.regions)))
    c = itlib.Checker()
    tally = collections.Counter()
    for base in bases:
        run_base(c, top, seed, base, tally)
    print("%d mutants in %.1f s (scans %.1f s): %d identified otherwise than their base, %d with TSK "
          "errors, %d with image errors; contained worker failures: %d tsk, %d inside" %
          (tally["mutants"], time.monotonic() - t0, tally["scan seconds"], tally["identified otherwise"],
           tally["tsk refused"], tally["with errors"], sum(tally["tsk " + s] for s in CONTAINED_TSK),
           tally["inside"]))
    shutil.rmtree(top)
    c.done()


if __name__ == "__main__":
    main()
