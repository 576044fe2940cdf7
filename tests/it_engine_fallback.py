#!/usr/bin/env python3
"""When the kernel refuses io_uring (here: kernel.io_uring_disabled=2), --io
auto falls back to pread, says so once on stderr and in the report, and gives
the same digests; --io uring fails with a clear error.  Needs root to flip
the sysctl; exits 77 (skipped) where it cannot."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

SYSCTL = "/proc/sys/kernel/io_uring_disabled"


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        with open(SYSCTL) as f:
            old = f.read().strip()
        with open(SYSCTL, "w") as f:
            f.write("2")
    except OSError as e:
        print("cannot set %s (%s): skipped" % (SYSCTL, e))
        shutil.rmtree(top, ignore_errors=True)
        sys.exit(77)
    try:
        itlib.make_fat(os.path.join(top, "f.img"), 16, "F", 16 << 20)
        want = itlib.xxhsum(os.path.join(top, "f.img"))
        code, rep, err = itlib.scan(top)
        c.eq("auto falls back", rep["run"]["options"]["io"], "pread")
        c.true("fallback noted in report", "io_uring refused" in rep["run"]["options"].get("io_note", ""))
        c.eq("fallback said once on stderr", err.count("io_uring refused"), 1)
        c.eq("same digest", rep["images"][0]["hashes"]["xxh128"], want)
        c.eq("clean exit", code, 0)
        code, rep, err = itlib.scan("--io", "uring", top)
        c.eq("--io uring refused: setup error", code, 2)
        c.true("--io uring says why", "io_uring is not available" in err, err)
    finally:
        with open(SYSCTL, "w") as f:
            f.write(old)
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
