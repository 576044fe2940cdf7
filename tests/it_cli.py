#!/usr/bin/env python3
"""The command line: help and version, usage errors (64), exit statuses 0/1/2,
the atomic report, JSON lines, odd file names (newline, invalid UTF-8),
symlinks, FIFOs, unreadable and vanished files."""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name, codes  # noqa: E402


def run(*args, **kw):
    return subprocess.run([itlib.IMGSCAN, *[str(a) for a in args]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=kw.get("timeout", 120))


def check_usage(c):
    p = run("--help")
    c.eq("--help exit", p.returncode, 0)
    c.true("--help names scan", b"imgscan scan" in p.stdout)
    p = run("scan", "--help")
    c.eq("scan --help exit", p.returncode, 0)
    for opt in (b"--io", b"--sector-hashes", b"--format", b"--tsk-timeout", b"Exit status", b"64"):
        c.true("scan --help mentions %s" % opt.decode(), opt in p.stdout)
    p = run("--version")
    c.eq("--version", (p.returncode, p.stdout.startswith(b"imgscan ")), (0, True))
    for bad in (["scan"], ["frobnicate"], ["scan", "--io", "magic", "."], ["scan", "--sector-size", "1000", "."],
                ["scan", "--read-size", "4097", "."], ["scan", "--no-such-option", "."], []):
        p = run(*bad)
        c.eq("usage error %s" % bad, p.returncode, 64)
        c.true("usage error explained %s" % bad, len(p.stderr) > 0)


def check_exit_codes(c, top):
    clean = os.path.join(top, "clean")
    os.makedirs(clean)
    itlib.make_fat(os.path.join(clean, "floppy.img"), 12, "OK", 1440 << 10)
    status, rep, err = itlib.scan(clean)
    c.eq("clean archive exits 0", status, 0)
    c.eq("clean summary", rep["summary"]["exit_status"], 0)
    iso = os.path.join(clean, "..", "x.iso")
    itlib.make_iso(iso, "X", itlib.content_dir(top, "src"))
    shutil.copy(iso, os.path.join(clean, "cd.img"))
    status, rep, err = itlib.scan(clean)
    c.eq("misnamed archive exits 1", status, 1)
    status, rep, err = itlib.scan(clean, os.path.join(top, "does-not-exist"))
    c.eq("missing path exits 2", status, 2)
    c.eq("missing path listed", [s["reason"] for s in rep["skipped"]], ["error"])
    c.true("missing path says why", "No such file" in rep["skipped"][0]["error"])
    c.eq("the rest still scanned", len(rep["images"]), 2)
    p = run("scan", "-o", os.path.join(top, "no-such-dir", "r.json"), clean)
    c.eq("unwritable report exits 2", p.returncode, 2)


def check_atomic(c, top):
    big = os.path.join(top, "big")
    os.makedirs(big)
    for i in range(4):
        itlib.sized(os.path.join(big, "sparse%d.img" % i), 4 << 30)
    out = os.path.join(top, "report.json")
    with open(out, "w") as f:
        f.write('{"previous": true}\n')
    # A scan killed half way leaves the previous report whole, and no temp file.
    p = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "-o", out, big], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(0.5)
    p.send_signal(signal.SIGKILL)
    p.wait()
    with open(out) as f:
        c.eq("killed run: previous report intact", json.load(f), {"previous": True})
    leftovers = [n for n in os.listdir(top) if n.startswith("report.json.tmp")]
    c.eq("killed run leaves at most its temp file, never a half report", len(leftovers) <= 1, True)
    for n in leftovers:
        os.unlink(os.path.join(top, n))
    shutil.rmtree(big)
    status, rep, err = itlib.scan(os.path.join(top, "clean"))
    p = run("scan", "-q", "-o", out, os.path.join(top, "clean"))
    with open(out) as f:
        c.true("completed run replaced the report", "images" in json.load(f))
    c.eq("no temp files after success", [n for n in os.listdir(top) if ".tmp." in n], [])


def check_names_and_specials(c, top):
    d = os.path.join(top, "odd").encode()
    os.makedirs(d)
    iso = os.path.join(top, "x.iso").encode()
    odd = [b"new\nline.img", b"bad-\xff\xfe-utf8.img", b"tab\tand \"quotes\".img", "caf\u00e9.img".encode()]
    for n in odd:
        shutil.copy(iso, os.path.join(d, n))
    os.symlink(b"new\nline.img", os.path.join(d, b"link.img"))
    os.mkfifo(os.path.join(d, b"pipe.img"))
    status, rep, err = itlib.scan(d.decode(errors="surrogateescape"), timeout=60)
    c.eq("fifo never opened, scan finished", status, 1)
    got = {}
    for img in rep["images"]:
        raw = base64.b64decode(img["path_b64"]) if "path_b64" in img else img["path"].encode()
        got[os.path.basename(raw)] = img
    for n in odd:
        c.true("odd name survives losslessly: %r" % n, n in got, str(list(got)))
    bad = got.get(b"bad-\xff\xfe-utf8.img")
    c.true("invalid UTF-8 flagged lossy", bad and bad.get("path_lossy") is True)
    c.true("invalid UTF-8 readable form", bad and "\ufffd" in bad["path"])
    nl = got.get(b"new\nline.img")
    c.true("newline kept in JSON string", nl and nl["path"].endswith("new\nline.img"))
    c.true("suggested name keeps the odd bytes", nl and nl["suggested_name"] == "new\nline.iso")
    skipped = {os.path.basename(s["path"]): s for s in rep["skipped"]}
    c.eq("symlink listed, not followed", (skipped["link.img"]["reason"], skipped["link.img"]["link_target"]),
         ("symlink-not-followed", "new\nline.img"))
    c.eq("fifo listed", (skipped["pipe.img"]["reason"], skipped["pipe.img"]["file_type"]), ("special-file", "fifo"))
    c.eq("summary counts", (rep["summary"]["symlinks"], rep["summary"]["special_files"]), (1, 1))
    status, rep2, err = itlib.scan("--follow-symlinks", d.decode(errors="surrogateescape"))
    c.eq("--follow-symlinks scans the target too", len(rep2["images"]), len(odd) + 1)


def check_jsonl(c, top):
    p = run("scan", "-q", "--format", "jsonl", os.path.join(top, "clean"))
    lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
    c.eq("jsonl line types", [l["type"] for l in lines], ["run", "image", "image", "summary"])
    c.true("jsonl run header has start", "start" in lines[0]["run"])
    c.true("jsonl summary has end", "end" in lines[-1])


def check_unreadable(c, top):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("not root: unreadable-file check skipped")
        return
    d = os.path.join(top, "perm")
    os.makedirs(d)
    shutil.copy(os.path.join(top, "x.iso"), os.path.join(d, "ok.iso"))
    shutil.copy(os.path.join(top, "x.iso"), os.path.join(d, "secret.iso"))
    os.chmod(os.path.join(d, "secret.iso"), 0)
    for p in (top, d):
        os.chmod(p, 0o755)
    # The build tree may sit under a directory nobody cannot enter: run a copy.
    exe = os.path.join(top, "imgscan-copy")
    itlib.copy_imgscan(exe)
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", exe, "scan", "-q",
                        d], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    c.eq("unreadable file exits 2", p.returncode, 2)
    rep = json.loads(p.stdout)
    sec = by_name(rep, "secret.iso")
    c.eq("unreadable reported", (sec["status"], sec["errors"][0]["stage"], sec["errors"][0]["errno"]),
         ("error", "open", "EACCES"))
    ok = by_name(rep, "ok.iso")
    c.eq("readable one fine", (ok["status"], ok["kind"]), ("ok", "optical"))
    c.eq("not the owner: O_NOATIME not allowed, said so", ok["read"]["noatime"], False)


def check_evidence_untouched(c, top):
    d = os.path.join(top, "clean")
    before = {n: os.stat(os.path.join(d, n)) for n in os.listdir(d)}
    os.utime(os.path.join(d, "cd.img"), ns=(1_000_000_000, before["cd.img"].st_mtime_ns))
    listing = sorted(os.listdir(d))
    itlib.scan(d)
    c.eq("nothing written beside the images", sorted(os.listdir(d)), listing)
    c.eq("access time preserved (O_NOATIME)", os.stat(os.path.join(d, "cd.img")).st_atime_ns, 1_000_000_000)


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        check_usage(c)
        check_exit_codes(c, top)
        check_atomic(c, top)
        check_names_and_specials(c, top)
        check_jsonl(c, top)
        check_unreadable(c, top)
        check_evidence_untouched(c, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
