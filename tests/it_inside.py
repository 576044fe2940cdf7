#!/usr/bin/env python3
"""Inside compressed files and archives, and the other files of a real
archive (issue 10).  Every file is made by its real tool: gzip, xz, zstd,
bzip2, lz4, tar, cpio, zip, 7z, dpkg-deb, genisoimage, mkfs.*.

- A compressed stream is an image when its decompressed start is one: it
  says what it holds, under any name; a gzip'd disk named plain .img is
  misnamed (.img.gz).  A tarball, a zip of documents, a .deb, a gzip'd text
  under their own names are other files: counted, never listed.
- Named as an image but not one: NOT_AN_IMAGE (an HTML page, text, an
  executable, a zip that holds an ISO), ARCHIVE_MISNAMED for a tarball.
- An initramfs (gzip'd cpio) named .img is reported as one, with no finding.
- Firmware named .bin is another file: the scan of it exits 0.
- --inside full: the XXH128 of the image inside equals xxhsum of the image.
- A truncated stream is said to be; a decompression bomb costs the head only.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name, codes  # noqa: E402


def pipe_to(cmd, dst, stdin_path=None, cwd=None):
    with open(dst, "wb") as out:
        src = open(stdin_path, "rb") if stdin_path else None
        try:
            subprocess.run(cmd, stdin=src, stdout=out, check=True, cwd=cwd)
        finally:
            if src:
                src.close()


def make_sources(work):
    content = itlib.content_dir(work, nbytes=3 << 20)  # random bytes: the streams span blocks
    iso = os.path.join(work, "cd.iso")
    itlib.make_iso(iso, "INSIDECD", content)
    fat = os.path.join(work, "fat16.img")
    itlib.make_fat(fat, 16, "INNERFAT", 16 << 20)
    ext = os.path.join(work, "ext4.img")
    itlib.sized(ext, 16 << 20)
    itlib.sh("mkfs.ext4", "-q", "-F", "-L", "INNEREXT", "-d", content, ext)
    return content, iso, fat, ext


def build_images(d, work, content, iso, fat, ext):
    """Compressed images, under right names and wrong ones."""
    itlib.compress(fat, os.path.join(d, "disk.img.gz"), "gzip")
    itlib.compress(fat, os.path.join(d, "gzdisk.img"), "gzip")
    itlib.compress(iso, os.path.join(d, "cd.iso.xz"), "xz")
    itlib.compress(iso, os.path.join(d, "cd.iso.zst"), "zstd")
    itlib.compress(ext, os.path.join(d, "ext.img.bz2"), "bzip2")
    itlib.compress(fat, os.path.join(d, "disk.img.lz4"), "lz4")
    itlib.compress(ext, os.path.join(d, "backup.gz"), "gzip")  # unknown extension, an image inside
    shutil.copy(iso, os.path.join(d, "cd.iso"))
    itlib.sh("zip", "-q", "-j", os.path.join(d, "cds.zip"), iso)
    shutil.copy(os.path.join(d, "cds.zip"), os.path.join(d, "cds.iso"))
    itlib.sh("7z", "a", "-bd", "-y", os.path.join(work, "disc.7z"), iso)
    shutil.move(os.path.join(work, "disc.7z"), os.path.join(d, "disc.7z"))


def build_others(d, work, content):
    """The other files of a real archive, under their own names."""
    itlib.sh("tar", "czf", os.path.join(d, "docs.tar.gz"), "-C", work, "content")
    with open(os.path.join(work, "changelog"), "w") as f:
        f.write("imgscan (0.1) unstable; urgency=low\n\n  * Initial release.\n" * 200)
    itlib.compress(os.path.join(work, "changelog"), os.path.join(d, "changelog.Debian.gz"), "gzip")
    itlib.sh("zip", "-q", "-j", os.path.join(d, "app.jar"), os.path.join(work, "changelog"),
             os.path.join(content, "readme.txt"))
    shutil.copy(os.path.join(d, "app.jar"), os.path.join(d, "book.epub"))
    pkg = os.path.join(work, "pkg")
    os.makedirs(os.path.join(pkg, "DEBIAN"))
    with open(os.path.join(pkg, "DEBIAN", "control"), "w") as f:
        f.write("Package: imgscan-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\n"
                "Description: test\n")
    itlib.sh("dpkg-deb", "--build", "-Zxz", pkg, os.path.join(d, "pkg.deb"))
    shutil.copy("/bin/true", os.path.join(d, "true"))
    shutil.copy("/usr/lib/ISOLINUX/isolinux.bin", os.path.join(d, "isolinux.bin"))
    pipe_to(["gzip", "-9", "-c"], os.path.join(d, "empty.1.gz"), stdin_path="/dev/null")  # a man page stub
    with open(os.path.join(d, "firmware.bin"), "wb") as f:
        f.write(b"\x7fFWR" + bytes(range(256)) * 4000)


def build_misnamed(d, work, content):
    """Files named as images that are not images."""
    itlib.sh("tar", "czf", os.path.join(d, "tarball.img"), "-C", work, "content")
    itlib.sh("tar", "cf", os.path.join(d, "plain.img"), "-C", work, "content")
    with open(os.path.join(d, "download.iso"), "w") as f:
        f.write("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                "<body><h1>Not Found</h1></body></html>\n")
    with open(os.path.join(d, "notes.img"), "w") as f:
        f.write("These are my notes about the archive.\n" * 50)
    shutil.copy("/bin/true", os.path.join(d, "tool.iso"))
    # An initramfs as /boot names it: a gzip'd newc cpio archive.
    listing = subprocess.run(["find", "."], cwd=content, stdout=subprocess.PIPE, check=True).stdout
    cpio = os.path.join(work, "initrd.cpio")
    with open(cpio, "wb") as out:
        subprocess.run(["cpio", "--quiet", "-o", "-H", "newc"], input=listing, stdout=out, cwd=content, check=True)
    itlib.compress(cpio, os.path.join(d, "initrd.img"), "gzip")
    write_png(os.path.join(d, "photo.img"), 256, 256)


def write_png(path, w, h):
    """A real PNG (noise pixels, so its data has high entropy), by zlib."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + os.urandom(3 * w) for _ in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def build_damaged(d, work):
    rnd = os.path.join(work, "random.bin")
    with open(rnd, "wb") as f:
        f.write(os.urandom(6 << 20))
    itlib.compress(rnd, os.path.join(work, "whole.gz"), "gzip")
    with open(os.path.join(work, "whole.gz"), "rb") as f:
        cut = f.read(2 << 20)
    with open(os.path.join(d, "broken.img.gz"), "wb") as f:
        f.write(cut)
    # 1 GiB of zeros in 1 MB of zstd: the head is all that is decompressed.
    pipe_to(["sh", "-c", "head -c 1G /dev/zero | zstd -q -1 -c"], os.path.join(d, "bomb.img"))
    # A tarball whose first member is 1 GiB of zeros: listing past it would
    # inflate it all; the listing stops instead (members_cut).
    big = os.path.join(work, "bigtar")
    os.makedirs(big)
    itlib.sized(os.path.join(big, "a-zeros.raw"), 1 << 30)
    with open(os.path.join(big, "b-notes.txt"), "w") as f:
        f.write("notes\n")
    pipe_to(["sh", "-c", "tar cf - -C %s a-zeros.raw b-notes.txt | zstd -q -1 -c" % big], os.path.join(d, "bigtar.img"))


def build_unusual(d, work, iso, fat):
    """A stream no one can open here: zstd with a 2 GiB window (libarchive
    refuses over 128 MiB).  Listed, with the reason, never dropped as
    another file.  And a zip whose member names are not ASCII."""
    pipe_to(["sh", "-c", "cat %s | zstd -q --long=31 -c" % fat], os.path.join(d, "backup.zst"))
    rnd = os.path.join(work, "примечание.bin")
    with open(rnd, "wb") as f:
        f.write(os.urandom(200_000))
    named = os.path.join(work, "диск.iso")
    shutil.copy(iso, named)
    itlib.sh("zip", "-q", "-j", os.path.join(d, "two.zip"), rnd, named)


class Missing(dict):
    """A missing entry: every key reads as None, so one check fails, not all."""

    def __getitem__(self, k):
        return self.get(k, Missing())


def entry(c, rep, name):
    try:
        return by_name(rep, name)
    except AssertionError:
        c.true("listed: " + name, False)
        return Missing(findings=[])


def check_images(c, rep, d, iso, fat):
    disk = entry(c, rep, "disk.img.gz")
    c.eq("img.gz kind", (disk["kind"], disk["kind_key"]), ("compressed", "compressed:gzip"))
    c.eq("img.gz says what it holds", disk["detail"], "gzip, holding fat16")
    c.eq("img.gz no finding", codes(disk), [])
    c.eq("img.gz inside probes", [p["name"] for p in disk["inside"]["probes"]], ["fat16"])
    c.eq("img.gz inside label", disk["inside"]["probes"][0].get("label"), "INNERFAT")
    c.eq("img.gz examined: the whole 16 MiB? no, the head", disk["inside"]["examined"], 4 << 20)
    gz = entry(c, rep, "gzdisk.img")
    c.eq("gzip'd disk named .img", codes(gz), ["COMPRESSED_MISNAMED"])
    c.eq("gzip'd disk suggestion", gz["suggested_name"], "gzdisk.img.gz")
    for name, layer in (("cd.iso.xz", "xz"), ("cd.iso.zst", "zstd")):
        img = entry(c, rep, name)
        c.eq(name + " holds an ISO", (img["kind"], img["detail"]), ("compressed", layer + ", holding ISO 9660"))
        c.eq(name + " no finding", codes(img), [])
        c.eq(name + " inner label", [p.get("label") for p in img["inside"]["probes"]], ["INSIDECD"])
    c.eq("bz2 ext4", entry(c, rep, "ext.img.bz2")["detail"], "bzip2, holding ext4")
    c.eq("lz4 fat16", entry(c, rep, "disk.img.lz4")["detail"], "lz4, holding fat16")
    back = entry(c, rep, "backup.gz")
    c.eq("unknown extension, image inside: listed", back["kind"], "compressed")
    c.eq("backup.gz hashed whole after the look inside", back["hashes"]["xxh128"],
         itlib.xxhsum(os.path.join(d, "backup.gz")))
    c.true("backup.gz spans several read blocks", back["size"] > 2 << 20, back["size"])
    zp = entry(c, rep, "cds.zip")
    c.eq("zip holding an ISO", (zp["kind"], zp["detail"]), ("compressed", "zip, holding cd.iso (iso9660)"))
    c.eq("zip members", [(m["name"], m["image"]) for m in zp["inside"]["members"]], [("cd.iso", "iso9660")])
    c.eq("zip no finding", codes(zp), [])
    c.eq("7z holding an ISO", entry(c, rep, "disc.7z")["detail"], "7z, holding cd.iso (iso9660)")


def check_others(c, rep, rc):
    listed = sorted(os.path.basename(i["path"]) for i in rep["images"])
    for other in ("docs.tar.gz", "changelog.Debian.gz", "app.jar", "book.epub", "pkg.deb", "true",
                  "isolinux.bin", "firmware.bin", "empty.1.gz"):
        c.true("other file not listed: " + other, other not in listed, listed)
    c.eq("other files counted", rep["summary"]["other_files"], 9)


def check_misnamed(c, rep):
    html = entry(c, rep, "download.iso")
    c.eq("html named .iso", (html["kind"], codes(html)), ("other", ["NOT_AN_IMAGE"]))
    c.true("html: says a failed download", "failed download" in html["findings"][0]["message"],
           html["findings"][0]["message"])
    c.eq("html suggestion", html["suggested_name"], "download.html")
    c.eq("html finding severity", html["findings"][0]["severity"], "medium")
    notes = entry(c, rep, "notes.img")
    c.eq("text named .img: a note, no rename asked", (notes["kind"], codes(notes), notes["suggested_name"]),
         ("other", ["NOT_AN_IMAGE"], None))
    c.eq("text named .img: an info note (other programs use .img, .dd, .raw)", notes["findings"][0]["severity"],
         "info")
    c.eq("executable named .iso: medium (a disc was expected)", entry(c, rep, "tool.iso")["findings"][0]["severity"],
         "medium")
    tool = entry(c, rep, "tool.iso")
    c.eq("executable named .iso", (tool["kind"], codes(tool)), ("other", ["NOT_AN_IMAGE"]))
    c.true("executable: libmagic names it", "ELF" in tool["detail"], tool["detail"])
    zi = entry(c, rep, "cds.iso")
    c.eq("zip holding an ISO, named .iso", codes(zi), ["NOT_AN_IMAGE"])
    c.eq("zip named .iso suggestion", zi["suggested_name"], "cds.iso.zip")
    tb = entry(c, rep, "tarball.img")
    c.eq("tarball named .img", (tb["kind"], codes(tb), tb["suggested_name"]),
         ("archive", ["ARCHIVE_MISNAMED"], "tarball.tar.gz"))
    pl = entry(c, rep, "plain.img")
    c.eq("plain tar named .img", (pl["kind"], pl["suggested_name"]), ("archive", "plain.tar"))
    png = entry(c, rep, "photo.img")
    c.eq("a PNG named .img (high entropy, but named by its header)", (png["kind"], codes(png)),
         ("other", ["NOT_AN_IMAGE"]))
    c.true("the PNG: libmagic names it", "PNG image" in (png["detail"] or ""), png["detail"])
    ir = entry(c, rep, "initrd.img")
    c.eq("initramfs named .img", (ir["kind"], codes(ir)), ("initramfs", []))


def check_damaged(c, rep):
    br = entry(c, rep, "broken.img.gz")
    c.eq("cut gzip: inside failed", br["inside"]["status"], "failed")
    c.eq("cut gzip: finding", codes(br), ["INSIDE_UNREADABLE"])
    bomb = entry(c, rep, "bomb.img")
    c.eq("bomb: only the head decompressed", bomb["inside"]["examined"], 4 << 20)
    c.eq("bomb: no error", bomb["errors"], [])
    bt = entry(c, rep, "bigtar.img")
    c.eq("tar with a 1 GiB member: an archive, the listing cut", (bt["kind"], bt["inside"]["members_cut"]),
         ("archive", True))
    c.eq("tar with a 1 GiB member: no error (the worker was not timed out)", bt["errors"], [])
    zs = entry(c, rep, "backup.zst")
    c.eq("a stream that cannot be opened here is listed, not dropped", (zs["kind"], codes(zs)),
         ("compressed", ["INSIDE_UNREADABLE"]))
    two = entry(c, rep, "two.zip")
    c.eq("member names in UTF-8", sorted(m["name"] for m in two["inside"]["members"]),
         sorted(["примечание.bin", "диск.iso"]))
    c.eq("a small zip: every member counted, nothing cut", (two["inside"]["members_total"],
         two["inside"]["members_cut"]), (2, False))


def check_full(c, d, iso, work):
    rc, rep, err = itlib.scan("--inside", "full", "-q", os.path.join(d, "cd.iso.xz"), os.path.join(d, "cds.zip"),
                              os.path.join(d, "cd.iso"), os.path.join(d, "bomb.img"), os.path.join(d, "two.zip"),
                              os.path.join(d, "backup.gz"))
    bk = entry(c, rep, "backup.gz")
    c.eq("full: an inspected stream (unknown extension) is hashed whole too", bk["inside"].get("xxh128"),
         itlib.xxhsum(os.path.join(work, "ext4.img")))
    want = itlib.xxhsum(iso)
    c.eq("full: run options say so", rep["run"]["options"]["inside"], "full")
    c.eq("full: the .iso.xz's inner XXH128 is xxhsum of the ISO", entry(c, rep, "cd.iso.xz")["inside"].get("xxh128"), want)
    c.eq("full: ... and the .iso's own", entry(c, rep, "cd.iso")["hashes"]["xxh128"], want)
    c.eq("full: the zip member's too", entry(c, rep, "cds.zip")["inside"].get("xxh128"), want)
    c.eq("full: the image member, found by its place, not its name", entry(c, rep, "two.zip")["inside"].get("xxh128"),
         want)
    c.eq("full: inner size", entry(c, rep, "cd.iso.xz")["inside"]["inner_size"], os.path.getsize(iso))
    c.true("full: no inner hash of data that is no image", "xxh128" not in entry(c, rep, "bomb.img")["inside"])
    rc, rep, err = itlib.scan("--inside", "none", "-q", os.path.join(d, "disk.img.gz"))
    img = entry(c, rep, "disk.img.gz")
    c.eq("none: nobody looked", (img["inside"], img["kind"], img["detail"]), (None, "compressed", "gzip"))


def check_verify(c, top, d):
    """verify decides as the scan did which compressed files are images: a
    gzip'd disk of unknown extension that moved is moved, not missing and
    new; a gzip'd text is nothing at all."""
    v = os.path.join(top, "verify")
    os.makedirs(v)
    shutil.copy(os.path.join(d, "backup.gz"), v)
    shutil.copy(os.path.join(d, "changelog.Debian.gz"), os.path.join(v, "notes.img.gz"))
    report = os.path.join(top, "verify.json")
    p = subprocess.run([itlib.IMGSCAN, "scan", "-q", "-o", report, v], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.rename(os.path.join(v, "backup.gz"), os.path.join(v, "moved.gz"))
    out = os.path.join(top, "verified.json")
    p = subprocess.run([itlib.IMGSCAN, "verify", "-q", "-o", out, report, v], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    with open(out) as f:
        res = json.load(f)
    c.eq("verify: a moved gzip'd disk is moved", [i["status"] for i in res["items"]], ["moved"])
    c.eq("verify: exit 1 (moved)", p.returncode, 1)


def main():
    top, d, work = itlib.workspace("archive", "work")
    c = itlib.Checker()
    content, iso, fat, ext = make_sources(work)
    build_images(d, work, content, iso, fat, ext)
    build_others(d, work, content)
    build_misnamed(d, work, content)
    build_damaged(d, work)
    build_unusual(d, work, iso, fat)
    rc, rep, err = itlib.scan(d)
    c.true("report written", rep is not None, err)
    check_images(c, rep, d, iso, fat)
    check_others(c, rep, rc)
    check_misnamed(c, rep)
    check_damaged(c, rep)
    c.eq("exit status: findings", rc, 1)
    # Only the other files: nothing to report, exit 0 (a nightly job stays quiet).
    only = os.path.join(top, "others")
    os.makedirs(only)
    for name in ("docs.tar.gz", "changelog.Debian.gz", "app.jar", "pkg.deb", "true", "isolinux.bin", "firmware.bin"):
        shutil.copy(os.path.join(d, name), only)
    rc, rep, err = itlib.scan(only)
    c.eq("a tree of other files: exit 0, nothing listed", (rc, rep["images"], rep["summary"]["other_files"]), (0, [], 7))
    check_full(c, d, iso, work)
    check_verify(c, top, d)
    shutil.rmtree(top)
    c.done()


if __name__ == "__main__":
    main()
