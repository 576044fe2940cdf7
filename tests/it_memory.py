#!/usr/bin/env python3
"""Peak RSS must not grow with image size or image count: the read buffers
are a fixed pool.  Measured with /usr/bin/time -v (GNU time)."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

SLACK_KIB = 8 * 1024


def peak_rss_kib(*paths):
    # The report goes to a file of the test's own: never to a system path.
    out = os.path.join(os.path.dirname(paths[0]), "report.json")
    p = subprocess.run(["/usr/bin/time", "-v", itlib.IMGSCAN, "scan", "-q", "-o", out, *paths],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    if not m:
        raise RuntimeError(p.stderr.decode())
    return int(m.group(1)), p.returncode


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        small, large, many, one = (os.path.join(top, n) for n in ("small", "large", "many", "one"))
        for d in (small, large, many, one):
            os.makedirs(d)
        itlib.sized(os.path.join(small, "disk.img"), 128 << 20)
        itlib.sized(os.path.join(large, "disk.img"), 2 << 30)
        itlib.make_fat(os.path.join(one, "f0.img"), 12, "F", 64 << 10)
        for i in range(400):
            shutil.copy(os.path.join(one, "f0.img"), os.path.join(many, "f%03d.img" % i))
        rss_small, _ = peak_rss_kib(small)
        rss_large, _ = peak_rss_kib(large)
        rss_one, _ = peak_rss_kib(one)
        rss_many, code = peak_rss_kib(many)
        print("peak RSS KiB: 128 MiB image %d, 2 GiB image %d, 1 image %d, 400 images %d"
              % (rss_small, rss_large, rss_one, rss_many))
        c.eq("400 images scanned cleanly", code, 0)
        c.true("RSS flat with image size", rss_large - rss_small < SLACK_KIB, "%d vs %d" % (rss_large, rss_small))
        c.true("RSS flat with image count", rss_many - rss_one < SLACK_KIB, "%d vs %d" % (rss_many, rss_one))
        c.true("RSS under 64 MiB + 32 MiB of buffers", rss_large < (64 + 32) * 1024, str(rss_large))
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
