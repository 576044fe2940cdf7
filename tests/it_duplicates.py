#!/usr/bin/env python3
"""summary.duplicates (report/SCHEMA.md): images of equal XXH128 and size
are grouped, in a JSON document and in the JSON lines summary alike.

The archive is made here with the real tools: a FAT image (mkfs.vfat)
stored three times (a copy under another name and extension, and a hard
link), a second FAT image of the same size stored twice (another label, so
another content: a second group of that size), a third FAT image of that
size stored once (the same size as both groups: grouping by size would
take it in), an ISO (genisoimage) stored three times (one copy under a
name that is not UTF-8), a distinct image, two empty files (never grouped)
and a symlink (not followed: not grouped; followed: grouped).  Each group
is checked exactly: its paths (and path_b64 for the odd name), its size,
its digest against `xxhsum -H2`, the images' order by index and the
groups' order: largest size first, then by digest (the two groups of
equal size are placed so that their first images' order in the walk is
the opposite of their digests' order).  A --state rescan, whose images are reused from the
catalog, reports the same groups, and one more copy made between the runs
joins its group beside the reused entries."""
import base64
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402


def build(arch, top):
    """The archive; returns {group name: [paths of the copies]}."""
    for d in ("a", "b", "iso", "odd"):
        os.makedirs(os.path.join(arch, d))
    fat = os.path.join(arch, "a", "fat.img")
    itlib.make_fat(fat, 16, "DUPFAT", 16 << 20)
    shutil.copy(fat, os.path.join(arch, "b", "copy-of-fat.ima"))
    os.link(fat, os.path.join(arch, "a", "fat-hardlink.img"))
    os.symlink("fat.img", os.path.join(arch, "a", "link.img"))
    iso = os.path.join(arch, "iso", "disc.iso")
    itlib.make_iso(iso, "DUPISO", itlib.content_dir(top))
    shutil.copy(iso, os.path.join(arch, "iso", "disc-backup.iso"))
    odd = os.path.join(arch.encode(), b"odd", b"disc-\xff.iso")
    shutil.copy(iso, odd)
    itlib.make_fat(os.path.join(arch, "b", "other.img"), 12, "OTHER", 2 << 20)
    itlib.make_fat(os.path.join(arch, "b", "fat-lookalike.img"), 16, "LOOKALIKE", 16 << 20)
    for n in ("empty1.iso", "empty2.img"):
        open(os.path.join(arch, "b", n), "wb").close()
    return {"fat": [fat, os.path.join(arch, "b", "copy-of-fat.ima"), os.path.join(arch, "a", "fat-hardlink.img")],
            "twin": build_twin(arch, fat),
            "iso": [iso, os.path.join(arch, "iso", "disc-backup.iso"), odd]}


def build_twin(arch, fat):
    """A FAT image of fat's size, another content, stored twice; in a
    directory walked before a/ when its digest sorts after fat's, after b/
    otherwise, so that ordering the groups by first index (or walk order)
    instead of by digest fails."""
    tmp = os.path.join(arch, "twin.tmp")
    itlib.make_fat(tmp, 16, "TWIN", 16 << 20)
    twin_dir = os.path.join(arch, "0-twin" if itlib.xxhsum(tmp) > itlib.xxhsum(fat) else "z-twin")
    os.makedirs(twin_dir)
    paths = [os.path.join(twin_dir, "twin.img"), os.path.join(twin_dir, "twin-copy.img")]
    os.rename(tmp, paths[0])
    shutil.copy(paths[0], paths[1])
    return paths


def group_order(want):
    """want's group names in summary.duplicates' order: size descending,
    then digest."""
    return sorted(want, key=lambda n: (-os.path.getsize(want[n][0]), itlib.xxhsum(want[n][0])))


def group_of(rep, path):
    """The group holding the image at path, or None."""
    raw = path if isinstance(path, bytes) else path.encode()
    return next((g for g in rep["summary"]["duplicates"] if any(raw_path(i) == raw for i in g["images"])), None)


def raw_path(entry):
    """The exact bytes of a path as the report holds it."""
    if entry.get("path_lossy"):
        return base64.b64decode(entry["path_b64"])
    return entry["path"].encode()


def run_json(*args):
    p = subprocess.run([itlib.IMGSCAN, "scan", "-q", *[str(a) for a in args]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def scan_json(*args):
    rc, out, err = run_json(*args)
    if rc not in (0, 1):
        print(err)
    return json.loads(out)


def scan_jsonl(*args):
    rc, out, err = run_json("--format", "jsonl", *args)
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def check_groups(c, what, rep, want):
    """rep's summary.duplicates is exactly want's groups, in group_order."""
    dups = rep["summary"]["duplicates"]
    by_index = {i["index"]: i for i in rep["images"]}
    order = group_order(want)
    c.eq(what + ": %d groups" % len(want), len(dups), len(want))
    c.eq(what + ": groups by size descending, then digest", [(g["size"], g["xxh128"]) for g in dups],
         [(os.path.getsize(want[n][0]), itlib.xxhsum(want[n][0])) for n in order])
    for g, name in zip(dups, order):
        paths = want[name]
        raw = [p if isinstance(p, bytes) else p.encode() for p in paths]
        c.eq("%s %s: paths" % (what, name), sorted(raw_path(i) for i in g["images"]), sorted(raw))
        c.eq("%s %s: size" % (what, name), g["size"], os.path.getsize(paths[0]))
        c.eq("%s %s: xxh128 = xxhsum -H2" % (what, name), g["xxh128"], itlib.xxhsum(paths[0]))
        idx = [i["index"] for i in g["images"]]
        c.eq("%s %s: images by index" % (what, name), idx, sorted(idx))
        for i in g["images"]:
            img = by_index.get(i["index"], {})
            same = {k: img.get(k) for k in ("path", "path_b64", "path_lossy") if k in img}
            c.eq("%s %s: index %d is the image's, path in its form" % (what, name, i["index"]),
                 {k: v for k, v in i.items() if k != "index"}, same)
    return dups


def check_left_out(c, what, rep):
    grouped = {raw_path(i) for g in rep["summary"]["duplicates"] for i in g["images"]}
    for n in (b"other.img", b"fat-lookalike.img", b"empty1.iso", b"empty2.img", b"link.img"):
        c.true("%s: %s not grouped" % (what, n.decode()), not any(p.endswith(b"/" + n) for p in grouped))
    empties = [i for i in rep["images"] if i["size"] == 0]
    c.eq(what + ": the empty files are listed (with a digest), just not grouped",
         (len(empties), all(i["hashes"] for i in empties)), (2, True))


def check_forms(c, arch, want):
    rep = scan_json(arch)
    dups = check_groups(c, "JSON", rep, want)
    check_left_out(c, "JSON", rep)
    lines = scan_jsonl(arch)
    c.eq("JSONL: last line is the summary", lines[-1]["type"], "summary")
    c.eq("JSONL summary: the same groups as the JSON document", lines[-1].get("duplicates"), dups)
    followed = scan_json("--follow-symlinks", arch)
    fat = group_of(followed, want["fat"][0]) or {"images": []}
    c.true("--follow-symlinks: the followed link joins its group",
           any(raw_path(i).endswith(b"/a/link.img") for i in fat["images"]), fat)


def check_rescan(c, top, arch, want):
    cat = os.path.join(top, "cat.db")
    time.sleep(2.5)  # files changed within 2 s of their measurement are read again, not reused
    first = scan_json("--state", cat, arch)
    check_groups(c, "--state first run", first, want)
    again = scan_json("--state", cat, arch)
    grouped = {i["index"] for g in again["summary"]["duplicates"] for i in g["images"]}
    reused = {i["index"] for i in again["images"] if i.get("reused")}
    c.true("rescan: every grouped image was reused from the catalog", grouped and grouped <= reused,
           (sorted(grouped), sorted(reused)))
    c.eq("rescan: the same groups", again["summary"]["duplicates"], first["summary"]["duplicates"])
    fresh = os.path.join(arch, "c", "fresh-copy.iso")
    os.makedirs(os.path.dirname(fresh))
    shutil.copy(want["iso"][0], fresh)
    third = scan_json("--state", cat, arch)
    want = dict(want, iso=want["iso"] + [fresh])
    check_groups(c, "rescan with a new copy", third, want)
    iso = (group_of(third, fresh) or {"images": []})["images"]
    status = {raw_path(i): next(m for m in third["images"] if m["index"] == i["index"]).get("reused") for i in iso}
    c.eq("rescan with a new copy: the new copy read, the others reused",
         sorted(status.values()), [False, True, True, True])


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        arch = os.path.join(top, "arch")
        want = build(arch, top)
        check_forms(c, arch, want)
        check_rescan(c, top, arch, want)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
