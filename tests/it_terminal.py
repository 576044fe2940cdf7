#!/usr/bin/env python3
"""Names from disk are data: the human summary on stderr shows control
characters and escape sequences escaped, while the JSON keeps them
losslessly (issue 15, "Nothing reaches the terminal raw").

An ISO made by genisoimage, named with ESC [ 2 J (clear screen), a carriage
return and a C1 CSI (U+009B) and `.img`, is misnamed: its line in scan's
summary, and its `missing` line in verify's, must hold no ESC, CR or CSI
byte, only their escaped forms; the report's path is the exact name.
Merge's refusals quote a report's paths and strings: the same image put in
two shard reports, and a shard whose tool.version holds ESC [ 2 J and a CR,
are refused (65) with those bytes escaped on stderr.

Volume labels are data too, kept exactly in the JSON (SCHEMA.md, "Paths
and other names") and never written raw to stderr:
- an ISO made by genisoimage -V with ESC [ 2 J and a CR in its label: the
  report's label is exactly those characters (JSON-escaped);
- an ext4 image made by mkfs.ext4 -L with bytes that are not UTF-8 (and an
  ESC): label_b64 gives the exact bytes back, label_lossy is true, label is
  the readable form (U+FFFD for the bad byte);
and scan's stderr (summary, not -q) holds no ESC or CR byte.  FAT is not
here: dosfstools 4.2's mkfs.fat -n rejects every byte above 0x7F ("below
0x20", a signed char), and a FAT label's bytes are decoded from code page
850, exactly (it_labels checks that with mlabel)."""
import base64
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

NAME = b"disc\x1b[2J\rend\xc2\x9b1m.img"
SHOWN = b"disc\\x1b[2J\\x0dend\\xc2\\x9b1m.img"


ISO_LABEL = "\x1b[2J\rclear"
EXT_LABEL = b"ab\xffcd\x1b[2J"
ENV = dict(os.environ, LC_ALL="C.UTF-8")


def make(*argv):
    """Run a tool with its arguments as bytes (a label need not be UTF-8)."""
    p = subprocess.run([a if isinstance(a, bytes) else str(a).encode() for a in argv], env=ENV,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise RuntimeError("%s failed (%d): %s" % (argv[0], p.returncode, p.stderr.decode(errors="replace")))


def probe(img, name):
    found = [p for p in img["identification"]["probes"] if p["name"] == name]
    return found[0] if found else {}


def check_labels(c, top):
    arch = os.path.join(top, "labels")
    os.makedirs(arch)
    make("genisoimage", "-quiet", "-V", ISO_LABEL, "-o", os.path.join(arch, "esc.iso"), itlib.content_dir(top))
    ext = os.path.join(arch, "bytes.img")
    itlib.sized(ext, 16 << 20)
    make("mkfs.ext4", "-q", "-F", b"-L", EXT_LABEL, ext)
    report = os.path.join(top, "labels.json")
    p = subprocess.run([itlib.IMGSCAN, "scan", "-o", report, arch], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    c.eq("label scan: exit 0", p.returncode, 0)
    c.true("label scan: no ESC or CR byte on stderr", b"\x1b" not in p.stderr and b"\r" not in p.stderr,
           repr(p.stderr[-300:]))
    with open(report, "rb") as f:
        text = f.read()
    c.true("the report holds no raw ESC or CR byte", b"\x1b" not in text and b"\r" not in text)
    rep = json.loads(text)
    iso = probe(itlib.by_name(rep, "esc.iso"), "iso9660")
    c.eq("ISO label: exactly ESC [ 2 J CR ...", iso.get("label"), ISO_LABEL)
    c.true("ISO label: no _b64 (it is UTF-8)", "label_b64" not in iso and "label_lossy" not in iso, iso)
    e = probe(itlib.by_name(rep, "bytes.img"), "ext4")
    c.eq("ext4 label_lossy", e.get("label_lossy"), True)
    c.eq("ext4 label_b64: the exact bytes", base64.b64decode(e.get("label_b64", "")), EXT_LABEL)
    c.eq("ext4 label: the readable form", e.get("label"), EXT_LABEL.decode(errors="replace"))


def raw(stderr, what, c):
    c.true(what + ": no ESC, CR or CSI byte on stderr",
           b"\x1b" not in stderr and b"\r" not in stderr and b"\xc2\x9b" not in stderr, repr(stderr[-300:]))
    c.true(what + ": the name shown escaped", SHOWN in stderr, repr(stderr[-300:]))


def merge_stderr(top, shards, name):
    out = os.path.join(top, name)
    p = subprocess.run([itlib.IMGSCAN, "merge", "-o", out] + shards, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stderr, os.path.exists(out)


def check_merge_messages(c, top, arch):
    """Merge's refusals quote an image's path and a shard report's strings:
    escaped too.  One image put in both shards' reports, and a version
    string holding ESC [ 2 J and a CR."""
    shards = []
    for k in (0, 1):
        shards.append(os.path.join(top, "s%d.json" % k))
        p = subprocess.run([itlib.IMGSCAN, "scan", "-q", "--shard", "%d/2" % k, "-o", shards[k], arch],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        c.true("shard %d/2: written" % k, p.returncode in (0, 1), p.stderr[-300:])
    reps = []
    for s in shards:
        with open(s) as f:
            reps.append(json.load(f))
    has, lacks = (0, 1) if reps[0]["images"] else (1, 0)
    twice = json.loads(json.dumps(reps[lacks]))
    twice["images"] = reps[has]["images"]
    for key in ("images", "misnamed", "findings"):
        if key in twice["summary"] and key in reps[has]["summary"]:
            twice["summary"][key] = reps[has]["summary"][key]
    doubled = os.path.join(top, "twice.json")
    with open(doubled, "w") as f:
        json.dump(twice, f)
    rc, err, made = merge_stderr(top, [shards[has], doubled], "m1.json")
    c.eq("merge of an image in two shards: refused (65), nothing written", (rc, made), (65, False))
    raw(err, "merge's refusal", c)
    bad = json.loads(json.dumps(reps[lacks]))
    bad["tool"]["version"] = "9\x1b[2J\rx"
    forged = os.path.join(top, "forged.json")
    with open(forged, "w") as f:
        json.dump(bad, f)
    rc, err, made = merge_stderr(top, [shards[has], forged], "m2.json")
    c.eq("merge of another version: refused (65), nothing written", (rc, made), (65, False))
    c.true("the forged version: no ESC or CR byte on stderr", b"\x1b" not in err and b"\r" not in err,
           repr(err[-300:]))
    c.true("the forged version shown escaped", b"9\\x1b[2J\\x0dx" in err, repr(err[-300:]))


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        arch = os.path.join(top, "arch")
        os.makedirs(arch)
        iso = os.path.join(top, "d.iso")
        itlib.make_iso(iso, "TERM", itlib.content_dir(top))
        target = os.path.join(arch.encode(), NAME)
        shutil.copy(iso, target)
        report = os.path.join(top, "r.json")
        p = subprocess.run([itlib.IMGSCAN, "scan", "-o", report, arch], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        c.eq("scan: exit 1 (misnamed)", p.returncode, 1)
        raw(p.stderr, "scan summary", c)
        check_merge_messages(c, top, arch)
        with open(report) as f:
            img = json.load(f)["images"][0]
        c.eq("the report keeps the exact name", os.path.basename(img["path"]).encode(), NAME)
        c.eq("ISO_MISNAMED", itlib.codes(img), ["ISO_MISNAMED"])
        os.unlink(target)
        p = subprocess.run([itlib.IMGSCAN, "verify", "-o", os.path.join(top, "v.json"), report],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        c.eq("verify: exit 1 (missing)", p.returncode, 1)
        raw(p.stderr, "verify summary", c)
        check_labels(c, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
