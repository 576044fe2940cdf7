#!/usr/bin/env python3
"""Labels as the operating systems show them (issue 10): every image is made
here by the real tool with a label outside ASCII, and the report's label is
checked against the text given to the tool and, where it reads the format,
against blkid (or udfinfo, xorriso -toc, mlabel).

- NTFS (mkntfs -L), exFAT (mkfs.exfat -L): UTF-16LE, with an emoji (a
  surrogate pair: 4 bytes of UTF-8).  ext4 (mkfs.ext4 -L) and classic HFS
  (hformat -l) store the UTF-8 bytes they are given: kept as they are.
- UDF (mkudffs --label): 16-bit CS0 (UTF-16BE) with an emoji; 8-bit CS0
  (Latin-1, forced with --u8); 4096-byte blocks (block_size 4096); the
  anchor at block 256 zeroed (the one at the last block is used), and the
  anchors at 256 and at the last block zeroed (the one at N - 256, beyond
  the captured tail, read by the refine hook).
- FAT: labels in code page 850 (mlabel; dosfstools 4.2's mkfs.fat -n
  rejects any byte above 0x7F).  The root directory's label entry wins over
  the boot sector's copy, which is reported as label_boot_sector when it
  differs: mlabel changes both, Windows only the root entry, so the test
  puts the boot sector mkfs.fat wrote back (dd) after mlabel.  A 1 GiB
  FAT32, whose root cluster lies beyond the first MiB, is read by the
  refine hook.
- ISO 9660 with Joliet (genisoimage -J): the Joliet volume identifier
  (UTF-16BE, 16 characters) as label_joliet beside the primary label.
- Multi-session: three sessions written by xorriso into one file (as
  xorriso -toc lists them), and two by genisoimage -C/-M appended in place
  (xorriso -toc finds only its own layout: isoinfo -T reads each session):
  one hit per session at its offset.
- Multi-session beyond the first MiB: xorriso's first session holds a
  3 MiB file, so its second session starts past the captured head (and
  genisoimage -C/-M appends a second session after a 3 MiB first one): the
  probe's follow-up (its more_hits hook) reads on, and every session is
  reported with its label at its start sector x 2048, as xorriso -toc (or
  isoinfo -T) reads them, the count whole ("2 sessions", never "at least"
  or "the newest not reached").
"""
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name  # noqa: E402

TOOLS = ("mkntfs", "mkfs.exfat", "mkfs.ext4", "hformat", "mkudffs", "udfinfo", "mkfs.vfat", "mlabel", "genisoimage", "isoinfo", "xorriso",
         "blkid")
ENV = dict(os.environ, LC_ALL="C.UTF-8", MTOOLS_SKIP_CHECK="1")


def run(*cmd, cwd=None):
    """Run a tool with UTF-8 arguments (bytes passed as they are); its stdout
    as bytes.  Fails loudly with its stderr."""
    args = [c if isinstance(c, bytes) else str(c).encode() for c in cmd]
    p = subprocess.run(args, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout


def blkid_value(path, tag):
    """A tag as blkid -p prints it: raw bytes (FAT's are in the OEM code page)."""
    p = subprocess.run(["blkid", "-p", "-o", "value", "-s", tag, path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    return p.stdout.rstrip(b"\n")


def udfinfo(path, key):
    for line in run("udfinfo", path).decode().splitlines():
        if line.startswith(key + "="):
            return line[len(key) + 1:]
    return None


def zero_block(path, block, bs):
    run("dd", "if=/dev/zero", "of=" + path, "bs=%d" % bs, "seek=%d" % block, "count=1", "conv=notrunc",
        "status=none")


def sized(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


def udf_lvd_compression(path, bs):
    """The compression ID of the logical volume identifier (8 or 16), read
    from the image through its anchor at block 256: the test's own check
    that both encodings are exercised."""
    with open(path, "rb") as f:
        f.seek(256 * bs)
        a = f.read(32)
        length, loc = struct.unpack("<II", a[16:24])
        for i in range(min(length // bs, 64)):
            f.seek((loc + i) * bs)
            d = f.read(512)
            if struct.unpack("<H", d[:2])[0] == 6:
                return d[84]
    return None


# ---- the images --------------------------------------------------------------

NTFS_LABEL = "Тест 🎉"
EXFAT_LABEL = "Ünï🎉cödé"
EXT_LABEL = "Тест ext4"
HFS_LABEL = "Café HFS"
UDF_EMOJI = "Disk 🎉 Ω"
UDF_LATIN1 = "Café déjà"
FAT_ROOT = "ÅRØ NEW"      # cp850 8F 52 9D ...
FAT32_ROOT = "ÉTÉ32"
FAT_SAME = "CAFÉ"
ISO_LABEL = "Ünïcödé Ω"
ISO_LONG = "Long Joliet Volume Name"


def build_fs(d, work):
    sized(os.path.join(d, "ntfs.img"), 32 << 20)
    run("mkntfs", "-q", "-F", "-Q", "-L", NTFS_LABEL, os.path.join(d, "ntfs.img"))
    sized(os.path.join(d, "exfat.img"), 32 << 20)
    run("mkfs.exfat", "-L", EXFAT_LABEL, os.path.join(d, "exfat.img"))
    sized(os.path.join(d, "ext4.img"), 16 << 20)
    run("mkfs.ext4", "-q", "-F", "-L", EXT_LABEL, os.path.join(d, "ext4.img"))
    sized(os.path.join(d, "classic.hfs.img"), 8 << 20)
    run("hformat", "-l", HFS_LABEL, os.path.join(d, "classic.hfs.img"))


def build_udf(d):
    p = os.path.join(d, "udf-emoji.img")
    sized(p, 16 << 20)
    run("mkudffs", "--media-type=hd", "--label=" + UDF_EMOJI, p)
    p = os.path.join(d, "udf-latin1.img")
    sized(p, 16 << 20)
    run("mkudffs", "--u8", "--media-type=hd", b"--label=" + UDF_LATIN1.encode("latin-1"), p)
    p = os.path.join(d, "udf-4k.img")
    sized(p, 16 << 20)
    run("mkudffs", "--media-type=hd", "--blocksize=4096", "--label=Vier K", p)
    for name, label in (("udf-noanchor.img", "NoFirst"), ("udf-midanchor.img", "OnlyMid")):
        p = os.path.join(d, name)
        sized(p, 16 << 20)
        run("mkudffs", "--media-type=hd", "--blocksize=2048", "--label=" + label, p)
    return blkid_value(os.path.join(d, "udf-noanchor.img"), "LABEL")


def damage_udf(d):
    """The anchors at 256 (both), and at the last block (the second): what
    remains is the one at the last block, and the one at N - 256."""
    last = (16 << 20) // 2048 - 1
    zero_block(os.path.join(d, "udf-noanchor.img"), 256, 2048)
    zero_block(os.path.join(d, "udf-midanchor.img"), 256, 2048)
    zero_block(os.path.join(d, "udf-midanchor.img"), last, 2048)


def relabel_root_only(path, new, sectors):
    """mlabel changes the label in the root directory and in the boot
    sector; put the boot sector (and FAT32's backup) mkfs.fat wrote back, as
    Windows would have left it."""
    with open(path, "rb") as f:
        saved = [(s, (f.seek(s * 512), f.read(512))[1]) for s in sectors]
    run("mlabel", "-i", path, "::" + new)
    with open(path, "r+b") as f:
        for s, data in saved:
            f.seek(s * 512)
            f.write(data)


def fat32_root_offset(path):
    with open(path, "rb") as f:
        s = f.read(512)
    bps, spc, res, nfats = struct.unpack("<HBHB", s[11:17])
    fatsz, root = struct.unpack("<II", s[36:44])
    return (res + nfats * fatsz + (root - 2) * spc) * bps


def build_fat(d):
    p = os.path.join(d, "fat16.img")
    sized(p, 32 << 20)
    run("mkfs.vfat", "-n", "BOOTLBL", p)
    relabel_root_only(p, FAT_ROOT, [0])
    p = os.path.join(d, "fat32.img")
    sized(p, 1 << 30)
    run("mkfs.vfat", "-F", "32", "-n", "BOOT32", p)
    relabel_root_only(p, FAT32_ROOT, [0, 6])
    p = os.path.join(d, "fat-same.img")
    sized(p, 16 << 20)
    run("mkfs.vfat", "-n", "SAME", p)
    run("mlabel", "-i", p, "::" + FAT_SAME)


def build_iso(d, work):
    src = itlib.content_dir(work, "iso-src", 4096)
    run("genisoimage", "-quiet", "-J", "-input-charset", "utf-8", "-V", ISO_LABEL, "-o",
        os.path.join(d, "joliet.iso"), src)
    run("genisoimage", "-quiet", "-J", "-joliet-long", "-V", ISO_LONG, "-o", os.path.join(d, "joliet-long.iso"), src)


def build_sessions(d, work):
    """xorriso grows one file by three sessions; genisoimage -C/-M makes a
    second session that is written into the first image's file at its
    start (the next 32-sector boundary, where xorriso -toc looks)."""
    xo = os.path.join(d, "three-sessions.iso")
    for name in ("one", "two", "three"):
        sub = os.path.join(work, "s-" + name)
        os.makedirs(sub)
        with open(os.path.join(sub, name + ".txt"), "w") as f:
            f.write(name * 100)
        run("xorriso", "-dev", xo, "-volid", "S_" + name.upper(), "-map", sub, "/" + name, "-commit")
    first = os.path.join(work, "g1.iso")
    run("genisoimage", "-quiet", "-J", "-R", "-V", "FIRSTG", "-o", first, itlib.content_dir(work, "g1", 1000))
    nwa = (os.path.getsize(first) // 2048 + 31) // 32 * 32
    second = os.path.join(work, "g2.iso")
    run("genisoimage", "-quiet", "-J", "-R", "-V", "SECONDG", "-C", "0,%d" % nwa, "-M", first, "-o", second,
        itlib.content_dir(work, "g2", 1000))
    gi = os.path.join(d, "appended.iso")
    shutil.copy(first, gi)
    with open(second, "rb") as s, open(gi, "r+b") as g:
        g.seek(nwa * 2048)
        g.write(s.read())
    return [0, nwa]


def build_big_sessions(d, work):
    """Two sessions each, the second starting well beyond the first MiB:
    xorriso grows one file (the newest session's descriptors copied to
    sector 16); genisoimage -C/-M writes a second session after a 3 MiB
    first one, put into the first image's file at its start."""
    xo = os.path.join(d, "big-sessions.iso")
    for name, size in (("big", 3 << 20), ("small", 1000)):
        sub = os.path.join(work, "b-" + name)
        os.makedirs(sub)
        with open(os.path.join(sub, name + ".bin"), "wb") as f:
            f.write(os.urandom(size))
        run("xorriso", "-dev", xo, "-volid", "B_" + name.upper(), "-map", sub, "/" + name, "-commit")
    first = os.path.join(work, "bg1.iso")
    run("genisoimage", "-quiet", "-J", "-R", "-V", "BIGFIRST", "-o", first, itlib.content_dir(work, "bg1", 3 << 20))
    nwa = (os.path.getsize(first) // 2048 + 31) // 32 * 32
    second = os.path.join(work, "bg2.iso")
    run("genisoimage", "-quiet", "-J", "-R", "-V", "BIGSECOND", "-C", "0,%d" % nwa, "-M", first, "-o", second,
        itlib.content_dir(work, "bg2", 1000))
    gi = os.path.join(d, "big-appended.iso")
    shutil.copy(first, gi)
    with open(second, "rb") as s, open(gi, "r+b") as g:
        g.seek(nwa * 2048)
        g.write(s.read())
    return [0, nwa]


def isoinfo_sessions(path, starts):
    """[(start sector, volume id)] as isoinfo -d -T START reads each session."""
    sessions = []
    for start in starts:
        for line in run("isoinfo", "-d", "-i", path, "-T", start).decode(errors="replace").splitlines():
            if line.startswith("Volume id: "):
                sessions.append((start, line[len("Volume id: "):].strip()))
    return sessions


def toc(path):
    """xorriso -toc's sessions: [(start sector, volume id)]."""
    out = run("xorriso", "-indev", path, "-toc").decode(errors="replace")
    sessions = []
    for line in out.splitlines():
        if line.startswith("ISO session"):
            fields = [f.strip() for f in line.split(":", 1)[1].split(",")]
            sessions.append((int(fields[1]), fields[3]))
    return sessions


# ---- the checks --------------------------------------------------------------

def probes(rep, name, fs=None):
    img = by_name(rep, name)
    return [p for p in img["identification"]["probes"] if fs is None or p["name"] == fs]


def one(rep, name, fs):
    found = probes(rep, name, fs)
    return found[0] if found else {}


def check_fs(c, rep, d):
    p = one(rep, "ntfs.img", "ntfs")
    c.eq("ntfs label", p.get("label"), NTFS_LABEL)
    c.eq("ntfs label = blkid", p.get("label"), blkid_value(os.path.join(d, "ntfs.img"), "LABEL").decode())
    p = one(rep, "exfat.img", "exfat")
    c.eq("exfat label", p.get("label"), EXFAT_LABEL)
    c.eq("exfat label = blkid", p.get("label"), blkid_value(os.path.join(d, "exfat.img"), "LABEL").decode())
    for name, fs, label in (("ext4.img", "ext4", EXT_LABEL), ("classic.hfs.img", "hfs", HFS_LABEL)):
        p = one(rep, name, fs)
        c.eq(name + " label", p.get("label"), label)
        c.eq(name + " label = blkid", p.get("label"), blkid_value(os.path.join(d, name), "LABEL").decode())


def check_udf(c, rep, d, noanchor_before):
    for name, label, comp in (("udf-emoji.img", UDF_EMOJI, 16), ("udf-latin1.img", UDF_LATIN1, 8)):
        p = one(rep, name, "udf")
        path = os.path.join(d, name)
        c.eq(name + " encoding as made", udf_lvd_compression(path, 512), comp)
        c.eq(name + " label", p.get("label"), label)
        c.eq(name + " label = blkid", p.get("label"), blkid_value(path, "LABEL").decode())
        c.eq(name + " block size", p.get("block_size"), 512)
    p = one(rep, "udf-4k.img", "udf")
    c.eq("udf 4k label", p.get("label"), "Vier K")
    c.eq("udf 4k block size", p.get("block_size"), 4096)
    c.eq("udf 4k block size = blkid", str(p.get("block_size")),
         blkid_value(os.path.join(d, "udf-4k.img"), "BLOCK_SIZE").decode())
    # The first anchor zeroed: blkid found the volume before and not after,
    # udfinfo (which reads the other anchors) and imgscan still do.
    path = os.path.join(d, "udf-noanchor.img")
    c.eq("udf without anchor 256: blkid saw it before", noanchor_before, b"NoFirst")
    c.eq("udf without anchor 256: blkid no longer does", blkid_value(path, "LABEL"), b"")
    p = one(rep, "udf-noanchor.img", "udf")
    c.eq("udf without anchor 256: label", p.get("label"), udfinfo(path, "label"))
    c.eq("udf without anchor 256: label as made", p.get("label"), "NoFirst")
    c.eq("udf without anchor 256: block size", p.get("block_size"), 2048)
    c.true("udf without anchor 256: the last block's anchor", "used the one at block 8191" in p.get("detail", ""),
           str(p))
    path = os.path.join(d, "udf-midanchor.img")
    p = one(rep, "udf-midanchor.img", "udf")
    c.eq("udf with only anchor N-256: label", p.get("label"), udfinfo(path, "label"))
    c.eq("udf with only anchor N-256: label as made", p.get("label"), "OnlyMid")
    c.true("udf with only anchor N-256: that anchor", "used the one at block 7935" in p.get("detail", ""), str(p))


def check_fat(c, rep, d):
    path = os.path.join(d, "fat16.img")
    p = one(rep, "fat16.img", "fat16")
    c.eq("fat16 root label (cp850)", p.get("label"), FAT_ROOT)
    c.eq("fat16 root label = blkid", p.get("label"), blkid_value(path, "LABEL").decode("cp850"))
    c.eq("fat16 root label = mlabel", p.get("label"),
         run("mlabel", "-s", "-i", path, "::").decode().split(" is ", 1)[-1].strip())
    c.eq("fat16 boot-sector label", p.get("label_boot_sector"), "BOOTLBL")
    c.eq("fat16 boot-sector label = blkid", p.get("label_boot_sector"),
         blkid_value(path, "LABEL_FATBOOT").decode("cp850"))
    c.eq("fat16 code page", p.get("label_codepage"), "cp850")
    path = os.path.join(d, "fat32.img")
    c.true("fat32 root directory beyond the first MiB", fat32_root_offset(path) >= 1 << 20,
           str(fat32_root_offset(path)))
    p = one(rep, "fat32.img", "fat32")
    c.eq("fat32 root label (refine)", p.get("label"), FAT32_ROOT)
    c.eq("fat32 root label = blkid", p.get("label"), blkid_value(path, "LABEL").decode("cp850"))
    c.eq("fat32 boot-sector label", p.get("label_boot_sector"), "BOOT32")
    c.eq("fat32 code page", p.get("label_codepage"), "cp850")
    p = one(rep, "fat-same.img", "fat16") or one(rep, "fat-same.img", "fat12")
    c.eq("fat label set by mlabel in both places", p.get("label"), FAT_SAME)
    c.eq("fat: no second label when both agree", p.get("label_boot_sector"), None)
    c.eq("fat same = blkid", p.get("label"), blkid_value(os.path.join(d, "fat-same.img"), "LABEL").decode("cp850"))


def joliet_id(path):
    """The Joliet volume identifier as the image holds it (read here)."""
    with open(path, "rb") as f:
        for i in range(16, 32):
            f.seek(i * 2048)
            vd = f.read(2048)
            if vd[0] == 2 and vd[1:6] == b"CD001" and vd[88:90] == b"%/":
                return vd[40:72].decode("utf-16-be").rstrip(" ")
            if vd[0] == 255:
                break
    return None


def check_iso(c, rep, d):
    path = os.path.join(d, "joliet.iso")
    p = one(rep, "joliet.iso", "iso9660")
    c.eq("iso primary label", p.get("label"), ISO_LABEL)
    c.eq("iso primary label = blkid", p.get("label"), blkid_value(path, "LABEL").decode())
    c.eq("iso Joliet label", p.get("label_joliet"), ISO_LABEL)
    c.eq("iso Joliet label as the image holds it", p.get("label_joliet"), joliet_id(path))
    path = os.path.join(d, "joliet-long.iso")
    p = one(rep, "joliet-long.iso", "iso9660")
    c.eq("iso long primary label", p.get("label"), ISO_LONG)
    c.eq("iso long Joliet label: 16 characters", p.get("label_joliet"), ISO_LONG[:16])
    c.eq("iso long Joliet label as the image holds it", p.get("label_joliet"), joliet_id(path))


def check_sessions(c, rep, d, appended_starts):
    for name, want_n in (("three-sessions.iso", 3), ("appended.iso", 2)):
        path = os.path.join(d, name)
        sessions = toc(path) if name.startswith("three") else isoinfo_sessions(path, appended_starts)
        c.eq(name + ": sessions as the tools read them", len(sessions), want_n)
        hits = probes(rep, name, "iso9660")
        main = [h for h in hits if h["offset"] == 0]
        c.eq(name + ": one volume at 0", len(main), 1)
        if main:
            c.true(name + ": session count", "%d sessions" % want_n in main[0].get("detail", ""), str(main[0]))
            c.eq(name + ": the volume at 0 = blkid", main[0].get("label"), blkid_value(path, "LABEL").decode())
        for k, (start, volid) in enumerate(sessions):
            at = [h for h in hits if h["offset"] == start * 2048]
            c.eq("%s: a hit for session %d at sector %d" % (name, k + 1, start), len(at), 1)
            if at:
                c.eq("%s: session %d label" % (name, k + 1), at[0].get("label"), volid)
                if start:
                    c.true("%s: session %d says so" % (name, k + 1),
                           "session %d of %d" % (k + 1, want_n) in at[0].get("detail", ""), str(at[0]))
                    c.true("%s: session %d within the file" % (name, k + 1),
                           at[0]["offset"] + at[0].get("size", 0) <= os.path.getsize(path), str(at[0]))
        c.eq(name + ": no more hits than sessions", len(hits), want_n + (sessions[0][0] != 0))
        c.eq(name + ": no findings", [f["code"] for f in by_name(rep, name)["findings"]], [])


def check_big_sessions(c, rep, d, appended_starts):
    """Sessions past the first MiB: one hit each, label and offset as the
    tools read them, the count whole on every hit."""
    for name in ("big-sessions.iso", "big-appended.iso"):
        path = os.path.join(d, name)
        sessions = toc(path) if name == "big-sessions.iso" else isoinfo_sessions(path, appended_starts)
        c.eq(name + ": two sessions as the tools read them", len(sessions), 2)
        if len(sessions) != 2:
            continue
        c.true(name + ": the second session starts well beyond the first MiB", sessions[1][0] * 2048 > 3 << 20,
               str(sessions))
        hits = probes(rep, name, "iso9660")
        main = [h for h in hits if h["offset"] == 0]
        c.eq(name + ": one volume at 0", len(main), 1)
        if main:
            detail = main[0].get("detail", "")
            c.true(name + ": the count is whole", "2 sessions" in detail and "at least" not in detail, detail)
            c.true(name + ": nothing said of a newest not reached", "not reached" not in detail, detail)
            c.eq(name + ": the volume at 0 = blkid", main[0].get("label"), blkid_value(path, "LABEL").decode())
            c.eq(name + ": the volume at 0 is the one to mount", main[0].get("label"),
                 sessions[1 if name == "big-sessions.iso" else 0][1])
        for k, (start, volid) in enumerate(sessions):
            at = [h for h in hits if h["offset"] == start * 2048]
            c.eq("%s: a hit for session %d at sector %d" % (name, k + 1, start), len(at), 1)
            if not at or not start:
                continue
            c.eq("%s: session %d label" % (name, k + 1), at[0].get("label"), volid)
            c.true("%s: session %d of 2" % (name, k + 1), "session %d of 2" % (k + 1) in at[0].get("detail", "")
                   and "at least" not in at[0].get("detail", ""), str(at[0]))
            c.true("%s: session %d within the file" % (name, k + 1),
                   at[0]["offset"] + at[0].get("size", 0) <= os.path.getsize(path), str(at[0]))
            tsk = by_name(rep, name)["identification"]["tsk"].get("filesystems") or []
            c.eq("%s: session %d not handed to TSK (no hint)" % (name, k + 1),
                 [f for f in tsk if f["offset"] == start * 2048 and f.get("opened_by") == "hint"], [])
        c.eq(name + ": no more hits than sessions", len(hits), 2 + (sessions[0][0] != 0))
        c.eq(name + ": no findings", [f["code"] for f in by_name(rep, name)["findings"]], [])


def main():
    top, d, work = itlib.workspace("archive", "work")
    itlib.skip_without(TOOLS, top)
    c = itlib.Checker()
    try:
        build_fs(d, work)
        noanchor_before = build_udf(d)
        damage_udf(d)
        build_fat(d)
        build_iso(d, work)
        appended_starts = build_sessions(d, work)
        big_appended_starts = build_big_sessions(d, work)
        status, rep, err = itlib.scan(d)
        c.true("scan ran (exit 0 or 1)", status in (0, 1) and rep is not None, err)
        if rep:
            check_fs(c, rep, d)
            check_udf(c, rep, d, noanchor_before)
            check_fat(c, rep, d)
            check_iso(c, rep, d)
            check_sessions(c, rep, d, appended_starts)
            check_big_sessions(c, rep, d, big_appended_starts)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
