#!/usr/bin/env python3
"""The walk tells the end of a directory from a read error.  On a faultfs
mount (tests/faultfs.c) a directory's listing fails with EIO after 2 entries:
the report lists a walk error "readdir" with EIO for that directory, the 2
entries it did list are still scanned, the other directories are scanned
whole, and the run exits 2.  A listing that fails before any entry is
reported the same way.  Exits 77 (skipped) where FUSE is not available."""
import errno
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

TREE = ["a-dir/x.img", "a-dir/y.img", "bad/a.img", "bad/b.img", "bad/c.img", "bad/d.img", "z-dir/x.img",
        "z-dir/sub/y.img"]
EIO_MESSAGE = "readdir: " + os.strerror(errno.EIO)


def make_archive(top):
    """Clean FAT floppies only, so the walk error is the run's only error."""
    floppy = os.path.join(top, "floppy.img")
    itlib.make_fat(floppy, 12, "OK", 1440 << 10)
    archive = os.path.join(top, "archive")
    for rel in TREE:
        os.makedirs(os.path.dirname(os.path.join(archive, rel)), exist_ok=True)
        shutil.copy(floppy, os.path.join(archive, rel))
    return archive, itlib.xxhsum(floppy)


def scanned(rep, m):
    return sorted(os.path.relpath(i["path"], m) for i in rep["images"])


def check_clean_mount(c, archive, digest):
    """Without faults the mount is transparent: everything scanned, exit 0."""
    with itlib.faultfs(archive, "") as m:
        status, rep, err = itlib.scan(m)
    c.eq("no faults: exit 0", status, 0)
    c.eq("no faults: every image scanned", scanned(rep, m), sorted(TREE))
    c.eq("no faults: no walk errors", rep["summary"]["walk_errors"], 0)
    c.true("no faults: digests as on disk", all(i["hashes"]["xxh128"] == digest for i in rep["images"]))


def check_partial_listing(c, archive, digest):
    with itlib.faultfs(archive, "readdir-eio bad 2\n") as m:
        status, rep, err = itlib.scan(m)
    c.eq("exit status 2", status, 2)
    c.eq("summary exit status", rep["summary"]["exit_status"], 2)
    c.eq("one walk error", rep["summary"]["walk_errors"], 1)
    c.eq("the walk error is the directory's, readdir EIO",
         [(os.path.relpath(s["path"], m), s["reason"], s["error"]) for s in rep["skipped"]],
         [("bad", "error", EIO_MESSAGE)])
    c.eq("the walk error carries the errno's name", [s.get("errno") for s in rep["skipped"]], ["EIO"])
    c.eq("the entries listed before the error are scanned, and the rest of the tree whole", scanned(rep, m),
         sorted(t for t in TREE if t not in ("bad/c.img", "bad/d.img")))
    c.true("read in full", all(i["read"]["complete"] and i["hashes"]["xxh128"] == digest for i in rep["images"]))
    c.eq("entries: 6 images and the error", rep["summary"]["entries"], 7)
    c.true("the error is said on stderr's summary", "1 error -> exit 2" in err, err)


def check_nothing_listed(c, archive):
    with itlib.faultfs(archive, "readdir-eio bad 0\nreaddir-eio z-dir/sub\n") as m:
        status, rep, err = itlib.scan("--format", "json", m)
    c.eq("nothing listed: exit 2", status, 2)
    c.eq("nothing listed: both directories reported",
         sorted((os.path.relpath(s["path"], m), s["error"]) for s in rep["skipped"]),
         [("bad", EIO_MESSAGE), ("z-dir/sub", EIO_MESSAGE)])
    c.eq("nothing listed: the others scanned", scanned(rep, m), ["a-dir/x.img", "a-dir/y.img", "z-dir/x.img"])


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        archive, digest = make_archive(top)
        check_clean_mount(c, archive, digest)
        check_partial_listing(c, archive, digest)
        check_nothing_listed(c, archive)
    except itlib.FuseUnavailable as e:
        print("FUSE is not available here (%s): skipped" % e)
        sys.exit(77)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
