#!/usr/bin/env python3
"""Sharded scans and their merge (issue 14), on the demo archive of real
images (tests/make_demo.py: ISOs, raw CD, MBR and GPT disks, qcow2, VMDK,
E01, compressed images, a split set, a web page named .iso...) plus copies
of images in other directories (duplicate groups across shards), a symlink
and a FIFO.

- N shards by path (N = 1, 3, 7) and by size (N = 3), merged, equal a single
  scan: the same images with the same index, digests, kind and findings,
  the same summary counts and duplicate groups; JSON and JSON lines mixed.
- The documented rule: every image of shard K has
  `printf %s REL | xxhsum -H3` equal to K mod N.
- --shard-by size gives each shard its bytes more evenly than path does.
- merge refuses (exit 65, nothing written, the reason named): a missing
  shard, a shard given twice, other options (--hash, --no-tsk), other
  roots, a report that is not a shard's, one that is not whole, a FIFO, a
  shard count past 65,536, an image in two shards, shards by size that
  walked different trees; by path it warns and says same_tree false, and
  numbers the images again when two shards gave one index (the merged
  report then loads into a database); -o naming a shard report is a usage
  error (64) and the report is left as it was; scan --shard refuses
  overlapping PATHs (64).
- A catalog per shard: the second run reuses everything; a file removed is
  gone in its own shard's catalog only.
- Merging streams: its peak memory over 60,000 and 240,000 images is the
  same (within 8 MiB; the temporary index's cache is 4 MiB at most), with
  a quarter of them in duplicate pairs (15,000 and 60,000 groups, written
  from the index as they are read, never held). A shard report whose own
  summary.duplicates is past 64 MiB (more than one value of a report may
  be kept in) merges: merge passes the shards' own groups over. The index
  failing while the groups are written (imgscan-testhooks) is exit 65,
  with nothing written to a file.
- verify reads a merged report like any other; a shard's report verified
  under the archive finds no other shard's image new."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def run(*args, timeout=300):
    p = subprocess.run([itlib.IMGSCAN, *[str(a) for a in args]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stderr.decode(errors="replace")


def load(path):
    if path.endswith(".jsonl"):
        lines = [json.loads(l) for l in open(path, "rb") if l.strip()]
        return {"images": [l for l in lines if l["type"] == "image"],
                "run": lines[0]["run"], "summary": lines[-1]}
    with open(path) as f:
        return json.load(f)


def image_view(rep):
    return {i["path"]: (i["index"], (i["hashes"] or {}).get("xxh128"), i["kind"], itlib.codes(i))
            for i in rep["images"]}


SUMMARY_KEYS = ("entries", "images", "by_kind", "other_files", "other_bytes", "symlinks", "special_files",
                "walk_errors", "findings", "misnamed", "images_with_errors", "bytes_hashed", "exit_status")


def dup_view(rep):
    return sorted(sorted(i["path"] for i in g["images"]) for g in rep["summary"]["duplicates"])


def make_archive(top):
    arch = os.path.join(top, "arch")
    subprocess.run([sys.executable, os.path.join(HERE, "make_demo.py"), arch], check=True,
                   stdout=subprocess.DEVNULL)
    os.makedirs(os.path.join(arch, "copies", "deep"))
    shutil.copy(os.path.join(arch, "cds", "install-disc.iso"), os.path.join(arch, "copies", "a.iso"))
    shutil.copy(os.path.join(arch, "cds", "install-disc.iso"), os.path.join(arch, "copies", "deep", "b.iso"))
    os.symlink("../cds/install-disc.iso", os.path.join(arch, "copies", "link.iso"))
    os.mkfifo(os.path.join(arch, "copies", "pipe.img"))
    return arch


def shard_scans(top, arch, n, name, by="path", forms=None, extra=()):
    files = []
    for k in range(n):
        form = (forms or {}).get(k, "json")
        out = os.path.join(top, "%s-%d.%s" % (name, k, form))
        rc, err = run("scan", "-q", "--shard", "%d/%d" % (k, n), "--shard-by", by, "--format", form,
                      *extra, "-o", out, arch)
        assert rc in (0, 1, 2), (rc, err)
        files.append(out)
    return files


def compare(c, what, single, merged):
    c.eq(what + ": images", image_view(merged), image_view(single))
    for k in SUMMARY_KEYS:
        c.eq("%s: summary.%s" % (what, k), merged["summary"][k], single["summary"][k])
    c.eq(what + ": duplicate groups", dup_view(merged), dup_view(single))


def check_rule(c, arch, files, n):
    """Every image of shard K: XXH3-64 of its relative path, as xxhsum -H3 prints it, is K mod N."""
    bad = []
    for k, f in enumerate(files):
        for img in load(f)["images"]:
            rel = os.path.relpath(img["path"], arch)
            out = subprocess.run(["xxhsum", "-H3"], input=rel.encode(), stdout=subprocess.PIPE,
                                 check=True).stdout.decode()
            if int(out.split()[-1], 16) % n != k:
                bad.append((k, rel, out))
    c.true("every image is in the shard xxhsum -H3 of its relative path says", not bad, bad[:3])


def equal_to_single(c, top, arch, single):
    for n in (1, 3, 7):
        forms = {1: "jsonl"} if n > 1 else {}
        files = shard_scans(top, arch, n, "p%d" % n, forms=forms)
        out = os.path.join(top, "p%d-merged.json" % n)
        rc, err = run("merge", "-q", "-o", out, *files)
        c.eq("merge of %d shards: exit status as a single scan's" % n, rc, single["summary"]["exit_status"])
        merged = load(out)
        compare(c, "%d shards by path" % n, single, merged)
        c.true("%d shards: same_tree" % n, merged["run"]["merge"]["same_tree"])
        if n == 7:
            check_rule(c, arch, files, n)
            jl = os.path.join(top, "p7-merged.jsonl")
            rc, err = run("merge", "-q", "--format", "jsonl", "-o", jl, *files)
            compare(c, "7 shards merged as JSON lines", single, load(jl))
    size_files = shard_scans(top, arch, 3, "z3", by="size")
    out = os.path.join(top, "z3-merged.json")
    rc, err = run("merge", "-q", "-o", out, *size_files)
    compare(c, "3 shards by size", single, load(out))
    path_bytes = [load(f)["summary"]["shard"]["bytes_taken"] for f in shard_scans(top, arch, 3, "p3b")]
    size_bytes = [load(f)["summary"]["shard"]["bytes_taken"] for f in size_files]
    c.eq("by size and by path: the same bytes in all", sum(size_bytes), sum(path_bytes))
    c.true("by size: the largest shard is smaller than by path", max(size_bytes) < max(path_bytes),
           (size_bytes, path_bytes))
    return out


def refused(c, what, args, want):
    target = args[args.index("-o") + 1]
    rc, err = run("merge", *args)
    c.eq(what + ": exit 65", rc, 65)
    c.true(what + ": says " + repr(want), want in err, err)
    c.true(what + ": nothing written", not os.path.exists(target))


def refusals(c, top, arch):
    files = shard_scans(top, arch, 3, "r")
    out = os.path.join(top, "refused.json")
    duplicates_fail(c, top, files)
    refused(c, "a shard missing", ["-o", out, files[0], files[2]], "1/3")
    refused(c, "a shard twice", ["-o", out, files[0], files[1], files[1], files[2]], "shard 1/3 is given twice")
    other = shard_scans(top, arch, 3, "h", extra=("--hash", "md5"))
    refused(c, "other options", ["-o", out, files[0], other[1], files[2]], "run.options.hashes")
    notsk = shard_scans(top, arch, 3, "nt", extra=("--no-tsk",))
    refused(c, "--no-tsk in one shard", ["-o", out, files[0], notsk[1], files[2]], "run.options.tsk")
    fifo = os.path.join(top, "shard.fifo")
    os.mkfifo(fifo)
    refused(c, "a FIFO", ["-o", out, files[0], fifo, files[2]], "not a regular file")
    huge = os.path.join(top, "huge.json")
    rep = load(files[1])
    rep["run"]["shard"]["count"] = 4294967295
    with open(huge, "w") as f:
        json.dump(rep, f)
    refused(c, "a shard count past 65,536", ["-o", out, files[0], huge, files[2]], "65536")
    before = open(files[0], "rb").read()
    rc, err = run("merge", "-o", files[0], *files)
    c.eq("-o naming a shard report: usage error", rc, 64)
    c.true("-o naming a shard report: it is left as it was", open(files[0], "rb").read() == before)
    rc, err = run("scan", "-q", "--shard", "0/3", "-o", out, arch, os.path.join(arch, "cds"))
    c.eq("scan --shard of overlapping PATHs: usage error", rc, 64)
    c.true("scan --shard of overlapping PATHs: said", "inside" in err, err)
    sub = shard_scans(top, os.path.join(arch, "cds"), 3, "sub")
    refused(c, "other roots", ["-o", out, files[0], sub[1], files[2]], "other roots")
    whole = os.path.join(top, "whole.json")
    run("scan", "-q", "-o", whole, arch)
    refused(c, "not a shard report", ["-o", out, files[0], whole, files[2]], "not a shard report")
    cut = os.path.join(top, "cut.jsonl")
    jl = shard_scans(top, arch, 3, "cutsrc", forms={1: "jsonl"})[1]
    with open(jl, "rb") as f:
        lines = f.readlines()
    with open(cut, "wb") as f:
        f.writelines(lines[:-1])  # a shard killed before its summary line
    refused(c, "a report that is not whole", ["-o", out, files[0], cut, files[2]], "cut short")
    # shard 2's report claiming to be shard 1 as well: its images are in two reports
    fake = os.path.join(top, "fake.json")
    rep = load(files[1])
    rep["run"]["shard"]["index"] = 2
    rep2 = load(files[2])
    rep["images"] += rep2["images"][:1]
    rep["summary"]["images"] += 1
    with open(fake, "w") as f:
        json.dump(rep, f)
    rep["run"]["shard"]["index"] = 1
    with open(fake.replace("fake", "fake1"), "w") as f:
        json.dump(rep, f)
    refused(c, "an image in two shards", ["-o", out, files[0], fake.replace("fake", "fake1"), files[2]],
            "is in two shard reports")
    # by size, one shard walks after the tree changed: refused
    z = shard_scans(top, arch, 3, "zt", by="size")
    extra = os.path.join(arch, "cds", "late.iso")
    shutil.copy(os.path.join(arch, "cds", "install-disc.iso"), extra)
    z[2] = shard_scans(top, arch, 3, "zt2", by="size")[2]
    refused(c, "by size, different trees", ["-o", out, *z], "saw different trees")
    # by path the same change is a warning: merged, same_tree false
    p = shard_scans(top, arch, 3, "pt")
    os.unlink(extra)
    p[0] = shard_scans(top, arch, 3, "pt2")[0]
    rc, err = run("merge", "-o", out, *p)
    c.true("by path, different trees: merged", rc in (1, 2) and os.path.exists(out), err)
    c.true("by path, different trees: said", "did not all walk the same tree" in err, err)
    c.eq("by path, different trees: same_tree", load(out)["run"]["merge"]["same_tree"], False)
    os.unlink(out)
    # A file added between the shards' walks, sorting first: the later
    # shards' indexes move by one, so two shards give one index to two
    # images. The merge numbers every image again: unique, and loadable.
    p = shard_scans(top, arch, 3, "ri")
    os.makedirs(os.path.join(arch, "aaa"))
    shutil.copy(os.path.join(arch, "cds", "install-disc.iso"), os.path.join(arch, "aaa", "new.iso"))
    p[1:] = shard_scans(top, arch, 3, "ri2")[1:]
    shutil.rmtree(os.path.join(arch, "aaa"))
    rc, err = run("merge", "-q", "-o", out, *p)
    merged = load(out)
    idx = [i["index"] for i in merged["images"]]
    c.true("tree changed: merged", rc in (1, 2), err)
    c.eq("tree changed: renumbered", merged["run"]["merge"]["renumbered"], True)
    c.eq("tree changed: every index once", len(set(idx)), len(idx))
    in_dups = {i["path"]: i["index"] for g in merged["summary"]["duplicates"] for i in g["images"]}
    c.true("tree changed: the duplicate groups have the new indexes",
           all(in_dups[i["path"]] == i["index"] for i in merged["images"] if i["path"] in in_dups))
    rc, err = run("load", "--db", "sqlite:" + os.path.join(top, "renumbered.db"), out)
    c.eq("tree changed: the merged report loads", rc, 0)
    os.unlink(out)


def catalogs(c, top, arch):
    def scan_all(name):
        reps = []
        for k in range(3):
            out = os.path.join(top, "%s-%d.json" % (name, k))
            rc, err = run("scan", "-q", "--shard", "%d/3" % k, "--state", os.path.join(top, "cat-%d.db" % k),
                          "-o", out, arch)
            assert rc in (0, 1, 2), err
            reps.append(load(out))
        return reps
    import time
    scan_all("c1")
    time.sleep(2.5)  # a result measured within 2 s of a file's change is read again
    second = scan_all("c2")
    c.eq("second run: every image reused (media is read every run)",
         [r["summary"]["images_reused"] for r in second],
         [sum("media" not in i for i in r["images"]) for r in second])
    victim = second[1]["images"][0]["path"] if second[1]["images"] else None
    c.true("shard 1 has an image", victim)
    victim_file = victim
    for img in second[1]["images"]:
        if "media" not in img:
            victim_file = img["path"]
            break
    os.unlink(victim_file)
    third = scan_all("c3")
    c.eq("a removed file: gone in its own shard's catalog only",
         [r["summary"]["catalog"]["gone"] for r in third], [0, 1, 0])


def many_images(top, base, counts, name, pairs=(), unique_index=False, pads=None, forms=None):
    """Shard reports holding counts[k] images for shard k: a real shard
    report's images, each copied under its own path and digest (merge's
    memory is what is measured, not the scan's), as JSON or, forms[k],
    JSON lines. The shards in pairs have their images in duplicate pairs
    (the two of a pair in one shard, as copies in one directory are), and
    their own summary.duplicates lists the pairs, as their scan would;
    the others' is empty. Indexes are the copied images' (two shards give
    one index: merge numbers every image again), or unique ones as one walk
    gives. pads[k]: bytes of directory names in each path of shard k (a long
    summary.duplicates for fewer images). Returns the files, the groups of
    all shards in a merged report's order, and the bytes of each shard's
    summary.duplicates."""
    files, groups, dup_bytes = [], [], []
    for k, f in enumerate(base):
        rep = load(f)
        imgs = [i for i in rep["images"] if i.get("size")]
        root, form = rep["run"]["shard"]["roots"][0], (forms or {}).get(k, "json")
        pad = "/".join(["p" * 200] * ((pads or {}).get(k, 0) // 201)) or "many"
        step = 2 if k in pairs else 1
        rep["summary"]["images"] = counts[k]
        own, first = [], None
        out = open(os.path.join(top, "%s-%d.%s" % (name, k, form)), "w")
        if form == "jsonl":
            run_line = {"type": "run", "tool": rep["tool"], "run": dict(rep["run"])}
            end = run_line["run"].pop("end")
            out.write(json.dumps(run_line) + "\n")
        else:
            out.write('{"tool":%s,\n"images":[\n' % json.dumps(rep["tool"]))
        for i in range(counts[k]):
            img = dict(imgs[(i // step) % len(imgs)])
            if unique_index:
                img["index"] = i * len(base) + k
            img["path"] = "%s/%s/%d/%d.iso" % (root, pad, k, i)
            img["hashes"] = {"xxh128": "%032x" % (k << 40 | i // step)}
            if step == 2 and i % 2:
                own.append({"xxh128": img["hashes"]["xxh128"], "size": img["size"],
                            "images": sorted([first, {"index": img["index"], "path": img["path"]}],
                                             key=lambda m: m["index"])})
            first = {"index": img["index"], "path": img["path"]}
            if form == "jsonl":
                out.write(json.dumps(dict(img, type="image")) + "\n")
            else:
                out.write(("," if i else "") + json.dumps(img) + "\n")
        own.sort(key=lambda g: (-g["size"], g["xxh128"]))
        groups += own
        dups = json.dumps(own)
        dup_bytes.append(len(dups))
        summary = dict(rep["summary"], duplicates=None)
        if form == "jsonl":
            summary.update(type="summary", end=end)
        head, tail = json.dumps(summary).split('"duplicates": null')
        if form == "json":
            out.write('],"skipped":[],"run":%s,"summary":' % json.dumps(rep["run"]))
        out.write(head + '"duplicates": ' + dups + tail + ("}" if form == "json" else "") + "\n")
        out.close()
        files.append(out.name)
    groups.sort(key=lambda g: (-g["size"], g["xxh128"]))
    return files, groups, dup_bytes


def peak_rss_kib(args):
    """GNU time's maximum resident set size (a fork of this Python would
    count the interpreter's pages before the exec)."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M", itlib.IMGSCAN, *args], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return p.returncode, int(p.stderr.decode().split()[-1])


def check_pairs(c, what, merged, n):
    """The merged groups: the n pairs of shard 0, a scan's order (largest
    first, then by digest; a group's images by index), with the indexes the
    merged report gives those images."""
    dups = merged["summary"]["duplicates"]
    index = {i["path"]: i["index"] for i in merged["images"]}
    c.eq(what + ": one group for each pair", len(dups), n)
    c.true(what + ": each group a pair of shard 0",
           all(len(g["images"]) == 2 and int(g["xxh128"], 16) == int(g["images"][0]["path"].split("/")[-1][:-4]) // 2
               and {m["path"].split("/")[-1] for m in g["images"]} == {"%d.iso" % (2 * int(g["xxh128"], 16) + d)
                                                                        for d in (0, 1)} for g in dups))
    c.true(what + ": the groups in a scan's order", dups == sorted(dups, key=lambda g: (-g["size"], g["xxh128"])))
    c.true(what + ": a group's images by index, the merged report's",
           all([m["index"] for m in g["images"]] == sorted(index[m["path"]] for m in g["images"]) for g in dups))


def streaming(c, top, arch):
    """Shard 0's images in duplicate pairs, shard 1's all different: merge
    writes the groups from its index as it reads them, so that neither the
    images nor the groups make its memory grow."""
    base = shard_scans(top, arch, 2, "m")
    small, _, _ = many_images(top, base, [30000, 30000], "small", pairs=(0,))
    big, _, _ = many_images(top, base, [120000, 120000], "big", pairs=(0,))
    rc1, rss_small = peak_rss_kib(["merge", "-q", "-o", os.path.join(top, "ms.json"), *small])
    rc2, rss_big = peak_rss_kib(["merge", "-q", "-o", os.path.join(top, "mb.json"), *big])
    print("merge peak RSS: %d KiB for 60,000 images (15,000 pairs), %d KiB for 240,000 (60,000 pairs)"
          % (rss_small, rss_big))
    c.true("merge of 240,000 images: exit 1 or 2", rc2 in (1, 2), rc2)
    merged = load(os.path.join(top, "mb.json"))
    c.eq("merge of 240,000 images: all there", merged["summary"]["images"], 240000)
    check_pairs(c, "merge of 240,000 images", merged, 60000)
    del merged
    c.true("merge memory does not grow with the images or the duplicate groups (4 times both, within 8 MiB)",
           rss_big - rss_small < 8 * 1024, (rss_small, rss_big))
    for f in small + big:
        os.unlink(f)
    return base


def long_duplicates(c, top, base):
    """A shard whose own summary.duplicates is larger than the 64 MiB one
    kept value of a report may have (report/json_stream.h) merges: merge
    passes the shards' own groups over (found again across shards), as
    JSON lines here, where only the last member says which line is the
    summary. Some 17,000 images with 3.9 KB paths, in pairs."""
    files, groups, dup_bytes = many_images(top, base, [17400, 2], "dlong", pairs=(0,), unique_index=True,
                                           pads={0: 3900}, forms={0: "jsonl"})
    c.true("a shard's summary.duplicates larger than 64 MiB", dup_bytes[0] > 64 << 20, dup_bytes)
    out = os.path.join(top, "mdl.jsonl")
    rc, err = run("merge", "-q", "--format", "jsonl", "-o", out, *files)
    c.true("a shard with a summary.duplicates past 64 MiB: merged", rc in (1, 2), (rc, err))
    if rc in (1, 2):
        with open(out, "rb") as f:
            f.seek(-(dup_bytes[0] + (4 << 20)), os.SEEK_END)
            last = f.read().splitlines()[-1]
        c.eq("...and its groups are the merged report's, indexes and order as its scan's",
             json.loads(last)["duplicates"], groups)
        os.unlink(out)
    for f in files:
        os.unlink(f)


def duplicates_fail(c, top, files):
    """The index fails while summary.duplicates is being written, the
    images already out (imgscan-testhooks: IMGSCAN_TEST_MERGE_GROUPS_FAIL=1
    interrupts SQLite after one row): exit 65, and a file (-o) is not
    written at all, while stdout, cut short, is said to be."""
    hooks = os.path.join(os.path.dirname(os.path.abspath(itlib.IMGSCAN)), "imgscan-testhooks")
    if not os.access(hooks, os.X_OK):
        c.true("imgscan-testhooks is built beside imgscan", False, hooks)
        return
    env = dict(os.environ, IMGSCAN_TEST_MERGE_GROUPS_FAIL="1")
    out = os.path.join(top, "groups-fail.json")
    p = subprocess.run([hooks, "merge", "-q", "-o", out, *files], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    err = p.stderr.decode(errors="replace")
    c.eq("the index failing amid the duplicates: exit 65", p.returncode, 65)
    c.true("...said, and nothing written", "duplicates" in err and "nothing was written" in err
           and not os.path.exists(out), err)
    p = subprocess.run([hooks, "merge", "-q", "--format", "jsonl", *files], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    err = p.stderr.decode(errors="replace")
    c.eq("...to stdout: exit 65", p.returncode, 65)
    c.true("...to stdout: said to be cut short, and no summary line", "cut short" in err and
           b'"type":"summary"' not in p.stdout.splitlines()[-1] and b'"xxh128"' in p.stdout.splitlines()[-1], err)


def verify_merged(c, top, arch, merged):
    rc, err = run("verify", "-q", "-o", os.path.join(top, "v.json"), merged)
    c.eq("verify of a merged report: every image unchanged (exit 0)", rc, 0)
    with open(os.path.join(top, "v.json")) as f:
        v = json.load(f)
    c.eq("verify: unchanged", v["summary"]["unchanged"], v["summary"]["listed"])
    # A shard's report verified under its PATH: the other shards' images
    # are not new; a new image is new in its own shard's verify only.
    files = shard_scans(top, arch, 3, "v")
    name = next(n for n in ("new-%d.iso" % i for i in range(100))
                if int(subprocess.run(["xxhsum", "-H3"], input=("cds/" + n).encode(), stdout=subprocess.PIPE,
                                      check=True).stdout.split()[-1], 16) % 3 == 1)
    shutil.copy(os.path.join(arch, "cds", "install-disc.iso"), os.path.join(arch, "cds", name))
    news = []
    for k, f in enumerate(files):
        out = os.path.join(top, "vres-%d.json" % k)
        rc, err = run("verify", "-q", "-o", out, f, arch)
        with open(out) as fh:
            got = json.load(fh)["summary"]
        c.true("verify shard %d: runs" % k, "new" in got, (rc, err, got))
        news.append(got.get("new"))
    os.unlink(os.path.join(arch, "cds", name))
    c.eq("verify of each shard's report under the archive: new only in the new image's shard", news, [0, 1, 0])


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        arch = make_archive(top)
        single_path = os.path.join(top, "single.json")
        rc, err = run("scan", "-q", "-o", single_path, arch)
        single = load(single_path)
        c.true("single scan", rc in (1, 2) and single["summary"]["images"] > 15, err)
        c.true("single scan: a duplicate group across directories", dup_view(single))
        merged = equal_to_single(c, top, arch, single)
        verify_merged(c, top, arch, merged)
        refusals(c, top, arch)
        catalogs(c, top, arch)
        long_duplicates(c, top, streaming(c, top, arch))
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
