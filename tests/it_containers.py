#!/usr/bin/env python3
"""Inside virtual-disk containers (issue 10): every container is made at test
time by its real tool (qemu-img convert to qcow2, vmdk, vpc dynamic and fixed,
vhdx, vdi; img2simg for Android sparse) from an MBR disk holding FAT16 and
from a bare ext4 disk, and the report's "inside" object must show what the
virtual disk holds (our probes), with identification.tsk being The Sleuth
Kit's view of the virtual disk.  Differencing images name their backing file
and never open it (one backing file, outside the scanned tree, is a FIFO: an
open would hang); a cut qcow2 and a VDI with a patched block map fail or say
truncated, with a reason (as do a cut VMDK and VHDX), and the scan goes
on."""
import os
import shutil
import stat
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name, codes  # noqa: E402

MIB = 1 << 20
DISK = 64 * MIB
PEEK = 4 * MIB + 64 * 1024  # INSIDE_PEEK_BYTES and the tail
TOOLS = ("qemu-img", "img2simg", "sfdisk", "mkfs.vfat", "mkfs.ext4")


def fat16_disk(path, work):
    """MBR, one partition (type 0x06) at 1 MiB holding FAT16 "INSIDEFAT"."""
    itlib.sized(path, DISK)
    p = subprocess.run(["sfdisk", "-q", path], input=b"label: dos\nstart=2048, type=6\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise RuntimeError("sfdisk: " + p.stderr.decode())
    part = os.path.join(work, "fat16-part.tmp")
    itlib.make_fat(part, 16, "INSIDEFAT", DISK - MIB)
    itlib.put_at(path, MIB, part)
    os.unlink(part)


def convert(src, dst, fmt, *opts):
    itlib.sh("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, *opts, src, dst)


def build(tree, outside, work):
    fat, ext = os.path.join(work, "fat16.raw"), os.path.join(work, "ext4.raw")
    fat16_disk(fat, work)
    itlib.make_ext(ext, "ext4", "INSIDEEXT", DISK)
    for base, raw in (("fat16", fat), ("ext4", ext)):
        convert(raw, os.path.join(tree, base + ".qcow2"), "qcow2")
        convert(raw, os.path.join(tree, base + ".vmdk"), "vmdk")
        convert(raw, os.path.join(tree, base + "-dynamic.vhd"), "vpc")
        convert(raw, os.path.join(tree, base + "-fixed.vhd"), "vpc", "-o", "subformat=fixed")
        convert(raw, os.path.join(tree, base + ".vhdx"), "vhdx")
        convert(raw, os.path.join(tree, base + ".vdi"), "vdi")
    itlib.sh("img2simg", ext, os.path.join(tree, "ext4-sparse.img"))
    # Differencing images: the backing named relative to the image, in the tree.
    shutil.copy(os.path.join(tree, "fat16.qcow2"), os.path.join(tree, "base.qcow2"))
    itlib.sh("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "overlay.qcow2", cwd=tree)
    itlib.sh("qemu-img", "create", "-q", "-f", "vmdk", "-b", "fat16.vmdk", "-F", "vmdk", "delta.vmdk", cwd=tree)
    # ... and outside the scanned tree, replaced by a FIFO once named: anyone
    # opening it would wait for a writer that never comes.
    far = os.path.join(outside, "far-base.qcow2")
    shutil.copy(os.path.join(tree, "fat16.qcow2"), far)
    itlib.sh("qemu-img", "create", "-q", "-f", "qcow2", "-b", far, "-F", "qcow2",
             os.path.join(tree, "overlay-outside.qcow2"))
    os.unlink(far)
    os.mkfifo(far)
    # A cut copy: the qcow2 of the FAT16 disk without its last two clusters.
    cut = os.path.join(tree, "cut.qcow2")
    shutil.copy(os.path.join(tree, "fat16.qcow2"), cut)
    os.truncate(cut, os.path.getsize(cut) - 2 * 65536)
    # Cut copies the libraries would not call cut: a VMDK and a VHDX.
    for src, dst in (("fat16.vmdk", "cut.vmdk"), ("fat16.vhdx", "cut.vhdx")):
        shutil.copy(os.path.join(tree, src), os.path.join(tree, dst))
        os.truncate(os.path.join(tree, dst), os.path.getsize(os.path.join(tree, src)) * 2 // 3)
    # A VDI whose block map's first entry points far past the end of the file.
    broken = os.path.join(tree, "broken.vdi")
    shutil.copy(os.path.join(tree, "fat16.vdi"), broken)
    with open(broken, "r+b") as f:
        f.seek(0x154)
        map_off = struct.unpack("<I", f.read(4))[0]
        f.seek(map_off)
        f.write(struct.pack("<I", 0x7FFFFFF0))
    return far


def probes(inside):
    return {(p["name"], p["offset"]): p for p in inside.get("probes") or []}


def tsk_fs(img):
    return sorted((f["type"], f["offset"]) for f in img["identification"]["tsk"]["filesystems"])


def check_readable(c, img, layer, sizes):
    """A container whose whole virtual disk reads: the header facts, our
    probes' view and TSK's, all of the virtual disk."""
    name, ins = os.path.basename(img["path"]), img.get("inside") or {}
    c.eq(name + " layer", ins.get("layer"), layer)
    c.eq(name + " status", (ins.get("status"), ins.get("failure")), ("ok", None))
    c.true(name + " inner size", ins.get("inner_size") in sizes, "%r not in %r" % (ins.get("inner_size"), sizes))
    c.true(name + " examined", 0 < (ins.get("examined") or 0) <= PEEK, str(ins.get("examined")))
    c.eq(name + " not truncated", ins.get("truncated"), False)
    c.eq(name + " no backing file", ins.get("backing_file"), None)
    c.eq(name + " tsk is the virtual disk's", ins.get("tsk_is_inner"), True)
    tsk = img["identification"]["tsk"]
    c.eq(name + " tsk", (tsk["status"], tsk["image_type"], tsk["media_size"] in sizes), ("ok", layer, True))
    return ins, tsk


def check_fat16(c, img, layer, sizes=(DISK,)):
    name = os.path.basename(img["path"])
    ins, tsk = check_readable(c, img, layer, sizes)
    p = probes(ins)
    c.true(name + " mbr inside", ("mbr", 0) in p, str(sorted(p)))
    c.eq(name + " fat16 inside, labelled", (p.get(("fat16", MIB)) or {}).get("label"), "INSIDEFAT")
    parts = [(q["number"], q["start"], q["type"]) for q in (ins.get("partition_table") or {}).get("partitions", [])]
    c.eq(name + " partition table inside", parts, [(1, MIB, "0x06")])
    c.eq(name + " tsk volume system", (tsk["volume_system"] or {}).get("type"), "dos")
    c.true(name + " tsk fat16", ("fat16", MIB) in tsk_fs(img), str(tsk_fs(img)))
    c.eq(name + " kind", img["kind"], "container")


def check_ext4(c, img, layer, sizes=(DISK,)):
    name = os.path.basename(img["path"])
    ins, tsk = check_readable(c, img, layer, sizes)
    c.eq(name + " ext4 inside, labelled", (probes(ins).get(("ext4", 0)) or {}).get("label"), "INSIDEEXT")
    c.true(name + " tsk ext4", ("ext4", 0) in tsk_fs(img), str(tsk_fs(img)))


def check_differencing(c, img, layer, backing):
    """Named, never opened: the header's facts, and a reason for the rest."""
    name, ins = os.path.basename(img["path"]), img.get("inside") or {}
    c.eq(name + " layer", ins.get("layer"), layer)
    c.eq(name + " backing file named", ins.get("backing_file"), backing)
    c.eq(name + " status ok: the header was read", ins.get("status"), "ok")
    c.eq(name + " virtual size from the header", ins.get("inner_size"), DISK)
    c.true(name + " says the parent is never opened", "never opened" in (ins.get("failure") or ""),
           str(ins.get("failure")))
    c.true(name + " no worker trouble", img["identification"]["tsk"]["status"] == "ok",
           str(img["identification"]["tsk"]))


def check_report(c, rep, tree, far, tmp):
    listed = sorted(os.path.basename(i["path"]) for i in rep["images"])
    c.eq("every container is in the report", listed, sorted(os.listdir(tree)))
    vhd_sizes = tuple(range(DISK, DISK + MIB, 512))  # vpc rounds to a CHS geometry
    for base, check in (("fat16", check_fat16), ("ext4", check_ext4)):
        check(c, by_name(rep, base + ".qcow2"), "qcow2")
        check(c, by_name(rep, base + ".vmdk"), "vmdk")
        check(c, by_name(rep, base + "-dynamic.vhd"), "vhd", vhd_sizes)
        check(c, by_name(rep, base + "-fixed.vhd"), "vhd", vhd_sizes)
        check(c, by_name(rep, base + ".vhdx"), "vhdx")
        check(c, by_name(rep, base + ".vdi"), "vdi")
    check_ext4(c, by_name(rep, "ext4-sparse.img"), "android-sparse")
    fixed = by_name(rep, "fat16-fixed.vhd")
    c.true("fixed vhd: its own probes see fat16 too", any(
        p["name"] == "fat16" for p in fixed["identification"]["probes"]), str(fixed["identification"]["probes"]))
    check_differencing(c, by_name(rep, "overlay.qcow2"), "qcow2", "base.qcow2")
    check_differencing(c, by_name(rep, "overlay-outside.qcow2"), "qcow2", far)
    check_differencing(c, by_name(rep, "delta.vmdk"), "vmdk", "fat16.vmdk")
    c.true("the backing file outside is still the FIFO nobody opened",
           stat.S_ISFIFO(os.lstat(far).st_mode), far)
    cut = by_name(rep, "cut.qcow2")
    ins = cut.get("inside") or {}
    c.true("cut qcow2: truncated, or failed", ins.get("truncated") or ins.get("status") == "failed", str(ins))
    c.true("cut qcow2: says it is cut short", "cut short" in (ins.get("failure") or ""), str(ins.get("failure")))
    c.true("cut qcow2: flagged", "INSIDE_UNREADABLE" in codes(cut), str(codes(cut)))
    for name in ("cut.vmdk", "cut.vhdx"):
        ins = by_name(rep, name).get("inside") or {}
        c.true(name + ": truncated, with the reason", ins.get("truncated") and
               "cut short" in (ins.get("failure") or ""), str(ins))
    broken = by_name(rep, "broken.vdi")
    ins = broken.get("inside") or {}
    c.eq("broken vdi fails", ins.get("status"), "failed")
    c.true("broken vdi: the reason names the entry",
           "vdi: block map entry 0 points past the end of the file" in (ins.get("failure") or ""),
           str(ins.get("failure")))
    c.true("broken vdi: flagged", "INSIDE_UNREADABLE" in codes(broken), str(codes(broken)))
    c.eq("the workers' private directories are gone", os.listdir(tmp), [])


def main():
    for tool in TOOLS:
        if not shutil.which(tool):
            print("skipped: %s is not installed" % tool)
            sys.exit(77)
    top, tree, outside, work, tmp = itlib.workspace("tree", "outside", "work", "tmp")
    c = itlib.Checker()
    try:
        far = build(tree, outside, work)
        env = dict(os.environ, TMPDIR=tmp)
        status, rep, err = itlib.scan(tree, env=env)
        c.true("scan finished with a report", rep is not None and status in (0, 1, 2), "%s %s" % (status, err))
        if rep is not None:
            check_report(c, rep, tree, far, tmp)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
