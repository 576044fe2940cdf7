#!/usr/bin/env python3
"""Provenance (report/SCHEMA.md, "tool" and "run"): every report names the
version of each library imgscan and its worker link (tool.libraries), the
kernel release (tool.kernel) and whether the run read through io_uring
(run.io_uring); `imgscan --version` prints the same.

Checked against the machine: each library's version is what
`pkg-config --modversion` says (the build ran here, so the runtime and the
build versions agree), the kernel is `uname -r`, run.io_uring of a default
run is what `--version` says of io_uring, true or false, and false with
--io pread; in a JSON document, in the JSON lines run line and in verify's
result.  Both answers are seen on any kernel: the checks run once as the
machine is, and once more with io_uring_setup(2) failing ENOSYS under a
seccomp filter on imgscan alone (a kernel without io_uring, as far as
imgscan can tell; nothing system-wide is changed).  `--version` works from
a copy of imgscan alone, with no imgscan-worker beside it."""
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

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


NR_IO_URING_SETUP = 425  # the same on every architecture Linux numbers together (x86-64, arm64, ...)


def no_io_uring():
    """preexec_fn: a seccomp filter making io_uring_setup(2) fail with
    ENOSYS in this child and what it starts.  Raises OSError when the
    kernel refuses the filter."""
    class Insn(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                    ("k", ctypes.c_uint32)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Insn))]

    errno_enosys, allow = 0x00050000 | 38, 0x7fff0000  # SECCOMP_RET_ERRNO | ENOSYS, SECCOMP_RET_ALLOW
    insns = (Insn * 4)(Insn(0x20, 0, 0, 0),                   # A = seccomp_data.nr
                       Insn(0x15, 0, 1, NR_IO_URING_SETUP),   # A == io_uring_setup ?
                       Insn(0x06, 0, 0, errno_enosys),        #   fail with ENOSYS
                       Insn(0x06, 0, 0, allow))               # else allow
    prog = Prog(4, insns)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(prog), 0, 0):  # NO_NEW_PRIVS, SECCOMP
        raise OSError(ctypes.get_errno(), "seccomp filter refused")


PREEXEC = None  # no_io_uring for the second pass


def run(*args, exe=None):
    return subprocess.run([exe or itlib.IMGSCAN, *[str(a) for a in args]], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=300, preexec_fn=PREEXEC)


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
    c.eq("JSON, default options: run.io_uring is what --version says of io_uring", rep["run"]["io_uring"], uring)
    rep = json.loads(run("scan", "-q", "--io", "pread", arch).stdout)
    c.eq("JSON, --io pread: io_uring not used", (rep["run"]["io_uring"], rep["run"]["options"]["io"]),
         (False, "pread"))
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
    res = json.loads(run("verify", doc).stdout)
    c.eq("verify, default options: run.io_uring is what --version says", res["run"]["io_uring"], uring)


def check_version_alone(c):
    """--version from a copy of imgscan alone in a directory, no
    imgscan-worker beside it: the same text, exit 0."""
    want = run("--version").stdout
    d = tempfile.mkdtemp(prefix="imgscan-alone-")
    try:
        exe = os.path.join(d, "imgscan")
        shutil.copy(itlib.IMGSCAN, exe)
        c.eq("alone: nothing beside the copy", os.listdir(d), ["imgscan"])
        p = run("--version", exe=exe)
        c.eq("alone: --version exits 0", p.returncode, 0)
        c.eq("alone: --version prints the same text", p.stdout.decode(), want.decode())
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_without_uring(c, top, arch, uring):
    """The checks again with io_uring_setup failing (no_io_uring): --version
    says not available, and every default run's run.io_uring is false."""
    global PREEXEC
    PREEXEC = no_io_uring
    try:
        try:
            run("--version")
        except (OSError, subprocess.SubprocessError) as e:
            print("no seccomp filter here (%s): io_uring was only seen %s" %
                  (e, "available" if uring else "not available"))
            return
        print("again, with io_uring_setup failing ENOSYS (seccomp)")
        avail = version_text(c)
        c.eq("seccomp: --version says io_uring is not available", avail, False)
        check_scans(c, top, arch, avail)
    finally:
        PREEXEC = None


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        arch = os.path.join(top, "arch")
        os.makedirs(arch)
        itlib.make_fat(os.path.join(arch, "floppy.img"), 12, "PROV", 1440 << 10)
        c.true("CMakeLists.txt: the libraries found", len(LIBRARIES) >= 11, LIBRARIES)
        check_version_alone(c)
        uring = version_text(c)
        check_scans(c, top, arch, uring)
        check_without_uring(c, top, arch, uring)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
