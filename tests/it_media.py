#!/usr/bin/env python3
"""Evidence media (issue 13): segment sets scanned as one item of kind
"media", on real images made at test time.

A 12 MiB disk (sfdisk MBR, a FAT12 and an ext4 partition, random files in
both) is split as split(1) does it: numbered from .000 (1000000-byte
segments), from .001 (777777: no multiple of 512 or of the 1 MiB read),
four digits, and lettered (.aa, 1 MiB).  The media's XXH128, MD5 and
SHA-256 equal `cat segments | xxhsum -H2`, md5sum, sha256sum; each
segment's XXH128 equals `xxhsum -H2` of that file; no segment is listed on
its own; The Sleuth Kit sees both partitions across the segment joins; the
sector-hash list has the media's sectors (one of them spans two files);
both I/O engines.  A missing middle segment is SEGMENT_MISSING (named), a
cut middle one SEGMENT_SIZE, a missing last one TRUNCATED.

The same disk acquired by ewfacquire into 1 MiB segments: kind media,
scheme ewf, the acquisition verified, the metadata as given, the digests
of the raw disk.  A byte flipped in a compressed set's chunk: a mismatch or
a checksum error, never a crash.  A missing E02: SEGMENT_MISSING and
EWF_UNREADABLE, the item still listed.  A single E01 named .img stays a
container with its acquisition verified.  Every report against
report/report.schema.json when the schema knows "media" (skipped, and said,
before that).  Exits 77 if a tool is missing."""
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "report", "report.schema.json")
TOOLS = ["sfdisk", "mkfs.vfat", "mcopy", "mkfs.ext4", "split", "ewfacquire", "xxhsum", "md5sum", "sha1sum",
         "sha256sum"]
META = {"case_number": "CASE-2025-013", "description": "suspect desktop, disk 1",
        "evidence_number": "EV 13/a", "examiner": "M. Examiner", "notes": "acquired for it_media"}
DISK = 12 << 20
REPORTS = []  # every report made, for the schema check at the end


def scan(*args):
    status, rep, err = itlib.scan("-q", *args)
    if rep is None:
        raise AssertionError("imgscan scan %s: no report (exit %d): %s" % (" ".join(map(str, args)), status, err))
    REPORTS.append((" ".join(map(str, args)), rep))
    return status, rep, err


def digest(tool, *paths):
    """tool (md5sum, xxhsum -H2...) over the concatenation of paths: `cat paths | tool`."""
    cat = subprocess.run(["cat", *paths], stdout=subprocess.PIPE, check=True)
    out = subprocess.run(tool.split() + ["-"], input=cat.stdout, stdout=subprocess.PIPE, check=True)
    return out.stdout.decode().split()[0]


def random_file(path, n):
    with open(path, "wb") as f:
        f.write(os.urandom(n))


def make_raw(top):
    """MBR disk: partition 1 FAT12 at 1 MiB (5 MiB), partition 2 ext4 at
    6 MiB (6 MiB), about 5 MB of random files in all."""
    raw = os.path.join(top, "disk.raw")
    itlib.sized(raw, DISK)
    p = subprocess.run(["sfdisk", "-q", raw], input=b"label: dos\nstart=2048, size=10240, type=1\n"
                       b"start=12288, size=12288, type=83\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise RuntimeError("sfdisk: " + p.stderr.decode())
    fat = os.path.join(top, "fat.tmp")
    itlib.make_fat(fat, 12, "MEDIAFAT", 5 << 20)
    for name, n in (("a.bin", 1_700_000), ("b.bin", 1_300_000)):
        src = os.path.join(top, name)
        random_file(src, n)
        itlib.sh("mcopy", "-i", fat, src, "::/" + name.upper())
        os.unlink(src)
    tree = os.path.join(top, "ext-tree")
    os.makedirs(tree)
    random_file(os.path.join(tree, "c.bin"), 2_000_000)
    ext = os.path.join(top, "ext.tmp")
    itlib.sized(ext, 6 << 20)
    itlib.sh("mkfs.ext4", "-q", "-F", "-L", "MEDIAEXT", "-d", tree, ext)
    itlib.put_at(raw, 1 << 20, fat)
    itlib.put_at(raw, 6 << 20, ext)
    os.unlink(fat)
    os.unlink(ext)
    shutil.rmtree(tree)
    return raw


def split_set(raw, d, *opts):
    """split(1) raw into d/disk.<suffix>; returns the segment paths in order."""
    os.makedirs(d)
    itlib.sh("split", *opts, raw, os.path.join(d, "disk."))
    return sorted(os.path.join(d, n) for n in os.listdir(d))


def entries_under(rep, d):
    return [i for i in rep["images"] if os.path.dirname(os.path.abspath(i["path"])) == os.path.abspath(d)]


def finding(img, code):
    return [f for f in img["findings"] if f["code"] == code]


def fs_types(img):
    """File system types The Sleuth Kit found, and the volume system type."""
    tsk = (img.get("identification") or {}).get("tsk") or {}
    return sorted(f["type"] for f in tsk.get("filesystems") or []), (tsk.get("volume_system") or {}).get("type")


def check_segments(c, what, img, segs):
    m = img.get("media") or {}
    got = m.get("segments") or []
    c.eq(what + ": segment paths", [os.path.basename(s["path"]) for s in got], [os.path.basename(s) for s in segs])
    c.eq(what + ": segment sizes", [s["size"] for s in got], [os.path.getsize(s) for s in segs])
    c.eq(what + ": segment xxh128 = xxhsum -H2", [s["xxh128"] for s in got], [itlib.xxhsum(s) for s in segs])


def one_media(c, what, rep, d, segs):
    """The one item of directory d: of kind media, named by its first
    segment; no segment listed on its own."""
    got = entries_under(rep, d)
    c.eq(what + ": one item for the set", [os.path.basename(i["path"]) for i in got], [os.path.basename(segs[0])])
    others = {os.path.abspath(s) for s in segs[1:]}
    c.true(what + ": no segment on its own", not any(os.path.abspath(i["path"]) in others for i in rep["images"]),
           str([i["path"] for i in rep["images"]]))
    c.true(what + ": no segment skipped", not any(os.path.abspath(str(s.get("path", ""))) in others
                                                  for s in rep["skipped"]), str(rep["skipped"])[:300])
    if len(got) != 1:
        return None
    img = got[0]
    c.eq(what + ": kind", (img["kind"], img["kind_key"]), ("media", "media"))
    return img


def split_raw(c, top, raw, want):
    """Numbered from .000 and .001, 3 and 4 digits, lettered; segment sizes
    that are no multiple of the read size or of 512."""
    sets = {
        "n000": split_set(raw, os.path.join(top, "split", "n000"), "-b", "1000000", "-d", "-a", "3"),
        "n001": split_set(raw, os.path.join(top, "split", "n001"), "-b", "777777", "--numeric-suffixes=1",
                          "-a", "3"),
        "n4": split_set(raw, os.path.join(top, "split", "n4"), "-b", "3000000", "--numeric-suffixes=1", "-a", "4"),
        "aa": split_set(raw, os.path.join(top, "split", "aa"), "-b", "1M"),
    }
    c.eq("split names", [os.path.basename(s[0]) for s in sets.values()],
         ["disk.000", "disk.001", "disk.0001", "disk.aa"])
    for k, segs in sets.items():
        c.eq("cat %s | xxhsum -H2 = the raw disk's" % k, digest("xxhsum -H2", *segs), want["xxh128"])
    for engine in ("uring", "pread"):
        status, rep, err = scan("--io", engine, "--hash", "md5,sha256", os.path.join(top, "split"))
        if engine == "uring" and "io_uring is not available" in err:
            print("io_uring unavailable here: the uring run is pread too")
        c.eq("split %s: exit status" % engine, status, 0)
        c.eq("split %s: four items" % engine, len(rep["images"]), 4)
        for k, segs in sets.items():
            what = "split %s %s" % (k, engine)
            img = one_media(c, what, rep, os.path.dirname(segs[0]), segs)
            if not img:
                continue
            c.eq(what + ": size", img["size"], DISK)
            c.eq(what + ": xxh128 = cat | xxhsum -H2", img["hashes"].get("xxh128"), digest("xxhsum -H2", *segs))
            c.eq(what + ": md5 = cat | md5sum", img["hashes"].get("md5"), digest("md5sum", *segs))
            c.eq(what + ": sha256", img["hashes"].get("sha256"), want["sha256"])
            c.eq(what + ": bytes read", img["read"]["bytes"], DISK)
            m = img.get("media") or {}
            c.eq(what + ": media", (m.get("scheme"), m.get("content_kind"), m.get("missing_segments"),
                                    m.get("first_missing")), ("split-raw", "disk", 0, None))
            check_segments(c, what, img, segs)
            c.eq(what + ": no findings", [f["code"] for f in img["findings"]], [])
            c.eq(what + ": TSK sees both partitions' file systems", fs_types(img), (["ext4", "fat12"], "dos"))
            c.true(what + ": acquisition only for EWF", img.get("acquisition") is None, str(img.get("acquisition")))
            c.eq(what + ": sectors of the media", img["sectors"]["count"], DISK // 4096)
    # The sector-hash list of one set (every set of this disk would write the
    # same file, named by the media's XXH128).
    hd = os.path.join(top, "lists")
    os.makedirs(hd)
    status, rep, err = scan("--sector-hashes", hd, os.path.dirname(sets["n001"][0]))
    img = one_media(c, "sector list", rep, os.path.dirname(sets["n001"][0]), sets["n001"])
    if img:
        check_sector_list(c, "sector list n001", img, raw)


def check_sector_list(c, what, img, raw):
    """The sector-hash list is the media's: its sectors, its size; sectors 189
    and 379 span the joins of the 777777-byte segments."""
    lf = (img.get("sectors") or {}).get("list_file")
    c.true(what + ": sector list written", lf and os.path.exists(lf), str(img.get("sectors")))
    if not lf or not os.path.exists(lf):
        return
    with open(lf, "rb") as f:
        data = f.read()
    _, _, ssize, count, size = struct.unpack(">8sIIQQ", data[:32])
    c.eq(what + ": sector list header", (ssize, count, size), (4096, DISK // 4096, DISK))
    with open(raw, "rb") as f:
        for i in (0, 189, 190, 379, DISK // 4096 - 1):
            f.seek(i * 4096)
            x = subprocess.run(["xxhsum", "-H3", "-"], input=f.read(4096), stdout=subprocess.PIPE, check=True)
            c.eq("%s: sector %d hash" % (what, i), data[64 + 8 * i:72 + 8 * i].hex(), x.stdout.decode().split()[-1])


def split_faults(c, top, raw):
    """A missing middle segment, a cut middle one, a missing last one; the
    first segment named on the command line scans the whole set."""
    d = os.path.join(top, "faults")
    gap = split_set(raw, os.path.join(d, "gap"), "-b", "777777", "--numeric-suffixes=1", "-a", "3")
    os.unlink(gap[1])
    c.eq("gap: removed disk.002", os.path.basename(gap[1]), "disk.002")
    gap = gap[:1] + gap[2:]
    cut = split_set(raw, os.path.join(d, "cut"), "-b", "1000000", "--numeric-suffixes=1", "-a", "3")
    with open(cut[2], "r+b") as f:
        f.truncate(500000)
    nolast = split_set(raw, os.path.join(d, "nolast"), "-b", "1000000", "--numeric-suffixes=1", "-a", "3")
    os.unlink(nolast[-1])
    nolast = nolast[:-1]
    status, rep, err = scan(d)
    c.eq("faults: exit status 1 (findings above info)", status, 1)

    img = one_media(c, "gap", rep, os.path.dirname(gap[0]), gap)
    if img:
        m = img.get("media") or {}
        c.eq("gap: missing count, first missing", (m.get("missing_segments"), os.path.basename(
            str(m.get("first_missing")))), (1, "disk.002"))
        f = finding(img, "SEGMENT_MISSING")
        c.eq("gap: SEGMENT_MISSING high", [x["severity"] for x in f], ["high"])
        c.true("gap: the message names disk.002", f and "disk.002" in f[0]["message"], str(f))
        check_segments(c, "gap", img, gap)

    img = one_media(c, "cut", rep, os.path.dirname(cut[0]), cut)
    if img:
        f = finding(img, "SEGMENT_SIZE")
        c.eq("cut: SEGMENT_SIZE medium", [x["severity"] for x in f], ["medium"])
        c.true("cut: the message names disk.003", f and "disk.003" in f[0]["message"], str(f))
        c.eq("cut: no SEGMENT_MISSING", finding(img, "SEGMENT_MISSING"), [])
        c.eq("cut: size is what the segments hold", img["size"], sum(os.path.getsize(s) for s in cut))
        c.eq("cut: xxh128 = cat | xxhsum -H2", img["hashes"]["xxh128"], digest("xxhsum -H2", *cut))
        check_segments(c, "cut", img, cut)

    img = one_media(c, "no last segment", rep, os.path.dirname(nolast[0]), nolast)
    if img:
        c.true("no last segment: TRUNCATED", finding(img, "TRUNCATED"), str(img["findings"]))
        c.eq("no last segment: no SEGMENT_MISSING/SIZE",
             finding(img, "SEGMENT_MISSING") + finding(img, "SEGMENT_SIZE"), [])
        c.eq("no last segment: xxh128", img["hashes"]["xxh128"], digest("xxhsum -H2", *nolast))

    # The first segment named on the command line: the whole set.
    full = os.path.join(top, "split", "n001")
    segs = sorted(os.path.join(full, n) for n in os.listdir(full))
    status, rep, err = scan(segs[0])
    c.eq("first segment named: exit status", status, 0)
    img = one_media(c, "first segment named", rep, full, segs)
    if img:
        c.eq("first segment named: size, xxh128", (img["size"], img["hashes"]["xxh128"]),
             (DISK, digest("xxhsum -H2", *segs)))
        check_segments(c, "first segment named", img, segs)


def acquire(raw, base, *opts):
    """ewfacquire raw into base.E01, base.E02...; returns their paths."""
    os.makedirs(os.path.dirname(base), exist_ok=True)
    itlib.sh("ewfacquire", "-u", "-q", "-t", base, *opts, raw)
    return [p for p in (base + ".E%02d" % i for i in range(1, 100)) if os.path.exists(p)]


def ewf_set(c, top, raw, want):
    m = META
    segs = acquire(raw, os.path.join(top, "ewf", "plain", "case"), "-c", "none", "-S", "1MiB", "-d", "sha1",
                   "-C", m["case_number"], "-D", m["description"], "-E", m["evidence_number"],
                   "-e", m["examiner"], "-N", m["notes"])
    c.true("ewf: the set spans several segments", len(segs) >= 4, str(segs))
    d = os.path.dirname(segs[0])
    for engine in ("uring", "pread"):
        what = "ewf %s" % engine
        status, rep, err = scan("--io", engine, "--hash", "md5,sha256", d)
        c.eq(what + ": exit status", status, 0)
        img = one_media(c, what, rep, d, segs)
        if not img:
            continue
        c.eq(what + ": size", img["size"], DISK)
        for k in ("xxh128", "md5", "sha256"):
            c.eq("%s: hashes.%s = the raw disk's" % (what, k), img["hashes"].get(k), want[k])
        med = img.get("media") or {}
        c.eq(what + ": media", (med.get("scheme"), med.get("content_kind"), med.get("missing_segments"),
                                med.get("first_missing")), ("ewf", "disk", 0, None))
        check_segments(c, what, img, segs)
        q = img.get("acquisition") or {}
        c.eq(what + ": acquisition status", (q.get("status"), q.get("error")), ("verified", None))
        c.eq(what + ": media geometry", (q.get("media_size"), q.get("bytes_per_sector"), q.get("sectors"),
                                         q.get("bytes_read")), (DISK, 512, DISK // 512, DISK))
        c.eq(what + ": format, compression", (q.get("format"), q.get("compression")), ("encase6", "none"))
        for k, v in META.items():
            c.eq("%s: %s" % (what, k), q.get(k), v)
        c.eq(what + ": acquiry os", q.get("acquiry_os"), os.uname().sysname)
        c.true(what + ": acquiry date", bool(q.get("acquiry_date")), repr(q.get("acquiry_date")))
        c.eq(what + ": stored", q.get("stored"), {"md5": want["md5"], "sha1": want["sha1"]})
        c.eq(what + ": computed", q.get("computed"), {k: want[k] for k in ("md5", "sha1", "sha256", "xxh128")})
        c.eq(what + ": match states", (q.get("md5_match"), q.get("sha1_match")), ("match", "match"))
        c.eq(what + ": no checksum errors", (q.get("checksum_errors"), q.get("bad_chunks")), (0, []))
        c.eq(what + ": findings", [(f["code"], f["severity"]) for f in img["findings"]],
             [("ACQUISITION_VERIFIED", "info")])
        c.eq(what + ": TSK sees the disk inside", fs_types(img), (["ext4", "fat12"], "dos"))
        c.eq(what + ": no sector list for EWF media", img.get("sectors"), None)
    # Without The Sleuth Kit the acquisition is still checked.
    status, rep, err = scan("--no-tsk", d)
    img = one_media(c, "ewf --no-tsk", rep, d, segs)
    if img:
        c.eq("ewf --no-tsk: verified, media size and digest", ((img.get("acquisition") or {}).get("status"),
                                                                img["size"], (img["hashes"] or {}).get("xxh128")),
             ("verified", DISK, want["xxh128"]))
    return segs


def ewf_flipped(c, top, raw, want):
    """-c best: intact it verifies (MD5 only stored); a byte flipped at 60% of
    E01, inside a compressed chunk: a mismatch or a checksum error."""
    segs = acquire(raw, os.path.join(top, "ewf", "best", "best"), "-c", "best", "-S", "1MiB")
    c.true("best: several segments", len(segs) >= 2, str(segs))
    d = os.path.dirname(segs[0])
    status, rep, err = scan(d)
    img = one_media(c, "best intact", rep, d, segs)
    if img:
        q = img.get("acquisition") or {}
        c.eq("best intact: verified", (status, q.get("status"), q.get("compression"), q.get("md5_match"), q.get("sha1_match")),
             (0, "verified", "best", "match", "not-stored"))
        c.eq("best intact: xxh128", img["hashes"]["xxh128"], want["xxh128"])
    with open(segs[0], "r+b") as f:
        size = f.seek(0, 2)
        f.seek(size * 6 // 10)
        b = f.read(1)
        f.seek(size * 6 // 10)
        f.write(bytes([b[0] ^ 0xFF]))
    status, rep, err = scan(d)
    c.true("flip: exit 1 or 2, no crash", status in (1, 2), "exit %d: %s" % (status, err[-400:]))
    img = one_media(c, "flip", rep, d, segs)
    if img:
        q = img.get("acquisition") or {}
        print("flipped byte: exit %d, acquisition %s, md5 %s, %s checksum error range(s), findings %s"
              % (status, q.get("status"), q.get("md5_match"), q.get("checksum_errors"),
                 [f["code"] for f in img["findings"]]))
        got = {f["code"]: f["severity"] for f in img["findings"]}
        c.true("flip: seen", got.get("ACQUISITION_HASH_MISMATCH") == "critical" or
               got.get("EWF_CHECKSUM_ERROR") == "high", str(img["findings"]))
        c.true("flip: not verified", q.get("status") in ("mismatch", "unreadable"), str(q.get("status")))
        c.true("flip: no ACQUISITION_VERIFIED", "ACQUISITION_VERIFIED" not in got)
        if q.get("checksum_errors"):
            c.true("flip: bad chunks listed", q.get("bad_chunks"), str(q))
            c.eq("flip: EWF_CHECKSUM_ERROR", got.get("EWF_CHECKSUM_ERROR"), "high")
        if q.get("md5_match") == "mismatch":
            c.eq("flip: ACQUISITION_HASH_MISMATCH critical", got.get("ACQUISITION_HASH_MISMATCH"), "critical")
            c.true("flip: computed md5 differs", (q.get("computed") or {}).get("md5") != want["md5"])


def ewf_gap(c, top, plain):
    """E02 of a set of 4 or more removed: libewf cannot open it."""
    d = os.path.join(top, "ewf", "gap")
    os.makedirs(d)
    segs = [shutil.copy(s, d) for s in plain]
    os.unlink(segs[1])
    c.eq("ewf gap: removed case.E02", os.path.basename(segs[1]), "case.E02")
    segs = segs[:1] + segs[2:]
    status, rep, err = scan(d)
    c.eq("ewf gap: exit 2 (the media could not be read), no crash", status, 2)
    img = one_media(c, "ewf gap", rep, d, segs)
    if not img:
        return
    c.true("ewf gap: a read error says libewf could not read the media",
           any(e["stage"] == "read" and "libewf" in e["message"] for e in img["errors"]), str(img["errors"]))
    c.eq("ewf gap: no media digests", img.get("hashes"), None)
    m = img.get("media") or {}
    c.eq("ewf gap: media", (m.get("scheme"), m.get("missing_segments"), os.path.basename(str(m.get("first_missing")))),
         ("ewf", 1, "case.E02"))
    check_segments(c, "ewf gap", img, segs)
    got = {f["code"]: f for f in img["findings"]}
    c.eq("ewf gap: SEGMENT_MISSING high", got.get("SEGMENT_MISSING", {}).get("severity"), "high")
    c.true("ewf gap: the message names case.E02", "case.E02" in got.get("SEGMENT_MISSING", {}).get("message", ""),
           str(got.get("SEGMENT_MISSING")))
    c.eq("ewf gap: EWF_UNREADABLE high", got.get("EWF_UNREADABLE", {}).get("severity"), "high")
    c.true("ewf gap: not verified", "ACQUISITION_VERIFIED" not in got)
    q = img.get("acquisition") or {}
    c.eq("ewf gap: acquisition unopened", q.get("status"), "unopened")
    c.true("ewf gap: libewf's reason", bool(q.get("error")), repr(q.get("error")))


def single_e01(c, top, raw, want):
    """One E01 (no -S: a single file) named .img, and as .E01: kind
    container, not media, with its acquisition verified."""
    d = os.path.join(top, "ewf", "single")
    segs = acquire(raw, os.path.join(d, "one"), "-c", "fast", "-C", "single")
    c.eq("single: one file", [os.path.basename(s) for s in segs], ["one.E01"])
    os.rename(segs[0], os.path.join(d, "evidence-e01.img"))
    d2 = os.path.join(top, "ewf", "single-e01")
    acquire(raw, os.path.join(d2, "two"), "-c", "none")
    status, rep, err = scan("--hash", "md5", d, d2)
    for name in ("evidence-e01.img", "two.E01"):
        what = "single " + name
        try:
            img = itlib.by_name(rep, name)
        except AssertionError as e:
            c.true(what + ": listed", False, str(e))
            continue
        c.eq(what + ": kind container, no media", (img["kind"], img.get("media")), ("container", None))
        q = img.get("acquisition") or {}
        c.eq(what + ": acquisition", (q.get("status"), q.get("md5_match"), (q.get("computed") or {}).get("md5"),
                                      q.get("media_size")), ("verified", "match", want["md5"], DISK))
        c.true(what + ": ACQUISITION_VERIFIED", finding(img, "ACQUISITION_VERIFIED"), str(img["findings"]))
        if name == "evidence-e01.img":
            c.eq(what + ": case number", q.get("case_number"), "single")


def schema(c):
    """Every report against report/report.schema.json, once the schema knows
    the media object; skipped (and said) before that."""
    try:
        import jsonschema
    except ImportError:
        print("SKIP schema check: python3-jsonschema is not installed for %s" % sys.executable)
        return
    with open(SCHEMA) as f:
        doc = json.load(f)
    props = set()

    def walk(node):
        if isinstance(node, dict):
            props.update(node.get("properties", {}).keys())
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    if not {"media", "acquisition"} <= props:
        print("SKIP schema check: report/report.schema.json does not know the \"media\"/\"acquisition\" "
              "properties yet")
        return
    sub = dict(doc, **{"$ref": "#/$defs/document"})
    v = jsonschema.Draft202012Validator(sub)
    print("schema check: %d reports against report/report.schema.json" % len(REPORTS))
    for what, rep in REPORTS:
        errs = sorted(v.iter_errors(rep), key=lambda e: list(e.absolute_path))
        for e in errs[:5]:
            print("  schema, scan %s: %s at %s" % (what, e.message[:300], "/".join(str(p) for p in e.absolute_path)))
        c.true("report of scan %s follows the schema" % what, not errs, "%d errors" % len(errs))


def split_widened(c, top, raw, want):
    """split without -a widens its suffixes when they run out (.00 .. .89,
    .9000 ..; .aa .. .yz, .zaaa ..): still one set, in order."""
    size = os.path.getsize(raw)
    for what, opts, last in (("widened numbered", ("-d", "-b", str(size // 100 + 1)), "disk.9009"),
                             ("widened lettered", ("-b", str(size // 660 + 1)), "disk.zaaj")):
        d = os.path.join(top, what.replace(" ", "-"))
        segs = split_set(raw, d, *opts)
        segs.sort(key=lambda p: (len(os.path.basename(p)), p))  # split's order: the wide names last
        c.eq(what + ": split widened to " + last, os.path.basename(segs[-1]), last)
        status, rep, err = scan(d)
        c.eq(what + ": exit 0", status, 0)
        img = one_media(c, what, rep, d, segs)
        if img:
            c.eq(what + ": digest of the media", img["hashes"]["xxh128"], want["xxh128"])
            c.eq(what + ": every segment, in order", [os.path.basename(s["path"]) for s in img["media"]["segments"]],
                 [os.path.basename(s) for s in segs])
            c.eq(what + ": nothing missing", img["media"]["missing_segments"], 0)


def main():
    top = itlib.setup()
    itlib.skip_without(TOOLS, top)
    c = itlib.Checker()
    try:
        raw = make_raw(top)
        want = {"xxh128": itlib.xxhsum(raw)}
        for k in ("md5", "sha1", "sha256"):
            want[k] = itlib.sh(k + "sum", raw).stdout.decode().split()[0]
        split_raw(c, top, raw, want)
        split_faults(c, top, raw)
        split_widened(c, top, raw, want)
        plain = ewf_set(c, top, raw, want)
        ewf_flipped(c, top, raw, want)
        ewf_gap(c, top, plain)
        single_e01(c, top, raw, want)
        schema(c)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
