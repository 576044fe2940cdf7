#!/usr/bin/env python3
"""Sharded scans when one machine sees the archive differently (issue 14,
reviewed): nothing may be lost without the merged report saying so.

Real images (genisoimage ISOs, mkfs.vfat FAT) in six directories, two
shards by path; scans run as nobody (setpriv) so that a mode 000 directory
is a real walk error (root lists it anyway; skipped with 77 when not root).

- One machine cannot list a directory whose path belongs to the other
  shard (an NFS error on that machine only): before, that shard kept quiet
  (its walk error was the other shard's to report, and the other shard had
  none), the files under the directory it should have scanned were in no
  report, and the merge said exit 1.  Now the shard that met the error
  reports it (exit 2, summary.shard.shared_walk_errors 1), and the merged
  report lists it once with exit 2.
- Both machines cannot list it: each shard reports it, the merged report
  lists it once, and equals a single scan (as nobody) in its counts.
- A shard that stopped early (summary.partial) is refused (65) unless
  --allow-partial; then the merged report is partial and its exit status
  the shard's 128 + signal (a forged 200 is not passed on: 2).
- A shard whose machine saw an empty directory at the archive's path (not
  mounted) walked nothing: refused (65).
- Shards given different configuration files under one --config name
  (run.options.config_xxh128, equal to xxhsum -H2 of the file) are
  refused (65)."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from it_shard import refused  # noqa: E402

NOBODY = 65534
AS_NOBODY = ("setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups")
HERE = os.path.dirname(os.path.abspath(__file__))


def run(*args, nobody=False):
    p = subprocess.run([*(AS_NOBODY if nobody else ()), itlib.IMGSCAN, *[str(a) for a in args]],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stderr.decode(errors="replace")


def load(path):
    with open(path) as f:
        return json.load(f)


def shard_of(rel, n):
    out = subprocess.run(["xxhsum", "-H3"], input=rel.encode(), stdout=subprocess.PIPE, check=True).stdout
    return int(out.split()[-1], 16) % n


def make_archive(top):
    src = os.path.join(top, "src")
    os.makedirs(src)
    iso = os.path.join(src, "disc.iso")
    itlib.make_iso(iso, "SHARD", itlib.content_dir(src, nbytes=20000))
    fat = os.path.join(src, "fat.img")
    itlib.make_fat(fat, 12, "SHARD", 2 << 20)
    arch = os.path.join(top, "arch")
    for d in range(6):
        os.makedirs(os.path.join(arch, "vault%d" % d))
        for i in range(3):
            shutil.copy(iso if i % 2 else fat, os.path.join(arch, "vault%d" % d, "img%d.%s" % (i, "iso" if i % 2
                                                                                              else "img")))
    return arch


def scan_shards(out, arch, name, locked_in=(), extra=()):
    """Shards 0 and 1 of 2, as nobody; the directories in locked_in[k] are
    mode 000 while shard k walks."""
    files = []
    for k in range(2):
        for d in locked_in[k] if locked_in else ():
            os.chmod(d, 0)
        f = os.path.join(out, "%s-%d.json" % (name, k))
        rc, err = run("scan", "-q", "--shard", "%d/2" % k, *extra, "-o", f, arch, nobody=True)
        for d in locked_in[k] if locked_in else ():
            os.chmod(d, 0o755)
        assert rc in (0, 1, 2), (rc, err)
        files.append(f)
    return files


def skipped_errors(rep):
    return [s["path"] for s in rep["skipped"] if s["reason"] == "error"]


def one_machine_error(c, out, arch, locked):
    files = scan_shards(out, arch, "one", locked_in=([locked], []))
    s0 = load(files[0])
    c.eq("one machine: its shard reports the walk error it met", skipped_errors(s0), [locked])
    c.eq("one machine: counted as shared", s0["summary"]["shard"].get("shared_walk_errors"), 1)
    c.eq("one machine: its shard's exit status 2", s0["summary"]["exit_status"], 2)
    merged = os.path.join(out, "one-merged.json")
    rc, err = run("merge", "-q", "-o", merged, *files)
    m = load(merged)
    c.eq("one machine: merged exit status 2", rc, 2)
    c.eq("one machine: merged walk_errors", m["summary"]["walk_errors"], 1)
    c.eq("one machine: the walk error listed once", skipped_errors(m), [locked])


def both_machines_error(c, out, arch, locked):
    single = os.path.join(out, "single.json")
    os.chmod(locked, 0)
    rc, err = run("scan", "-q", "-o", single, arch, nobody=True)
    os.chmod(locked, 0o755)
    c.eq("single scan with the directory unlistable: exit 2", rc, 2)
    files = scan_shards(out, arch, "both", locked_in=([locked], [locked]))
    merged = os.path.join(out, "both-merged.json")
    rc, err = run("merge", "-q", "-o", merged, *files)
    m, s = load(merged), load(single)
    c.eq("both machines: merged exit status 2", rc, 2)
    c.eq("both machines: listed once", skipped_errors(m), skipped_errors(s))
    for key in ("entries", "images", "walk_errors", "findings", "exit_status"):
        c.eq("both machines: summary.%s as a single scan's" % key, m["summary"][key], s["summary"][key])
    c.eq("both machines: the same images", sorted(i["path"] for i in m["images"]),
         sorted(i["path"] for i in s["images"]))


def partial_shard(c, out, files):
    rep = load(files[1])
    rep["summary"].update(partial=True, stopped_by="SIGTERM", exit_status=143)
    stopped = os.path.join(out, "stopped.json")
    with open(stopped, "w") as f:
        json.dump(rep, f)
    target = os.path.join(out, "partial-merged.json")
    refused(c, "a shard stopped early", ["-o", target, files[0], stopped], "stopped early")
    rc, err = run("merge", "-q", "--allow-partial", "-o", target, files[0], stopped)
    c.eq("--allow-partial: the shard's 128 + signal", rc, 143)
    c.eq("--allow-partial: partial", load(target)["summary"]["partial"], True)
    rep["summary"]["exit_status"] = 200
    with open(stopped, "w") as f:
        json.dump(rep, f)
    rc, err = run("merge", "-q", "--allow-partial", "-o", target, files[0], stopped)
    c.eq("--allow-partial: a forged status 200 is not passed on", rc, 2)


def unmounted(c, out, arch, files):
    away = arch + ".away"
    os.rename(arch, away)
    os.mkdir(arch)
    try:
        f = os.path.join(out, "empty-1.json")
        rc, err = run("scan", "-q", "--shard", "1/2", "-o", f, arch, nobody=True)
        c.eq("an empty archive directory: scanned, nothing walked", load(f)["summary"]["shard"]["walked"], 0)
    finally:
        os.rmdir(arch)
        os.rename(away, arch)
    refused(c, "a shard that walked nothing", ["-o", os.path.join(out, "e.json"), files[0], f], "walked no entry")


def other_config(c, out, arch):
    cfg = os.path.join(out, "site.json")
    shutil.copy(os.path.join(HERE, "..", "config", "defaults.json"), cfg)
    os.chmod(cfg, 0o644)
    f0 = scan_shards(out, arch, "cfg", extra=("--config", cfg))[0]
    c.eq("run.options.config_xxh128 is xxhsum -H2 of the file", load(f0)["run"]["options"]["config_xxh128"],
         itlib.xxhsum(cfg))
    with open(cfg) as f:
        text = json.load(f)
    text["image_extensions"] = text.get("image_extensions", []) + ["xyz"]
    with open(cfg, "w") as f:
        json.dump(text, f)
    f1 = scan_shards(out, arch, "cfg2", extra=("--config", cfg))[1]
    refused(c, "another configuration under one name", ["-o", os.path.join(out, "c.json"), f0, f1],
            "run.options.config_xxh128")


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        if os.geteuid() != 0:
            print("it_shard_faults: skipped: a mode 000 directory is a walk error only for a user other than root, "
                  "and only root can run imgscan as one (setpriv)")
            sys.exit(77)
        itlib.skip_without(("genisoimage", "mkfs.vfat", "setpriv", "xxhsum"), top)
        os.chmod(top, 0o755)
        os.mkdir(os.path.join(top, "bin"))
        itlib.IMGSCAN = itlib.copy_imgscan(os.path.join(top, "bin", "imgscan"))  # the build tree may be closed to nobody
        arch = make_archive(top)
        out = os.path.join(top, "out")
        os.mkdir(out)
        os.chown(out, NOBODY, NOBODY)
        # a directory shard 1 takes, which shard 0's machine cannot list
        locked = next(os.path.join(arch, d) for d in sorted(os.listdir(arch)) if shard_of(d, 2) == 1)
        one_machine_error(c, out, arch, locked)
        both_machines_error(c, out, arch, locked)
        files = scan_shards(out, arch, "plain")
        partial_shard(c, out, files)
        unmounted(c, out, arch, files)
        other_config(c, out, arch)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
