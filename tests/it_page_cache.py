#!/usr/bin/env python3
"""A scan leaves the page cache as it found it: an image that was not cached
is not cached afterwards (read with O_DIRECT by default, or dropped after
hashing with --read-mode buffered), and one that was cached stays cached.
Residency is measured with fincore (util-linux)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

SIZE = 48 << 20
SLACK = 2 << 20  # identification reads a few blocks through the cache


def resident(path):
    p = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "-o", "RES", path],
                       stdout=subprocess.PIPE, check=True)
    return int(p.stdout.split()[0])


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def cache(path):
    with open(path, "rb") as f:
        while f.read(8 << 20):
            pass


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        img = os.path.join(top, "disk.img")
        itlib.make_fat(img, 32, "CACHE", SIZE)
        with open(img, "r+b") as f:  # incompressible content after the FAT
            f.seek(8 << 20)
            f.write(os.urandom(SIZE - (16 << 20)))
        evict(img)
        if resident(img) > SLACK:
            print("this file system keeps evicted pages: skipped")
            sys.exit(77)
        want = itlib.xxhsum(img)
        evict(img)
        for mode in ("auto", "buffered", "direct"):
            evict(img)
            status, rep, err = itlib.scan("--read-mode", mode, img)
            c.eq(mode + ": digest", rep["images"][0]["hashes"]["xxh128"], want)
            c.true(mode + ": an uncached image is not left in the cache", resident(img) < SLACK,
                   "%d bytes resident" % resident(img))
            cache(img)
            c.eq(mode + ": fully cached before", resident(img), SIZE)
            status, rep, err = itlib.scan("--read-mode", mode, img)
            c.eq(mode + ": digest (cached)", rep["images"][0]["hashes"]["xxh128"], want)
            c.eq(mode + ": a cached image stays cached", resident(img), SIZE)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
