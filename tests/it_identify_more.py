#!/usr/bin/env python3
"""More formats, each made by its real tool: the file systems The Sleuth Kit
does not read (btrfs, XFS, F2FS, squashfs, classic HFS) get named by our own
probes (and blkid agrees); the other compressors; a fixed VHD (a raw disk with
a footer); a truncated ext4; and a --config that changes the naming rules."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name, codes  # noqa: E402


def probe(img, name):
    return next((p for p in img["identification"]["probes"] if p["name"] == name), None)


def build(d, work):
    src = itlib.content_dir(work)
    itlib.sized(os.path.join(d, "btrfs.img"), 128 << 20)
    itlib.sh("mkfs.btrfs", "-q", "-f", "-L", "BTRLABEL", os.path.join(d, "btrfs.img"))
    itlib.sized(os.path.join(d, "xfs.img"), 320 << 20)
    itlib.sh("mkfs.xfs", "-q", "-f", "-L", "XFSLABEL", os.path.join(d, "xfs.img"))
    itlib.sized(os.path.join(d, "f2fs.img"), 64 << 20)
    itlib.sh("mkfs.f2fs", "-q", "-f", "-l", "F2LABEL", os.path.join(d, "f2fs.img"))
    itlib.sh("mksquashfs", src, os.path.join(d, "root.squashfs.img"), "-quiet", "-noappend")
    itlib.sized(os.path.join(d, "classic.hfs.img"), 8 << 20)
    itlib.sh("hformat", "-l", "HFSLABEL", os.path.join(d, "classic.hfs.img"))
    raw = os.path.join(work, "raw.img")
    itlib.make_fat(raw, 16, "INNER", 16 << 20)
    for tool, name in (("zstd", "z.img"), ("bzip2", "b.img")):
        itlib.compress(raw, os.path.join(d, name), tool)
    itlib.sh("zip", "-q", "-j", os.path.join(d, "zipped.img"), raw)
    itlib.sh("7z", "a", "-bd", "-y", os.path.join(work, "seven.7z"), raw)
    shutil.move(os.path.join(work, "seven.7z"), os.path.join(d, "seven.img"))
    itlib.sh("qemu-img", "convert", "-q", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed", raw,
             os.path.join(d, "fixed.vhd"))
    itlib.make_ext(os.path.join(work, "whole-ext4.img"), "ext4", "CUT", 32 << 20)
    with open(os.path.join(work, "whole-ext4.img"), "rb") as f, open(os.path.join(d, "cut-ext4.img"), "wb") as g:
        g.write(f.read(20 << 20))
    itlib.make_iso(os.path.join(d, "disc.img"), "DISC", src)
    # MBR with an extended partition holding two logical ones (ext4, FAT16).
    ebr = os.path.join(d, "logical.img")
    itlib.sized(ebr, 64 << 20)
    p = subprocess.run(["sfdisk", "-q", ebr], input=b"label: dos\nstart=2048, size=120000, type=5\n"
                       b"start=4096, size=40000, type=83\nstart=46144, size=40000, type=6\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise RuntimeError(p.stderr.decode())
    for sector, maker in ((4096, lambda f: itlib.make_ext(f, "ext4", "LOGIC5", 40000 * 512)),
                          (46144, lambda f: itlib.make_fat(f, 16, "LOGIC6", 40000 * 512))):
        part = os.path.join(work, "logical-part.tmp")
        maker(part)
        itlib.put_at(ebr, sector * 512, part)
        os.unlink(part)


def main():
    top, d, work = itlib.workspace("archive", "work")
    c = itlib.Checker()
    try:
        build(d, work)
        status, rep, err = itlib.scan(d)
        for name, fs, label in (("btrfs.img", "btrfs", "BTRLABEL"), ("xfs.img", "xfs", "XFSLABEL"),
                                ("f2fs.img", "f2fs", None), ("root.squashfs.img", "squashfs", None),
                                ("classic.hfs.img", "hfs", "HFSLABEL")):
            img = by_name(rep, name)
            p = probe(img, fs)
            c.eq(name + " kind", (img["kind"], img["detail"]), ("disk", fs))
            c.true(name + " probe", p is not None, str(img["identification"]["probes"]))
            blk = itlib.blkid(os.path.join(d, name))
            if label:
                c.eq(name + " label (blkid)", p and p.get("label"), blk.get("LABEL"))
            c.eq(name + " no findings", codes(img), [])
            c.true(name + " claimed size within the file", p and p.get("size", 0) <= img["size"], str(p))
        sq = probe(by_name(rep, "root.squashfs.img"), "squashfs")
        c.eq("squashfs bytes_used is the image's length rounded down to 4K", sq["size"] <= os.path.getsize(os.path.join(d, "root.squashfs.img")), True)
        for name, key in (("z.img", "compressed:zstd"), ("b.img", "compressed:bzip2"), ("zipped.img", "compressed:zip"),
                          ("seven.img", "compressed:7z")):
            img = by_name(rep, name)
            c.eq(name + " kind", img["kind_key"], key)
            c.eq(name + " misnamed", codes(img), ["COMPRESSED_MISNAMED"])
        vhd = by_name(rep, "fixed.vhd")
        c.eq("fixed vhd", (vhd["kind_key"], codes(vhd)), ("container:vhd", []))
        c.true("fixed vhd: the FAT inside is seen", "fat16" in vhd["detail"], vhd["detail"])
        cut = by_name(rep, "cut-ext4.img")
        c.eq("truncated ext4", codes(cut), ["TRUNCATED"])
        c.true("truncated ext4 says how much is missing", str(12 << 20) in cut["findings"][0]["message"],
               cut["findings"][0]["message"])
        c.eq("default config: ISO named .img flagged", codes(by_name(rep, "disc.img")), ["ISO_MISNAMED"])
        lg = by_name(rep, "logical.img")
        parts = [(p["number"], p["start"], p["type"]) for p in lg["identification"]["partition_table"]["partitions"]]
        c.eq("logical partitions from the EBR chain", parts,
             [(1, 2048 * 512, "0x05"), (5, 4096 * 512, "0x83"), (6, 46144 * 512, "0x06")])
        found = sorted((p["name"], p["offset"], p.get("label")) for p in lg["identification"]["probes"] if p["class"] == "filesystem")
        c.eq("file systems in the logical partitions", found,
             [("ext4", 4096 * 512, "LOGIC5"), ("fat16", 46144 * 512, "LOGIC6")])
        tsk = sorted((f["type"], f["offset"]) for f in lg["identification"]["tsk"]["filesystems"])
        c.eq("TSK agrees", tsk, [("ext4", 4096 * 512), ("fat16", 46144 * 512)])
        c.eq("logical disk: no findings", codes(lg), [])
        # A config that accepts .img for optical images.
        cfg = json.loads(subprocess.run([itlib.IMGSCAN, "scan", "--print-config"], stdout=subprocess.PIPE).stdout)
        cfg["naming"]["optical"]["accept"].append("img")
        path = os.path.join(top, "site.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        status, rep2, err = itlib.scan("--config", path, os.path.join(d, "disc.img"))
        c.eq("custom config: .img accepted for optical", (status, codes(by_name(rep2, "disc.img"))), (0, []))
        c.eq("custom config recorded", rep2["run"]["options"]["config"], path)
        with open(path, "w") as f:
            f.write("{ not json")
        status, rep3, err = itlib.scan("--config", path, d)
        c.eq("broken config is a usage error", status, 64)
        c.true("broken config explained", "config" in err and "JSON" in err, err)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
