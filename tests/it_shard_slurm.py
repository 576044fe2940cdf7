#!/usr/bin/env python3
"""Sharded scans on a real Slurm cluster: deploy/slurm as a site would run it.

A one-node Slurm cluster (Debian's slurm-wlm and munge, started by
tests/slurm_cluster.py in a temporary directory) runs deploy/slurm/submit.sh
with N=3 on an archive of 15 real images made at test time (tests/shardlib.py:
ISO, UDF, FAT, ext, MBR, qcow2; a misnamed image, a duplicate, a symlink):
a job array of 3 shards (imgscan-shard.sbatch, which must turn the findings'
exit status 1 into 0 for afterok) and the merge (imgscan-merge.sbatch) after
it.  The merged report must hold what a single machine's scan does: the same
images by path, digests, kinds, finding codes, summary counts and duplicate
groups; each shard report says which shard it is.  Then two more runs: a
shard with an error (imgscan's 2, its report written) still lets the merge
run (its report says 2); shards that fail (a usage error, 64) leave the
merge CANCELLED, not pending for ever.

Skipped (77, saying why) where the cluster cannot start, or while the binary
has no --shard or merge."""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
import shardlib  # noqa: E402
import slurm_cluster  # noqa: E402

N = 3


def logs(out):
    d = os.path.join(out, "logs")
    text = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, name), errors="replace") as f:
            text.append("--- %s\n%s" % (name, f.read()))
    return "\n".join(text)


def submit(cl, top, arch, out, **env):
    """deploy/slurm/submit.sh ARCHIVE OUT N: (array job id, merge job id)."""
    # The caller's IMGSCAN_* settings stay out of the jobs (the cluster's mark goes in).
    env = dict({k: v for k, v in cl.env.items() if not k.startswith("IMGSCAN_") or k == slurm_cluster.MARK},
               IMGSCAN=itlib.IMGSCAN, **env)
    p = subprocess.run(["bash", os.path.join(shardlib.DEPLOY, "slurm", "submit.sh"), arch, out, str(N)],
                       env=env, cwd=top, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    print(p.stdout.strip())
    if p.returncode:
        raise AssertionError("submit.sh exited %d: %s%s" % (p.returncode, p.stdout, p.stderr))
    return re.search(r"shards job (\d+)", p.stdout).group(1), re.search(r"merge job (\d+)", p.stdout).group(1)


def run_failing(c, cl, top, arch):
    """Shards that fail (a usage error, 64): the merge is cancelled, not left
    pending for ever (--kill-on-invalid-dep)."""
    out = os.path.join(top, "out-failing")
    array, merge = submit(cl, top, arch, out, IMGSCAN_ARGS="--no-such-option")
    states = cl.wait_jobs([array, merge], timeout=120)
    want = {"%s_%d" % (array, k): "FAILED" for k in range(N)}
    want[merge] = "CANCELLED"
    c.eq("failing shards: the tasks FAILED, the merge CANCELLED", states, want)
    c.true("failing shards: no merged report", not os.path.exists(os.path.join(out, "merged.json")))


def run_with_errors(c, cl, top, arch):
    """A shard whose imgscan exits 2 with its report written (one more PATH,
    that does not exist: a walk error) has done its part: every task
    COMPLETED, the merge runs and its report says 2."""
    out = os.path.join(top, "out-errors")
    array, merge = submit(cl, top, arch, out, IMGSCAN_ARGS=os.path.join(top, "no-such-dir"))
    states = cl.wait_jobs([array, merge], timeout=300)
    want = {"%s_%d" % (array, k): "COMPLETED" for k in range(N)}
    want[merge] = "COMPLETED"
    c.eq("a shard with errors: every task and the merge COMPLETED", states, want)
    merged = os.path.join(out, "merged.json")
    c.true("a shard with errors: merged", os.path.exists(merged), logs(out))
    if os.path.exists(merged):
        s = shardlib.load_report(merged)["summary"]
        c.eq("a shard with errors: the walk error, the images, status 2",
             (s.get("walk_errors"), s.get("images"), s.get("exit_status")), (1, 15, 2))


def run_on_slurm(c, cl, top, arch):
    out = os.path.join(top, "out")
    t0 = time.monotonic()
    array, merge = submit(cl, top, arch, out)
    c.eq("the merge depends on the shard array",
         re.search(r"Dependency=(\S+)", cl.run("scontrol", "show", "job", merge).stdout).group(1)
         .startswith(("afterok:%s" % array, "(null)")), True)
    states = cl.wait_jobs([array, merge], timeout=300)
    print("jobs done in %.1f s: %s" % (time.monotonic() - t0, states))
    want = {"%s_%d" % (array, k): "COMPLETED" for k in range(N)}
    want[merge] = "COMPLETED"
    if states != want:
        print(logs(out))
        print(cl.diagnose())
    c.eq("every shard task and the merge COMPLETED", states, want)
    return out


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        shardlib.require_shard_support()
        arch = shardlib.build_archive(top)
        single = shardlib.scan_single(os.path.join(top, "single.json"), arch)
        shardlib.check_archive_sanity(c, single)
        try:
            with slurm_cluster.cluster() as cl:
                out = run_on_slurm(c, cl, top, arch)
                run_with_errors(c, cl, top, arch)
                run_failing(c, cl, top, arch)
        except slurm_cluster.SlurmUnavailable as e:
            shardlib.skip(e)
        merged_path = os.path.join(out, "merged.json")
        if not os.path.exists(merged_path):
            c.true("merged report written", False, merged_path)
            c.done()
        shards = [shardlib.load_report(os.path.join(out, "shard-%d.json" % k)) for k in range(N)]
        shardlib.check_shards(c, "slurm", shards, N, single)
        shardlib.compare(c, "slurm merged", shardlib.load_report(merged_path), single)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    if not c.failures:
        print("it_shard_slurm OK: %d shards on Slurm merged = one scan" % N)
    c.done()


if __name__ == "__main__":
    main()
