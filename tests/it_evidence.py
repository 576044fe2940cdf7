#!/usr/bin/env python3
"""Evidence stays untouched (issue 15): scanning and verifying an archive
changes nothing in it, not even an access time.

The archive holds every format the test suite makes, each by its real tool
(ISO, UDF, isohybrid, FAT, exFAT, ext4, NTFS, HFS, HFS+ where mkfs.hfsplus
is installed, btrfs, squashfs, MBR and GPT disks, a raw 2352-byte CD,
qcow2, VMDK, VHD, VHDX, VDI, E01, a split E01 set and a split raw set,
gzip, xz, zstd, bzip2 and zip for --inside, misnamed files, a text file, a
symlink), on a tmpfs mounted with strictatime in the test's own directory,
where every read without O_NOATIME sets the access time.  Before each run
every file's and directory's XXH128 (xxhsum -H2), size, mtime, ctime,
atime, inode and mode are recorded, and the names of everything; after it
nothing may differ and nothing may be created or removed.  The runs: a scan
with The Sleuth Kit and --inside full; a scan with --inside head,
--all-files, --hash md5,sha256, --sector-hashes, --state (all written
outside the tree); imgscan verify of that report over the tree.

The atimes are set to a fixed past time right before each run, after the
test's own reads, so any read by imgscan shows.  The one exception is a
symbolic link's own atime: reading its target for the report (link_target)
sets it, and Linux has no O_NOATIME for readlink(2); it is printed, not
checked (README, "What imgscan guarantees about the evidence").

Then what imgscan cannot guard: a file of another user (root's, world
readable) scanned as nobody.  The kernel refuses O_NOATIME (EPERM), so the
report says "noatime": false and the atime may move; bytes, size, mtime and
ctime may not.  Skipped (77) where tmpfs cannot be mounted or atimes are not
kept."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

TOOLS = ("mount", "umount", "xxhsum", "setpriv", "genisoimage", "mkudffs", "mkfs.vfat", "mkfs.exfat", "mkfs.ext4",
         "mkntfs", "hformat", "mkfs.btrfs", "mksquashfs", "sfdisk", "sgdisk", "qemu-img", "ewfacquire", "split",
         "gzip", "xz", "zstd", "bzip2", "zip", "tar")
PAST_NS = 978307200 * 10**9  # 2001-01-01: every atime is set back to this (plus a per-file offset)
NOBODY = 65534


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


# ---- the strictatime mount -------------------------------------------------

def mount_strictatime(mnt):
    """A tmpfs where every read sets the access time, or skip (77)."""
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "strictatime,size=1g,mode=0755", "imgscan-evidence", mnt],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode:
        skip("cannot mount a tmpfs here: " + p.stdout.decode(errors="replace").strip())
    canary = os.path.join(mnt, "canary")
    with open(canary, "wb") as f:
        f.write(b"x" * 4096)
    os.utime(canary, ns=(PAST_NS, PAST_NS))
    with open(canary, "rb") as f:
        f.read()
    kept = os.stat(canary).st_atime_ns == PAST_NS
    os.unlink(canary)
    if kept:
        umount(mnt)
        skip("a read on a strictatime tmpfs did not set the access time")


def umount(mnt):
    if subprocess.run(["umount", mnt], stderr=subprocess.DEVNULL).returncode:
        subprocess.run(["umount", "-l", mnt], stderr=subprocess.DEVNULL)


# ---- the archive -------------------------------------------------------------

def make_filesystems(a, work, src):
    """Optical discs and file systems."""
    itlib.make_iso(os.path.join(a, "cds", "install.iso"), "INSTALL", src)
    itlib.make_iso(os.path.join(a, "cds", "bridge.iso"), "BRIDGE", src, udf=True)
    itlib.make_udf(os.path.join(a, "cds", "dvd.udf"), "DVD", size=4 << 20)
    if os.path.exists("/usr/lib/ISOLINUX/isolinux.bin") and shutil.which("isohybrid"):
        itlib.make_hybrid(os.path.join(a, "cds", "live-usb.img"), "LIVE", work)  # isohybrid named .img
    itlib.frame_raw_cd(os.path.join(a, "cds", "install.iso"), os.path.join(a, "cds", "game.bin"))
    itlib.frame_raw_cd(os.path.join(a, "cds", "install.iso"), os.path.join(a, "cds", "rip.iso"))  # misnamed
    itlib.make_fat(os.path.join(a, "fs", "floppy.img"), 12, "FLOPPY", 1440 << 10)
    itlib.make_fat(os.path.join(a, "fs", "stick.iso"), 32, "STICK", 34 << 20)  # FAT named .iso
    itlib.make_exfat(os.path.join(a, "fs", "card.img"), "CARD", 8 << 20)
    itlib.make_ext(os.path.join(a, "fs", "root.ext4"), "ext4", "ROOT", 8 << 20)
    itlib.make_ntfs(os.path.join(a, "fs", "windows.img"), "WINDOWS", 8 << 20)
    itlib.sized(os.path.join(a, "fs", "mac.hfs"), 4 << 20)
    itlib.sh("hformat", "-l", "MAC", os.path.join(a, "fs", "mac.hfs"))
    if shutil.which("mkfs.hfsplus"):
        itlib.sized(os.path.join(a, "fs", "mac.hfsplus"), 8 << 20)
        itlib.sh("mkfs.hfsplus", "-v", "MACPLUS", os.path.join(a, "fs", "mac.hfsplus"))
    itlib.sized(os.path.join(a, "fs", "pool.btrfs"), 128 << 20)
    itlib.sh("mkfs.btrfs", "-q", "-f", "-L", "POOL", os.path.join(a, "fs", "pool.btrfs"))
    itlib.sh("mksquashfs", src, os.path.join(a, "fs", "root.squashfs"), "-quiet", "-noappend")
    shutil.copy(os.path.join(a, "cds", "install.iso"), os.path.join(a, "fs", "old-backup.img"))  # ISO named .img


def make_disks(a, work):
    """Partitioned disks, virtual disks, evidence media of several files.
    Returns the raw MBR disk (outside the tree) the others are made from."""
    raw = os.path.join(work, "mbr.raw")
    itlib.make_mbr_disk(raw, work, size=16 << 20)
    shutil.copy(raw, os.path.join(a, "disks", "sdcard.img"))
    itlib.make_gpt_disk(os.path.join(a, "disks", "server.dd"), work, size=40 << 20)
    for name, fmt, opts in (("guest.qcow2", "qcow2", ()), ("guest.img", "qcow2", ()), ("guest.vmdk", "vmdk", ()),
                            ("guest.vhd", "vpc", ()), ("fixed.vhd", "vpc", ("-o", "subformat=fixed")),
                            ("guest.vhdx", "vhdx", ()), ("guest.vdi", "vdi", ())):
        itlib.sh("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, *opts, raw, os.path.join(a, "vms", name))
    itlib.make_e01(os.path.join(a, "evidence", "laptop"), raw)
    os.makedirs(os.path.join(a, "evidence", "split-ewf"))
    itlib.make_e01(os.path.join(a, "evidence", "split-ewf", "server"), raw, segment_size="1MiB")
    os.makedirs(os.path.join(a, "evidence", "split-raw"))
    itlib.sh("split", "-b", "3000000", "--numeric-suffixes=1", "-a", "3", raw,
             os.path.join(a, "evidence", "split-raw", "sdcard."))
    return raw


def make_other_files(a, work, raw):
    """Compressed images for --inside, misnamed files, files that are not images."""
    iso, d = os.path.join(a, "cds", "install.iso"), os.path.join(a, "downloads")
    itlib.compress(iso, os.path.join(d, "install.iso.gz"), "gzip")
    itlib.compress(iso, os.path.join(d, "install.iso.xz"), "xz")
    itlib.compress(raw, os.path.join(d, "sdcard.img.zst"), "zstd")
    itlib.compress(os.path.join(a, "fs", "root.ext4"), os.path.join(d, "root.ext4.bz2"), "bzip2")
    itlib.sh("zip", "-q", "-j", os.path.join(d, "discs.zip"), iso)
    itlib.sh("tar", "czf", os.path.join(d, "backup.img"), "-C", work, "content")  # a tarball named .img
    with open(os.path.join(d, "netinst.iso"), "w") as f:  # a failed download
        f.write("<!DOCTYPE html><html><body>503 Service Unavailable</body></html>\n")
    with open(os.path.join(a, "README.txt"), "w") as f:
        f.write("not an image\n")
    os.symlink("cds/install.iso", os.path.join(a, "latest.iso"))


def build_archive(a, work):
    for sub in ("cds", "fs", "disks", "vms", "evidence", "downloads", "empty"):
        os.makedirs(os.path.join(a, sub))
    src = itlib.content_dir(work, nbytes=64 << 10)
    make_filesystems(a, work, src)
    raw = make_disks(a, work)
    make_other_files(a, work, raw)


# ---- what the tree is --------------------------------------------------------

def listing(root):
    """Every name under root (root included), relative, with its type."""
    names = {".": "d"}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            names[os.path.relpath(p, root)] = "l" if os.path.islink(p) else "d" if os.path.isdir(p) else "f"
    return names


def digests(root, names):
    """XXH128 of every regular file, by xxhsum -H2."""
    files = sorted(n for n, t in names.items() if t == "f")
    out = itlib.sh("xxhsum", "-H2", *files, cwd=root).stdout.decode().splitlines()
    return {n: line.split()[0] for n, line in zip(files, out)}


def stats(root, names):
    got = {}
    for n in names:
        try:
            s = os.lstat(os.path.join(root, n))
        except FileNotFoundError:
            continue
        got[n] = dict(size=s.st_size, mtime_ns=s.st_mtime_ns, ctime_ns=s.st_ctime_ns, atime_ns=s.st_atime_ns,
                      inode=s.st_ino, mode=s.st_mode)
    return got


def snapshot(root):
    """Names, digests, then every atime set back to PAST_NS (our own reads
    moved them), then the stats: nothing is read after they are taken."""
    names = listing(root)
    sums = digests(root, names)
    for i, n in enumerate(sorted(names)):
        p = os.path.join(root, n)
        os.utime(p, ns=(PAST_NS + i, os.lstat(p).st_mtime_ns), follow_symlinks=False)
    return names, sums, stats(root, names)


def differences(root, before):
    """What changed since snapshot(): stats first (our own reads come after),
    then digests and names.  A list of "path: what" strings; a symbolic
    link's atime is left out (see the top of the file) and printed."""
    names, sums, st = before
    now_st = stats(root, names)
    now_names = listing(root)
    now_sums = digests(root, {n: t for n, t in now_names.items() if n in names})
    diffs = ["%s: removed" % n for n in names if n not in now_st]
    diffs += ["%s: created" % n for n in now_names if n not in names]
    for n in sorted(now_st):
        for field, was in st[n].items():
            if now_st[n][field] == was:
                continue
            if field == "atime_ns" and names[n] == "l":
                print("note: symlink %s: atime moved (its target was read for the report)" % n)
                continue
            diffs.append("%s: %s %s -> %s" % (n, field, was, now_st[n][field]))
        if names[n] == "f" and now_sums.get(n) != sums[n]:
            diffs.append("%s: xxh128 %s -> %s" % (n, sums[n], now_sums.get(n)))
    return diffs


def untouched(c, what, root, before):
    diffs = differences(root, before)
    c.true("%s: nothing in the tree changed, was created or removed (%d names)" % (what, len(before[0])), not diffs,
           "\n  " + "\n  ".join(diffs[:40]))


def self_test(c, mnt):
    """The checks can fail: a plain read, a file made and removed, and a
    rewrite with the same bytes and mtime are each seen."""
    root = os.path.join(mnt, "selftest")
    os.makedirs(os.path.join(root, "d"))
    with open(os.path.join(root, "d", "f"), "wb") as f:
        f.write(b"evidence")
    before = snapshot(root)
    with open(os.path.join(root, "d", "f"), "rb") as f:
        f.read()
    open(os.path.join(root, "d", "tmp"), "w").close()
    os.unlink(os.path.join(root, "d", "tmp"))
    diffs = differences(root, before)
    c.true("self-test: a plain read is seen", any(d.startswith("d/f: atime_ns") for d in diffs), str(diffs))
    c.true("self-test: a temporary file made and removed is seen", any(d.startswith("d: mtime_ns") for d in diffs),
           str(diffs))
    shutil.rmtree(root)


# ---- the runs ----------------------------------------------------------------

def run(what, argv, env=None):
    t = time.monotonic()
    p = subprocess.run([itlib.IMGSCAN, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=300)
    print("%s: exit %d in %.1f s" % (what, p.returncode, time.monotonic() - t))
    return p


def load(path):
    with open(path) as f:
        return json.load(f)


def check_scan_report(c, what, rep, arch):
    """Every image read whole, with O_NOATIME; the paths that open by name
    (TSK on containers, --inside on virtual disks, the EWF check) ran."""
    imgs = {os.path.relpath(i["path"], arch): i for i in rep["images"]}
    c.true(what + ": every image read whole, with O_NOATIME",
           all(i["read"]["complete"] and i["read"]["noatime"] for i in imgs.values()),
           [n for n, i in imgs.items() if not (i["read"]["complete"] and i["read"]["noatime"])])
    for n in ("evidence/laptop.E01", "vms/guest.vmdk", "vms/guest.vhd"):
        tsk = ((imgs.get(n) or {}).get("identification") or {}).get("tsk") or {}
        c.eq("%s: The Sleuth Kit opened %s" % (what, n), tsk.get("status"), "ok")
    for n in ("vms/guest.qcow2", "vms/guest.vmdk", "vms/guest.vhd", "vms/guest.vhdx", "vms/guest.vdi",
              "downloads/install.iso.gz", "downloads/discs.zip"):
        c.eq("%s: looked inside %s" % (what, n), ((imgs.get(n) or {}).get("inside") or {}).get("status"), "ok")
    c.eq(what + ": the split sets scanned as media", sorted(n for n, i in imgs.items() if i["kind"] == "media"),
         ["evidence/split-ewf/server.E01", "evidence/split-raw/sdcard.001"])
    for n in ("evidence/laptop.E01", "evidence/split-ewf/server.E01"):
        c.eq("%s: libewf checked %s" % (what, n), ((imgs.get(n) or {}).get("acquisition") or {}).get("status"),
             "verified")


def scans(c, arch, out):
    before = snapshot(arch)
    r1 = os.path.join(out, "full.json")
    p = run("scan --inside full", ["scan", "-q", "--inside", "full", "-o", r1, arch])
    c.true("scan --inside full: exit 0 or 1", p.returncode in (0, 1), p.stderr.decode(errors="replace")[-800:])
    untouched(c, "scan --inside full", arch, before)
    if os.path.exists(r1):
        check_scan_report(c, "scan --inside full", load(r1), arch)

    before = snapshot(arch)
    r2, sectors = os.path.join(out, "all.json"), os.path.join(out, "sectors")
    os.makedirs(sectors)
    p = run("scan --all-files ...", ["scan", "-q", "--inside", "head", "--all-files", "--hash", "md5,sha256",
                                     "--sector-hashes", sectors, "--state", os.path.join(out, "state.db"),
                                     "-o", r2, arch])
    c.true("scan --all-files ...: exit 0 or 1", p.returncode in (0, 1), p.stderr.decode(errors="replace")[-800:])
    untouched(c, "scan --inside head --all-files --hash --sector-hashes --state", arch, before)
    c.true("the sector lists were written outside the tree", len(os.listdir(sectors)) > 20, os.listdir(sectors))

    before = snapshot(arch)
    p = run("verify", ["verify", "-q", "-o", os.path.join(out, "verify.json"), r2, arch])
    c.eq("verify: exit 0 (all unchanged)", p.returncode, 0)
    untouched(c, "verify", arch, before)


# ---- what imgscan cannot guard ---------------------------------------------

def as_nobody(c, top, mnt):
    """A root-owned, world-readable image scanned by nobody: O_NOATIME is
    refused, so the atime may move; nothing else may."""
    theirs, out = os.path.join(mnt, "theirs"), os.path.join(mnt, "nobody-out")
    os.makedirs(theirs)
    os.makedirs(out)
    os.chown(out, NOBODY, NOBODY)
    shutil.copy(os.path.join(mnt, "archive", "cds", "install.iso"), theirs)
    shutil.copy(os.path.join(mnt, "archive", "vms", "guest.qcow2"), theirs)
    os.chmod(top, 0o711)  # nobody passes through to the mount, lists nothing else
    setpriv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"]
    if subprocess.run(setpriv + ["test", "-x", itlib.IMGSCAN]).returncode:
        print("note: nobody cannot run %s; the other user's case is not run" % itlib.IMGSCAN)
        return
    before = snapshot(theirs)
    rep = os.path.join(out, "r.json")
    t = time.monotonic()
    p = subprocess.run(setpriv + ["env", "TMPDIR=" + out, itlib.IMGSCAN, "scan", "-q", "--inside", "full", "-o", rep,
                                  theirs], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    print("scan as nobody: exit %d in %.1f s" % (p.returncode, time.monotonic() - t))
    c.true("as nobody: exit 0 or 1", p.returncode in (0, 1), p.stderr.decode(errors="replace")[-800:])
    diffs = differences(theirs, before)
    moved = [d for d in diffs if ": atime_ns " in d]
    c.true("as nobody: bytes, size, mtime, ctime unchanged, nothing created",
           len(moved) == len(diffs), [d for d in diffs if d not in moved])
    print("as nobody: atime %s (O_NOATIME is refused for another user's file): %s"
          % ("changed" if moved else "unchanged", moved or "-"))
    if os.path.exists(rep):
        imgs = {os.path.basename(i["path"]): i for i in load(rep)["images"]}
        c.eq("as nobody: the report says O_NOATIME was refused", {n: i["read"]["noatime"] for n, i in imgs.items()},
             {"install.iso": False, "guest.qcow2": False})
        # libqcow opened it by name in the worker: without O_NOATIME, after EPERM
        c.eq("as nobody: looked inside guest.qcow2", ((imgs.get("guest.qcow2") or {}).get("inside") or {}).get("status"),
             "ok")


def main():
    top = itlib.setup()
    c = itlib.Checker()
    itlib.skip_without(TOOLS, top, [] if os.geteuid() == 0 else ["root (to mount a tmpfs)"])
    mnt = os.path.join(top, "mnt")
    t0 = time.monotonic()
    try:
        mount_strictatime(mnt)
        try:
            self_test(c, mnt)
            arch, work, out = os.path.join(mnt, "archive"), os.path.join(top, "work"), os.path.join(top, "out")
            os.makedirs(work)
            os.makedirs(out)
            build_archive(arch, work)
            print("archive: %d names, built in %.1f s" % (len(listing(arch)), time.monotonic() - t0))
            scans(c, arch, out)
            as_nobody(c, top, mnt)
        finally:
            umount(mnt)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print("%.1f s in all" % (time.monotonic() - t0))
    c.done()


if __name__ == "__main__":
    main()
