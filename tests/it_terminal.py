#!/usr/bin/env python3
"""Names from disk are data: the human summary on stderr shows control
characters and escape sequences escaped, while the JSON keeps them
losslessly (issue 15, "Nothing reaches the terminal raw").

An ISO made by genisoimage, named with ESC [ 2 J (clear screen), a carriage
return and a C1 CSI (U+009B) and `.img`, is misnamed: its line in scan's
summary, and its `missing` line in verify's, must hold no ESC, CR or CSI
byte, only their escaped forms; the report's path is the exact name."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

NAME = b"disc\x1b[2J\rend\xc2\x9b1m.img"
SHOWN = b"disc\\x1b[2J\\x0dend\\xc2\\x9b1m.img"


def raw(stderr, what, c):
    c.true(what + ": no ESC, CR or CSI byte on stderr",
           b"\x1b" not in stderr and b"\r" not in stderr and b"\xc2\x9b" not in stderr, repr(stderr[-300:]))
    c.true(what + ": the name shown escaped", SHOWN in stderr, repr(stderr[-300:]))


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
        with open(report) as f:
            img = json.load(f)["images"][0]
        c.eq("the report keeps the exact name", os.path.basename(img["path"]).encode(), NAME)
        c.eq("ISO_MISNAMED", itlib.codes(img), ["ISO_MISNAMED"])
        os.unlink(target)
        p = subprocess.run([itlib.IMGSCAN, "verify", "-o", os.path.join(top, "v.json"), report],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        c.eq("verify: exit 1 (missing)", p.returncode, 1)
        raw(p.stderr, "verify summary", c)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
