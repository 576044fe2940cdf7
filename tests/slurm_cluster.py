"""slurm_cluster - a real single-node Slurm cluster for a test, in a temporary
directory, from Debian's slurm-wlm (22.05) and munge.

    with slurm_cluster.cluster() as c:
        jobid = c.run("sbatch", "--parsable", "--wrap", "hostname").stdout.strip()
        c.wait_jobs([jobid], timeout=60)

What it starts, all as root, all with their files in the temporary directory:
munged (its own key, socket, pid, seed and log files), slurmctld -D and
slurmd -D (a slurm.conf of their own: the controller and the one node on
127.0.0.1, on free loopback ports; no accounting, no cgroups: proctrack
linuxproc, task none).  c.env is the environment for client commands
(SLURM_CONF set, and the cluster's mark, which sbatch passes on to the
jobs); c.run() runs one with it.  Finished jobs are kept in `scontrol show
job` for an hour (there is no accounting, so no sacct): c.wait_jobs() waits
on them.

The test process becomes a child subreaper while the cluster runs, so the
slurmstepd processes that slurmd double-forks are reaped here, not left as
zombies where PID 1 reaps nothing (as on this project's VMs).

On leaving, always, even after a failure: every job is cancelled, the
daemons are stopped (SIGTERM, then SIGKILL), every process left with this
cluster's mark in its environment (slurmstepd, a job's processes) is killed
by its pid, and the directory is removed.

Where the daemons cannot start (not root, a daemon exits, the node never
comes up), SlurmUnavailable is raised, saying why with the daemon's log
tail: a test prints it and exits 77 (skipped).  Nothing here fakes a cluster.

Run alone (python3 tests/slurm_cluster.py) it starts a cluster, runs
`sbatch --wrap hostname` and a 3-task array, and checks every process is gone
afterwards.
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MARK = "IMGSCAN_TEST_SLURM_CLUSTER"  # in every daemon's environment, so in slurmstepd's and the jobs'


class SlurmUnavailable(Exception):
    """Slurm cannot run here: the message says why."""


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, n=25):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        return "(%s: %s)" % (path, e.strerror)
    return "\n".join("    " + l for l in lines[-n:]) or "    (empty)"


def _node_hardware():
    """`slurmd -C`: this machine as slurmd sees it (a node configured with more
    CPUs or memory than it has is drained as invalid)."""
    p = subprocess.run(["slurmd", "-C"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode:
        raise SlurmUnavailable("slurmd -C failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")))
    first = p.stdout.decode().splitlines()[0]
    hw = dict(f.split("=", 1) for f in first.split() if "=" in f)
    return hw


PR_SET_CHILD_SUBREAPER = 36


def _subreaper(on):
    """Become (or stop being) the reaper of orphaned descendants: slurmd starts
    slurmstepd by a double fork, and where PID 1 does not reap (as in some
    VMs and containers) an ended slurmstepd would stay a zombie for good."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap(seen):
    """Reap our zombie children that Slurm left to us: slurmstepd, or a pid
    seen with the cluster's mark (never a child a caller may still wait for)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z" and int(fields[1]) == os.getpid() and (comm == "slurmstepd" or int(d) in seen):
            try:
                os.waitpid(int(d), os.WNOHANG)
            except ChildProcessError:
                pass


def _our_processes(mark_value):
    """Pids of processes whose environment holds MARK=mark_value (ours only)."""
    want = ("%s=%s" % (MARK, mark_value)).encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if want in env:
            pids.append(int(d))
    return pids


class Cluster:
    def __init__(self, top):
        self.top = top
        self.conf = os.path.join(top, "slurm.conf")
        # The mark reaches the jobs too (sbatch exports this environment).
        self.env = dict(os.environ, SLURM_CONF=self.conf, **{MARK: top})
        for k in list(self.env):
            # A job or allocation this may run inside must not leak into ours.
            if k.startswith(("SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_", "SINFO_")) and k != "SLURM_CONF":
                del self.env[k]
        self.procs = {}  # name -> (Popen, log file)
        self.node = None
        self.partition = "test"

    def log(self, name):
        return os.path.join(self.top, "log", name + ".log")

    def run(self, *cmd, check=True, timeout=60, **kw):
        """A Slurm client command with this cluster's SLURM_CONF."""
        p = subprocess.run([str(c) for c in cmd], env=kw.pop("env", self.env), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, universal_newlines=True, **kw)
        if check and p.returncode:
            raise RuntimeError("%s failed (%d): %s%s" % (" ".join(map(str, cmd)), p.returncode, p.stdout, p.stderr))
        return p

    def job_states(self, jobid):
        """{job id (array tasks as A_K): state} from scontrol show job, which keeps
        finished jobs for MinJobAge (there is no accounting, so no sacct)."""
        p = self.run("scontrol", "-o", "show", "job", jobid, check=False)
        states = {}
        for line in p.stdout.splitlines():
            f = dict(m.groups() for m in re.finditer(r"(\w+)=(\S*)", line))
            if "JobState" not in f:
                continue
            name = f.get("JobId")
            if f.get("ArrayJobId") and f.get("ArrayTaskId"):
                name = "%s_%s" % (f["ArrayJobId"], f["ArrayTaskId"])
            states[name] = f["JobState"]
        return states

    FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
             "DEADLINE", "PREEMPTED")

    def wait_jobs(self, jobids, timeout=300):
        """Wait until every job (and every task of an array) has a final state;
        returns {job: state}.  On timeout raises with squeue, scontrol and the
        daemons' log tails."""
        deadline = time.monotonic() + timeout
        while True:
            states = {}
            for j in jobids:
                states.update(self.job_states(str(j)))
            # (an array's pending tasks are one record, JobId=A_[1-2] PENDING, until they start)
            if states and all(s in self.FINAL for s in states.values()) and \
                    all(any(k == str(j) or k.startswith("%s_" % j) for k in states) for j in jobids):
                return states
            if time.monotonic() > deadline:
                raise RuntimeError("jobs %s not done after %d s: %s\n%s" % (jobids, timeout, states, self.diagnose()))
            time.sleep(0.5)

    def diagnose(self):
        out = []
        for cmd in (["squeue", "-a"], ["sinfo", "-N", "-l"], ["scontrol", "show", "job"]):
            p = self.run(*cmd, check=False, timeout=30)
            out.append("$ %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
        for name in ("slurmctld", "slurmd", "munged"):
            out.append("%s log:\n%s" % (name, _tail(self.log(name), 40)))
            out.append("%s stderr:\n%s" % (name, _tail(self.log(name + ".stderr"), 10)))
        return "\n".join(out)

    # ---- start and stop ---------------------------------------------------
    def _spawn(self, name, cmd):
        logf = open(self.log(name + ".stderr"), "wb")
        p = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                             cwd=self.top)
        self.procs[name] = (p, logf)
        return p

    def _died(self, name):
        p, _ = self.procs[name]
        return p.poll() is not None

    def _unavailable(self, why, name):
        return SlurmUnavailable("cannot start Slurm here: %s\n  %s log:\n%s\n  %s stderr:\n%s" % (
            why, name, _tail(self.log(name)), name, _tail(self.log(name + ".stderr"))))

    def start(self):
        if os.geteuid() != 0:
            raise SlurmUnavailable("cannot start Slurm here: not root (slurmd must run as root to start jobs)")
        for tool in ("munged", "slurmctld", "slurmd", "slurmstepd", "sbatch", "sinfo", "scontrol", "scancel"):
            if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
                raise SlurmUnavailable("cannot start Slurm here: %s is not installed (apt-get install slurm-wlm munge)"
                                       % tool)
        for d in ("log", "munge", "state", "spool", "run"):
            os.makedirs(os.path.join(self.top, d), mode=0o700)
        self._start_munge()
        self._write_conf()
        self._spawn("slurmctld", ["slurmctld", "-D", "-c", "-i", "-f", self.conf])
        self._wait_controller()
        self._spawn("slurmd", ["slurmd", "-D", "-N", self.node, "-f", self.conf])
        self._wait_node()

    def _start_munge(self):
        m = os.path.join(self.top, "munge")
        self.munge_socket = os.path.join(m, "munge.socket")
        key = os.path.join(m, "munge.key")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(1024))
        self._spawn("munged", ["munged", "-F", "-f", "--key-file", key, "--socket", self.munge_socket,
                               "--pid-file", os.path.join(m, "munged.pid"), "--log-file", self.log("munged"),
                               "--seed-file", os.path.join(m, "munged.seed")])
        deadline = time.monotonic() + 15
        while not os.path.exists(self.munge_socket):
            if self._died("munged") or time.monotonic() > deadline:
                raise self._unavailable("munged did not start", "munged")
            time.sleep(0.05)
        # A credential made and read back through our socket.
        p = subprocess.run("munge -n -S %s | unmunge -S %s" % (self.munge_socket, self.munge_socket), shell=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if p.returncode:
            raise self._unavailable("munge -n | unmunge failed: %s" % p.stdout.decode(errors="replace"), "munged")

    def _write_conf(self):
        hw = _node_hardware()
        self.node = socket.gethostname().split(".")[0]
        with open("/proc/meminfo") as f:
            mem_mib = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1)) // 1024
        t = self.top
        lines = [
            "ClusterName=imgscantest",
            "SlurmctldHost=%s(127.0.0.1)" % self.node,
            "SlurmctldPort=%d" % _free_port(),
            "SlurmdPort=%d" % _free_port(),
            "AuthType=auth/munge",
            "AuthInfo=socket=%s" % self.munge_socket,
            "CredType=cred/munge",
            "SlurmUser=root",
            "SlurmdUser=root",
            "StateSaveLocation=%s/state" % t,
            "SlurmdSpoolDir=%s/spool" % t,
            "SlurmctldPidFile=%s/run/slurmctld.pid" % t,
            "SlurmdPidFile=%s/run/slurmd.pid" % t,
            "SlurmctldLogFile=%s" % self.log("slurmctld"),
            "SlurmdLogFile=%s" % self.log("slurmd"),
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "MpiDefault=none",
            "MailProg=/bin/true",
            "SwitchType=switch/none",
            "JobCompType=jobcomp/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "ReturnToService=2",
            "MinJobAge=3600",  # finished jobs stay in scontrol show job (no sacct here)
            "SchedulerType=sched/backfill",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=60",
            "InactiveLimit=0",
            "KillWait=5",
            "Waittime=0",
            "PlugStackConfig=%s/plugstack.conf" % t,  # none: not /etc/slurm's
            "NodeName=%s NodeAddr=127.0.0.1 CPUs=%s Boards=%s SocketsPerBoard=%s CoresPerSocket=%s "
            "ThreadsPerCore=%s RealMemory=%d State=UNKNOWN" % (
                self.node, hw["CPUs"], hw.get("Boards", 1), hw.get("SocketsPerBoard", 1),
                hw.get("CoresPerSocket", hw["CPUs"]), hw.get("ThreadsPerCore", 1), min(1024, mem_mib // 2)),
            "PartitionName=%s Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO" % self.partition,
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        open(os.path.join(t, "plugstack.conf"), "w").close()

    def _wait_controller(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            if self._died("slurmctld"):
                raise self._unavailable("slurmctld exited (%s)" % self.procs["slurmctld"][0].returncode, "slurmctld")
            if self.run("scontrol", "ping", check=False, timeout=15).stdout.find("UP") >= 0:
                return
            if time.monotonic() > deadline:
                raise self._unavailable("slurmctld did not answer scontrol ping within %d s" % timeout, "slurmctld")
            time.sleep(0.2)

    def _wait_node(self, timeout=45):
        deadline = time.monotonic() + timeout
        state = ""
        while True:
            if self._died("slurmd"):
                raise self._unavailable("slurmd exited (%s)" % self.procs["slurmd"][0].returncode, "slurmd")
            state = self.run("sinfo", "-h", "-N", "-o", "%t", "-n", self.node, check=False, timeout=15).stdout.strip()
            if state == "idle":
                return
            if time.monotonic() > deadline:
                reason = self.run("sinfo", "-h", "-N", "-R", check=False, timeout=15).stdout.strip()
                raise self._unavailable("node %s is %r, not idle, after %d s (reason: %s)" % (
                    self.node, state, timeout, reason or "none"), "slurmd")
            time.sleep(0.2)

    def stop(self):
        if "slurmctld" in self.procs and not self._died("slurmctld"):
            self.run("scancel", "--full", "-u", "root", check=False, timeout=30)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # squeue lists pending, running and completing jobs
                if not self.run("squeue", "-h", "-o", "%i", check=False, timeout=15).stdout.strip():
                    break
                time.sleep(0.3)
        for name in ("slurmd", "slurmctld", "munged"):
            if name not in self.procs:
                continue
            p, logf = self.procs[name]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            logf.close()
        # slurmstepd and a job's processes are not our children: find them by
        # the mark in their environment and end them by pid.
        seen = set(_our_processes(self.top))
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = _our_processes(self.top)
            seen.update(pids)
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while pids and time.monotonic() < deadline:
                pids = [pid for pid in pids if os.path.exists("/proc/%d" % pid)]
                time.sleep(0.1)
            if not pids:
                break
        _reap(seen)


@contextlib.contextmanager
def cluster():
    """Start a cluster, yield it (a Cluster), stop it and remove its directory."""
    # munged's socket path must fit in a sockaddr_un (108 bytes).
    top = tempfile.mkdtemp(prefix="imgscan-slurm-", dir="/tmp" if len(tempfile.gettempdir()) > 60 else None)
    os.chmod(top, 0o700)  # munged checks its directories' permissions
    c = Cluster(top)
    reaper = _subreaper(True)
    try:
        c.start()
        yield c
    finally:
        try:
            c.stop()
        finally:
            if reaper:
                _subreaper(False)
            shutil.rmtree(top, ignore_errors=True)


def _selftest():
    with cluster() as c:
        print("cluster up: node %s, %s" % (c.node, c.conf))
        out = os.path.join(c.top, "hostname.out")
        j = c.run("sbatch", "--parsable", "-o", out, "--wrap", "hostname").stdout.strip().split(";")[0]
        a = c.run("sbatch", "--parsable", "--array=0-2", "-o", os.path.join(c.top, "a-%A_%a.out"),
                  "--wrap", "echo task $SLURM_ARRAY_TASK_ID").stdout.strip().split(";")[0]
        d = c.run("sbatch", "--parsable", "--dependency=afterok:%s" % a, "-o", os.path.join(c.top, "d.out"),
                  "--wrap", "cat %s/a-%s_*.out" % (c.top, a)).stdout.strip().split(";")[0]
        states = c.wait_jobs([j, a, d], timeout=120)
        print(states)
        print(open(out).read().strip(), "|", open(os.path.join(c.top, "d.out")).read().split())
        assert all(s == "COMPLETED" for s in states.values()), states
        top = c.top
    left = _our_processes(top)
    assert not left, "left running: %s" % left
    assert not os.path.exists(top)
    print("slurm_cluster self-test OK")


if __name__ == "__main__":
    try:
        _selftest()
    except SlurmUnavailable as e:
        print("SKIP: %s" % e)
        sys.exit(77)
