#!/usr/bin/env python3
"""Files named .img that are not disks (issue 10), and what our probes say of
them: tar and cpio archives (an initramfs is one), Android boot, vendor_boot,
dtbo, vbmeta, super and sparse images, U-Boot uImages, FIT images and device
trees, lz4, LUKS1/LUKS2, BitLocker, a swap area, EROFS, a macOS sparse image,
and the last resort, high-entropy; and what must not be called any of those
(text, an ELF, gzip'd text, zeros, short random data).

Every file that a Debian tool can write is made by it: tar, cpio, mkbootimg,
img2simg, mkimage (with dtc), lz4, zstd, cryptsetup, mkswap, mkfs.erofs,
mkfs.vfat, mkntfs.  Four formats have no writer in Debian and are built here
from their published layouts: the DTBO table and vbmeta (AOSP mkdtboimg,
libavb), the super image (AOSP liblp, with its SHA-256 checksums), and the
macOS sparse image (libyal libmodi); BitLocker's boot sector and metadata
(libyal libbde's specification) are written over real FAT32 and NTFS boot
sectors, so that the FAT and NTFS probes meet a real BPB.

The hits are asserted (name, class, facts in the detail, label, UUID, the
size the header claims), not the report's kinds: the verdict is another
part's work."""
import os
import shutil
import struct
import subprocess
import sys
import hashlib
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name, sh  # noqa: E402

TOOLS = ("tar", "cpio", "mkbootimg", "img2simg", "mkimage", "dtc", "lz4", "zstd", "cryptsetup", "mkswap",
         "mkfs.erofs", "mkfs.vfat", "mkntfs", "mkfs.ext4", "gzip", "xz", "blkid")
M = 1 << 20
EROFS_UUID = "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"


def probes(img):
    return img["identification"]["probes"]


def probe(img, name):
    return next((p for p in probes(img) if p["name"] == name), None)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# ---- formats with no Debian writer, from their published layouts ---------

def make_dtbo(path, dtbs):
    """AOSP mkdtboimg's DT table: 32-byte big-endian header, 32-byte entries
    (size, offset, id, rev, custom[4]), then the device trees."""
    n = len(dtbs)
    off = 32 + 32 * n
    entries, blobs = b"", b""
    for i, d in enumerate(dtbs):
        entries += struct.pack(">IIII16x", len(d), off + len(blobs), 0x100 + i, 0)
        blobs += d
    total = off + len(blobs)
    write(path, struct.pack(">8I", 0xd7b7ab1e, total, 32, 32, n, 32, 2048, 0) + entries + blobs)
    return total


def make_vbmeta(path):
    """libavb's AvbVBMetaImageHeader (256 bytes, big-endian), a 576-byte
    authentication block (SHA256_RSA4096: hash and signature) and a
    1088-byte auxiliary block, as avbtool lays them out."""
    auth, aux = os.urandom(576), os.urandom(1088)
    hdr = b"AVB0" + struct.pack(">IIQQI", 1, 2, len(auth), len(aux), 2)
    # offsets and sizes: hash, signature, public key, its metadata, descriptors
    hdr += struct.pack(">10Q", 0, 32, 32, 512, 0, 1032, 1032, 0, 1032, 0)
    hdr += struct.pack(">QII", 7, 2, 0)  # rollback index 7, flags: verification disabled, location
    hdr += b"avbtool 1.2.0".ljust(48, b"\0")
    hdr = hdr.ljust(256, b"\0")
    write(path, hdr + auth + aux)
    return 256 + len(auth) + len(aux)


def make_super(path, parts, size=64 * M, minor=2):
    """An AOSP liblp super image: 4 KiB reserved, geometry at 4096 and its
    copy, metadata slots (primary and backup) from 12288; header v10.minor
    with its tables and SHA-256 checksums.  parts: [(name, image path)]."""
    slots, maxsize, lbs = 2, 65536, 4096
    geometry = struct.pack("<II32sIII", 0x616c4467, 52, b"", maxsize, slots, lbs)
    geometry = geometry[:8] + hashlib.sha256(geometry).digest() + geometry[40:]
    first = (12288 + 2 * slots * maxsize) // 512
    ptab, etab, at = b"", b"", first + (M - (first * 512) % M) // 512
    layout = []
    for i, (name, img) in enumerate(parts):
        n = os.path.getsize(img) // 512
        ptab += struct.pack("<36sIIII", name.encode(), 1, i, 1, 0)
        etab += struct.pack("<QIQI", n, 0, at, 0)
        layout.append((img, at))
        at += n
    groups = struct.pack("<36sIQ", b"default", 0, 0)
    bdev = struct.pack("<QIIQ36sI", first, M, 0, size, b"super", 0)
    tables = ptab + etab + groups + bdev
    hsize = 256 if minor >= 2 else 128
    descs = struct.pack("<12I", 0, len(parts), 52, len(ptab), len(parts), 24, len(ptab) + len(etab), 1, 48,
                        len(ptab) + len(etab) + len(groups), 1, 64)
    hdr = struct.pack("<IHHI32sI32s", 0x414C5030, 10, minor, hsize, b"", len(tables), hashlib.sha256(tables).digest())
    hdr += descs
    if hsize == 256:
        hdr += struct.pack("<I", 1).ljust(128, b"\0")  # flags: virtual A/B
    hdr = hdr[:12] + hashlib.sha256(hdr).digest() + hdr[44:]
    meta = (hdr + tables).ljust(maxsize, b"\0")
    itlib.sized(path, size)
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(geometry.ljust(4096, b"\0") + geometry.ljust(4096, b"\0"))
        f.write(meta * (2 * slots))
        for img, sector in layout:
            f.seek(sector * 512)
            f.write(read(img))


def make_sparseimage(path):
    """libmodi's .sparseimage: "sprs", version 3, 2048 sectors (1 MiB) per
    band, 64 MiB virtual; bands 1 and 3 allocated, in that order."""
    hdr = b"sprs" + struct.pack(">IIII", 3, 2048, 1, 131072) + bytes(8) + struct.pack(">Q", 131072)
    hdr = hdr.ljust(64, b"\0") + struct.pack(">II", 1, 3)
    write(path, hdr.ljust(4096, b"\0") + bytes(M) + b"\x5a" * M)


BDE_GUID = bytes([0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a, 0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01])


def fve_block(version, offsets, volume_size, method, volume_guid, description):
    """One FVE metadata block (libbde): block header, metadata header (48
    bytes), a description entry (type 7, UTF-16) and a VMK-like entry."""
    desc = description.encode("utf-16-le") + b"\0\0"
    entries = struct.pack("<HHHH", 8 + len(desc), 7, 2, 1) + desc
    entries += struct.pack("<HHHH", 8 + 72, 2, 8, 1) + os.urandom(72)
    msize = 48 + len(entries)
    meta = struct.pack("<IIII16sIIQ", msize, 1, 48, msize, volume_guid.bytes_le, 1, method, 132000000000000000)
    block = b"-FVE-FS-" + struct.pack("<HHHH", 0, version, 4, 4)
    block += struct.pack("<QII", volume_size, 0, 16) if version == 2 else bytes(16)
    block += struct.pack("<4Q", *offsets, 0)
    return block + meta + entries


def make_bitlocker(path, variant, volume_guid, description):
    """A BitLocker volume header over a real boot sector: To Go and Windows 7
    over mkfs.vfat's FAT32, Vista over mkntfs's NTFS; three FVE metadata
    blocks where the header says."""
    size = 64 * M
    if variant == "vista":
        itlib.make_ntfs(path, "VISTA", size)
    else:
        itlib.make_fat(path, 32, "TOGO", size)
    offsets = (32 * M, 40 * M, 48 * M)
    with open(path, "r+b") as f:
        s = bytearray(f.read(512))
        if variant == "togo":
            s[3:11] = b"MSWIN4.1"
            s[424:464] = BDE_GUID + struct.pack("<3Q", *offsets)
        elif variant == "win7":
            s[0:11] = b"\xeb\x58\x90-FVE-FS-"
            s[14:17] = bytes(3)  # no reserved sectors, no FATs (libbde)
            s[160:200] = BDE_GUID + struct.pack("<3Q", *offsets)
        else:
            cluster = struct.unpack_from("<H", s, 11)[0] * s[13]
            s[0:11] = b"\xeb\x52\x90-FVE-FS-"
            s[56:64] = struct.pack("<Q", offsets[0] // cluster)
        f.seek(0)
        f.write(s)
        method = {"togo": 0x8004, "win7": 0x8005, "vista": 0x8001}[variant]
        for o in offsets:
            f.seek(o)
            f.write(fve_block(1 if variant == "vista" else 2, offsets, size, method, volume_guid, description))


# ---- the archive ----------------------------------------------------------

def cpio_of(src, fmt, out):
    names = subprocess.run(["find", "."], cwd=src, stdout=subprocess.PIPE, check=True).stdout
    with open(out, "wb") as f:
        subprocess.run(["cpio", "--quiet", "-o", "-H", fmt], cwd=src, input=names, stdout=f, check=True)


def build(d, work):
    src = os.path.join(work, "src")
    os.makedirs(os.path.join(src, "etc"))
    write(os.path.join(src, "init"), b"#!/bin/sh\nexec /bin/sh\n")
    write(os.path.join(src, "etc", "data.bin"), os.urandom(200_000))
    j = lambda *p: os.path.join(d, *p)  # noqa: E731
    w = lambda *p: os.path.join(work, *p)  # noqa: E731

    # Archives: GNU, POSIX (pax) and v7 tar; the four cpio formats.
    sh("tar", "-cf", j("gnu-tar.img"), "-V", "BACKUP-2026", "-C", src, ".")
    sh("tar", "--format=posix", "-cf", j("posix-tar.img"), "-C", src, ".")
    sh("tar", "--format=v7", "-cf", j("v7-tar.img"), "-C", src, ".")
    for fmt in ("newc", "crc", "odc", "bin"):
        cpio_of(src, fmt, j("cpio-%s.img" % fmt))
    # An initramfs as the kernel takes it: an uncompressed early cpio
    # (microcode), then the main one compressed with zstd.
    early = os.path.join(work, "early")
    os.makedirs(os.path.join(early, "kernel", "x86", "microcode"))
    write(os.path.join(early, "kernel", "x86", "microcode", "GenuineIntel.bin"), os.urandom(3000))
    cpio_of(early, "newc", w("early.cpio"))
    cpio_of(src, "newc", w("main.cpio"))
    itlib.compress(w("main.cpio"), w("main.cpio.zst"), "zstd")
    write(j("initramfs.img"), read(w("early.cpio")) + read(w("main.cpio.zst")))
    # lz4: the frame format, and the legacy one the kernel reads (lz4 -l).
    sh("lz4", "-q", "-f", w("main.cpio"), j("ramdisk-lz4.img"))
    sh("lz4", "-q", "-f", "-l", w("main.cpio"), j("initrd-legacy.img"))

    # Android boot images (mkbootimg): v0 with a board name, a cmdline and an
    # OS version; v1 recovery with a DTBO; v2 with a DTB; v3 (4 KiB pages);
    # a v3 init_boot (no kernel); a vendor_boot.
    write(w("kernel"), os.urandom(3 * M + 123))
    itlib.compress(w("main.cpio"), w("ramdisk"), "gzip")
    dts = '/dts-v1/;\n/ { model = "%s"; compatible = "acme,%s"; #address-cells = <1>; #size-cells = <1>; };\n'
    for name in ("board-a", "board-b"):
        write(w(name + ".dts"), (dts % (name, name)).encode())
        sh("dtc", "-q", "-I", "dts", "-O", "dtb", "-o", w(name + ".dtb"), w(name + ".dts"))
    dtbo_size = make_dtbo(j("dtbo.img"), [read(w("board-a.dtb")), read(w("board-b.dtb"))])
    sh("mkbootimg", "--kernel", w("kernel"), "--ramdisk", w("ramdisk"), "--board", "imgscanbrd",
       "--cmdline", "console=ttyMSM0,115200 androidboot.hardware=qcom", "--os_version", "11.0.0",
       "--os_patch_level", "2021-05", "-o", j("boot.img"))
    # (Debian's mkbootimg cannot add a recovery DTBO: its page count is a
    # float under Python 3.  unit_probes checks that field on bytes.)
    sh("mkbootimg", "--header_version", "1", "--kernel", w("kernel"), "--ramdisk", w("ramdisk"),
       "-o", j("recovery.img"))
    sh("mkbootimg", "--header_version", "2", "--pagesize", "4096", "--kernel", w("kernel"), "--ramdisk",
       w("ramdisk"), "--dtb", w("board-a.dtb"), "-o", j("boot-v2.img"))
    sh("mkbootimg", "--header_version", "3", "--kernel", w("kernel"), "--ramdisk", w("ramdisk"),
       "--cmdline", "console=ttyS0", "-o", j("boot-v3.img"))
    sh("mkbootimg", "--header_version", "3", "--kernel", "/dev/null", "--ramdisk", w("ramdisk"),
       "-o", j("init_boot.img"))
    sh("mkbootimg", "--header_version", "3", "--vendor_boot", j("vendor_boot.img"), "--vendor_ramdisk",
       w("ramdisk"), "--dtb", w("board-a.dtb"), "--board", "vendorbrd", "--vendor_cmdline", "androidboot.x=1")
    with open(j("boot.img"), "rb") as f, open(j("boot-cut.img"), "wb") as g:
        g.write(f.read(2 * M))
    vbmeta_size = make_vbmeta(j("vbmeta.img"))

    # Sparse and super: an ext4 image made sparse (img2simg), and a super
    # image holding it and a second one.
    itlib.make_ext(w("system.raw"), "ext4", "SYSTEM", 32 * M)
    sh("img2simg", w("system.raw"), j("system.simg"))
    shutil.copy(j("system.simg"), j("system.img"))
    itlib.make_ext(w("vendor.raw"), "ext4", "VENDOR", 8 * M)
    make_super(j("super.img"), [("system_a", w("system.raw")), ("vendor_a", w("vendor.raw"))])

    # U-Boot: a legacy kernel uImage, a boot script (boot.scr), a ramdisk
    # uImage; a FIT with embedded and with external data; a plain DTB.
    sh("mkimage", "-q", "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none", "-a", "0x8000", "-e", "0x8000",
       "-n", "Linux-6.1.0", "-d", w("kernel"), j("uImage.img"))
    write(w("boot.cmd"), b"setenv bootargs console=ttyS0\nbootz ${kernel_addr_r}\n")
    sh("mkimage", "-q", "-A", "arm", "-O", "linux", "-T", "script", "-C", "none", "-n", "boot script",
       "-d", w("boot.cmd"), j("boot.scr.img"))
    sh("mkimage", "-q", "-A", "arm64", "-O", "linux", "-T", "ramdisk", "-C", "gzip", "-n", "initrd",
       "-d", w("ramdisk"), j("uInitrd.img"))
    its = """/dts-v1/;
/ {
	description = "imgscan FIT";
	#address-cells = <1>;
	images {
		kernel-1 { description = "kernel"; data = /incbin/("%s"); type = "kernel"; arch = "arm";
			os = "linux"; compression = "none"; load = <0x8000>; entry = <0x8000>; };
		fdt-1 { description = "dtb"; data = /incbin/("%s"); type = "flat_dt"; arch = "arm";
			compression = "none"; };
	};
	configurations { default = "conf-1"; conf-1 { kernel = "kernel-1"; fdt = "fdt-1"; }; };
};
""" % (w("kernel"), w("board-a.dtb"))
    write(w("fit.its"), its.encode())
    sh("mkimage", "-f", w("fit.its"), j("fit.img"))
    sh("mkimage", "-E", "-f", w("fit.its"), j("fit-external.img"))
    shutil.copy(w("board-a.dtb"), j("board.img"))

    # Encrypted volumes: LUKS1, LUKS2 (two ciphers), BitLocker's three.
    write(w("key"), b"imgscan test key")
    kdf = ("--pbkdf", "argon2id", "--pbkdf-memory", "32", "--pbkdf-force-iterations", "4")
    for name, opts in (("luks1.img", ("--type", "luks1", "--iter-time", "1")),
                       ("luks2.img", ("--type", "luks2", "--label", "CRYPTLBL", "--subsystem", "imgscan",
                                      "--sector-size", "512") + kdf),
                       ("luks2-cbc.img", ("--type", "luks2", "--cipher", "aes-cbc-essiv:sha256", "--key-size", "256",
                                          "--sector-size", "4096") + kdf)):
        itlib.sized(j(name), 24 * M)
        sh("cryptsetup", "luksFormat", "--batch-mode", "--key-file", w("key"), *opts, j(name))
    guids = {}
    for variant in ("togo", "win7", "vista"):
        guids[variant] = uuid.uuid4()
        make_bitlocker(j("bitlocker-%s.img" % variant), variant, guids[variant],
                       "IMGSCAN-PC %s: 24/11/2026" % variant.upper())

    # Other formats named .img: a swap area, EROFS, a macOS sparse image.
    itlib.sized(j("swap.img"), 16 * M)
    sh("mkswap", "-L", "SWAPLBL", j("swap.img"))
    sh("mkfs.erofs", "-zlz4hc", "-U" + EROFS_UUID, j("erofs.img"), src)
    make_sparseimage(j("mac-sparse.img"))

    # The last resort, and what must stay silent.
    write(j("random.img"), os.urandom(2 * M))
    write(j("random-short.img"), os.urandom(32 * 1024))
    with open(j("random-xz.img"), "wb") as f:
        subprocess.run(["xz", "-c", j("random.img")], stdout=f, check=True)
    text = b"".join(b"line %d of an ordinary text file, nothing to see here\n" % i for i in range(20000))
    write(j("text.img"), text)
    shutil.copy("/bin/true", j("elf.img"))
    with open(j("text-gz.img"), "wb") as f:
        subprocess.run(["gzip", "-c", j("text.img")], stdout=f, check=True)
    write(j("zeros.img"), bytes(2 * M))
    return {"dtbo": dtbo_size, "vbmeta": vbmeta_size, "guids": guids}


# ---- the checks -----------------------------------------------------------

def hit(c, rep, name, want, cls):
    """The hit named want in image name, checked to be of class cls."""
    img = by_name(rep, name)
    p = probe(img, want)
    c.true("%s: %s hit" % (name, want), p is not None, str(probes(img)))
    if p:
        c.eq("%s: %s class" % (name, want), p["class"], cls)
    return img, p or {}


def has(c, what, p, *facts):
    for f in facts:
        c.true("%s: detail has %r" % (what, f), f in p.get("detail", ""), p.get("detail"))


def check_archives(c, rep, d):
    for name, kind in (("gnu-tar.img", "GNU tar"), ("posix-tar.img", "POSIX ustar (pax)"), ("v7-tar.img", "v7 tar")):
        img, p = hit(c, rep, name, "tar", "archive")
        has(c, name, p, kind, "4 members", 'first "./"')
        size = os.path.getsize(os.path.join(d, name))
        c.true(name + ": archive end within the file's last 10 KiB record", 0 < size - p.get("size", 0) < 10240,
               "%s vs %d" % (p.get("size"), size))
    c.eq("gnu-tar.img: the volume label (tar -V)", probe(by_name(rep, "gnu-tar.img"), "tar").get("label"),
         "BACKUP-2026")
    for fmt, kind in (("newc", "newc (SVR4)"), ("crc", "crc (SVR4"), ("odc", "odc (POSIX"),
                      ("bin", "binary, little-endian")):
        name = "cpio-%s.img" % fmt
        img, p = hit(c, rep, name, "cpio", "archive")
        has(c, name, p, kind, "4 members", 'first "."')
        c.true(name + ": trailer within the file", 0 < p.get("size", 0) <= os.path.getsize(os.path.join(d, name)),
               str(p))
    img, p = hit(c, rep, "initramfs.img", "cpio", "archive")
    early = os.path.getsize(os.path.join(os.path.dirname(d), "work", "early.cpio"))
    has(c, "initramfs", p, "newc (SVR4)", "then zstd data at %d" % early)
    for name, fact in (("ramdisk-lz4.img", "frame format"), ("initrd-legacy.img", "legacy format")):
        img, p = hit(c, rep, name, "lz4", "compressed")
        has(c, name, p, fact)


def check_android(c, rep, d, made):
    size = lambda n: os.path.getsize(os.path.join(d, n))  # noqa: E731
    img, p = hit(c, rep, "boot.img", "android-boot", "boot")
    has(c, "boot.img", p, "header v0", "2048-byte pages", "kernel %d" % (3 * M + 123), "Android 11.0.0",
        "patch 2021-05", 'cmdline "console=ttyMSM0,115200')
    c.eq("boot.img: board name as label", p.get("label"), "imgscanbrd")
    c.eq("boot.img: claimed size is the file's", p.get("size"), size("boot.img"))
    img, p = hit(c, rep, "recovery.img", "android-boot", "boot")
    has(c, "recovery.img", p, "header v1", "ramdisk")
    c.eq("recovery.img: claimed size", p.get("size"), size("recovery.img"))
    img, p = hit(c, rep, "boot-v2.img", "android-boot", "boot")
    has(c, "boot-v2.img", p, "header v2", "4096-byte pages", "dtb ")
    c.eq("boot-v2.img: claimed size", p.get("size"), size("boot-v2.img"))
    img, p = hit(c, rep, "boot-v3.img", "android-boot", "boot")
    has(c, "boot-v3.img", p, "header v3", "4096-byte pages", 'cmdline "console=ttyS0"')
    c.eq("boot-v3.img: claimed size", p.get("size"), size("boot-v3.img"))
    img, p = hit(c, rep, "init_boot.img", "android-boot", "boot")
    has(c, "init_boot.img", p, "no kernel (init_boot)")
    img, p = hit(c, rep, "vendor_boot.img", "android-vendor-boot", "boot")
    has(c, "vendor_boot.img", p, "header v3", "vendor ramdisk", "dtb", 'cmdline "androidboot.x=1"')
    c.eq("vendor_boot.img: board name as label", p.get("label"), "vendorbrd")
    c.eq("vendor_boot.img: claimed size", p.get("size"), size("vendor_boot.img"))
    img, p = hit(c, rep, "boot-cut.img", "android-boot", "boot")
    c.eq("boot-cut.img: claims the whole image", p.get("size"), size("boot.img"))
    img, p = hit(c, rep, "dtbo.img", "android-dtbo", "boot")
    has(c, "dtbo.img", p, "2 device-tree overlays")
    c.eq("dtbo.img: claimed size", p.get("size"), made["dtbo"])
    img, p = hit(c, rep, "vbmeta.img", "android-vbmeta", "boot")
    has(c, "vbmeta.img", p, "libavb 1.2", "SHA256_RSA4096", "rollback index 7", "verification disabled",
        '"avbtool 1.2.0"')
    c.eq("vbmeta.img: claimed size", p.get("size"), made["vbmeta"])
    img, p = hit(c, rep, "super.img", "android-super", "boot")
    has(c, "super.img", p, "2 slots", "metadata 10.2", "virtual A/B", "2 partitions: system_a, vendor_a")
    c.eq("super.img: claimed size is the block device's", p.get("size"), 64 * M)
    for name in ("system.simg", "system.img"):
        img, p = hit(c, rep, name, "android-sparse", "container")
        has(c, name, p, "4096-byte blocks", "8192 blocks (%d bytes expanded)" % (32 * M))
        if "size" in p:
            c.eq(name + ": claimed size, when the chunks could be followed", p["size"], size(name))


def check_uboot(c, rep, d):
    img, p = hit(c, rep, "uImage.img", "u-boot", "boot")
    has(c, "uImage.img", p, '"Linux-6.1.0"', "linux arm kernel", "compression none", "%d bytes of data" % (3 * M + 123))
    c.eq("uImage.img: name as label", p.get("label"), "Linux-6.1.0")
    c.eq("uImage.img: claimed size", p.get("size"), os.path.getsize(os.path.join(d, "uImage.img")))
    img, p = hit(c, rep, "boot.scr.img", "u-boot", "boot")
    has(c, "boot.scr.img", p, "linux arm script")
    img, p = hit(c, rep, "uInitrd.img", "u-boot", "boot")
    has(c, "uInitrd.img", p, "linux arm64 ramdisk", "compression gzip")
    img, p = hit(c, rep, "fit.img", "fit", "boot")
    has(c, "fit.img", p, "FIT image, 2 images (kernel, flat_dt)")
    c.eq("fit.img: description as label", p.get("label"), "imgscan FIT")
    img, p = hit(c, rep, "fit-external.img", "fit", "boot")
    has(c, "fit-external.img", p, "2 images", "external data")
    c.eq("fit-external.img: claimed size covers the external data", p.get("size"),
         os.path.getsize(os.path.join(d, "fit-external.img")))
    img, p = hit(c, rep, "board.img", "dtb", "boot")
    has(c, "board.img", p, 'model "board-a"', 'compatible "acme,board-a"')
    c.true("board.img: not a FIT", probe(img, "fit") is None, str(probes(img)))


def check_encrypted(c, rep, d, made):
    for name in ("luks1.img", "luks2.img", "luks2-cbc.img"):
        kind = name.split("-")[0].split(".")[0]
        img, p = hit(c, rep, name, kind, "encrypted")
        luks_uuid = sh("cryptsetup", "luksUUID", os.path.join(d, name)).stdout.decode().strip()
        c.eq(name + ": UUID (cryptsetup luksUUID)", p.get("uuid"), luks_uuid)
    img, p = hit(c, rep, "luks1.img", "luks1", "encrypted")
    has(c, "luks1.img", p, "LUKS1, aes-xts-plain64, sha256", "512-bit key", "1 of 8 key slots in use")
    c.true("luks1.img: claims its payload offset", p.get("size", 0) >= M, str(p))
    img, p = hit(c, rep, "luks2.img", "luks2", "encrypted")
    has(c, "luks2.img", p, "LUKS2, aes-xts-plain64", "512-byte sectors", "data at %d" % (16 * M),
        'subsystem "imgscan"')
    c.eq("luks2.img: label", p.get("label"), "CRYPTLBL")
    c.eq("luks2.img: claims the data offset", p.get("size"), 16 * M)
    img, p = hit(c, rep, "luks2-cbc.img", "luks2", "encrypted")
    has(c, "luks2-cbc.img", p, "aes-cbc-essiv:sha256", "4096-byte sectors")
    for variant, fact, method in (("togo", "BitLocker To Go", "AES-128-XTS"),
                                  ("win7", "Windows 7 or later", "AES-256-XTS"),
                                  ("vista", "Windows Vista", "AES-256-CBC with Elephant diffuser")):
        name = "bitlocker-%s.img" % variant
        img, p = hit(c, rep, name, "bitlocker", "encrypted")
        has(c, name, p, fact, "first metadata block at %d" % (32 * M), method)
        c.eq(name + ": description entry as label", p.get("label"), "IMGSCAN-PC %s: 24/11/2026" % variant.upper())
        c.eq(name + ": volume GUID", p.get("uuid"), str(made["guids"][variant]))
        others = [q["name"] for q in probes(img) if q["offset"] == 0 and q["name"] != "bitlocker"]
        c.eq(name + ": not also FAT, NTFS or MBR", others, [])
        if variant != "vista":
            c.eq(name + ": volume size from the metadata", p.get("size"), 64 * M)
    img, p = hit(c, rep, "random.img", "high-entropy", "encrypted")
    has(c, "random.img", p, "entropy 7.99", "over 1048576 bytes", "uniform, as encrypted or random data is")


def check_others(c, rep, d):
    img, p = hit(c, rep, "swap.img", "swap", "filesystem")
    blk = itlib.blkid(os.path.join(d, "swap.img"))
    c.eq("swap.img: label and UUID (blkid)", (p.get("label"), p.get("uuid")), (blk.get("LABEL"), blk.get("UUID")))
    c.eq("swap.img: claimed size", p.get("size"), 16 * M)
    img, p = hit(c, rep, "erofs.img", "erofs", "filesystem")
    blk = itlib.blkid(os.path.join(d, "erofs.img"))
    c.eq("erofs.img: UUID (blkid)", p.get("uuid"), blk.get("UUID"))
    c.eq("erofs.img: UUID given to mkfs.erofs", p.get("uuid"), EROFS_UUID)
    c.eq("erofs.img: claimed size", p.get("size"), os.path.getsize(os.path.join(d, "erofs.img")))
    c.true("erofs.img: compressed, yet not high-entropy", probe(img, "high-entropy") is None, str(probes(img)))
    img, p = hit(c, rep, "mac-sparse.img", "sparseimage", "container")
    has(c, "mac-sparse.img", p, "virtual size %d bytes" % (64 * M), "1048576-byte bands, 2 bands allocated")
    img, p = hit(c, rep, "random-xz.img", "xz", "compressed")
    c.true("random-xz.img: known, so not high-entropy", probe(img, "high-entropy") is None, str(probes(img)))
    quiet = ("archive", "boot", "encrypted")
    for name in ("text.img", "elf.img", "text-gz.img", "zeros.img", "random-short.img"):
        img = by_name(rep, name)
        c.eq(name + ": no archive, boot or encrypted hit",
             [q["name"] for q in probes(img) if q["class"] in quiet], [])
    c.eq("text-gz.img: gzip only", [q["name"] for q in probes(by_name(rep, "text-gz.img"))], ["gzip"])


def main():
    top, d, work = itlib.workspace("archive", "work")
    itlib.skip_without(TOOLS, top)
    c = itlib.Checker()
    try:
        made = build(d, work)
        status, rep, err = itlib.scan(d)
        c.true("report written", rep is not None, err)
        if rep:
            check_archives(c, rep, d)
            check_android(c, rep, d, made)
            check_uboot(c, rep, d)
            check_encrypted(c, rep, d, made)
            check_others(c, rep, d)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
