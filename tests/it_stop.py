#!/usr/bin/env python3
"""SIGINT and SIGTERM stop a scan cleanly and quickly, whatever it is doing
(scanner/stop.h): streaming from slow storage, waiting for The Sleuth Kit,
waiting for a read that never returns; a second signal, or one before the
scan started (blocked opening a FIFO with no reader), ends it at once; a
stray SIGUSR1 changes nothing; even SIGKILL leaves no temporary file.  Slow
storage is faultfs (tests/faultfs.c): without FUSE those cases are skipped,
the others still run."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402


def hooks_binary():
    return os.path.join(os.path.dirname(os.path.abspath(itlib.IMGSCAN)), "imgscan-testhooks")


def error_of(img):
    return img["errors"][0] if img["errors"] else {}


def random_files(d, names, size):
    os.makedirs(d, exist_ok=True)
    for n in names:
        with open(os.path.join(d, n), "wb") as f:
            f.write(os.urandom(size))


def stop_after(cmd, delay, sig, env=None, timeout=30, signals=None):
    """Start cmd, send sig (or each of signals, spaced 0.3 s) after delay
    seconds; (exit status or None, seconds from the first signal)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    t0 = time.monotonic()
    for i, s in enumerate(signals or [sig]):
        if i:
            time.sleep(0.3)
        proc.send_signal(s)
    try:
        status = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = None
    return status, time.monotonic() - t0


def check_signal_stop(c, top):
    """Mid-scan on slow storage: exit 128 + the signal within 2 s, a whole
    report marked partial, the image cut short reported with the reason, no
    temporary file left (report or sector-hash list)."""
    backing = os.path.join(top, "slow")
    random_files(backing, ("a-fast.img", "b-slow.img"), 8 << 20)
    lists = os.path.join(top, "lists")
    os.makedirs(lists)
    for sig, want in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        out = os.path.join(top, "stopped.json")
        with itlib.faultfs(backing, "delay b-slow.img 300\n") as m:
            status, took = stop_after([itlib.IMGSCAN, "scan", "-q", "--queue-depth", "2", "--images", "1",
                                       "--read-size", "256K", "--sector-hashes", lists, "-o", out, m], 1.5, sig)
        name = signal.Signals(sig).name
        c.eq("%s: exit %d" % (name, want), status, want)
        c.true("%s: stopped within 2 s" % name, took < 2, "%.1f s" % took)
        leftovers = [n for n in os.listdir(top) if ".tmp." in n] + os.listdir(lists)
        c.eq("%s: no temporary files (reports, sector lists)" % name,
             [n for n in leftovers if ".tmp." in n or n.startswith(".imgscan-sectors.")], [])
        if not os.path.exists(out):
            c.true("%s: report written" % name, False)
            continue
        rep = json.load(open(out))
        c.eq("%s: summary.partial" % name, rep["summary"]["partial"], True)
        c.eq("%s: summary.stopped_by" % name, rep["summary"]["stopped_by"], name)
        c.eq("%s: entries counts only what was handled" % name, rep["summary"]["entries"],
             len(rep["images"]) + rep["summary"]["other_files"] + len(rep["skipped"]))
        slow = [i for i in rep["images"] if i["path"].endswith("b-slow.img")]
        c.true("%s: the image cut short is reported with the reason" % name,
               slow and name in error_of(slow[0]).get("message", ""), slow)


def check_signal_echo(c, top):
    """`timeout` sends its signal to imgscan and again to the process group:
    the same signal twice within a second is one stop, not a kill: exit 130
    and a whole report (it used to die, the report cut mid-line)."""
    backing = os.path.join(top, "echo")
    random_files(backing, ("a.img", "b-slow.img"), 4 << 20)
    out = os.path.join(top, "echo.json")
    with itlib.faultfs(backing, "delay b-slow.img 300\n") as m:
        proc = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "--queue-depth", "2", "--images", "1",
                                 "--read-size", "256K", "-o", out, m], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        status = proc.wait(30)
    c.eq("SIGINT twice within a second: one stop, exit 130", status, 130)
    try:
        rep = json.load(open(out))
        c.eq("SIGINT twice: a whole report, partial", rep["summary"]["partial"], True)
    except (OSError, ValueError) as e:
        c.true("SIGINT twice: a whole report", False, e)


def check_sigkill(c, top):
    """SIGKILL cannot be handled; still nothing is left behind: the report
    and the sector lists are written to unnamed (O_TMPFILE) files, named
    only right before they are renamed into place."""
    backing = os.path.join(top, "killed")
    random_files(backing, ("a.img", "b.img"), 8 << 20)
    lists, outdir = os.path.join(top, "kill-lists"), os.path.join(top, "kill-out")
    os.makedirs(lists)
    os.makedirs(outdir)
    with itlib.faultfs(backing, "delay b.img 300\n") as m:
        stop_after([itlib.IMGSCAN, "scan", "-q", "--queue-depth", "2", "--images", "1", "--read-size", "256K",
                    "--sector-hashes", lists, "-o", os.path.join(outdir, "r.json"), m], 1.5, signal.SIGKILL)
    left = [n for n in os.listdir(outdir) + os.listdir(lists) if ".tmp." in n or n.startswith(".imgscan-sectors")]
    c.eq("SIGKILL: no temporary report or sector list left", left, [])


def check_stray_sigusr1(c, top):
    """SIGUSR1 (used inside imgscan) must not disable SIGINT afterwards."""
    backing = os.path.join(top, "usr1")
    random_files(backing, ("a.img",), 16 << 20)
    with itlib.faultfs(backing, "delay a.img 300\n") as m:
        status, took = stop_after([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "--queue-depth", "2", "-o",
                                   os.path.join(top, "usr1.json"), m], 1, None,
                                  signals=[signal.SIGUSR1, signal.SIGINT])
    c.eq("SIGUSR1 then SIGINT: still stops, exit 130", status, 130)


def check_lost_read(c, top):
    """A read that never returns while stopping (pread engine, one read in
    flight on a file whose reads take 8 s; the drain's bound shortened to
    2 s in imgscan-testhooks): the run ends, says the buffer was lost, and
    reports the image; nothing freed under the engine (ASan in CI)."""
    backing = os.path.join(top, "stuck")
    random_files(backing, ("stuck.img",), 1 << 20)
    out = os.path.join(top, "stuck.json")
    env = dict(os.environ, IMGSCAN_TEST_DRAIN_SECONDS="2")
    with itlib.faultfs(backing, "delay stuck.img 8000\n") as m:
        status, took = stop_after([hooks_binary(), "scan", "-q", "--no-tsk", "--io", "pread", "--read-size", "4K",
                                   "--queue-depth", "1", "-o", out, m], 1, signal.SIGINT, env=env, timeout=60)
    c.eq("lost read: exit 130 (no crash)", status, 130)
    if status == 130:
        rep = json.load(open(out))
        c.eq("lost read: the image is reported", len(rep["images"]), 1)
        c.eq("lost read: the lost buffer is counted", rep["summary"].get("lost_buffers"), 1)


def check_tsk_stop(c, top):
    """A Sleuth Kit worker that hangs (test hook) does not hold a stop up
    for its 25 s timeout: it is killed, its image says 'stopped'."""
    d = os.path.join(top, "tsk")
    os.makedirs(d)
    itlib.make_fat(os.path.join(d, "hangme.img"), 16, "HANG", 16 << 20)
    out = os.path.join(top, "tsk.json")
    env = dict(os.environ, IMGSCAN_TEST_TSK_FAULT="hang:hangme")
    status, took = stop_after([hooks_binary(), "scan", "-q", "--tsk-timeout", "25", "-o", out, d], 1.5,
                              signal.SIGTERM, env=env)
    c.eq("TSK hang, SIGTERM: exit 143", status, 143)
    c.true("TSK hang, SIGTERM: stopped within 2 s", took < 2, "%.1f s" % took)
    if status == 143:
        img = json.load(open(out))["images"][0]
        c.eq("TSK hang, SIGTERM: the worker's status is 'stopped'", img["identification"]["tsk"]["status"],
             "stopped")


def check_group_signal(c, top):
    """SIGTERM to the whole process group (timeout(1), a service manager)
    reaches the workers too: they leave it to imgscan, so the busy one is
    'stopped', not 'crashed', and no worker restart is counted."""
    d = os.path.join(top, "group")
    os.makedirs(d)
    itlib.make_fat(os.path.join(d, "hangme.img"), 16, "HANG", 16 << 20)
    out = os.path.join(top, "group.json")
    env = dict(os.environ, IMGSCAN_TEST_TSK_FAULT="hang:hangme")
    proc = subprocess.Popen([hooks_binary(), "scan", "-q", "--tsk-timeout", "25", "-o", out, d], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        status = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = None
    c.eq("process-group SIGTERM: exit 143", status, 143)
    if status == 143:
        rep = json.load(open(out))
        c.eq("process-group SIGTERM: the worker is 'stopped'",
             rep["images"][0]["identification"]["tsk"]["status"], "stopped")
        c.eq("process-group SIGTERM: no worker restart", rep["summary"]["tsk_worker_restarts"], 0)


def check_sigchld_ignored(c, top):
    """Started with SIGCHLD ignored (some supervisors and wrappers pass that
    on): a crashing worker is still reported as the crash it was."""
    d = os.path.join(top, "sigchld")
    os.makedirs(d)
    itlib.make_fat(os.path.join(d, "crashme.img"), 16, "CRASH", 16 << 20)
    out = os.path.join(top, "sigchld.json")
    wrapper = ("import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); "
               "os.execv(sys.argv[1], sys.argv[1:])")
    env = dict(os.environ, IMGSCAN_TEST_TSK_FAULT="crash:crashme")
    subprocess.run([sys.executable, "-c", wrapper, hooks_binary(), "scan", "-q", "-o", out, d], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    tsk = json.load(open(out))["images"][0]["identification"]["tsk"]
    c.eq("SIGCHLD ignored: the crash is still a crash", (tsk["status"], tsk.get("failure")),
         ("crashed", "crashed: SIGSEGV"))


def check_blocked_output(c, top):
    """Blocked opening a FIFO that has no reader (before any scan runs): the
    first SIGINT ends it at once; so does a second signal anywhere."""
    fifo = os.path.join(top, "nobody-reads.fifo")
    os.mkfifo(fifo)
    d = os.path.join(top, "small")
    random_files(d, ("x.img",), 4096)
    status, took = stop_after([itlib.IMGSCAN, "scan", "-q", "--no-tsk", "-o", fifo, d], 0.5, signal.SIGINT)
    c.eq("blocked on a FIFO: SIGINT kills it", status, -signal.SIGINT)
    c.true("blocked on a FIFO: at once", took < 2, "%.1f s" % took)
    c.true("blocked on a FIFO: still a FIFO", os.path.exists(fifo) and not os.path.isfile(fifo))


def main():
    top = itlib.setup()
    c = itlib.Checker()
    try:
        check_blocked_output(c, top)
        check_tsk_stop(c, top)
        check_group_signal(c, top)
        check_sigchld_ignored(c, top)
        try:
            check_signal_stop(c, top)
            check_signal_echo(c, top)
            check_stray_sigusr1(c, top)
            check_sigkill(c, top)
            check_lost_read(c, top)
        except itlib.FuseUnavailable as e:
            print("FUSE not available (%s): the slow-storage cases are skipped" % e)
    finally:
        itlib.sh("rm", "-rf", top)
    c.done()


if __name__ == "__main__":
    main()
