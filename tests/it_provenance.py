#!/usr/bin/env python3
"""Provenance (report/SCHEMA.md, "tool" and "run"): every report names the
version of each library imgscan and its worker link (tool.libraries), the
kernel release (tool.kernel) and whether the run read through io_uring
(run.io_uring); `imgscan --version` prints the same.

Checked against the machine: each library's version is what
`pkg-config --modversion` says (the build ran here, so the runtime and the
build versions agree), the kernel is `uname -r`, io_uring is used by
default where `--version` says it is available and never with --io pread;
in a JSON document, in the JSON lines run line and in verify's result."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

# Where each library's version comes from: the loaded library's own answer
# where imgscan loads it and it has a version call.
RUNTIME = {"libxxhash", "libcjson", "libcrypto", "sqlite3"}
CMAKELISTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "CMakeLists.txt")


def linked_libraries():
    """Every REQUIRED pkg_check_modules of CMakeLists.txt, by module name,
    and "runtime" or "build": a library linked later and not named in the
    report fails here."""
    with open(CMAKELISTS) as f:
        mods = re.findall(r"^pkg_check_modules\(\w+ REQUIRED IMPORTED_TARGET ([\w.+-]+)\)", f.read(), re.M)
    return {m: "runtime" if m in RUNTIME else "build" for m in mods}


LIBRARIES = linked_libraries()


def run(*args):
    return subprocess.run([itlib.IMGSCAN, *[str(a) for a in args]], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=300)


def modversion(name):
    p = itlib.sh("pkg-config", "--modversion", name, check=False)
    return p.stdout.decode().strip() if p.returncode == 0 else None


def check_tool(c, what, tool):
    libs = tool.get("libraries", {})
    c.eq(what + ": every library, no other", sorted(libs), sorted(LIBRARIES))
    for name, origin in LIBRARIES.items():
        lib = libs.get(name, {})
        c.true("%s: %s has a version" % (what, name), bool(lib.get("version")), lib)
        c.eq("%s: %s from" % (what, name), lib.get("from"), origin)
        want = modversion(name)
        if want is None:
            print("pkg-config knows no %s here: its version is not compared" % name)
            continue
        c.eq("%s: %s = pkg-config --modversion" % (what, name), lib.get("version"), want)
    c.eq(what + ": kernel = uname -r", tool.get("kernel"), itlib.sh("uname", "-r").stdout.decode().strip())


def version_text(c):
    """imgscan --version: the same libraries and kernel; returns whether it
    says io_uring is available."""
    p = run("--version")
    out = p.stdout.decode()
    c.eq("--version: exit 0", p.returncode, 0)
    c.true("--version: first line", out.startswith("imgscan "), out[:80])
    c.true("--version: kernel", ("kernel: %s\n" % os.uname().release) in out, out)
    for name, origin in LIBRARIES.items():
        m = re.search(r"^  %s +(\S+) +(\S+) " % re.escape(name), out, re.M)
        c.true("--version: a line for " + name, m, out)
        if m:
            c.eq("--version: %s version and origin" % name, (m.group(1), m.group(2)),
                 (modversion(name) or m.group(1), origin))
    avail = re.search(r"^io_uring: (available|not available)", out, re.M)
    c.true("--version: says whether io_uring is available", avail, out)
    return bool(avail) and avail.group(1) == "available"


def check_scans(c, top, arch, uring):
    rep = json.loads(run("scan", "-q", arch).stdout)
    check_tool(c, "JSON", rep["tool"])
    c.eq("JSON: run.io_uring agrees with run.options.io", rep["run"]["io_uring"],
         rep["run"]["options"]["io"] == "uring")
    if uring:
        c.eq("JSON, default options: io_uring used", rep["run"]["io_uring"], True)
    else:
        print("io_uring is not available on this kernel: the default run's true is not checked")
    lines = [json.loads(l) for l in run("scan", "-q", "--format", "jsonl", "--io", "pread", arch).stdout.splitlines()]
    c.eq("JSONL: the first line is the run line", lines[0]["type"], "run")
    check_tool(c, "JSONL", lines[0]["tool"])
    c.eq("JSONL, --io pread: io_uring not used", (lines[0]["run"]["io_uring"], lines[0]["run"]["options"]["io"]),
         (False, "pread"))
    doc = os.path.join(top, "r.json")
    run("scan", "-q", "-o", doc, arch)
    res = json.loads(run("verify", "--io", "pread", doc).stdout)
    check_tool(c, "verify", res["tool"])
    c.eq("verify, --io pread: io_uring not used", res["run"]["io_uring"], False)


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        arch = os.path.join(top, "arch")
        os.makedirs(arch)
        itlib.make_fat(os.path.join(arch, "floppy.img"), 12, "PROV", 1440 << 10)
        c.true("CMakeLists.txt: the libraries found", len(LIBRARIES) >= 11, LIBRARIES)
        uring = version_text(c)
        check_scans(c, top, arch, uring)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
