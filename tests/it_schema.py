#!/usr/bin/env python3
"""Reports follow report/report.schema.json (JSON Schema, draft 2020-12),
checked with a real validator (Debian's python3-jsonschema, run by
/usr/bin/python3: see tests/CMakeLists.txt), and the schema and
report/SCHEMA.md name the same fields.

Reports of every kind the demo archive holds (optical, raw CD, disks with
MBR and GPT, containers, compressed files, archives, a web page), plus
names and labels that are not UTF-8, an empty file, a cut ISO, a symlink and a FIFO,
a copy of an image under another name (summary.duplicates), with --hash,
--sector-hashes and a --state catalog: as a JSON document and
as JSON lines, a rescan of reused entries, an image that cannot be read
(a read error from faultfs, when FUSE is available), and verify's result
(unchanged, changed, missing, new) in both forms.  The validator is strict:
every object lists its fields (additionalProperties false), so a field
added to the code and not to the schema fails here."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "report", "report.schema.json")
SCHEMA_MD = os.path.join(HERE, "..", "report", "SCHEMA.md")

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed for %s: skipped" % sys.executable)
    sys.exit(77)


def validator(defname):
    with open(SCHEMA) as f:
        schema = json.load(f)
    sub = dict(schema, **{"$ref": "#/$defs/" + defname})
    jsonschema.Draft202012Validator.check_schema(sub)
    return jsonschema.Draft202012Validator(sub)


def check(c, what, v, doc):
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errs[:5]:
        print("  %s: %s at %s" % (what, e.message[:300], "/".join(str(p) for p in e.absolute_path)))
    c.true("%s follows the schema" % what, not errs, "%d errors" % len(errs))


def check_lines(c, what, v, path):
    with open(path, "rb") as f:
        lines = [json.loads(l) for l in f if l.strip()]
    c.true(what + ": lines", len(lines) >= 2)
    for i, line in enumerate(lines):
        check(c, "%s line %d (%s)" % (what, i + 1, line.get("type")), v, line)
    return lines


def make_odd(d, demo):
    os.makedirs(d)
    with open(os.path.join(d.encode(), b"bad\xffname.img"), "wb") as f:
        f.write(b"\0" * 8192)
    open(os.path.join(d, "empty.iso"), "wb").close()
    os.symlink("/etc/hostname", os.path.join(d, "link.img"))
    os.mkfifo(os.path.join(d, "fifo.img"))
    with open(os.path.join(demo, "cds", "install-disc.iso"), "rb") as f:
        data = f.read()
    with open(os.path.join(d, "cut.iso"), "wb") as f:
        f.write(data[:len(data) // 2])
    with open(os.path.join(d.encode(), b"copy\xffdisc.iso"), "wb") as f:  # summary.duplicates
        f.write(data)
    # labels kept exactly: an ESC and a CR in an ISO's, a byte not UTF-8 in an ext4's (label_b64)
    subprocess.run([b"genisoimage", b"-quiet", b"-V", b"\x1b[2J\rlabel", b"-o", os.path.join(d, "esc.iso").encode(),
                    itlib.content_dir(os.path.dirname(os.path.dirname(d)), "label-src").encode()], check=True)
    itlib.make_ext(os.path.join(d, "label.img"), "ext4", "x")
    subprocess.run([b"e2label", os.path.join(d, "label.img").encode(), b"ab\xffcd"], check=True)


def run(*args):
    return subprocess.run([itlib.IMGSCAN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)


def scans(c, top, arch):
    doc, lines, lists = (os.path.join(top, n) for n in ("r.json", "r.jsonl", "lists"))
    os.makedirs(lists)
    cat = os.path.join(top, "cat.db")
    vdoc, vline = validator("document"), validator("line")
    time.sleep(2.5)  # files changed within 2 s of their measurement are read again, not reused
    p = run("scan", "-q", "--hash", "md5,sha1,sha256", "--sector-hashes", lists, "--state", cat, "-o", doc, arch)
    c.true("scan exit 1 or 2", p.returncode in (1, 2), p.stderr.decode())
    with open(doc) as f:
        rep = json.load(f)
    c.eq("schema_version", rep["tool"].get("schema_version"), 1)
    check(c, "JSON report", vdoc, rep)
    kinds = {i["kind"] for i in rep["images"]}
    c.true("every kind of the archive is there", {"optical", "raw-cd", "disk", "container", "compressed",
                                                  "empty"} <= kinds, sorted(kinds))
    c.true("a name that is not UTF-8", any(i.get("path_lossy") for i in rep["images"]))
    c.true("a label that is not UTF-8", any(p.get("label_lossy") for i in rep["images"]
                                            for p in (i.get("identification") or {}).get("probes", [])))
    c.true("findings", any(i["findings"] for i in rep["images"]))
    c.true("skipped entries", len(rep["skipped"]) >= 2)
    c.true("a duplicate group with a name that is not UTF-8",
           any(i.get("path_lossy") for g in rep["summary"]["duplicates"] for i in g["images"]))
    # a version-1 report of an imgscan before the fields added later: still valid
    old = json.loads(json.dumps(rep))
    for obj, key in ((old["tool"], "libraries"), (old["tool"], "kernel"), (old["run"], "io_uring"),
                     (old["summary"], "duplicates")):
        del obj[key]
    check(c, "JSON report of an older imgscan (no libraries, kernel, io_uring, duplicates)", vdoc, old)
    old["summary"]["duplicates"] = None
    check(c, "JSON report whose duplicates could not be kept (null)", vdoc, old)
    p = run("scan", "-q", "--hash", "md5,sha1,sha256", "--sector-hashes", lists, "--state", cat, "-o",
            os.path.join(top, "again.json"), arch)
    with open(os.path.join(top, "again.json")) as f:
        again = json.load(f)
    c.true("rescan: reused entries", any(i.get("reused") for i in again["images"]))
    check(c, "JSON report of reused entries", vdoc, again)
    run("scan", "-q", "--format", "jsonl", "-o", lines, arch)
    got = check_lines(c, "JSONL report", vline, lines)
    c.eq("JSONL: first line run, last summary", (got[0]["type"], got[-1]["type"]), ("run", "summary"))
    c.eq("JSONL: schema_version", got[0]["tool"].get("schema_version"), 1)
    return doc


def shards(c, top, arch):
    """Shard reports (a catalog each, both forms) and their merge (both forms)."""
    vdoc, vline = validator("document"), validator("line")
    parts = []
    for k in range(3):
        form = "jsonl" if k == 1 else "json"
        out = os.path.join(top, "shard-%d.%s" % (k, form))
        p = run("scan", "-q", "--shard", "%d/3" % k, "--format", form, "--state",
                os.path.join(top, "shard-%d.db" % k), "-o", out, arch)
        c.true("shard %d: exit 1 or 2" % k, p.returncode in (1, 2), p.stderr.decode())
        if form == "json":
            with open(out) as f:
                rep = json.load(f)
            check(c, "shard report %d" % k, vdoc, rep)
            c.eq("run.shard", (rep["run"]["shard"]["index"], rep["run"]["shard"]["count"]), (k, 3))
        else:
            check_lines(c, "shard report %d (JSON lines)" % k, vline, out)
        parts.append(out)
    for form in ("json", "jsonl"):
        out = os.path.join(top, "merged." + form)
        p = run("merge", "-q", "--format", form, "-o", out, *parts)
        c.true("merge (%s): exit 1 or 2" % form, p.returncode in (1, 2), p.stderr.decode())
        if form == "json":
            with open(out) as f:
                merged = json.load(f)
            check(c, "merged report", vdoc, merged)
            c.eq("run.merge.shards", [s["index"] for s in merged["run"]["merge"]["shards"]], [0, 1, 2])
        else:
            check_lines(c, "merged report (JSON lines)", vline, out)


def verify(c, top, arch, doc):
    vdoc, vline = validator("verify_document"), validator("verify_line")
    shutil.copy(os.path.join(arch, "disks", "floppy.ima"), os.path.join(arch, "disks", "floppy-copy.ima"))
    with open(os.path.join(arch, "disks", "rootfs.img"), "r+b") as f:
        f.seek(1 << 20)
        f.write(b"changed")
    os.unlink(os.path.join(arch, "disks", "windows.raw"))
    p = run("verify", doc, arch)
    res = json.loads(p.stdout)
    statuses = {i["status"] for i in res["items"]}
    c.true("verify: unchanged, changed, missing, new", {"unchanged", "changed", "missing", "new"} <= statuses,
           sorted(statuses))
    check(c, "verify result", vdoc, res)
    out = os.path.join(top, "v.jsonl")
    run("verify", "--format", "jsonl", "-o", out, doc, arch)
    check_lines(c, "verify JSONL", vline, out)


def unreadable(c, top):
    """An image that fails with a read error (faultfs), when FUSE is here."""
    back = os.path.join(top, "back")
    os.makedirs(back)
    itlib.make_fat(os.path.join(back, "bad.img"), 16, "BAD", 16 << 20)
    try:
        with itlib.faultfs(back, "eio bad.img 1048576 4096\n") as mnt:
            run("scan", "-q", "--no-tsk", "-o", os.path.join(top, "eio.json"), mnt)
    except itlib.FuseUnavailable as e:
        print("FUSE unavailable (%s): the read-error report is not checked" % e)
        return
    with open(os.path.join(top, "eio.json")) as f:
        rep = json.load(f)
    c.true("a read error is reported", any(e["stage"] == "read" for i in rep["images"] for e in i["errors"]),
           json.dumps(rep["images"])[:400])
    check(c, "JSON report with a read error", validator("document"), rep)


def schema_names(node, props, values):
    """Every property name of the schema into props, every enum value and
    string const into values."""
    if isinstance(node, dict):
        props.update(node.get("properties", {}).keys())
        values.update(v for v in node.get("enum", []) if isinstance(v, str))
        for v in node.values():
            schema_names(v, props, values)
    elif isinstance(node, list):
        for v in node:
            schema_names(v, props, values)


def agree(c):
    """SCHEMA.md and the JSON Schema name the same fields: each field of a
    table in SCHEMA.md (first column) is in the schema, and each property
    of the schema is named in SCHEMA.md."""
    props, values = set(), set()
    with open(SCHEMA) as f:
        schema_names(json.load(f), props, values)
    with open(SCHEMA_MD) as f:
        md = f.read()
    documented = set()
    for line in md.splitlines():
        m = re.match(r"^\| (`[^|]*`) \|", line)
        if m:
            documented.update(re.findall(r"`([A-Za-z0-9_.\-\[\]]+)`", m.group(1)))
    documented = {d.split(".")[-1] for d in documented}
    c.true("SCHEMA.md tables found", len(documented) > 100, str(len(documented)))
    missing = sorted(d for d in documented if d not in props | values)
    c.true("every field SCHEMA.md lists is in report.schema.json", not missing, missing)
    mentioned = set(re.findall(r"`([A-Za-z0-9_]+)(?:\[\])?`", md)) | set(re.findall(r"^#+ .*?([a-z_]+)(?:\[\])?$", md, re.M))
    # X_b64 and X_lossy come with any path field X, as SCHEMA.md says once.
    undocumented = sorted(p for p in props if p not in mentioned and not re.search(r"_(b64|lossy)$", p)
                          and p != "type")
    c.true("every field of report.schema.json is named in SCHEMA.md", not undocumented, undocumented)


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        arch = os.path.join(top, "arch")
        subprocess.run([sys.executable, os.path.join(HERE, "make_demo.py"), arch], check=True,
                       stdout=subprocess.DEVNULL)
        make_odd(os.path.join(arch, "odd"), arch)
        agree(c)
        doc = scans(c, top, arch)
        shards(c, top, arch)
        verify(c, top, arch, doc)
        unreadable(c, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
