#!/usr/bin/env python3
"""deploy/: the files a site copies, checked as files.

Every shell script (*.sh, *.sbatch) passes bash -n and shellcheck (when
installed).  The Kubernetes YAML parses with python3-yaml (every document)
and passes `yamllint -d relaxed`; the shards' Job is a batch/v1 Job with
completionMode Indexed whose N (completions, IMGSCAN_SHARDS) the merge Job
repeats, with restartPolicy Never (podFailurePolicy needs it), the archive
mounted read-only where IMGSCAN_ARCHIVE says and the reports volume shared
with the merge.  The containers' shell scripts pass sh -n and shellcheck -s
sh, and are run here with sh (dash), once for each completion index with
JOB_COMPLETION_INDEX set and then the merge's, on an archive of real images
(tests/shardlib.py) in place of the volumes: the merged report must hold
what a single scan does, and each pod script exits 0 though imgscan found
misnamed images (1); a shard with an error (imgscan's 2, its report
written) exits 0 too and the merged report says 2; the merge pod exits 2
when a shard report is missing.  submit.sh's usage errors (64) and the
shard script outside a job array are checked too.

Skipped (77) without python3-yaml or yamllint; the run of the containers'
scripts is skipped while the binary has no --shard or merge."""
import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
import shardlib  # noqa: E402

K8S = os.path.join(shardlib.DEPLOY, "kubernetes")


def scripts():
    return sorted(glob.glob(os.path.join(shardlib.DEPLOY, "**", "*.sh"), recursive=True) +
                  glob.glob(os.path.join(shardlib.DEPLOY, "**", "*.sbatch"), recursive=True))


def check_shell(c):
    found = scripts()
    c.true("deploy/ has its 4 scripts", len(found) == 4, str(found))
    for path in found:
        rel = os.path.relpath(path, shardlib.REPO)
        p = subprocess.run(["bash", "-n", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        c.eq("bash -n %s" % rel, (p.returncode, p.stdout.decode()), (0, ""))
        c.true("%s is executable" % rel, os.access(path, os.X_OK))
        with open(path) as f:
            c.true("%s starts with #!/bin/bash" % rel, f.readline().strip() == "#!/bin/bash")
        if shutil.which("shellcheck"):
            p = subprocess.run(["shellcheck", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            c.eq("shellcheck %s" % rel, (p.returncode, p.stdout.decode()), (0, ""))
    if not shutil.which("shellcheck"):
        print("note: shellcheck is not installed; only bash -n was run")
    # Usage errors, found before anything is submitted or run.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMGSCAN", "SLURM_"))}
    slurm = os.path.join(shardlib.DEPLOY, "slurm")
    for what, args, want in (("submit.sh without an archive: 64", ["submit.sh"], 64),
                             ("submit.sh with N=0: 64", ["submit.sh", "/nonexistent", "/nonexistent", "0"], 64)):
        p = subprocess.run(["bash", os.path.join(slurm, args[0]), *args[1:]], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        c.eq(what, p.returncode, want)
        c.true(what + ": says why", "submit.sh: " in p.stderr, p.stderr)
    p = subprocess.run(["bash", os.path.join(slurm, "imgscan-shard.sbatch")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       env=dict(env, IMGSCAN_ARCHIVE="/a", IMGSCAN_OUT="/o", IMGSCAN_SHARDS="3"))
    c.true("imgscan-shard.sbatch outside an array: fails, naming --array=0-2",
           p.returncode != 0 and "--array=0-2" in p.stderr, p.stderr)


def env_of(container):
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def container_script(container):
    cmd, args = container.get("command", []), container.get("args", [])
    assert cmd[:2] == ["/bin/sh", "-c"] and len(args) == 1, (cmd, args)
    return args[0]


def load_yaml(c):
    import yaml
    docs = {}
    files = sorted(glob.glob(os.path.join(K8S, "*.yaml")))
    c.eq("deploy/kubernetes has the shards' and the merge's YAML", [os.path.basename(f) for f in files],
         ["imgscan-indexed-job.yaml", "imgscan-merge-job.yaml"])
    for path in files:
        name = os.path.basename(path)
        with open(path) as f:
            loaded = [d for d in yaml.safe_load_all(f) if d is not None]
        c.eq("%s: one document" % name, len(loaded), 1)
        docs[name] = loaded[0]
        p = subprocess.run(["yamllint", "-f", "parsable", "-d", "relaxed", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        c.eq("yamllint -d relaxed %s" % name, (p.returncode, p.stdout.decode()), (0, ""))
    return docs["imgscan-indexed-job.yaml"], docs["imgscan-merge-job.yaml"]


def check_yaml(c, shards, merge):
    for what, job in (("shards", shards), ("merge", merge)):
        c.eq("%s: apiVersion" % what, job.get("apiVersion"), "batch/v1")
        c.eq("%s: kind" % what, job.get("kind"), "Job")
        pod = job["spec"]["template"]["spec"]
        c.eq("%s: restartPolicy Never (podFailurePolicy needs it)" % what, pod.get("restartPolicy"), "Never")
        c.eq("%s: one container, named as podFailurePolicy says" % what,
             [x["name"] for x in pod["containers"]],
             [r["onExitCodes"]["containerName"] for r in job["spec"]["podFailurePolicy"]["rules"]])
        script = container_script(pod["containers"][0])
        p = subprocess.run(["sh", "-n", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        c.eq("%s: sh -n of the container's script" % what, (p.returncode, p.stdout.decode()), (0, ""))
        if shutil.which("shellcheck"):
            p = subprocess.run(["shellcheck", "-s", "sh", "-"], input=script.encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            c.eq("%s: shellcheck -s sh of the container's script" % what, (p.returncode, p.stdout.decode()),
                 (0, ""))
        c.true("%s: no $(NAME) in the script (the kubelet would expand it)" % what,
               "$(" not in script.replace("$((", ""))
    spec = shards["spec"]
    c.eq("shards: completionMode", spec.get("completionMode"), "Indexed")
    n = spec.get("completions")
    c.true("shards: completions is N > 0", isinstance(n, int) and n > 0, repr(n))
    c.true("shards: 0 < parallelism <= completions", 0 < spec.get("parallelism", 0) <= n)
    pod = spec["template"]["spec"]
    cont = pod["containers"][0]
    env = env_of(cont)
    c.eq("shards: IMGSCAN_SHARDS = completions", env.get("IMGSCAN_SHARDS"), str(n))
    c.true("shards: the script takes K from JOB_COMPLETION_INDEX", "$JOB_COMPLETION_INDEX" in container_script(cont))
    mounts = {m["name"]: m for m in cont["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    c.eq("shards: the archive mounted at IMGSCAN_ARCHIVE", mounts["archive"]["mountPath"], env.get("IMGSCAN_ARCHIVE"))
    c.eq("shards: the archive mount read-only", mounts["archive"].get("readOnly"), True)
    archive_vol = vols["archive"]
    c.true("shards: the archive volume read-only (claim) or a hostPath",
           archive_vol.get("persistentVolumeClaim", {}).get("readOnly") is True or "hostPath" in archive_vol)
    c.true("shards: IMGSCAN_OUT on the reports volume",
           env.get("IMGSCAN_OUT", "").startswith(mounts["reports"]["mountPath"].rstrip("/") + "/"))
    c.true("shards: the reports volume writable", not mounts["reports"].get("readOnly"))
    mpod = merge["spec"]["template"]["spec"]
    mcont = mpod["containers"][0]
    menv = env_of(mcont)
    c.eq("merge: IMGSCAN_SHARDS as the shards'", menv.get("IMGSCAN_SHARDS"), str(n))
    c.eq("merge: IMGSCAN_OUT as the shards'", menv.get("IMGSCAN_OUT"), env.get("IMGSCAN_OUT"))
    c.eq("merge: the same reports claim", {v["name"]: v for v in mpod["volumes"]}["reports"], vols["reports"])
    c.eq("merge: the reports mounted where the shards have them",
         {m["name"]: m for m in mcont["volumeMounts"]}["reports"]["mountPath"], mounts["reports"]["mountPath"])
    c.eq("merge: one pod", (merge["spec"].get("completions"), merge["spec"].get("parallelism")), (1, 1))


def run_pods(c, shards, merge, arch, out, what, **more_env):
    """Every completion index's pod script, then the merge pod's, run here
    with sh: the volumes' paths replaced by the test's archive and report
    directory.  Each must exit 0.  Returns the merge pod's sh -c argv and
    environment."""
    n = shards["spec"]["completions"]
    cont = shards["spec"]["template"]["spec"]["containers"][0]
    base = {k: v for k, v in os.environ.items() if not k.startswith("IMGSCAN")}
    for k in range(n):
        env = dict(base, **env_of(cont))
        env.update(IMGSCAN=itlib.IMGSCAN, IMGSCAN_ARCHIVE=arch, IMGSCAN_OUT=out, JOB_COMPLETION_INDEX=str(k),
                   **more_env)
        p = subprocess.run(["sh", "-c", container_script(cont)], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
        c.eq("%s: pod %d of %d: exit status 0 (its report written)" % (what, k, n), (p.returncode, p.stdout),
             (0, ""))
        c.true("%s: pod %d says its imgscan exit status" % (what, k), "shard %d/%d: exit status" % (k, n) in p.stderr,
               p.stderr)
    mcont = merge["spec"]["template"]["spec"]["containers"][0]
    env = dict(base, **env_of(mcont))
    env.update(IMGSCAN=itlib.IMGSCAN, IMGSCAN_OUT=out)
    argv = ["sh", "-c", container_script(mcont)]
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=300)
    c.eq("%s: merge pod: exit status 0 (its report written)" % what, p.returncode, 0)
    return argv, env


def run_pod_scripts(c, top, shards, merge):
    """The pods' scripts on the test archive: the merged report as a single scan."""
    arch = shardlib.build_archive(top)
    single = shardlib.scan_single(os.path.join(top, "single.json"), arch)
    shardlib.check_archive_sanity(c, single)
    n = shards["spec"]["completions"]
    # A shard with an error (one more PATH, that does not exist): imgscan
    # exits 2 with its report written, which the pod takes for done; the
    # merged report says 2.
    out = os.path.join(top, "reports", "errors")
    run_pods(c, shards, merge, arch, out, "a shard with errors", IMGSCAN_ARGS=os.path.join(top, "no-such-dir"))
    merged = os.path.join(out, "merged.json")
    c.true("a shard with errors: merged", os.path.exists(merged))
    if os.path.exists(merged):
        s = shardlib.load_report(merged)["summary"]
        c.eq("a shard with errors: the walk error, the images, status 2",
             (s.get("walk_errors"), s.get("images"), s.get("exit_status")), (1, 15, 2))
    out = os.path.join(top, "reports", "imgscan")
    argv, env = run_pods(c, shards, merge, arch, out, "findings")
    merged = os.path.join(out, "merged.json")
    if not os.path.exists(merged):
        c.true("merge pod: merged report written", False)
        return
    shard_reports = [shardlib.load_report(os.path.join(out, "shard-%d.json" % k)) for k in range(n)]
    shardlib.check_shards(c, "kubernetes scripts", shard_reports, n, single)
    report = shardlib.load_report(merged)
    shardlib.compare(c, "kubernetes scripts merged", report, single)
    # A shard missing: merge refuses (65, nothing written) and the pod fails;
    # the earlier merged report stays as it was.
    os.unlink(os.path.join(out, "shard-1.json"))
    before = open(merged, "rb").read()
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=300)
    c.eq("merge pod, a shard missing: exit status 65 (the Job fails at once)", p.returncode, 65)
    c.true("merge pod, a shard missing: the earlier merged report untouched", open(merged, "rb").read() == before)


def main():
    top = itlib.setup()
    c = itlib.Checker()
    ran = False
    try:
        try:
            import yaml  # noqa: F401
        except ImportError:
            shardlib.skip("python3-yaml is not installed")
        if not shutil.which("yamllint"):
            shardlib.skip("yamllint is not installed (apt-get install yamllint)")
        check_shell(c)
        shards, merge = load_yaml(c)
        check_yaml(c, shards, merge)
        why = shardlib.shard_support_missing()
        if why:
            print("note: the containers' scripts were not run: %s" % why)
        else:
            ran = True
            run_pod_scripts(c, top, shards, merge)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    if c.failures:
        c.done()
    if not ran:
        print("%d checks passed; SKIP the run of the scripts" % c.checks)
        sys.exit(77)
    print("it_deploy_files OK: scripts, shellcheck, Kubernetes YAML, its pod scripts run and merged = one scan")
    c.done()


if __name__ == "__main__":
    main()
