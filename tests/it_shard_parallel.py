#!/usr/bin/env python3
"""Sharded scans with GNU parallel: deploy/parallel/imgscan-parallel.sh.

On an archive of 15 real images made at test time (tests/shardlib.py), the
script runs N=4 shards and merges them, three ways: in its local mode (no
-H, no -S), with `-S :` (parallel's "this machine"), and with two SSH logins
(-S hostA,hostB) through parallel's own remote path, where the ssh program
(PARALLEL_SSH) is a stand-in that runs the command parallel quoted for the
remote shell here, so the quoting of paths with spaces is exercised without
an SSH server.  Each merged report must hold what a single machine's scan
does: the same images by path, digests, kinds, finding codes, summary
counts and duplicate groups; the script exits as the single scan does (1:
findings); each shard report says which shard it is.  Also: shard
reports as JSON lines (IMGSCAN_ARGS); a catalog per shard
(IMGSCAN_STATE_DIR: shard-K-of-N.sqlite, every image reused the second
time); a shard with an error (imgscan's 2, its report written) is merged
and the run exits 2; a shard that fails (a usage error, 64) stops the
merge: exit 2, no merged report, and so does one that exits 0 without a
report (a remote shell that ran nothing); an archive path that does not exist, 64;
a { or } in a path (parallel's replacement strings), 64; a % in OUT (the
SSH run's report directory is "out ssh %d") is written as it is named.

Skipped (77) without GNU parallel, or while the binary has no --shard or
merge."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
import shardlib  # noqa: E402

N = 4
SCRIPT = os.path.join(shardlib.DEPLOY, "parallel", "imgscan-parallel.sh")

FAKE_SSH = r"""#!/bin/bash
# ssh stand-in for the test: notes the login, drops ssh's options and the
# host, and runs the command (as parallel quoted it for the remote shell) here,
# with SHELL set as sshd sets it (parallel's remote worker runs the job in
# $SHELL; cron and CI may leave it unset here).
export SHELL=/bin/bash
while [ $# -gt 0 ]; do
    case $1 in
    -l | -o | -p | -i | -S | -F | -J) shift 2 ;;
    -*) shift ;;
    *) break ;;
    esac
done
echo "$1" >>"$FAKE_SSH_LOG"
shift
[ "${1:-}" = "--" ] && shift
exec bash -c "$*"
"""


def run_script(top, env, *args):
    p = subprocess.run(["bash", SCRIPT, *args], env=env, cwd=top, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    return p


def check_run(c, what, top, env, single, out, *opts, skip_keys=()):
    """Run the script; check its exit status, the shards and the merge.
    Returns the merged report (None if there is none)."""
    p = run_script(top, env, *opts, "-n", str(N), os.path.join(top, "archive"), out)
    c.eq("%s: exit status as the single scan's (1: findings)" % what, p.returncode, 1)
    merged = os.path.join(out, "merged.json")
    if not os.path.exists(merged):
        c.true("%s: merged report written" % what, False, p.stderr)
        return None
    shards = [shardlib.load_report(os.path.join(out, "shard-%d.json" % k)) for k in range(N)]
    shardlib.check_shards(c, what, shards, N, single)
    report = shardlib.load_report(merged)
    shardlib.compare(c, what, report, single, skip_keys=skip_keys)
    return report


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        if not shutil.which("parallel"):
            shardlib.skip("GNU parallel is not installed (apt-get install parallel)")
        shardlib.require_shard_support()
        arch = shardlib.build_archive(top)
        single = shardlib.scan_single(os.path.join(top, "single.json"), arch)
        shardlib.check_archive_sanity(c, single)
        # parallel keeps files in $PARALLEL_HOME (else ~/.parallel) and $TMPDIR.
        env = dict(os.environ, IMGSCAN=itlib.IMGSCAN, PARALLEL_HOME=os.path.join(top, "parallel-home"),
                   TMPDIR=top)
        for k in [k for k in env if k.startswith(("IMGSCAN_", "PARALLEL_SSH")) or k == "PARALLEL"]:
            del env[k]
        check_run(c, "local mode", top, env, single, os.path.join(top, "out-local"))
        check_run(c, "-S :", top, env, single, os.path.join(top, "out-colon"), "-S", ":", "-j", "2")

        # Two logins through parallel's ssh path (a stand-in ssh, see above);
        # a report directory with a space and a % in its name (imgscan's -o
        # expands strftime fields: the script writes it %%).
        fake = os.path.join(top, "fake-ssh")
        with open(fake, "w") as f:
            f.write(FAKE_SSH)
        os.chmod(fake, 0o755)
        ssh_log = os.path.join(top, "ssh-logins")
        env_ssh = dict(env, PARALLEL_SSH=fake, FAKE_SSH_LOG=ssh_log)
        check_run(c, "-S hostA,hostB", top, env_ssh, single, os.path.join(top, "out ssh %d"), "-S", "hostA,hostB")
        with open(ssh_log) as f:
            logins = f.read().split()
        c.true("-S hostA,hostB: every shard went through ssh, to both logins",
               len(logins) >= N and set(logins) == {"hostA", "hostB"}, str(logins))
        # The same through a host file given in IMGSCAN_HOSTS.
        hosts = os.path.join(top, "hosts.txt")
        with open(hosts, "w") as f:
            f.write("hostC\n2/hostD\n")
        os.unlink(ssh_log)
        check_run(c, "IMGSCAN_HOSTS file", top, dict(env_ssh, IMGSCAN_HOSTS=hosts), single,
                  os.path.join(top, "out-hosts"))
        with open(ssh_log) as f:
            logins = set(f.read().split())
        c.eq("IMGSCAN_HOSTS file: its logins used", logins, {"hostC", "hostD"})
        # A { or } in a path: parallel would take it for a replacement string.
        p = run_script(top, env, "-n", str(N), arch, os.path.join(top, "out{}"))
        c.eq("a {} in OUT: usage error", p.returncode, 64)
        c.true("a {} in OUT: said, nothing made", "replacement string" in p.stderr and
               not os.path.exists(os.path.join(top, "out{}")), p.stderr[-300:])
        # A remote shell that runs nothing and exits 0: no report, no merge.
        idle = os.path.join(top, "idle-ssh")
        with open(idle, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(idle, 0o755)
        out = os.path.join(top, "out-idle")
        p = run_script(top, dict(env, PARALLEL_SSH=idle), "-S", "hostE", "-n", str(N), arch, out)
        c.eq("a shard that wrote no report: exit status 2", p.returncode, 2)
        c.true("a shard that wrote no report: named, not merged",
               "without writing" in p.stderr and not os.path.exists(os.path.join(out, "merged.json")), p.stderr[-400:])

        # Shard reports as JSON lines (IMGSCAN_ARGS), merged all the same.
        out = os.path.join(top, "out-jsonl")
        check_run(c, "--format jsonl shards", top, dict(env, IMGSCAN_ARGS="--format jsonl"), single, out)
        with open(os.path.join(out, "shard-0.json")) as f:
            c.true("--format jsonl shards: a shard report is JSON lines", f.readline().startswith('{"type":"run"'))
        # A catalog per shard (IMGSCAN_STATE_DIR): a second run reuses every image.
        state = os.path.join(top, "state")
        os.makedirs(state)
        env_state = dict(env, IMGSCAN_STATE_DIR=state)
        shardlib.settle(arch)
        check_run(c, "--state, first run", top, env_state, single, os.path.join(top, "out-state1"))
        c.eq("--state: one catalog per shard", sorted(n for n in os.listdir(state) if n.endswith(".sqlite")),
             ["shard-%d-of-%d.sqlite" % (k, N) for k in range(N)])
        again = check_run(c, "--state, second run", top, env_state, single, os.path.join(top, "out-state2"),
                          skip_keys=("bytes_hashed",))
        if again:
            c.eq("--state, second run: every image reused", again["summary"].get("images_reused"), 15)

        # A shard with an error (a PATH that does not exist, given as one more
        # PATH): its report is written (2), so the run is merged, and exits 2.
        missing = os.path.join(top, "no-such-dir")
        out = os.path.join(top, "out-errors")
        p = run_script(top, dict(env, IMGSCAN_ARGS=missing), "-n", str(N), arch, out)
        c.eq("a shard with errors: exit status 2 (the merged report's)", p.returncode, 2)
        merged = os.path.join(out, "merged.json")
        c.true("a shard with errors: merged all the same", os.path.exists(merged), p.stderr[-600:])
        if os.path.exists(merged):
            s = shardlib.load_report(merged)["summary"]
            c.eq("a shard with errors: the walk error, the images, status 2",
                 (s.get("walk_errors"), s.get("images"), s.get("exit_status")), (1, 15, 2))
        # The archive must exist where the script runs.
        c.eq("no archive there: 64", run_script(top, env, "-n", str(N), missing, out).returncode, 64)

        # A failing shard (a usage error: 64) stops the run before the merge.
        out = os.path.join(top, "out-bad")
        p = run_script(top, dict(env, IMGSCAN_ARGS="--no-such-option"), "-n", str(N), arch, out)
        c.eq("a failing shard: exit status 2", p.returncode, 2)
        c.true("a failing shard: no merged report", not os.path.exists(os.path.join(out, "merged.json")))
        c.true("a failing shard: named", "shard 0/%d" % N in p.stderr, p.stderr[-400:])
        # Usage errors of the script itself.
        c.eq("no archive: 64", run_script(top, env).returncode, 64)
        c.eq("-n 0: 64", run_script(top, env, "-n", "0", arch, out).returncode, 64)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    if not c.failures:
        print("it_shard_parallel OK: %d shards with GNU parallel (local, -S :, ssh path) merged = one scan" % N)
    c.done()


if __name__ == "__main__":
    main()
