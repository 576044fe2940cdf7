#!/usr/bin/env python3
"""imgscan verify: a report read back and every image it lists read again.

Real images (genisoimage, mkfs.vfat, mkfs.ext4) are scanned with --hash
md5,sha256, then verified: all unchanged (exit 0), the digests verify prints
equal xxhsum -H2, md5sum and sha256sum; then one image is changed in place
(dd conv=notrunc), one grown, one deleted, one moved into a subdirectory and
one added: changed (with the digests named), missing, moved, new (exit 1).
Also: a JSON lines report as input; a name that is not UTF-8 (path_b64); a
listed file whose extension imgscan does not know is read as an image; an
unreadable image and an unlistable directory (as nobody: error, exit 2);
malformed reports (exit 2, a clear message, no crash, nothing written); a
report of a --state run whose images are "reused"; a stop by SIGINT
(partial, 130); usage errors (64)."""
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


def run(*args, timeout=300, **kw):
    return subprocess.run([itlib.IMGSCAN, *[a if isinstance(a, bytes) else str(a) for a in args]],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)


def verify(top, *args, name="verify.json"):
    """imgscan verify -o FILE ARGS: (exit status, result or None, stderr)."""
    out = os.path.join(top, name)
    if os.path.exists(out):
        os.unlink(out)
    p = run("verify", "-o", out, *args)
    res = None
    if os.path.exists(out):
        with open(out, "rb") as f:
            res = json.load(f)
    return p.returncode, res, p.stderr.decode(errors="replace")


def scan_to(report, *args):
    p = run("scan", "-q", "-o", report, *args)
    if p.returncode not in (0, 1):
        raise RuntimeError("scan failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")))
    with open(report, "rb") as f:
        return f.read()


def raw_path(obj, key="path"):
    return base64.b64decode(obj[key + "_b64"]) if obj.get(key + "_lossy") else obj[key].encode()


def items_by_name(res):
    return {os.path.basename(raw_path(i)).decode(errors="surrogateescape"): i for i in res["items"]}


def tool_digest(tool, path):
    return itlib.sh(tool, path).stdout.decode().split()[0]


def check_digests(c, what, item, path):
    """actual (and expected, when the report has it) equal the reference tools."""
    a = item["actual"]
    c.eq("%s: actual xxh128 = xxhsum -H2" % what, a and a["xxh128"], itlib.xxhsum(path))
    c.eq("%s: actual md5 = md5sum" % what, a and a.get("md5"), tool_digest("md5sum", path))
    c.eq("%s: actual sha256 = sha256sum" % what, a and a.get("sha256"), tool_digest("sha256sum", path))
    c.eq("%s: actual size" % what, a and a["size"], os.path.getsize(path))


def check_usage(c, top):
    p = run("--help")
    c.true("--help names verify", b"imgscan verify" in p.stdout)
    p = run("verify", "--help")
    c.eq("verify --help exit", p.returncode, 0)
    for opt in (b"REPORT", b"--format", b"--follow-symlinks", b"moved", b"unverifiable", b"Exit status", b"64"):
        c.true("verify --help mentions %s" % opt.decode(), opt in p.stdout)
    rep = os.path.join(top, "usage.json")
    with open(rep, "w") as f:
        f.write('{"images":[],"summary":{"images":0}}')
    for bad in (["verify"], ["verify", "--no-such-option", rep], ["verify", "--sector-size", "512", rep],
                ["verify", "--format", "xml", rep], ["verify", "-o", rep, rep], ["verify", rep, ""]):
        p = run(*bad)
        c.eq("usage error %s" % bad[1:], p.returncode, 64)
        c.true("usage error explained %s" % bad[1:], b"imgscan" in p.stderr)
    with open(rep) as f:
        c.eq("-o REPORT refused: the report is untouched", f.read(), '{"images":[],"summary":{"images":0}}')


def make_archive(top):
    arch = os.path.join(top, "arch")
    os.makedirs(arch)
    src = itlib.content_dir(top, "src")
    itlib.make_iso(os.path.join(arch, "cd.iso"), "VERIFY", src)
    itlib.make_fat(os.path.join(arch, "fat.img"), 16, "FAT", 16 << 20)
    itlib.make_ext(os.path.join(arch, "ext.img"), "ext4", "EXT", 8 << 20)
    itlib.make_fat(os.path.join(arch, "gone.img"), 12, "GONE", 1440 << 10)
    itlib.make_ext(os.path.join(arch, "mover.img"), "ext4", "MOVER", 4 << 20)
    itlib.make_fat(os.path.join(arch, "grow.img"), 12, "GROW", 1440 << 10)
    return arch


def check_unchanged(c, top, arch, report):
    status, res, err = verify(top, report, arch)
    c.eq("fresh archive: exit 0", status, 0)
    c.eq("fresh archive: every item unchanged", sorted(i["status"] for i in res["items"]), ["unchanged"] * 6)
    s = res["summary"]
    c.eq("summary counts", (s["listed"], s["unchanged"], s["changed"], s["missing"], s["moved"], s["new"],
                            s["error"], s["unverifiable"], s["exit_status"], s["partial"], s["stopped_by"]),
         (6, 6, 0, 0, 0, 0, 0, 0, 0, False, None))
    c.true("bytes hashed counted", s["bytes_hashed"] > 0)
    c.true("stderr summary line", "6 listed: 6 unchanged" in err and "-> exit 0" in err, err)
    c.eq("verify.report", res["verify"]["report"], report)
    c.eq("verify.paths", res["verify"]["paths"], [arch])
    with open(report) as f:
        scanned = json.load(f)
    c.eq("verify.report_run is the report's", res["verify"]["report_run"],
         {k: scanned["run"][k] for k in ("id", "start", "host")})
    c.eq("run options: the report's sector size, its digests, no TSK",
         (res["run"]["options"]["sector_size"], res["run"]["options"]["hashes"], res["run"]["options"]["tsk"]),
         (4096, ["xxh128", "md5", "sha256"], False))
    c.true("run has id, start, end, host, argv", all(k in res["run"] for k in ("id", "start", "end", "host", "argv")))
    items = items_by_name(res)
    for name in ("cd.iso", "fat.img", "ext.img"):
        check_digests(c, name, items[name], os.path.join(arch, name))
        exp = items[name]["expected"]
        img = itlib.by_name(scanned, name)
        c.eq("%s: expected = the report's hashes" % name, {k: exp[k] for k in ("xxh128", "md5", "sha256")},
             img["hashes"])
        c.eq("%s: expected sectors = the report's" % name, exp["sectors"],
             {"size": img["sectors"]["size"], "list_xxh128": img["sectors"]["list_xxh128"]})
        c.eq("%s: actual sectors = expected" % name, items[name]["actual"]["sectors"], exp["sectors"])
        c.eq("%s: listed, no differs, no errors" % name,
             (items[name]["listed"], "differs" in items[name], "errors" in items[name]), (True, False, False))
    # Without PATHs only the listed paths are read; overlapping PATHs give no double entries.
    status, res, err = verify(top, report)
    c.eq("no PATHs: exit 0", (status, len(res["items"])), (0, 6))
    os.makedirs(os.path.join(arch, "sub"))
    status, res, err = verify(top, report, arch, os.path.join(arch, "sub"), arch + "/")
    paths = [i["path"] for i in res["items"]]
    c.eq("overlapping PATHs: each image once", (status, sorted(paths), len(set(paths))), (0, sorted(paths), 6))


def change_archive(top, arch):
    fat = os.path.join(arch, "fat.img")
    noise = os.path.join(top, "noise.bin")
    with open(noise, "wb") as f:
        f.write(os.urandom(4096))
    itlib.sh("dd", "if=" + noise, "of=" + fat, "bs=4096", "seek=100", "count=1", "conv=notrunc", "status=none")
    with open(os.path.join(arch, "grow.img"), "ab") as f:
        f.write(b"\0" * 4096)
    os.unlink(os.path.join(arch, "gone.img"))
    os.rename(os.path.join(arch, "mover.img"), os.path.join(arch, "sub", "moved.img"))
    itlib.make_fat(os.path.join(arch, "new.img"), 12, "NEW", 1440 << 10)


def check_changed(c, top, arch, report):
    status, res, err = verify(top, report, arch)
    c.eq("changed archive: exit 1", status, 1)
    items = items_by_name(res)
    c.eq("statuses", {n: i["status"] for n, i in items.items()},
         {"cd.iso": "unchanged", "ext.img": "unchanged", "fat.img": "changed", "grow.img": "changed",
          "gone.img": "missing", "mover.img": "moved", "new.img": "new"})
    c.eq("fat.img: differs names every digest", items["fat.img"].get("differs"),
         ["xxh128", "md5", "sha256", "sectors"])
    check_digests(c, "fat.img changed", items["fat.img"], os.path.join(arch, "fat.img"))
    c.eq("grow.img: differs names the size too", items["grow.img"].get("differs"),
         ["xxh128", "md5", "sha256", "sectors", "size"])
    c.eq("grow.img: size is the report's, actual.size the new one",
         (items["grow.img"]["size"], items["grow.img"]["actual"]["size"]), (1440 << 10, (1440 << 10) + 4096))
    gone = items["gone.img"]
    c.eq("missing: listed, no actual, expected kept", (gone["listed"], gone["actual"], len(gone["expected"]["xxh128"])),
         (True, None, 32))
    mv = items["mover.img"]
    c.eq("moved: path listed, moved_to found", (mv["path"], mv["moved_to"]),
         (os.path.join(arch, "mover.img"), os.path.join(arch, "sub", "moved.img")))
    check_digests(c, "moved", mv, os.path.join(arch, "sub", "moved.img"))
    c.eq("moved: expected xxh128 = actual", mv["expected"]["xxh128"], mv["actual"]["xxh128"])
    c.true("the moved-to image is not also new", not any(i["path"].endswith("moved.img") for i in res["items"]))
    new = items["new.img"]
    c.eq("new: not listed, no expected", (new["listed"], new["expected"]), (False, None))
    check_digests(c, "new", new, os.path.join(arch, "new.img"))
    c.eq("new items come after the listed ones", res["items"][-1]["path"], os.path.join(arch, "new.img"))
    s = res["summary"]
    c.eq("summary counts", (s["listed"], s["unchanged"], s["changed"], s["missing"], s["moved"], s["new"], s["error"],
                            s["exit_status"]), (6, 2, 2, 1, 1, 1, 0, 1))
    for line in ("changed       %s/fat.img  (differs: xxh128 md5 sha256 sectors)" % arch,
                 "missing       %s/gone.img" % arch,
                 "moved         %s/mover.img -> %s/sub/moved.img" % (arch, arch),
                 "new           %s/new.img" % arch):
        c.true("stderr says: %s" % line, line in err, err)
    c.true("stderr does not list unchanged images", "cd.iso" not in err, err)
    # Without PATHs: nothing is new, and what moved is missing.
    status, res, err = verify(top, report)
    c.eq("no PATHs: statuses", (status, sorted(i["status"] for i in res["items"])),
         (1, ["changed", "changed", "missing", "missing", "unchanged", "unchanged"]))
    # JSON lines out.
    p = run("verify", "-q", "--format", "jsonl", report, arch)
    lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
    c.eq("jsonl out: exit 1, line types", (p.returncode, [l["type"] for l in lines]),
         (1, ["run"] + ["item"] * 7 + ["summary"]))
    c.true("jsonl run line: tool, verify, run", all(k in lines[0] for k in ("tool", "verify", "run")))
    c.true("jsonl summary has end", "end" in lines[-1] and lines[-1]["exit_status"] == 1)
    c.eq("-q: nothing on stderr", p.stderr, b"")


def check_jsonl_report(c, top):
    d = os.path.join(top, "jl")
    os.makedirs(d)
    itlib.make_fat(os.path.join(d, "a.img"), 12, "A", 1440 << 10)
    itlib.make_iso(os.path.join(d, "b.iso"), "B", os.path.join(top, "src"))
    rep = os.path.join(top, "r.jsonl")
    scan_to(rep, "--format", "jsonl", "--hash", "sha1", d)
    status, res, err = verify(top, rep, d)
    c.eq("JSON lines report: exit 0, both unchanged", (status, [i["status"] for i in res["items"]]),
         (0, ["unchanged", "unchanged"]))
    c.eq("report_format", res["verify"]["report_format"], "jsonl")
    c.eq("sha1 from the report recomputed", res["items"][0]["actual"]["sha1"],
         tool_digest("sha1sum", raw_path(res["items"][0]).decode()))
    # From stdin too.
    with open(rep, "rb") as f:
        p = run("verify", "-q", "-", d, stdin=f)
    c.eq("report from stdin: exit 0", p.returncode, 0)
    # Cut short before its summary line: refused.
    with open(rep, "rb") as f:
        lines = f.read().splitlines(True)
    cut = os.path.join(top, "cut.jsonl")
    with open(cut, "wb") as f:
        f.writelines(lines[:-1])
    status, res, err = verify(top, cut)
    c.eq("JSON lines without its summary: exit 2", (status, res), (2, None))
    c.true("... says it was cut short", "summary line" in err, err)


def check_odd_names(c, top):
    d = os.path.join(top, "odd").encode()
    os.makedirs(d)
    itlib.make_fat(os.path.join(d, b"plain.img").decode(), 12, "P", 1440 << 10)
    names = [b"bad-\xff\xfe-utf8.img", b"new\nline.img"]
    for n in names:
        shutil.copy(os.path.join(d, b"plain.img"), os.path.join(d, n))
    rep = os.path.join(top, "odd.json")
    scan_to(rep, d.decode(errors="surrogateescape"))
    with open(rep) as f:
        c.true("the report holds a path_b64", any(i.get("path_lossy") for i in json.load(f)["images"]))
    status, res, err = verify(top, rep, d.decode(errors="surrogateescape"))
    c.eq("odd names: exit 0, 3 unchanged", (status, [i["status"] for i in res["items"]]), (0, ["unchanged"] * 3))
    got = {os.path.basename(raw_path(i)) for i in res["items"]}
    c.eq("odd names kept losslessly (path_b64)", got, {b"plain.img", *names})
    bad = [i for i in res["items"] if i.get("path_lossy")]
    c.true("invalid UTF-8: path_lossy and path_b64 in the item", len(bad) == 1 and "\ufffd" in bad[0]["path"])
    os.unlink(os.path.join(d, names[0]))
    with open(os.path.join(d, names[1]), "ab") as f:
        f.write(b"more")
    status, res, err = verify(top, rep, d.decode(errors="surrogateescape"))
    missing = [raw_path(i) for i in res["items"] if i["status"] == "missing"]
    c.eq("an odd name that is gone is missing", (status, missing), (1, [os.path.join(d, names[0])]))
    c.true("stderr: one line per item, the newline escaped", "changed       %s/new\\nline.img" % d.decode() in err,
           err)
    c.eq("stderr: three lines", len(err.splitlines()), 3)


def check_unknown_extension(c, top):
    d = os.path.join(top, "ext")
    os.makedirs(d)
    with open(os.path.join(d, "blob.weird"), "wb") as f:
        f.write(os.urandom(300_000))
    rep = os.path.join(top, "all.json")
    scan_to(rep, "--all-files", d)
    status, res, err = verify(top, rep)
    c.eq("--all-files report: a blob of unknown extension verified", (status, [i["status"] for i in res["items"]]),
         (0, ["unchanged"]))
    check_digests_x = res["items"][0]["actual"]["xxh128"] == itlib.xxhsum(os.path.join(d, "blob.weird"))
    c.true("... its digest = xxhsum", check_digests_x)
    # Found by its content (an ISO named .dat), then no longer an image at all:
    # still read as the image the report lists, so "changed", not "missing".
    iso = os.path.join(d, "disc.dat")
    itlib.make_iso(iso, "DAT", os.path.join(top, "src"))
    rep = os.path.join(top, "dat.json")
    scan_to(rep, d)
    with open(rep) as f:
        c.eq("the scan found the .dat ISO by its content", [os.path.basename(i["path"]) for i in json.load(f)["images"]],
             ["disc.dat"])
    size = os.path.getsize(iso)
    with open(iso, "r+b") as f:
        f.write(os.urandom(size))
    status, res, err = verify(top, rep, d)
    items = items_by_name(res)
    c.eq("unknown extension, no longer an image: read anyway, changed", items["disc.dat"]["status"], "changed")
    c.eq("... digest = xxhsum", items["disc.dat"]["actual"]["xxh128"], itlib.xxhsum(iso))
    c.true("blob.weird (not an image, not listed) is not new", "blob.weird" not in items, str(list(items)))


def check_unreadable(c, top, report_src):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("not root (or no setpriv): the unreadable-image check is skipped")
        return
    d = os.path.join(top, "perm")
    os.makedirs(os.path.join(d, "locked"))
    itlib.make_fat(os.path.join(d, "ok.img"), 12, "OK", 1440 << 10)
    shutil.copy(os.path.join(d, "ok.img"), os.path.join(d, "secret.img"))
    shutil.copy(os.path.join(d, "ok.img"), os.path.join(d, "locked", "inside.img"))
    rep = os.path.join(top, "perm.json")
    scan_to(rep, d)
    os.chmod(os.path.join(d, "secret.img"), 0)
    os.chmod(os.path.join(d, "locked"), 0)
    for p in (top, d):
        os.chmod(p, 0o755)
    os.chmod(rep, 0o644)
    # The build tree may sit under a directory nobody cannot enter: run a copy.
    exe = os.path.join(top, "imgscan-copy")
    itlib.copy_imgscan(exe)
    try:
        p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", exe, "verify", rep, d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.chmod(os.path.join(d, "locked"), 0o755)
    c.eq("unreadable image: exit 2", p.returncode, 2)
    res = json.loads(p.stdout)
    items = items_by_name(res)
    sec = items["secret.img"]
    c.eq("unreadable image: error, open, EACCES", (sec["status"], sec["errors"][0]["stage"], sec["errors"][0]["errno"]),
         ("error", "open", "EACCES"))
    c.eq("... no actual digests", sec["actual"], None)
    ins = items["inside.img"]
    c.eq("image in an unlistable directory: error (walk, EACCES), not missing",
         (ins["status"], ins["errors"][0]["stage"], ins["errors"][0]["errno"]), ("error", "walk", "EACCES"))
    c.eq("the directory is a walk error", [(w["path"], w["errno"]) for w in res["walk_errors"]],
         [(os.path.join(d, "locked"), "EACCES")])
    c.eq("readable one unchanged", items["ok.img"]["status"], "unchanged")
    s = res["summary"]
    c.eq("summary: errors and walk errors", (s["error"], s["walk_errors"], s["exit_status"]), (2, 1, 2))


def check_malformed(c, top, good_report):
    with open(good_report, "rb") as f:
        good = f.read()
    one = json.loads(good)["images"][0]
    cases = {
        "empty": b"",
        "not JSON": b"\x00\xff garbage \x89PNG",
        "cut in half": good[: len(good) // 2],
        "an array": b"[1, 2, 3]",
        "no images": b'{"tool": {}, "run": {}}',
        "images not an array": b'{"images": {"a": 1}}',
        "image not an object": b'{"images": [42]}',
        "no path": b'{"images": [{"size": 1}]}',
        "negative size": json.dumps({"images": [dict(one, size=-5)]}).encode(),
        "huge size": b'{"images": [{"path": "x", "size": 1e400}]}',
        "bad hex": json.dumps({"images": [dict(one, hashes={"xxh128": "not-hex-" * 4})]}).encode(),
        "short sha256": json.dumps({"images": [dict(one, hashes=dict(one["hashes"], sha256="abcd"))]}).encode(),
        "bad base64": json.dumps({"images": [dict(one, path_lossy=True, path_b64="***")]}).encode(),
        "NUL in path_b64": json.dumps({"images": [dict(one, path_lossy=True, path_b64="YQBi")]}).encode(),
        "deep nesting": b'{"images": [{"path": "x", "size": 1, "n": ' + b"[" * 200000 + b"]" * 200000 + b"}]}",
        "unterminated string": b'{"images": [{"path": "x',
        "two documents": good + good,
        "bad sector size": b'{"images": [], "run": {"options": {"sector_size": 3000}}}',
        "a verify result": b'{"tool": {}, "verify": {}, "items": [], "summary": {}}',
        "JSON lines starting with an image": b'{"type": "image", "path": "x", "size": 1}\n',
    }
    for name, data in cases.items():
        path = os.path.join(top, "bad.json")
        with open(path, "wb") as f:
            f.write(data)
        status, res, err = verify(top, path, name="bad-out.json")
        c.eq("malformed report (%s): exit 2, nothing written" % name, (status, res), (2, None))
        c.true("malformed report (%s): a clear message" % name, "cannot use the report" in err or
               "run.options.sector_size" in err, err)
        c.true("malformed report (%s): no crash" % name, "Sanitizer" not in err and "core dumped" not in err, err)
    status, res, err = verify(top, os.path.join(top, "no-such-report.json"))
    c.eq("missing report: exit 2", (status, "No such file" in err), (2, True))
    status, res, err = verify(top, top)
    c.eq("a directory as report: exit 2", (status, "directory" in err), (2, True))


def check_reused(c, top):
    d = os.path.join(top, "nightly")
    os.makedirs(d)
    itlib.make_fat(os.path.join(d, "n1.img"), 12, "N1", 1440 << 10)
    itlib.make_ext(os.path.join(d, "n2.img"), "ext4", "N2", 4 << 20)
    time.sleep(2.1)  # a file changed within 2 s of its measure is always read again
    cat = os.path.join(top, "catalog.db")
    scan_to(os.path.join(top, "night1.json"), "--state", cat, "--hash", "sha256", d)
    rep = os.path.join(top, "night2.json")
    scan_to(rep, "--state", cat, "--hash", "sha256", d)
    with open(rep) as f:
        c.eq("second --state run: every image reused", [i["reused"] for i in json.load(f)["images"]], [True, True])
    status, res, err = verify(top, rep, d)
    c.eq("report of reused images: exit 0, unchanged", (status, [i["status"] for i in res["items"]]),
         (0, ["unchanged", "unchanged"]))
    items = items_by_name(res)
    c.eq("reused: digests = the tools", (items["n1.img"]["actual"]["xxh128"], items["n1.img"]["actual"]["sha256"]),
         (itlib.xxhsum(os.path.join(d, "n1.img")), tool_digest("sha256sum", os.path.join(d, "n1.img"))))
    itlib.sh("dd", "if=/dev/urandom", "of=" + os.path.join(d, "n2.img"), "bs=4096", "seek=10", "count=1",
             "conv=notrunc", "status=none")
    status, res, err = verify(top, rep, d)
    c.eq("reused, then changed in place: changed", (status, items_by_name(res)["n2.img"]["status"]), (1, "changed"))


def check_stop(c, top):
    d = os.path.join(top, "sparse")
    os.makedirs(d)
    images = []
    for i in range(6):
        p = os.path.join(d, "s%d.img" % i)
        itlib.sized(p, 4 << 30)
        images.append({"path": p, "size": 4 << 30, "hashes": {"xxh128": "0" * 32}, "sectors": None})
    rep = os.path.join(top, "sparse.json")
    with open(rep, "w") as f:
        json.dump({"images": images, "run": {"options": {"sector_size": 4096}}, "summary": {"images": 6}}, f)
    out = os.path.join(top, "stopped.json")
    for sig, want in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        p = subprocess.Popen([itlib.IMGSCAN, "verify", "-q", "-o", out, rep], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        time.sleep(0.5)
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        c.eq("stopped by %s: exit status" % sig.name, p.returncode, want)
        with open(out) as f:
            res = json.load(f)
        s = res["summary"]
        c.eq("stopped by %s: partial, stopped_by" % sig.name, (s["partial"], s["stopped_by"], s["exit_status"]),
             (True, sig.name, want))
        c.eq("stopped by %s: every listed image accounted for" % sig.name,
             len(res["items"]) + s["not_reached"], 6)
        c.true("stopped by %s: none reached is called missing" % sig.name, s["missing"] == 0)


def check_output_rules(c, top, report):
    pattern = os.path.join(top, "v-%Y.json")
    p = run("verify", "-q", "-o", pattern, report)
    expanded = os.path.join(top, time.strftime("v-%Y.json"))
    c.true("-o strftime fields expanded", os.path.exists(expanded))
    if os.path.exists(expanded):
        with open(expanded) as f:
            c.eq("run.output as expanded", json.load(f)["run"]["output"], expanded)
    c.eq("no temp files left", [n for n in os.listdir(top) if ".tmp." in n], [])
    c.true("exit status as the items say", p.returncode == 1)


def check_custody(c, top):
    """What an earlier review found: a listed file replaced by a symlink is
    not followed (no PATHs: every listed path is a root of the walk); moved
    needs every digest the report holds; a NUL in a path, a digest verify
    cannot compute, a report missing images are refused; -o never names a
    listed image or the report on stdin."""
    d = os.path.join(top, "custody")
    os.makedirs(d)
    itlib.make_fat(os.path.join(d, "a.img"), 12, "A", 1440 << 10)
    itlib.make_fat(os.path.join(d, "b.img"), 12, "B", 1440 << 10)
    rep = os.path.join(top, "custody.json")
    scan_to(rep, "--hash", "sha256", d)
    with open(rep) as f:
        good = json.load(f)
    # a.img swapped for a symlink to an identical copy: not followed.
    shutil.copy(os.path.join(d, "a.img"), os.path.join(top, "a-copy.img"))
    os.rename(os.path.join(d, "a.img"), os.path.join(top, "a-orig.img"))
    os.symlink(os.path.join(top, "a-copy.img"), os.path.join(d, "a.img"))
    status, res, _ = verify(top, rep, name="custody-out.json")
    c.eq("symlink put in place of a listed file, no PATHs: error, exit 2",
         (status, items_by_name(res)["a.img"]["status"]), (2, "error"))
    os.unlink(os.path.join(d, "a.img"))
    os.rename(os.path.join(top, "a-orig.img"), os.path.join(d, "a.img"))
    # moved: same XXH128 and size, another sha256 in the report: missing + new.
    forged = json.loads(json.dumps(good))
    b = [i for i in forged["images"] if i["path"].endswith("b.img")][0]
    b["path"] = os.path.join(d, "b-was-here.img")
    b["hashes"]["sha256"] = "0" * 64
    forged_path = os.path.join(top, "forged.json")
    with open(forged_path, "w") as f:
        json.dump(forged, f)
    status, res, _ = verify(top, forged_path, d, name="custody-out.json")
    got = sorted((os.path.basename(raw_path(i)).decode(), i["status"]) for i in res["items"])
    c.eq("moved needs every digest: missing + new", got,
         [("a.img", "unchanged"), ("b-was-here.img", "missing"), ("b.img", "new")])
    # Refused reports: exit 2, nothing written.
    text = open(rep).read()
    a_path = os.path.join(d, "a.img")
    bad = {
        "NUL in a path": text.replace('"%s"' % a_path, '"%s\\u0000/../x"' % a_path, 1),
        "unknown digest": text.replace('"hashes":{', '"hashes":{"sha512":"00",', 1),
        "an image removed": json.dumps(dict(good, images=good["images"][1:])),
    }
    for what, body in bad.items():
        path = os.path.join(top, "bad.json")
        with open(path, "w") as f:
            f.write(body)
        status, res, err = verify(top, path, name="custody-out.json")
        c.eq("refused report (%s): exit 2, no result" % what, (status, res), (2, None))
    # -o naming a listed image, or the report read from stdin.
    before = open(a_path, "rb").read()
    p = run("verify", "-q", "-o", a_path, rep)
    c.eq("-o names a listed image: 64", p.returncode, 64)
    c.true("-o names a listed image: the image untouched", open(a_path, "rb").read() == before)
    shutil.copy(rep, os.path.join(top, "stdin.json"))
    with open(os.path.join(top, "stdin.json"), "rb") as f:
        p = run("verify", "-q", "-o", os.path.join(top, "stdin.json"), "-", stdin=f)
    c.eq("-o names the report read from stdin: 64", p.returncode, 64)
    c.eq("... and it is untouched", open(os.path.join(top, "stdin.json")).read(), text)


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        check_usage(c, top)
        arch = make_archive(top)
        report = os.path.join(top, "report.json")
        scan_to(report, "--hash", "md5,sha256", arch)
        check_unchanged(c, top, arch, report)
        change_archive(top, arch)
        check_changed(c, top, arch, report)
        check_output_rules(c, top, report)
        check_jsonl_report(c, top)
        check_odd_names(c, top)
        check_unknown_extension(c, top)
        check_unreadable(c, top, report)
        check_malformed(c, top, report)
        check_reused(c, top)
        check_stop(c, top)
        check_custody(c, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
