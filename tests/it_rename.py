#!/usr/bin/env python3
"""imgscan rename: a report's suggested names given, journaled, undone.

A tree of real images (genisoimage, mkfs.vfat, a raw CD framed from an ISO
with a .cue sheet, checksum sidecars written by md5sum and xxhsum, a name
that is not UTF-8, a clean ISO) is scanned; the dry run changes nothing
and prints the plan (JSON and JSON lines reports alike); --only limits it;
an --evidence report is refused (2, nothing touched). After the scan: a
target is taken, one image touched, one replaced by another inode, one
rewritten in place with its mtime put back (only --verify sees it), one
replaced by a symlink to a file outside the tree and one directory by a
symlink to a directory outside (same inode: only the roots check stops
it). --apply --verify renames the rest (from another working directory),
digests equal xxhsum's before, sidecars moved with the name inside
rewritten, the cue sheet rewritten; every rename preceded by an fsynced
intent (strace, where present); --suffix gives "t (2).iso". --undo of both
journals restores the tree exactly (names, inodes, sizes, mtimes, digests;
rewritten files by content, mode and mtime). A journal cut after the intent
of the second rename, with that rename done and not done: undo puts the
tree back either way. Exit statuses 0, 1, 2, 64."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

BADNAME = b"\xff\xfename.img"


def run(*args, cwd=None, prefix=()):
    p = subprocess.run([*prefix, itlib.IMGSCAN, *[a if isinstance(a, bytes) else str(a) for a in args]],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def xxh(path):
    """xxhsum -H2 of path (str or bytes)."""
    return subprocess.run(["xxhsum", "-H2", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          check=True).stdout.split()[0].decode()


def listing(root):
    """Every entry under root (bytes paths): type, inode, size, mtime, mode,
    and a regular file's XXH128 and content when small."""
    out = {}
    root = os.fsencode(root)
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            e = {"mode": st.st_mode, "ino": st.st_ino, "size": st.st_size, "mtime": st.st_mtime_ns}
            if os.path.isfile(p) and not os.path.islink(p):
                e["xxh"] = xxh(p)
            if os.path.islink(p):
                e["link"] = os.readlink(p)
            out[os.path.relpath(p, root)] = e
    return out


def comparable(lst, names):
    """Rewritten files get a new inode: compare them by the rest; a rename
    sets its directory's mtime (not put back: that would be a write)."""
    return {k: {f: v for f, v in e.items() if not (f == "ino" and k.endswith(names)) and
                not (f == "mtime" and stat.S_ISDIR(e["mode"]))} for k, e in lst.items()}


def journals(top):
    return sorted(n for n in os.listdir(top) if ".rename-journal-" in n and ".undo-" not in n)


def build_tree(top, tree, outside):
    src = itlib.content_dir(top, nbytes=20_000)
    for d in "abcdefghijk":
        os.makedirs(os.path.join(tree, d))
    itlib.make_iso(os.path.join(tree, "a", "disc.img"), "DISC", src)
    for tool, ext in (("md5sum", "md5"), ("xxhsum", "xxh128")):
        with open(os.path.join(tree, "a", "disc.img." + ext), "wb") as f:
            subprocess.run([tool, "disc.img"], cwd=os.path.join(tree, "a"), stdout=f, stderr=subprocess.DEVNULL,
                           check=True)
    # made from the directory above: the name inside is a path, "a/disc.img"
    with open(os.path.join(tree, "a", "disc.img.sha256"), "wb") as f:
        subprocess.run(["sha256sum", "--tag", "a/disc.img"], cwd=tree, stdout=f, check=True)
    itlib.make_fat(os.path.join(tree, "b", "floppy.iso"), 12, "FLOPPY", 1474560)
    iso = os.path.join(top, "for-raw.iso")
    itlib.make_iso(iso, "RAWCD", src)
    itlib.frame_raw_cd(iso, os.path.join(tree, "c", "game.iso"))
    with open(os.path.join(tree, "c", "game.cue"), "w") as f:
        f.write('FILE "game.iso" BINARY\r\n  TRACK 01 MODE1/2352\r\n    INDEX 01 00:00:00\r\n')
    os.chmod(os.path.join(tree, "c", "game.cue"), 0o640)
    itlib.make_iso(os.path.join(tree, "d", "clean.iso"), "CLEAN", src)
    itlib.make_iso(os.fsdecode(os.path.join(os.fsencode(tree), b"e", BADNAME)), "BAD", src)
    for name in ("f/t.img", "g/touched.img", "g/replaced.img", "h/same.img", "i/link.img", "j/dirimg.img"):
        itlib.make_iso(os.path.join(tree, name), "X", src)
    for n in ("one", "two", "three"):
        itlib.make_iso(os.path.join(tree, "k", n + ".img"), "K", src)
    os.makedirs(outside)
    itlib.make_iso(os.path.join(outside, "link.img"), "OUT", src)


def check_dry_runs(c, top, tree):
    before = listing(tree)
    rc, out, err = run("rename", "rep.json", cwd=top)
    c.eq("dry run: exit 0", rc, 0)
    for line in ("would rename: tree/a/disc.img -> tree/a/disc.iso (ISO_MISNAMED)",
                 "would rename: tree/b/floppy.iso -> tree/b/floppy.img (DISK_NAMED_OPTICAL)",
                 "would rename: tree/c/game.iso -> tree/c/game.bin (RAWCD_NAMED_ISO)",
                 "would rename: tree/e/\\xff\\xfename.img -> tree/e/\\xff\\xfename.iso (ISO_MISNAMED)",
                 "  and its sidecar: tree/a/disc.img.md5 -> tree/a/disc.iso.md5 (the name inside too)",
                 "  and its cue sheet: tree/c/game.cue (FILE names the new name)"):
        c.true("dry run says: " + line, line in out.splitlines(), out)
    c.true("dry run: the clean image is not named", "clean" not in out, out)
    c.eq("dry run: tree unchanged", listing(tree), before)
    c.eq("dry run: no journal", journals(top), [])
    rc2, out2, _ = run("rename", "rep.jsonl", cwd=top)
    # Report order is the order images finished: compare the lines.
    c.eq("dry run of the JSON lines report: the same plan", (rc2, sorted(out2.splitlines())),
         (rc, sorted(out.splitlines())))
    rc, out, _ = run("rename", "--only", "DISK_NAMED_OPTICAL,RAWCD_NAMED_ISO", "rep.json", cwd=top)
    c.eq("--only: exit 0", rc, 0)
    c.eq("--only: two images", sorted(l.split(" -> ")[0] for l in out.splitlines() if l.startswith("would")),
         ["would rename: tree/b/floppy.iso", "would rename: tree/c/game.iso"])
    c.eq("--only BOGUS: usage error", run("rename", "--only", "BOGUS", "rep.json", cwd=top)[0], 64)
    c.eq("no report: usage error", run("rename", cwd=top)[0], 64)
    c.eq("unknown option: usage error", run("rename", "--frob", "rep.json", cwd=top)[0], 64)
    rc, out, _ = run("rename", "--help")
    c.true("--help", rc == 0 and "--undo" in out and "--suffix" in out and "--verify" in out, out)
    rc, _, err = run("scan", "-q", "--evidence", "-o", "ev.json", "tree", cwd=top)
    with open(os.path.join(top, "ev.json")) as f:
        c.eq("--evidence recorded", json.load(f)["run"]["options"]["evidence"], True)
    rc, out, err = run("rename", "--apply", "ev.json", cwd=top)
    c.eq("evidence report refused: exit 2", rc, 2)
    c.true("evidence report refused: said so", "evidence" in err and not out, err)
    c.eq("evidence report refused: nothing touched", listing(tree), before)
    c.eq("evidence report refused: no journal", [n for n in os.listdir(top) if "journal" in n], [])


def change_after_scan(tree, outside):
    with open(os.path.join(tree, "f", "t.iso"), "w") as f:
        f.write("already here\n")
    os.utime(os.path.join(tree, "g", "touched.img"))
    shutil.copy(os.path.join(tree, "g", "replaced.img"), os.path.join(tree, "g", "replaced.new"))
    os.rename(os.path.join(tree, "g", "replaced.new"), os.path.join(tree, "g", "replaced.img"))
    p = os.path.join(tree, "h", "same.img")
    st = os.stat(p)
    with open(p, "r+b") as f:
        f.seek(40000)
        f.write(b"changed bytes, same size")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.unlink(os.path.join(tree, "i", "link.img"))
    os.symlink(os.path.join(outside, "link.img"), os.path.join(tree, "i", "link.img"))
    os.rename(os.path.join(tree, "j"), os.path.join(outside, "j"))
    os.symlink(os.path.join(outside, "j"), os.path.join(tree, "j"))


def check_apply(c, top, tree, outside, digests):
    before_out = listing(outside)
    rc, out, _ = run("rename", "--verify", "rep.json", cwd=top)
    c.true("--verify dry run: the rewritten image is skipped",
           re.search(r"skipped: tree/h/same.img .*XXH128 changed", out), out)
    strace = ("strace", "-f", "-e", "trace=fsync,renameat2", "-o", os.path.join(top, "strace.txt")) \
        if shutil.which("strace") else ()
    rc, out, err = run("rename", "--apply", "--verify", os.path.join(top, "rep.json"), cwd="/", prefix=strace)
    c.eq("apply: exit 1 (some skipped)", rc, 1)
    for pat in (r"skipped: tree/f/t.img .*tree/f/t.iso exists", r"skipped: tree/g/touched.img .*mtime changed",
                r"skipped: tree/g/replaced.img .*another file", r"skipped: tree/h/same.img .*XXH128 changed",
                r"skipped: tree/i/link.img .*symlink", r"skipped: tree/j/dirimg.img .*not under the scanned roots",
                r"renamed: tree/a/disc.img -> tree/a/disc.iso \(ISO_MISNAMED\)"):
        c.true("apply says " + pat, re.search(pat, out), out)
    for old, new in (("a/disc.img", "a/disc.iso"), ("b/floppy.iso", "b/floppy.img"), ("c/game.iso", "c/game.bin"),
                     ("k/one.img", "k/one.iso")):
        c.true("renamed " + old, not os.path.exists(os.path.join(tree, old)) and os.path.exists(os.path.join(tree, new)))
        c.eq("digest of " + new + " unchanged", itlib.xxhsum(os.path.join(tree, new)), digests[old])
    e = os.path.join(os.fsencode(tree), b"e")
    c.eq("the name that is not UTF-8 renamed exactly", os.listdir(e), [b"\xff\xfename.iso"])
    with open(os.path.join(tree, "a", "disc.iso.md5")) as f:
        c.true("md5 sidecar moved, names the new name", f.read().endswith("  disc.iso\n"))
    with open(os.path.join(tree, "a", "disc.iso.xxh128")) as f:
        c.true("xxh128 sidecar moved, names the new name", f.read().endswith("  disc.iso\n"))
    c.eq("md5sum -c on the moved sidecar", itlib.sh("md5sum", "-c", "disc.iso.md5", cwd=os.path.join(tree, "a"),
                                                   check=False).returncode, 0)
    with open(os.path.join(tree, "a", "disc.iso.sha256")) as f:
        c.true("a BSD-tag sidecar naming a/disc.img: the file name in the path rewritten",
               f.read().startswith("SHA256 (a/disc.iso) = "))
    c.eq("sha256sum -c on it, from the directory above", itlib.sh("sha256sum", "-c", "a/disc.iso.sha256", cwd=tree,
                                                                 check=False).returncode, 0)
    with open(os.path.join(tree, "c", "game.cue"), "rb") as f:
        c.eq("cue sheet rewritten", f.read(), b'FILE "game.bin" BINARY\r\n  TRACK 01 MODE1/2352\r\n    INDEX 01 00:00:00\r\n')
    c.eq("cue sheet keeps its mode", os.stat(os.path.join(tree, "c", "game.cue")).st_mode & 0o777, 0o640)
    c.true("skipped files left alone", os.path.exists(os.path.join(tree, "f", "t.img")) and
           os.path.exists(os.path.join(tree, "h", "same.img")) and os.path.islink(os.path.join(tree, "i", "link.img")))
    c.eq("nothing outside the tree touched", listing(outside), before_out)
    js = journals(top)
    c.eq("one journal beside the report", len(js), 1)
    recs = [json.loads(line) for line in open(os.path.join(top, js[0]), "rb").read().decode().splitlines()]
    intents = [r for r in recs if r.get("state") == "intent"]
    dones = {r["seq"] for r in recs if r.get("state") == "done"}
    c.true("journal: every intent done", intents and all(r["seq"] in dones for r in intents))
    c.true("journal: rename records carry stamps and digest",
           all(k in r for r in intents if r["action"] == "rename"
               for k in ("old_path", "new_path", "device", "inode", "size", "mtime", "xxh128", "time", "code")))
    c.true("journal: the name that is not UTF-8 exact in old_b64",
           any(r.get("old_b64") == "//5uYW1lLmltZw==" for r in intents), intents)
    c.true("journal: the cue's old content", any(r.get("content_old", "").startswith('FILE "game.iso"') for r in intents))
    if strace:
        calls = [l for l in open(os.path.join(top, "strace.txt")) if "fsync(" in l or "renameat2(" in l]
        renames = [i for i, l in enumerate(calls) if "RENAME_NOREPLACE" in l]
        c.true("strace: every rename follows an fsync", renames and all(i > 0 and "fsync(" in calls[i - 1]
                                                                        for i in renames), calls)
    rc, out, _ = run("rename", "--apply", "--suffix", "--only", "ISO_MISNAMED", "rep.json", cwd=top)
    c.true("--suffix: t (2).iso", rc == 1 and "renamed: tree/f/t.img -> tree/f/t (2).iso (ISO_MISNAMED)" in out, out)
    c.true("--suffix: a renamed image is gone now", re.search(r"skipped: tree/a/disc.img .*gone", out), out)
    return js[0]


def check_undo(c, top, tree, changed, first):
    second = [j for j in journals(top) if j != first][0]
    rc, out, _ = run("rename", "--undo", second, cwd=top)
    c.true("undo dry run: exit 0, nothing changed", rc == 0 and "would undo: " in out and
           os.path.exists(os.path.join(tree, "f", "t (2).iso")), out)
    for j in (second, first):
        rc, out, err = run("rename", "--undo", "--apply", j, cwd=top)
        c.eq("undo of " + j + ": exit 0", rc, 0)
    after = listing(tree)
    names = (b".cue", b".md5", b".xxh128", b".sha256")
    c.eq("undo: the tree is as it was (names, inodes, sizes, file mtimes, digests)",
         comparable(after, names), comparable(changed, names))
    c.true("undo journals written", len([n for n in os.listdir(top) if ".undo-journal-" in n]) == 2)


def check_crash(c, top, tree):
    k = os.path.join(tree, "k")
    rc, _, _ = run("scan", "-q", "-o", "k.json", "tree/k", cwd=top)
    orig = listing(k)
    for done in (True, False):
        rc, out, err = run("rename", "--apply", "--journal", "crash.jsonl", "k.json", cwd=top)
        c.eq("crash run: exit 0", rc, 0)
        path = os.path.join(top, "crash.jsonl")
        lines = open(path, "rb").read().splitlines(keepends=True)
        recs = [json.loads(line) for line in lines]
        cut = next(i for i, r in enumerate(recs) if r.get("seq") == 2 and r["state"] == "intent")
        # Put back what the crash would not have done: steps after the cut,
        # and (not done) the second rename itself.
        for r in reversed(recs[cut + 1:] if done else recs[cut:]):
            if r.get("state") == "intent":
                os.rename(r["new_path"], r["old_path"])
        with open(path, "wb") as f:
            f.write(b"".join(lines[:cut + 1]))
        rc, out, err = run("rename", "--undo", "--apply", "--journal", "crash-undo.jsonl", "crash.jsonl", cwd=top)
        c.eq("journal cut after an intent (rename %s): undo exit 0" % ("done" if done else "not done"), rc, 0)
        c.true("... the cut step said as %s" % ("undone" if done else "not done"),
               ("not done: " in out) != done, out)
        c.eq("... the tree is as it was", listing(k), orig)
        os.unlink(path)
        os.unlink(os.path.join(top, "crash-undo.jsonl"))


def run_bounded(*args, cwd=None):
    """run(), but a hang is an answer: (None, "", "timed out")."""
    try:
        p = subprocess.run([itlib.IMGSCAN, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=cwd, timeout=20)
    except subprocess.TimeoutExpired:
        return None, "", "timed out"
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def fifo_writer(path):
    """A writer blocked opening the FIFO at path: its event is set once a
    reader opened it (which a FIFO's writer sees as an act)."""
    opened, fds = threading.Event(), []

    def wait():
        fds.append(os.open(path, os.O_WRONLY))
        opened.set()
    t = threading.Thread(target=wait, daemon=True)
    t.start()
    return opened, fds, t


def fifo_release(path, fds, t):
    r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    t.join(5)
    for fd in fds + [r]:
        os.close(fd)


def check_hostile(c, top):
    """A journal that cannot be created, a FIFO named like a cue sheet, a
    report suggesting the name a file has, journals edited by hand."""
    base = os.path.join(top, "hostile")
    tree, victim = os.path.join(base, "tree"), os.path.join(base, "victim")
    os.makedirs(os.path.join(tree, "a"))
    os.makedirs(victim)
    itlib.make_iso(os.path.join(tree, "a", "disc.img"), "DISC", itlib.content_dir(base, nbytes=5000))
    os.mkfifo(os.path.join(tree, "a", "pipe.cue"))
    with open(os.path.join(tree, "a", "disc.img.md5"), "wb") as f:
        subprocess.run(["md5sum", "disc.img"], cwd=os.path.join(tree, "a"), stdout=f, check=True)
    run("scan", "-q", "-o", "rep.json", "tree", cwd=base)
    with open(os.path.join(base, "taken.jsonl"), "w") as f:
        f.write("not a journal\n")
    before = listing(tree)
    for extra in ((), ("--suffix",)):
        rc, out, err = run_bounded("rename", "--apply", *extra, "--journal", "taken.jsonl", "rep.json", cwd=base)
        c.eq("journal name taken%s: exit 2, no hang" % (" (--suffix)" if extra else ""),
             (rc, "cannot create the journal" in err),
             (2, True))
        c.true("... said so, nothing renamed", "not renamed: the journal could not be written" in out and
               listing(tree) == before, out + err)
    c.eq("... the file at the journal's name kept", open(os.path.join(base, "taken.jsonl")).read(), "not a journal\n")

    with open(os.path.join(base, "rep.json")) as f:
        rep = json.load(f)
    for img in rep["images"]:
        for fnd in img.get("findings", []):
            if "suggested_name" in fnd:
                fnd["suggested_name"] = os.path.basename(img["path"])
    with open(os.path.join(base, "same.json"), "w") as f:
        json.dump(rep, f)
    rc, out, _ = run("rename", "--suffix", "same.json", cwd=base)
    c.true("suggested name = its name, --suffix: skipped, not 'disc (2).img'",
           rc == 1 and "already has the suggested name" in out and listing(tree) == before, out)

    fifo = os.path.join(tree, "a", "pipe.cue")
    opened, fds, t = fifo_writer(fifo)
    rc, out, err = run("rename", "--apply", "--journal", "j.jsonl", "rep.json", cwd=base)
    c.eq("a FIFO named *.cue beside the image: renamed, exit 0", rc, 0)
    c.true("... the FIFO never opened (its writer still waits)", not opened.wait(0.5))
    fifo_release(fifo, fds, t)

    # Journals edited by hand: steps outside the roots (through "..", or an
    # absolute path elsewhere), a rewrite of a file that is no sidecar.
    lines = open(os.path.join(base, "j.jsonl")).read().splitlines()
    head = json.loads(lines[0])
    c.eq("journal header: the scan's roots", head.get("roots"), [os.path.realpath(tree)])
    for name in ("passwd", "passwd.md5", "moved"):
        with open(os.path.join(victim, name), "w") as f:
            f.write("secret\n")
    st = os.stat(os.path.join(victim, "moved"))
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(st.st_mtime_ns // 10**9)) + \
        ".%09dZ" % (st.st_mtime_ns % 10**9)
    steps = []
    for d in (os.path.join(tree, "..", "victim"), victim):
        for name in ("passwd", "passwd.md5"):
            steps.append({"action": "rewrite", "dir": d, "name": name, "content_old": "owned\n",
                          "content_new": "secret\n", "mtime": when})
        steps.append({"action": "rename", "dir": d, "old": "gone", "new": "moved", "device": st.st_dev,
                      "inode": st.st_ino, "size": st.st_size, "mtime": when})
    for i, step in enumerate(steps):
        evil = [json.dumps(head), json.dumps({"seq": 1, "state": "intent", **step}),
                json.dumps({"seq": 1, "state": "done"})]
        with open(os.path.join(base, "evil.jsonl"), "w") as f:
            f.write("\n".join(evil) + "\n")
        rc, out, _ = run("rename", "--undo", "--apply", "--journal", "evil-undo-%d.jsonl" % i, "evil.jsonl", cwd=base)
        c.true("edited journal, %s in %s: left alone" % (step.get("name", "rename"), step["dir"]),
               rc == 1 and "left alone" in out and
               all(open(os.path.join(victim, n)).read() == "secret\n" for n in ("passwd", "passwd.md5", "moved")),
               out)
    with open(os.path.join(base, "noroots.jsonl"), "w") as f:
        f.write("\n".join([json.dumps({k: v for k, v in head.items() if k != "roots"})] + lines[1:]) + "\n")
    rc, out, err = run("rename", "--undo", "--apply", "noroots.jsonl", cwd=base)
    c.true("journal without roots: refused, exit 2, nothing undone",
           rc == 2 and "roots" in err and os.path.exists(os.path.join(tree, "a", "disc.iso")), err)
    rc, out, err = run("rename", "--undo", "--apply", "--journal", "u.jsonl", "j.jsonl", cwd=base)
    c.true("the real journal undone", rc == 0 and os.path.exists(os.path.join(tree, "a", "disc.img")), out + err)
    # Its journal renames the sidecar back, then restores its content (a
    # new inode): undoing it must find that file for the rename.
    rc, out, err = run("rename", "--undo", "--apply", "--journal", "uu.jsonl", "u.jsonl", cwd=base)
    with open(os.path.join(tree, "a", "disc.iso.md5")) if os.path.exists(os.path.join(tree, "a", "disc.iso.md5")) \
            else open(os.devnull) as f:
        c.true("the undo undone: image and sidecar renamed again, the name inside too",
               rc == 0 and sorted(os.listdir(os.path.join(tree, "a"))) == ["disc.iso", "disc.iso.md5", "pipe.cue"]
               and f.read().endswith("  disc.iso\n"), out + err)


def main():
    top = itlib.setup()
    itlib.skip_without(["genisoimage", "mkfs.vfat", "xxhsum", "md5sum"], top)
    c = itlib.Checker()
    tree, outside = os.path.join(top, "tree"), os.path.join(top, "outside")
    build_tree(top, tree, outside)
    digests = {n: itlib.xxhsum(os.path.join(tree, n)) for n in ("a/disc.img", "b/floppy.iso", "c/game.iso", "k/one.img")}
    rc, _, err = run("scan", "-q", "-o", "rep.json", "tree", cwd=top)
    c.eq("scan: exit 1 (findings)", rc, 1)
    run("scan", "-q", "--format", "jsonl", "-o", "rep.jsonl", "tree", cwd=top)
    with open(os.path.join(top, "rep.json")) as f:
        rep = json.load(f)
    img = itlib.by_name(rep, "disc.img")
    st = os.stat(os.path.join(tree, "a", "disc.img"))
    c.eq("report: device and inode", (img["device"], img["inode"]), (st.st_dev, st.st_ino))
    c.eq("report: run.roots", rep["run"]["roots"], [os.path.realpath(tree)])
    check_dry_runs(c, top, tree)
    change_after_scan(tree, outside)
    changed = listing(tree)
    first = check_apply(c, top, tree, outside, digests)
    check_undo(c, top, tree, changed, first)
    check_crash(c, top, tree)
    check_hostile(c, top)
    check_swap_at_the_rename(c, top)
    shutil.rmtree(top)
    c.done()


def check_swap_at_the_rename(c, top):
    """Another entry (here a FIFO) takes the image's place in the instant
    between the checks and the rename: imgscan-testhooks makes that instant
    (IMGSCAN_TEST_SWAP_BEFORE_RENAME). What got the new name is not the
    file checked: it goes back, the image is skipped, the journal says so."""
    hooks = os.path.join(os.path.dirname(os.path.abspath(itlib.IMGSCAN)), "imgscan-testhooks")
    if not os.access(hooks, os.X_OK):
        c.true("imgscan-testhooks is built beside imgscan", False, hooks)
        return
    work = os.path.join(top, "swap")
    d = os.path.join(work, "d")
    os.makedirs(d)
    itlib.make_iso(os.path.join(d, "disc.img"), "SWAP", itlib.content_dir(work, nbytes=10_000))
    want = xxh(os.path.join(d, "disc.img"))
    itlib.scan("-q", "-o", os.path.join(work, "rep.json"), d)
    os.mkfifo(os.path.join(d, "intruder"))
    env = dict(os.environ, IMGSCAN_TEST_SWAP_BEFORE_RENAME="intruder")
    p = subprocess.run([hooks, "rename", "--apply", "rep.json"], cwd=work, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode(errors="replace")
    c.eq("swapped at the rename: exit 1 (skipped)", p.returncode, 1)
    c.true("... said so", "put back, not renamed" in out, out)
    c.true("... the intruder is back at the old name, nothing has the new one",
           stat.S_ISFIFO(os.lstat(os.path.join(d, "disc.img")).st_mode) and not os.path.lexists(os.path.join(d, "disc.iso")),
           sorted(os.listdir(d)))
    c.eq("... the image itself untouched where the swap put it", xxh(os.path.join(d, "intruder.held")), want)
    recs = [json.loads(l) for j in journals(work) for l in open(os.path.join(work, j))]
    c.true("... the journal: the rename failed, put back",
           any(r.get("state") == "failed" and "put back" in r.get("error", "") for r in recs), recs)
    # The shipped imgscan has no such hook: the same run renames.
    os.unlink(os.path.join(d, "disc.img"))
    os.rename(os.path.join(d, "intruder.held"), os.path.join(d, "disc.img"))
    os.utime(os.path.join(d, "disc.img"), ns=(0, 0))  # a stamp the report does not have: rescan
    itlib.scan("-q", "-o", os.path.join(work, "rep2.json"), d)
    os.mkfifo(os.path.join(d, "intruder"))
    p = subprocess.run([itlib.IMGSCAN, "rename", "--apply", "rep2.json"], cwd=work, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    c.true("the shipped imgscan ignores the hook", p.returncode == 0 and os.path.exists(os.path.join(d, "disc.iso")),
           (p.returncode, p.stdout, p.stderr))


if __name__ == "__main__":
    main()
