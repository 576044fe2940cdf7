#!/usr/bin/env python3
"""EWF acquisitions checked whole (formats/ewf_acq.c, through the test-only
driver ewf-acq-cli): a real FAT disk with random files, acquired by
ewfacquire into segment sets of 1 MiB files.  The digests computed equal
md5sum/sha1sum/sha256sum/`xxhsum -H2` of the raw disk, the stored ones
equal md5sum's, the metadata given to ewfacquire comes back; a renamed
segment opens by its name; a missing middle segment refuses to open with
libewf's reason; a missing last segment opens (libewf's way) but says so;
a flipped byte in a compressed set's chunk shows as a checksum error and a
mismatch, never a crash; a read error (faultfs, where FUSE works) too.
Usage: it_ewf_acq.py path/to/ewf-acq-cli.  Exits 77 if a tool is missing."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

TOOLS = ["mkfs.vfat", "mcopy", "ewfacquire", "md5sum", "sha1sum", "sha256sum", "xxhsum"]
META = {"case_number": "CASE-2024-017", "description": "suspect laptop, second disk",
        "evidence_number": "EV 3/b", "examiner": "J. Examiner", "notes": "acquired for the imgscan test"}
MATCH, MISMATCH, NOT_STORED = "match", "mismatch", "not_stored"


# libewf 20140813 itself leaks the chunk buffers it makes for the chunks of
# a missing last segment (a six-line program that opens, reads, closes and
# frees the handle leaks them too): LeakSanitizer is told, by that
# function's name only, for an ASan build of the driver.
LSAN_SUPPRESSIONS = "leak:libewf_chunk_data_initialize\n"
lsan_file = None


def check(*paths, sha256=True):
    """ewf-acq-cli's JSON for the segments given; it must exit 0, and say
    nothing of undefined behaviour (a UBSan build goes on after it)."""
    args = [itlib.IMGSCAN] + ([] if sha256 else ["--no-sha256"]) + [str(p) for p in paths]
    env = dict(os.environ)
    env["LSAN_OPTIONS"] = ":".join(filter(None, [env.get("LSAN_OPTIONS"), "suppressions=" + lsan_file]))
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0 or "runtime error:" in err:
        raise AssertionError("ewf-acq-cli exited %d: %s" % (p.returncode, err))
    return json.loads(p.stdout)


def digest(tool, path):
    return itlib.sh(tool, path).stdout.decode().split()[0]


def make_raw(top):
    """A 6 MiB FAT disk holding 3.5 MB of random files (so the set does not
    compress to nothing and spans several 1 MiB segments)."""
    raw = os.path.join(top, "disk.raw")
    itlib.make_fat(raw, 12, "EVIDENCE", 6 << 20)
    for name, n in (("a.bin", 1_500_000), ("b.bin", 2_000_000)):
        src = os.path.join(top, name)
        with open(src, "wb") as f:
            f.write(os.urandom(n))
        itlib.sh("mcopy", "-i", raw, src, "::/" + name.upper())
        os.unlink(src)
    return raw


def acquire(raw, base, *opts):
    """ewfacquire raw into base.E01, base.E02...; returns their paths."""
    itlib.sh("ewfacquire", "-u", "-q", "-t", base, "-S", "1MiB", *opts, raw)
    segs = sorted(p for p in (base + ".E%02d" % i for i in range(1, 100)) if os.path.exists(p))
    return segs


def segment_set(c, raw, top, want):
    """-c none, SHA-1 stored too, the metadata given: everything as given."""
    m = META
    segs = acquire(raw, os.path.join(top, "plain"), "-c", "none", "-d", "sha1", "-C", m["case_number"],
                   "-D", m["description"], "-E", m["evidence_number"], "-e", m["examiner"], "-N", m["notes"])
    c.true("the set spans several segments", len(segs) >= 3, str(segs))
    r = check(*segs)
    c.eq("status", (r["status"], r["error"]), ("done", ""))
    c.eq("media", (r["media_size"], r["bytes_per_sector"], r["sectors"], r["bytes_read"]),
         (want["size"], 512, want["size"] // 512, want["size"]))
    c.eq("format, compression", (r["format"], r["compression"]), ("encase6", "none"))
    c.eq("segments opened", r["segments_opened"], len(segs))
    for k, v in META.items():
        c.eq("header " + k, r[k], v)
    c.eq("acquiry os", r["acquiry_os"], os.uname().sysname)
    c.true("acquiry software version", r["acquiry_software_version"] != "", repr(r["acquiry_software_version"]))
    c.true("acquiry date", r["acquiry_date"] != "" and r["system_date"] != "")
    for k in ("md5", "sha1", "sha256", "xxh128"):
        c.eq("computed " + k, r[k], want[k])
    c.eq("stored digests", (r["stored_md5"], r["stored_sha1"]), (want["md5"], want["sha1"]))
    c.eq("match states", (r["md5_match"], r["sha1_match"]), (MATCH, MATCH))
    c.eq("no checksum errors", (r["checksum_errors"], r["bad"]), (0, []))
    r = check(*segs, sha256=False)
    c.eq("sha256 only when asked", (r["sha256"], r["md5"]), ("", want["md5"]))
    return segs


def renamed(c, segs, top, want):
    """E02 renamed to .img, the names given in order: libewf opens what it is
    given (no .E02 exists for it to find by itself)."""
    d = os.path.join(top, "renamed")
    os.makedirs(d)
    paths = []
    for i, s in enumerate(segs):
        dst = os.path.join(d, "part2.img" if i == 1 else os.path.basename(s))
        shutil.copy(s, dst)
        paths.append(dst)
    r = check(*paths)
    c.eq("renamed: status", (r["status"], r["error"]), ("done", ""))
    c.eq("renamed: digests", (r["md5"], r["md5_match"], r["sha1_match"], r["segments_opened"]),
         (want["md5"], MATCH, MATCH, len(segs)))


def missing(c, segs, raw):
    """A missing middle segment: no open, libewf's reason on one line.  The
    last one missing: libewf opens the rest and reads the chunks it lacks
    as zeros (one checksum-error range); the stored digests lived in the
    last segment, so there are none to compare."""
    r = check(*(segs[:1] + segs[2:]))
    c.eq("gap: open failed", r["status"], "open_failed")
    c.true("gap: libewf's reason", "missing" in r["error"] and "\n" not in r["error"], repr(r["error"]))
    c.eq("gap: nothing computed", (r["md5"], r["bytes_read"], r["md5_match"]), ("", 0, NOT_STORED))
    r = check(*segs[:-1])
    c.eq("no last segment: read", (r["status"], r["md5_match"], r["stored_md5"]), ("done", NOT_STORED, ""))
    c.true("no last segment: said", "incomplete" in r["error"] and r["checksum_errors"] >= 1, repr(r))
    r = check(raw)
    c.eq("raw disk: open failed", r["status"], "open_failed")
    c.true("raw disk: why", "signature" in r["error"], repr(r["error"]))
    r = check(os.path.join(os.path.dirname(raw), "absent.E01"))
    c.true("absent file: why", r["status"] == "open_failed" and "no such file" in r["error"], repr(r["error"]))


def zeroed_md5(raw, bad):
    """MD5 of the raw disk with the bad ranges as zeros (libewf's read of them)."""
    with open(raw, "rb") as f:
        data = bytearray(f.read())
    for b in bad:
        off, n = b["first_sector"] * 512, b["sectors"] * 512
        data[off:off + n] = bytes(len(data[off:off + n]))
    return hashlib.md5(data).hexdigest()


def flipped(c, raw, top, want):
    """-c best: intact it matches; a byte flipped at 60% of E01 (inside the
    chunk data) gives a checksum error range and an MD5 mismatch."""
    segs = acquire(raw, os.path.join(top, "best"), "-c", "best")
    r = check(*segs)
    c.eq("best: intact", (r["status"], r["compression"], r["md5_match"], r["sha1_match"], r["checksum_errors"]),
         ("done", "best", MATCH, NOT_STORED, 0))
    c.eq("best: computed", (r["md5"], r["xxh128"]), (want["md5"], want["xxh128"]))
    d = os.path.join(top, "flip")
    os.makedirs(d)
    paths = [shutil.copy(s, d) for s in segs]
    with open(paths[0], "r+b") as f:
        size = f.seek(0, 2)
        f.seek(size * 6 // 10)
        b = f.read(1)
        f.seek(size * 6 // 10)
        f.write(bytes([b[0] ^ 0xFF]))
    r = check(*paths)
    c.true("flip: finished", r["status"] in ("done", "read_failed"), repr(r))
    c.true("flip: seen", r["md5_match"] == MISMATCH or r["checksum_errors"] > 0, repr(r))
    if r["status"] == "done" and r["checksum_errors"]:
        c.eq("flip: mismatch", r["md5_match"], MISMATCH)
        c.true("flip: said", "checksum" in r["error"], repr(r["error"]))
        c.eq("flip: bad chunks read as zeros", r["md5"], zeroed_md5(raw, r["bad"]))


def sector_4k(c, raw, top, want):
    """4096-byte sectors, empty-block compression, EnCase 5's format."""
    segs = acquire(raw, os.path.join(top, "p4k"), "-P", "4096", "-c", "empty-block", "-f", "encase5")
    r = check(*segs)
    c.eq("4k: media", (r["status"], r["bytes_per_sector"], r["sectors"], r["media_size"]),
         ("done", 4096, want["size"] // 4096, want["size"]))
    # the empty-block flag is not in the file: libewf 20140813 reads such a
    # set back as level none, as ewfinfo says "no compression"
    c.eq("4k: format, compression", (r["format"], r["compression"]), ("encase5", "none"))
    c.eq("4k: digests", (r["md5"], r["sha1"], r["xxh128"], r["md5_match"]),
         (want["md5"], want["sha1"], want["xxh128"], MATCH))


def read_error(c, segs, top):
    """EIO inside E03's chunks (faultfs): libewf does not fail the read; the
    chunk is listed as a checksum error, read as zeros."""
    if not os.environ.get("FAULTFS"):
        beside = os.path.join(os.path.dirname(itlib.IMGSCAN), "faultfs")
        os.environ["FAULTFS"] = beside if os.access(beside, os.X_OK) else ""
    d = os.path.join(top, "eio")
    os.makedirs(d)
    for s in segs:
        shutil.copy(s, d)
    name = os.path.basename(segs[2])
    try:
        with itlib.faultfs(d, "eio %s %d 4096\n" % (name, os.path.getsize(segs[2]) // 2)) as mnt:
            r = check(*[os.path.join(mnt, os.path.basename(s)) for s in segs])
    except itlib.FuseUnavailable as e:
        print("read error case skipped: %s" % e)
        return
    print("read error case: %s, %d checksum error range(s)" % (r["status"], r["checksum_errors"]))
    c.true("eio: finished", r["status"] in ("done", "read_failed"), repr(r))
    c.true("eio: seen", r["status"] == "read_failed" or (r["checksum_errors"] > 0 and r["md5_match"] == MISMATCH),
           repr(r))
    if r["status"] == "read_failed":
        c.true("eio: where", 0 < r["bytes_read"] < r["media_size"] and r["md5"] == "", repr(r))


def main():
    missing_tools = [t for t in TOOLS if not shutil.which(t)]
    top = itlib.setup()
    if missing_tools:
        print("missing %s: skipped" % ", ".join(missing_tools))
        shutil.rmtree(top, ignore_errors=True)
        sys.exit(77)
    global lsan_file
    lsan_file = os.path.join(top, "lsan.supp")
    with open(lsan_file, "w") as f:
        f.write(LSAN_SUPPRESSIONS)
    c = itlib.Checker()
    try:
        raw = make_raw(top)
        want = {"size": os.path.getsize(raw), "xxh128": itlib.xxhsum(raw)}
        for k in ("md5", "sha1", "sha256"):
            want[k] = digest(k + "sum", raw)
        segs = segment_set(c, raw, top, want)
        renamed(c, segs, top, want)
        missing(c, segs, raw)
        flipped(c, raw, top, want)
        sector_4k(c, raw, top, want)
        read_error(c, segs, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
