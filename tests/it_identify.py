#!/usr/bin/env python3
"""Identification and verdicts on real images: for each kind and finding, an
image made by the real tool, named rightly and wrongly.  Expectations come
from the formats' facts (and blkid/fsstat where they can confirm them)."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name, codes  # noqa: E402


def probe(img, name):
    for p in img["identification"]["probes"]:
        if p["name"] == name:
            return p
    return None


def tsk_fs(img):
    return [(f["type"], f["offset"]) for f in img["identification"]["tsk"].get("filesystems") or []]


def build(d, work):
    src = itlib.content_dir(work)
    iso = os.path.join(d, "disc.iso")
    itlib.make_iso(iso, "DISC_LABEL", src)
    shutil.copy(iso, os.path.join(d, "disc-as.img"))
    itlib.make_iso(os.path.join(d, "bridge.iso"), "BRIDGE", src, udf=True)
    itlib.make_hybrid(os.path.join(d, "hybrid.img"), "HYBRID", work)
    itlib.make_udf(os.path.join(d, "udfonly.iso"), "UDFONLY")
    itlib.make_udf(os.path.join(d, "udfonly-as.img"), "UDFONLY")
    itlib.make_udf(os.path.join(d, "udfhd.img"), "UDFHD", media="hd")
    itlib.make_udf(os.path.join(d, "udfhd.iso"), "UDFHD", media="hd")
    itlib.make_fat(os.path.join(d, "fat12.ima"), 12, "F12", 1440 << 10)
    itlib.make_fat(os.path.join(d, "fat16.img"), 16, "F16", 32 << 20)
    itlib.make_fat(os.path.join(d, "fat32.iso"), 32, "F32", 40 << 20)
    itlib.make_exfat(os.path.join(d, "exfat.img"), "EXF")
    itlib.make_ext(os.path.join(d, "ext2.img"), "ext2", "E2LABEL")
    itlib.make_ext(os.path.join(d, "ext4.iso"), "ext4", "E4LABEL")
    itlib.make_ntfs(os.path.join(d, "ntfs.img"), "NTLABEL")
    itlib.make_mbr_disk(os.path.join(d, "mbr.img"), work)
    itlib.make_gpt_disk(os.path.join(d, "gpt.iso"), work)
    raw = os.path.join(work, "raw-src.img")
    itlib.make_fat(raw, 16, "INNER", 16 << 20)
    itlib.make_qemu(os.path.join(d, "vm-qcow2.img"), "qcow2", src=raw)
    itlib.make_qemu(os.path.join(d, "vm.qcow2"), "qcow2", src=raw)
    itlib.make_qemu(os.path.join(d, "vm-vmdk.img"), "vmdk", src=raw)
    itlib.make_qemu(os.path.join(d, "vm-vhd.img"), "vpc", src=raw)
    itlib.make_qemu(os.path.join(d, "vm.vdi"), "vdi", src=raw)
    itlib.make_qemu(os.path.join(d, "vm.vhdx"), "vhdx", src=raw)
    itlib.make_e01(os.path.join(d, "evidence"), raw)
    os.rename(os.path.join(d, "evidence.E01"), os.path.join(d, "evidence-e01.img"))
    itlib.make_e01(os.path.join(d, "evidence"), raw)
    itlib.compress(raw, os.path.join(d, "packed-gz.img"), "gzip")
    itlib.compress(raw, os.path.join(d, "packed.img.xz"), "xz")
    os.unlink(raw)
    itlib.frame_raw_cd(iso, os.path.join(d, "cd-mode1.bin"), mode=1)
    itlib.frame_raw_cd(iso, os.path.join(d, "cd-mode2.iso"), mode=2)
    itlib.frame_raw_cd(iso, os.path.join(d, "cd-clone.img"), mode=1)
    open(os.path.join(d, "empty.img"), "w").close()
    itlib.sized(os.path.join(d, "zero.img"), 3 << 20)
    with open(os.path.join(d, "noise.img"), "wb") as f:
        f.write(os.urandom(300_000))
    with open(iso, "rb") as f:
        whole = f.read()
    with open(os.path.join(d, "truncated.iso"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    with open(os.path.join(d, "padded.iso"), "wb") as f:
        f.write(whole + os.urandom(8 << 20))
    # An ISO hidden behind an unknown extension is found by content.
    shutil.copy(iso, os.path.join(d, "mystery.dat"))
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not an image\n")


def check_optical(c, rep, d):
    disc = by_name(rep, "disc.iso")
    c.eq("iso kind", disc["kind"], "optical")
    c.eq("iso label (blkid agrees)", probe(disc, "iso9660")["label"], itlib.blkid(os.path.join(d, "disc.iso"))["LABEL"])
    c.eq("iso size = blocks x 2048", probe(disc, "iso9660")["size"], os.path.getsize(os.path.join(d, "disc.iso")))
    c.true("iso joliet+rr", "Joliet" in probe(disc, "iso9660")["detail"] and "Rock Ridge" in probe(disc, "iso9660")["detail"])
    c.eq("iso tsk", tsk_fs(disc), [("iso9660", 0)])
    c.eq("iso rightly named: no findings", codes(disc), [])
    wrong = by_name(rep, "disc-as.img")
    c.eq("iso as img", codes(wrong), ["ISO_MISNAMED"])
    c.eq("iso as img suggestion", wrong["suggested_name"], "disc-as.iso")
    c.eq("iso as img severity", wrong["findings"][0]["severity"], "medium")
    bridge = by_name(rep, "bridge.iso")
    c.eq("bridge detail", bridge["detail"], "ISO 9660 + UDF bridge")
    c.true("bridge udf label", probe(bridge, "udf") and probe(bridge, "udf")["label"] == "BRIDGE")
    hyb = by_name(rep, "hybrid.img")
    c.eq("hybrid kind", hyb["kind"], "optical")
    c.eq("hybrid finding", codes(hyb), ["ISOHYBRID_MISNAMED"])
    c.eq("hybrid severity lower than plain", hyb["findings"][0]["severity"], "low")
    c.eq("hybrid suggestion", hyb["suggested_name"], "hybrid.iso")
    c.true("hybrid el torito", probe(hyb, "el-torito") is not None)
    c.eq("hybrid mbr partition at 0", hyb["identification"]["partition_table"]["partitions"][0]["start"], 0)
    c.eq("hybrid tsk opens iso (type hint)", tsk_fs(hyb), [("iso9660", 0)])
    udf = by_name(rep, "udfonly.iso")
    c.eq("udf-only kind", (udf["kind"], udf["detail"]), ("optical", "UDF"))
    c.eq("udf label (blkid)", probe(udf, "udf")["label"], itlib.blkid(os.path.join(d, "udfonly.iso"))["LABEL"])
    c.eq("udf-only no findings", codes(udf), [])
    c.eq("udf as img", codes(by_name(rep, "udfonly-as.img")), ["ISO_MISNAMED"])
    c.eq("udf not in tsk: tsk found no fs", tsk_fs(udf), [])
    # 512-byte blocks cannot go on a disc: a disk image, rightly named .img
    hd = by_name(rep, "udfhd.img")
    c.eq("udf hd layout is a disk", (hd["kind"], hd["detail"]), ("disk", "UDF, hard-disk layout (512-byte blocks)"))
    c.eq("udf hd as .img: no finding", codes(hd), [])
    c.eq("udf hd as .iso: a disk named optical", codes(by_name(rep, "udfhd.iso")), ["DISK_NAMED_OPTICAL"])
    c.eq("udf hd as .iso: suggestion", by_name(rep, "udfhd.iso")["suggested_name"], "udfhd.img")


def check_disks(c, rep, d):
    for name, fs, label in (("fat12.ima", "fat12", "F12"), ("fat16.img", "fat16", "F16"), ("fat32.iso", "fat32", "F32")):
        img = by_name(rep, name)
        c.eq(name + " kind", img["kind"], "disk")
        c.true(name + " probe", probe(img, fs) is not None, str(img["identification"]["probes"]))
        c.eq(name + " label (blkid)", probe(img, fs) and probe(img, fs).get("label"), itlib.blkid(os.path.join(d, name))["LABEL"])
        c.eq(name + " tsk", tsk_fs(img), [(fs, 0)])
    c.eq("fat32 named .iso", codes(by_name(rep, "fat32.iso")), ["DISK_NAMED_OPTICAL"])
    c.eq("fat32 suggestion", by_name(rep, "fat32.iso")["suggested_name"], "fat32.img")
    c.eq("fat12 .ima fine", codes(by_name(rep, "fat12.ima")), [])
    ex = by_name(rep, "exfat.img")
    c.eq("exfat", (ex["kind"], tsk_fs(ex)), ("disk", [("exfat", 0)]))
    c.eq("exfat label (blkid), read beyond the head", probe(ex, "exfat").get("label"),
         itlib.blkid(os.path.join(d, "exfat.img"))["LABEL"])
    e2 = by_name(rep, "ext2.img")
    c.eq("ext2 probe+tsk", (probe(e2, "ext2")["label"], tsk_fs(e2)), ("E2LABEL", [("ext2", 0)]))
    c.eq("ext2 uuid (blkid)", probe(e2, "ext2")["uuid"], itlib.blkid(os.path.join(d, "ext2.img"))["UUID"])
    e4 = by_name(rep, "ext4.iso")
    c.eq("ext4 named .iso", (e4["kind"], codes(e4), e4["suggested_name"]), ("disk", ["DISK_NAMED_OPTICAL"], "ext4.img"))
    c.eq("ext4 tsk", tsk_fs(e4), [("ext4", 0)])
    nt = by_name(rep, "ntfs.img")
    c.eq("ntfs", (nt["kind"], tsk_fs(nt), codes(nt)), ("disk", [("ntfs", 0)], []))
    c.eq("ntfs label from $Volume (blkid)", probe(nt, "ntfs").get("label"),
         itlib.blkid(os.path.join(d, "ntfs.img"))["LABEL"])
    mbr = by_name(rep, "mbr.img")
    pt = mbr["identification"]["partition_table"]
    c.eq("mbr scheme", pt["scheme"], "mbr")
    c.eq("mbr partition", (pt["partitions"][0]["start"], pt["partitions"][0]["type"], pt["partitions"][0]["bootable"]),
         (1 << 20, "0x0c", True))
    c.eq("mbr fs inside (probe)", probe(mbr, "fat32")["offset"], 1 << 20)
    c.eq("mbr tsk vs", mbr["identification"]["tsk"]["volume_system"]["type"], "dos")
    c.true("mbr tsk fs in partition", ("fat32", 1 << 20) in tsk_fs(mbr), str(tsk_fs(mbr)))
    gpt = by_name(rep, "gpt.iso")
    pt = gpt["identification"]["partition_table"]
    c.eq("gpt scheme and partition", (pt["scheme"], pt["partitions"][0]["start"], pt["partitions"][0]["name"]),
         ("gpt", 1 << 20, "imgscan-data"))
    c.eq("gpt type guid", pt["partitions"][0]["type"], "0fc63daf-8483-4772-8e79-3d69d8477de4")
    c.true("gpt ext4 inside", probe(gpt, "ext4") and probe(gpt, "ext4")["offset"] == 1 << 20)
    c.eq("gpt tsk vs", gpt["identification"]["tsk"]["volume_system"]["type"], "gpt")
    c.true("gpt tsk ext4 in partition", ("ext4", 1 << 20) in tsk_fs(gpt), str(tsk_fs(gpt)))
    c.eq("gpt disk named .iso", codes(gpt), ["DISK_NAMED_OPTICAL"])


def check_containers(c, rep):
    for name, key, code in (("vm-qcow2.img", "container:qcow2", ["CONTAINER_MISNAMED"]), ("vm.qcow2", "container:qcow2", []),
                            ("vm-vmdk.img", "container:vmdk", ["CONTAINER_MISNAMED"]), ("vm-vhd.img", "container:vhd", ["CONTAINER_MISNAMED"]),
                            ("vm.vdi", "container:vdi", []), ("vm.vhdx", "container:vhdx", []),
                            ("evidence.E01", "container:ewf", ["ACQUISITION_VERIFIED"]),
                            ("evidence-e01.img", "container:ewf", ["ACQUISITION_VERIFIED", "CONTAINER_MISNAMED"]),
                            ("packed-gz.img", "compressed:gzip", ["COMPRESSED_MISNAMED"]), ("packed.img.xz", "compressed:xz", [])):
        img = by_name(rep, name)
        c.eq(name + " kind", img["kind_key"], key)
        c.eq(name + " findings", codes(img), code)
    c.eq("qcow2 suggestion", by_name(rep, "vm-qcow2.img")["suggested_name"], "vm-qcow2.qcow2")
    c.eq("gzip suggestion", by_name(rep, "packed-gz.img")["suggested_name"], "packed-gz.img.gz")
    c.eq("e01 suggestion", by_name(rep, "evidence-e01.img")["suggested_name"], "evidence-e01.E01")
    # What is inside, where TSK can read the container (libewf, libvmdk, libvhdi).
    for name in ("evidence.E01", "vm-vmdk.img", "vm-vhd.img"):
        img = by_name(rep, name)
        c.eq(name + " tsk sees the FAT16 inside", tsk_fs(img), [("fat16", 0)])
        c.true(name + " detail says so", "fat16" in img["detail"], img["detail"])
    q = by_name(rep, "vm.qcow2")
    c.eq("qcow2: TSK reads its virtual disk through libqcow", (q["identification"]["tsk"]["status"],
         q["inside"]["tsk_is_inner"]), ("ok", True))


def check_rawcd_and_misc(c, rep, d):
    m1 = by_name(rep, "cd-mode1.bin")
    c.eq("raw cd mode1", (m1["kind"], codes(m1)), ("raw-cd", []))
    c.eq("raw cd sees the ISO label", probe(m1, "rawcd")["label"], "DISC_LABEL")
    c.eq("raw cd size claim", probe(m1, "rawcd")["size"], os.path.getsize(os.path.join(d, "cd-mode1.bin")))
    m2 = by_name(rep, "cd-mode2.iso")
    c.eq("raw cd mode2 named iso", (m2["kind"], codes(m2), m2["suggested_name"]), ("raw-cd", ["RAWCD_NAMED_ISO"], "cd-mode2.bin"))
    c.true("raw cd message says conversion", "conversion" in m2["findings"][0]["message"])
    c.eq("raw cd severity", m2["findings"][0]["severity"], "high")
    c.eq("raw cd as .img (CloneCD) is fine", codes(by_name(rep, "cd-clone.img")), [])
    c.eq("empty", (by_name(rep, "empty.img")["kind"], codes(by_name(rep, "empty.img"))), ("empty", ["EMPTY_FILE"]))
    z = by_name(rep, "zero.img")
    c.eq("all zero", (z["kind"], codes(z), z["sectors"]["zero"], z["sectors"]["count"]), ("zero", ["ALL_ZERO"], 768, 768))
    # Random bytes: no structure, an info note (an encrypted volume without a
    # header, or wiped media), not a finding that counts.
    c.eq("noise", (by_name(rep, "noise.img")["kind"], codes(by_name(rep, "noise.img"))), ("high-entropy", ["HIGH_ENTROPY"]))
    t = by_name(rep, "truncated.iso")
    c.eq("truncated", codes(t), ["TRUNCATED"])
    c.eq("truncated severity", t["findings"][0]["severity"], "high")
    p = by_name(rep, "padded.iso")
    c.eq("padded", codes(p), ["TRAILING_DATA"])
    c.eq("padded content bytes", p["content_bytes"], os.path.getsize(os.path.join(d, "disc.iso")))
    myst = by_name(rep, "mystery.dat")
    c.eq("iso behind .dat found by content", (myst["kind"], myst["suggested_name"]), ("optical", "mystery.iso"))
    c.true("notes.txt is not an image entry", all(not i["path"].endswith("notes.txt") for i in rep["images"]))
    c.eq("other files counted", rep["summary"]["other_files"], 1)


def main():
    top, d, work = itlib.workspace("archive", "work")
    c = itlib.Checker()
    try:
        build(d, work)
        status, rep, err = itlib.scan(d)
        c.eq("exit status: findings", status, 1)
        c.true("misnamed listed on stderr", "disc-as.img -> disc-as.iso" in err, err)
        check_optical(c, rep, d)
        check_disks(c, rep, d)
        check_containers(c, rep)
        check_rawcd_and_misc(c, rep, d)
        c.eq("no errors", [i["path"] for i in rep["images"] if i["errors"]], [])
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
