#!/usr/bin/env python3
"""Sizes from disk that overflow 64 bits, and shift counts from disk (issue 8).
Each image is made by its real tool and then patched at one field (GPT CRCs
recomputed, so the table is still a valid one):

- ext4 with 2^52+16 blocks of 4 KiB: blocks x block size wrapped to 65536
  ("ext4, 65536", no finding, exit 0); now a TRUNCATED finding saying the
  size is more than any disk, exit 1.  The same for XFS (dblocks), exFAT
  (VolumeLength << sector shift), F2FS (block_count << log) and GPT (the
  backup header's LBA, a partition's last LBA).
- GPT with a huge entry count or entry size: the table is refused, nothing
  is read from where the product would point.
- NTFS with sectors-per-cluster 0x81 or 0xE0: 1u << (256 - v) was a shift of
  127 or 32 bits (undefined); now the geometry is invalid and the volume is
  not called NTFS.  A real 128 KiB-cluster volume (0xF8 = 2^8 sectors) still is.

Run it with a sanitized binary too: any UBSan report on stderr fails it."""
import os
import shutil
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name, codes  # noqa: E402

M = 1 << 20
HUGE_BLOCKS = (1 << 52) + 16  # x 4096 = 2^64 + 65536: wrapped to 65536


def poke(path, offset, fmt, value):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack(fmt, value))


def peek(path, offset, fmt):
    with open(path, "rb") as f:
        f.seek(offset)
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]


def probe(img, name):
    return next((p for p in img["identification"]["probes"] if p["name"] == name), None)


def huge_ext4(path):
    itlib.sized(path, 16 * M)
    itlib.sh("mkfs.ext4", "-q", "-F", "-b", "4096", "-O", "64bit", "-L", "HUGE", path)
    poke(path, 1024 + 0x04, "<I", HUGE_BLOCKS & 0xFFFFFFFF)  # s_blocks_count_lo
    poke(path, 1024 + 0x150, "<I", HUGE_BLOCKS >> 32)        # s_blocks_count_hi


def huge_xfs(path):
    itlib.sized(path, 300 * M)
    itlib.sh("mkfs.xfs", "-q", "-f", "-b", "size=4096", "-L", "HUGE", path)
    poke(path, 8, ">Q", HUGE_BLOCKS)  # sb_dblocks


def huge_exfat(path):
    itlib.make_exfat(path, "HUGE", 16 * M)
    poke(path, 72, "<Q", 1 << 60)  # VolumeLength in sectors: << 9 passes 64 bits


def huge_f2fs(path):
    itlib.sized(path, 64 * M)
    itlib.sh("mkfs.f2fs", "-q", "-f", path)
    poke(path, 1024 + 36, "<Q", 1 << 60)  # block_count: << log_blocksize (12)


def ntfs_spc(path, value):
    itlib.make_ntfs(path, "SPC", 32 * M)
    poke(path, 13, "B", value)  # sectors per cluster


def gpt_disk(path, work):
    itlib.make_gpt_disk(path, work, size=64 * M)


def gpt_fix_crcs(path, sector=512):
    """Recompute the entries' CRC, then the header's, as a crafted table has."""
    with open(path, "r+b") as f:
        f.seek(sector)
        h = bytearray(f.read(sector))
        hsize, ents_lba, n, esize = struct.unpack_from("<I", h, 12)[0], *struct.unpack_from("<QII", h, 72)
        if n * esize <= 1 << 20:
            f.seek(ents_lba * sector)
            struct.pack_into("<I", h, 88, zlib.crc32(f.read(n * esize)))
        struct.pack_into("<I", h, 16, 0)
        struct.pack_into("<I", h, 16, zlib.crc32(bytes(h[:hsize])))
        f.seek(sector)
        f.write(h)


def gpt_patched(path, work, offset, fmt, value):
    gpt_disk(path, work)
    poke(path, offset, fmt, value)
    gpt_fix_crcs(path)


def build(d, work):
    huge_ext4(os.path.join(d, "ext4-huge.img"))
    huge_xfs(os.path.join(d, "xfs-huge.img"))
    huge_exfat(os.path.join(d, "exfat-huge.img"))
    huge_f2fs(os.path.join(d, "f2fs-huge.img"))
    ntfs_spc(os.path.join(d, "ntfs-spc81.img"), 0x81)
    ntfs_spc(os.path.join(d, "ntfs-spce0.img"), 0xE0)
    big = os.path.join(d, "ntfs-128k.img")
    itlib.sized(big, 64 * M)
    itlib.sh("mkntfs", "-q", "-F", "-Q", "-c", "131072", "-L", "BIGCLUST", big)
    gpt_patched(os.path.join(d, "gpt-count.img"), work, 512 + 80, "<I", 0xFFFFFFFF)
    gpt_patched(os.path.join(d, "gpt-esize.img"), work, 512 + 84, "<I", 0x80000000)
    gpt_patched(os.path.join(d, "gpt-backup.img"), work, 512 + 32, "<Q", 1 << 62)
    gpt_patched(os.path.join(d, "gpt-part-end.img"), work, 1024 + 40, "<Q", 1 << 62)


def check_overflow(c, rep, name, fs, who=None):
    """fs is still named, and the size it claims is reported as more than any
    disk: a TRUNCATED finding, not a wrapped, small size."""
    img = by_name(rep, name)
    p = probe(img, fs)
    c.true(name + ": " + fs + " found", p is not None, str(img["identification"]["probes"]))
    c.true(name + ": claimed size not wrapped", p is not None and p.get("size", 0) >= 2 ** 64 - 1, str(p))
    c.eq(name + " findings", codes(img), ["TRUNCATED"])
    msg = img["findings"][0]["message"] if img["findings"] else ""
    c.true(name + ": the finding says why", "more bytes than any disk" in msg and "overflows 64 bits" in msg
           and msg.startswith(who or fs), msg)


def check_ntfs(c, rep, d):
    for name in ("ntfs-spc81.img", "ntfs-spce0.img"):
        img = by_name(rep, name)
        c.true(name + ": no NTFS from an impossible geometry", probe(img, "ntfs") is None,
               str(img["identification"]["probes"]))
        c.eq(name + " status", img["status"], "ok")
    big = by_name(rep, "ntfs-128k.img")
    c.eq("mkntfs -c 131072 writes 0xF8", peek(os.path.join(d, "ntfs-128k.img"), 13, "B"), 0xF8)
    p = probe(big, "ntfs")
    c.eq("128 KiB clusters decoded", (p or {}).get("block_size"), 131072)
    c.eq("its label read from the MFT", (p or {}).get("label"), "BIGCLUST")
    c.eq("128 KiB clusters: no findings", codes(big), [])


def check_gpt(c, rep):
    for name in ("gpt-count.img", "gpt-esize.img"):
        img = by_name(rep, name)
        c.true(name + ": table refused", probe(img, "gpt") is None, str(img["identification"]["probes"]))
        c.true(name + ": no partitions from it", img["identification"]["partition_table"] is None,
               str(img["identification"]["partition_table"]))
        c.eq(name + " status", img["status"], "ok")
    check_overflow(c, rep, "gpt-backup.img", "gpt")
    img = by_name(rep, "gpt-part-end.img")
    parts = img["identification"]["partition_table"]["partitions"]
    c.eq("gpt-part-end: partition 1 starts where it did", (parts[0]["number"], parts[0]["start"]), (1, M))
    c.true("gpt-part-end: its length is not wrapped", parts[0]["length"] >= 2 ** 64 - 1, str(parts[0]))
    c.eq("gpt-part-end findings", codes(img), ["TRUNCATED"])
    msg = img["findings"][0]["message"] if img["findings"] else ""
    c.true("gpt-part-end: the finding says why", msg.startswith("a partition claims more bytes than any disk"), msg)
    c.true("gpt-part-end: the ext4 inside still found", any(p["name"] == "ext4" and p["offset"] == M
           for p in img["identification"]["probes"]), str(img["identification"]["probes"]))


def main():
    top, d, work = itlib.workspace("archive", "work")
    c = itlib.Checker()
    try:
        build(d, work)
        status, rep, err = itlib.scan(d)
        c.eq("exit status: findings", status, 1)
        c.true("no sanitizer report", "runtime error" not in err and "Sanitizer" not in err, err[-2000:])
        ext4 = by_name(rep, "ext4-huge.img")
        c.eq("ext4-huge kind", (ext4["kind"], ext4["detail"]), ("disk", "ext4"))
        check_overflow(c, rep, "ext4-huge.img", "ext4")
        c.true("ext4-huge: the block count is shown as it is", str(HUGE_BLOCKS) in probe(ext4, "ext4")["detail"],
               probe(ext4, "ext4")["detail"])
        check_overflow(c, rep, "xfs-huge.img", "xfs")
        check_overflow(c, rep, "exfat-huge.img", "exfat")
        check_overflow(c, rep, "f2fs-huge.img", "f2fs")
        check_ntfs(c, rep, d)
        check_gpt(c, rep)
        # The one case alone: the exit status is the finding's.
        status, rep1, err = itlib.scan(os.path.join(d, "ext4-huge.img"))
        c.eq("ext4-huge alone: exit status 1", status, 1)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
