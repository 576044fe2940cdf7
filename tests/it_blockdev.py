#!/usr/bin/env python3
"""A block device named on the command line is read like an image file (its
size from the device, its digest equal to the image's); one met inside a
walked directory is listed and never opened.  Uses a read-only loop device;
exits 77 (skipped) where loop devices are not available."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import codes  # noqa: E402


def main():
    top, d = itlib.workspace("a")
    img = os.path.join(top, "disk.img")
    itlib.make_mbr_disk(img, top, size=48 << 20)
    p = subprocess.run(["losetup", "-r", "-f", "--show", img], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        print("no loop device here (%s): skipped" % p.stderr.decode().strip())
        shutil.rmtree(top, ignore_errors=True)
        sys.exit(77)
    dev = p.stdout.decode().strip()
    c = itlib.Checker()
    try:
        status, rep, err = itlib.scan(dev)
        c.eq("one image", len(rep["images"]), 1)
        b = rep["images"][0]
        c.eq("block device", (b["file_type"], b["size"]), ("block-device", os.path.getsize(img)))
        c.eq("same digest as the image file", b["hashes"]["xxh128"], itlib.xxhsum(img))
        c.eq("identified", (b["kind"], b["identification"]["partition_table"]["scheme"]), ("disk", "mbr"))
        c.eq("no extension, no naming finding", codes(b), [])
        os.symlink(dev, os.path.join(d, "link-to-dev"))
        os.mknod(os.path.join(d, "dev-node"), 0o600 | 0o060000, os.stat(dev).st_rdev)
        status, rep, err = itlib.scan(d)
        c.eq("devices in a walk are not read", rep["images"], [])
        reasons = sorted(s["reason"] for s in rep["skipped"])
        c.eq("listed instead", reasons, ["special-file", "symlink-not-followed"])
    finally:
        subprocess.run(["losetup", "-d", dev])
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
