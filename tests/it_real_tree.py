#!/usr/bin/env python3
"""A real directory tree stays quiet (issue 10).

Scans trees this machine already has, as they are, with
`imgscan scan -q -o REPORT` (the report in a temporary directory; nothing is
written anywhere else):

- /usr/share/doc: gzip'd changelogs and manuals, HTML, text;
- /usr/lib/python3*: modules, byte code, C extensions, zipped eggs;
- /usr/lib/firmware and /boot, when present: firmware and boot loaders
  named .bin, kernels, and what /boot names .img (an initramfs);
- jars and wheels, when present: /usr/share/java, /usr/share/maven-repo,
  /usr/lib/jvm (jmods, src.zip), /usr/share/python-wheels (or, without
  those, the first directory under /usr/share or /usr/lib holding a .jar).

Each tree is one scan, which must: exit 0; raise no finding above "info"
and none that suggests a name (no file called misnamed); count its files
as other files (other_files > 0, and other_files + images listed = the
regular files of the tree, when the tree did not change meanwhile); and
list in images[] only genuine images: an optical, disk, raw-CD, encrypted
or container image that blkid -p or file -s recognises too, a compressed
one whose decompressed head blkid -p recognises, or a file named as an
image that is conventionally one without being a disk (an initramfs, a
boot image) with no finding above info.  On failure every listed image,
every finding and every error is printed.

A tree holding a file that imgscan cannot read (another user's, when not
run as root) is left out and said so.  No tree at all: 77 (skipped).
`it_real_tree.py IMGSCAN [TREE...]` scans the given trees instead.
The whole test takes a few seconds (printed); it warns beyond 60 s.
"""
import bz2
import glob
import gzip
import json
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

SEVERITIES = ["info", "low", "medium", "high"]
IMAGE_KINDS = {"optical", "raw-cd", "disk", "encrypted", "container", "compressed"}
# Files named as images that are, by convention, something else: listed
# (their name says image), never a finding above info.
NAMED_KINDS = {"initramfs", "boot"}
HEAD = 4 << 20  # what imgscan decompresses (--inside head); blkid looks at the same
TIME_BUDGET = 60.0
# file -s words for what we count as an image (blkid -p has no word for some).
FILE_IMAGE_WORDS = re.compile(
    r"ISO 9660|UDF filesystem|DOS/MBR boot sector|GPT|filesystem data|file system|"
    r"LUKS encrypted|BitLocker|QEMU QCOW|VMware|VirtualBox Disk Image|Microsoft Disk Image|"
    r"EWF|Expert Witness|Android sparse|Apple Driver Map|CD-ROM|squashfs", re.I)


def default_trees():
    trees = ["/usr/share/doc"]
    trees += sorted(p for p in glob.glob("/usr/lib/python3*") if os.path.isdir(p) and not os.path.islink(p))
    trees += ["/usr/lib/firmware", "/boot"]
    java = ["/usr/share/java", "/usr/share/maven-repo", "/usr/lib/jvm", "/usr/share/python-wheels"]
    if not any(os.path.isdir(j) for j in java):
        java.append(first_jar_dir(["/usr/share", "/usr/lib"]))
    trees += java
    return [t for t in trees if t and os.path.isdir(t) and not os.path.islink(t)]


def first_jar_dir(roots, max_depth=5):
    for root in roots:
        base = root.rstrip("/").count("/")
        for d, dirs, files in os.walk(root):
            if d.count("/") - base >= max_depth:
                dirs[:] = []
            dirs.sort()
            if any(f.endswith(".jar") for f in files):
                return d
    return None


def regular_files(tree):
    """(count, unreadable paths): the regular files the walk will find,
    not through symlinks (imgscan lists those without following them); a
    directory that cannot be listed counts as unreadable."""
    n, unreadable = 0, []
    for d, dirs, files in os.walk(tree, onerror=lambda e: unreadable.append(e.filename)):
        for name in files:
            p = os.path.join(d, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            n += 1
            if not os.access(p, os.R_OK):
                unreadable.append(p)
    return n, unreadable


def run_scan(imgscan, tree, report):
    t0 = time.monotonic()
    p = subprocess.run([imgscan, "scan", "-q", "-o", report, tree], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=300)
    secs = time.monotonic() - t0
    rep = None
    if os.path.exists(report):
        with open(report, "rb") as f:
            rep = json.load(f)
    return p.returncode, rep, p.stderr.decode(errors="replace"), secs


# ---- is a listed image a genuine one? ----------------------------------------

def blkid_says(path):
    p = itlib.sh("blkid", "-p", "-o", "export", path, check=False)
    kv = dict(l.split("=", 1) for l in p.stdout.decode(errors="replace").splitlines() if "=" in l)
    return " ".join("%s=%s" % (k, kv[k]) for k in ("TYPE", "PTTYPE") if k in kv)


def file_says(path):
    if not shutil.which("file"):
        return ""
    return itlib.sh("file", "-s", "-b", path, check=False).stdout.decode(errors="replace").strip()


def head_of_stream(path, layer):
    """The first HEAD bytes of a compressed stream or of a zip's first member
    of 32 KiB or more (b"" when it cannot be read here)."""
    try:
        if layer == "gzip":
            with gzip.open(path) as f:
                return f.read(HEAD)
        if layer == "bzip2":
            with bz2.open(path) as f:
                return f.read(HEAD)
        if layer == "xz":
            with lzma.open(path) as f:
                return f.read(HEAD)
        if layer == "zip":
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    if info.file_size >= 32768:
                        with z.open(info) as f:
                            return f.read(HEAD)
            return b""
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return b""
    tool = {"zstd": "zstd", "lz4": "lz4", "7z": None}.get(layer)
    if tool and shutil.which(tool):
        p = subprocess.Popen([tool, "-dc", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        data = p.stdout.read(HEAD)
        p.kill()
        p.wait()
        return data
    return b""


def genuine(img, work, image_exts):
    """(True, why) when the listed image is one by blkid -p or file -s too;
    (False, why) otherwise."""
    kind, path = img.get("kind"), img.get("path")
    ext = (img.get("extension") or "").lower()
    if kind in NAMED_KINDS:
        if ext in image_exts:
            return True, "%s, listed for its name (.%s)" % (kind, ext)
        return False, "%s listed although not named as an image (.%s)" % (kind, ext)
    if kind not in IMAGE_KINDS:
        return False, "kind %r is not an image" % kind
    if kind == "compressed":
        layer = (img.get("inside") or {}).get("layer", "")
        data = head_of_stream(path, layer)
        if not data:
            return False, "compressed (%s): its head could not be decompressed here to check" % layer
        tmp = os.path.join(work, "head")
        with open(tmp, "wb") as f:
            f.write(data)
        b, fs = blkid_says(tmp), file_says(tmp)
        os.unlink(tmp)
        if b or FILE_IMAGE_WORDS.search(fs):
            return True, "decompressed head: blkid %r, file %r" % (b, fs)
        return False, "decompressed head (%d bytes): blkid sees nothing, file says %r" % (len(data), fs)
    b, fs = blkid_says(path), file_says(path)
    if b or FILE_IMAGE_WORDS.search(fs):
        return True, "blkid %r, file %r" % (b, fs)
    return False, "blkid -p sees nothing, file -s says %r" % fs


# ---- one tree ------------------------------------------------------------------

def describe(img):
    lines = ["    %s  kind=%s  detail=%r  size=%s" % (img.get("path"), img.get("kind"), img.get("detail"),
                                                         img.get("size"))]
    for f in img.get("findings", []):
        lines.append("      finding %s (%s) suggested_name=%r: %s" % (
            f.get("code"), f.get("severity"), f.get("suggested_name"), f.get("message")))
    for e in img.get("errors", []):
        lines.append("      error [%s] %s" % (e.get("stage"), e.get("message")))
    ins = img.get("inside")
    if ins:
        lines.append("      inside: layer=%s status=%s content=%s magic=%r probes=%s members=%s" % (
            ins.get("layer"), ins.get("status"), ins.get("content"), ins.get("magic"),
            [p.get("name") for p in ins.get("probes", [])], [m.get("name") for m in ins.get("members", [])][:4]))
    return "\n".join(lines)


def check_tree(c, imgscan, tree, work, image_exts):
    n_before, unreadable = regular_files(tree)
    if unreadable:
        print("%s: left out, %d files or directories imgscan could not read (e.g. %s): run as root to include it" % (
            tree, len(unreadable), unreadable[0]))
        return None
    report = os.path.join(work, "report.json")
    if os.path.exists(report):
        os.unlink(report)
    rc, rep, err, secs = run_scan(imgscan, tree, report)
    n_after, _ = regular_files(tree)
    c.true("%s: report written" % tree, rep is not None, err)
    if rep is None:
        return secs
    s = rep["summary"]
    images = rep.get("images", [])
    print("%s: %d regular files, %d other files (%.1f MB), %d listed, exit %d, %.2f s" % (
        tree, n_before, s.get("other_files", 0), s.get("other_bytes", 0) / 1e6, len(images), rc, secs))
    bad = []
    for img in images:
        for f in img.get("findings", []):
            sev = f.get("severity")
            if f.get("suggested_name"):
                bad.append("%s: naming finding %s suggests %r" % (img["path"], f.get("code"), f["suggested_name"]))
            if sev not in SEVERITIES or SEVERITIES.index(sev) > 0:
                bad.append("%s: finding %s of severity %s" % (img["path"], f.get("code"), sev))
        if img.get("misnamed") or img.get("suggested_name"):
            bad.append("%s: called misnamed (suggested %r)" % (img["path"], img.get("suggested_name")))
        ok, why = genuine(img, work, image_exts)
        print("  listed: %s (%s): %s" % (img["path"], img.get("kind"), why))
        if not ok:
            bad.append("%s: not a genuine image: %s" % (img["path"], why))
    if s.get("findings", 0) and not images:
        bad.append("summary counts %d findings with no image listed" % s["findings"])
    odd = [x for x in rep.get("skipped", []) if x.get("reason") not in ("symlink-not-followed", "special-file")]
    for x in odd:
        bad.append("skipped: %s (%s)" % (x.get("path"), json.dumps(x)))
    c.eq("%s: exit status" % tree, rc, 0)
    c.true("%s: other_files > 0" % tree, n_before == 0 or s.get("other_files", 0) > 0,
           "(other_files %s of %d regular files)" % (s.get("other_files"), n_before))
    if n_before == n_after:
        c.eq("%s: other files + listed images = regular files" % tree,
             s.get("other_files", 0) + len(images), n_before)
    else:
        print("%s: changed during the scan (%d -> %d regular files): count not compared" % (tree, n_before, n_after))
    c.true("%s: nothing reported" % tree, not bad, "\n  " + "\n  ".join(bad))
    if bad or rc != 0:
        print("  every listed image of %s:" % tree)
        for img in images:
            print(describe(img))
        if err.strip():
            print("  imgscan stderr: %s" % err.strip())
    return secs


def main():
    top = itlib.setup()
    imgscan = itlib.IMGSCAN
    trees = [os.path.abspath(t) for t in sys.argv[2:]] or default_trees()
    if not trees:
        shutil.rmtree(top, ignore_errors=True)
        print("no real tree here (/usr/share/doc, /usr/lib/python3*): skipped")
        sys.exit(77)
    cfg = json.loads(subprocess.run([imgscan, "scan", "--print-config"], stdout=subprocess.PIPE,
                                    check=True).stdout)
    image_exts = {e.lower() for e in cfg["image_extensions"]}
    c = itlib.Checker()
    t0 = time.monotonic()
    secs = []
    try:
        for tree in trees:
            s = check_tree(c, imgscan, tree, top, image_exts)
            if s is not None:
                secs.append(s)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    if not secs:
        print("every tree left out: skipped")
        sys.exit(77)
    total = time.monotonic() - t0
    print("%d trees: %.1f s in imgscan, %.1f s in all%s" % (
        len(secs), sum(secs), total, "  (WARNING: over the %d s budget)" % TIME_BUDGET if total > TIME_BUDGET else ""))
    c.done()


if __name__ == "__main__":
    main()
