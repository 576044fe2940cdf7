#!/usr/bin/env python3
"""The fence around The Sleuth Kit.

Run with imgscan-testhooks (the build with the test-only
IMGSCAN_TEST_TSK_FAULT) and the release imgscan:
  it_tsk_fence.py path/to/imgscan-testhooks path/to/imgscan

- a worker told to crash, hang or exhaust its memory is killed and replaced;
  that image's identification is reported as failed with the reason, next to
  what our own probes found, and every other image is still done;
- the release programs have no fault injection: the variable is ignored;
- the worker is the program imgscan-worker beside imgscan, of the same
  build: another build's refuses to serve (every image says so, the scan
  ends), and a missing one is said at the start;
- a damaged image whose TSK error mentions "alloc" is not out of memory
  (decided by the worker's allocator, not by message text): no restart;
- workers close each image's descriptor: a thousand images under a limit of
  64 open descriptors all get their answer (images over 1 MiB: smaller
  ones go to the worker through its image buffer, with no descriptor);
- small images, sent through the worker's image buffer, are answered also
  next to a worker that crashed, hung or ran out of memory (the buffer
  outlives the worker);
- the private directory for container links is used only through its
  descriptor: another user renaming it in a world-writable, non-sticky
  $TMPDIR and putting a symlink to a victim directory in its place removes
  nothing of the victim's;
- a worker holds only its socket, /dev/null and, while a request runs, the
  image and its directory; it blocks no signal, ignores SIGINT, and dies
  with imgscan."""
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name  # noqa: E402


SMALL_GOOD = 8  # 64 KiB images: through the workers' image buffers


def fault_cases(c, d):
    cases = (("crash", "crashed: SIGSEGV", "crashed"), ("hang", "timed out after 2 s", "timed-out"),
             ("alloc", "out of memory", "out-of-memory"))
    for fault, reason, status in cases:
        env = dict(os.environ, IMGSCAN_TEST_TSK_FAULT="%s:victim" % fault)
        t0 = time.monotonic()
        code, rep, err = itlib.scan("--tsk-timeout", "2", "--tsk-memory", "256", "-j", "2", d, env=env)
        took = time.monotonic() - t0
        c.eq(fault + ": exit 2 (identification failed)", code, 2)
        v = by_name(rep, "victim.img")
        tsk = v["identification"]["tsk"]
        c.eq(fault + ": tsk status", tsk["status"], status)
        c.true(fault + ": reason", tsk.get("failure", "").startswith(reason), tsk.get("failure"))
        c.eq(fault + ": error recorded", [e["stage"] for e in v["errors"]], ["tsk"])
        c.eq(fault + ": our probes still identify it", (v["kind"], v["detail"]), ("disk", "fat16"))
        c.true(fault + ": hash still there", v["hashes"] and len(v["hashes"]["xxh128"]) == 32)
        c.eq(fault + ": worker replaced", rep["summary"]["tsk_worker_restarts"], 1)
        for i in range(6):
            g = by_name(rep, "good%d.img" % i)
            c.eq(fault + ": good%d unharmed" % i, (g["identification"]["tsk"]["status"], g["status"]), ("ok", "ok"))
        for i in range(SMALL_GOOD):
            g = by_name(rep, "small%d.img" % i)
            fs = [(f["type"], f["offset"]) for f in g["identification"]["tsk"]["filesystems"]]
            c.eq(fault + ": small%d answered" % i, (g["identification"]["tsk"]["status"], fs), ("ok", [("fat12", 0)]))
        c.true(fault + ": bounded time", took < 30, "%.1f s" % took)


def broken_answer(c, d):
    """A worker that answers with a wrong size and lives on is killed, not
    waited for: the scan ends long before the TSK timeout."""
    env = dict(os.environ, IMGSCAN_TEST_TSK_FAULT="garble:victim")
    t0 = time.monotonic()
    code, rep, err = itlib.scan("--tsk-timeout", "60", "-j", "2", d, env=env, timeout=50)
    took = time.monotonic() - t0
    tsk = by_name(rep, "victim.img")["identification"]["tsk"]
    c.eq("garble: tsk status", tsk["status"], "worker-error")
    c.true("garble: reason", "protocol" in tsk.get("failure", ""), tsk.get("failure"))
    c.eq("garble: worker replaced", rep["summary"]["tsk_worker_restarts"], 1)
    c.true("garble: not waited for", took < 20, "%.1f s" % took)


def worker_program(imgscan):
    """The worker program built beside an imgscan binary."""
    d, name = os.path.split(os.path.abspath(imgscan))
    return os.path.join(d, name + "-worker")


def release_ignores_faults(c, d, release):
    """The shipped programs carry no fault injection at all."""
    for prog in (release, worker_program(release)):
        with open(prog, "rb") as f:
            c.true("release: no fault-injection code in " + os.path.basename(prog), b"(test fault)" not in f.read())
    with open(worker_program(itlib.IMGSCAN), "rb") as f:
        c.true("testhooks: fault-injection code present", b"(test fault)" in f.read())
    hooks, itlib.IMGSCAN = itlib.IMGSCAN, release
    try:
        env = dict(os.environ, IMGSCAN_TEST_TSK_FAULT="crash:victim")
        code, rep, err = itlib.scan("--tsk-timeout", "2", "-j", "2", d, env=env)
    finally:
        itlib.IMGSCAN = hooks
    c.eq("release: crash fault ignored, exit 0", code, 0)
    c.eq("release: victim identified by TSK", by_name(rep, "victim.img")["identification"]["tsk"]["status"], "ok")
    c.eq("release: no restart", rep["summary"]["tsk_worker_restarts"], 0)


def damage_mft_data_size(path):
    """Make $MFT's own $DATA attribute claim twice the bytes it has allocated.
    libtsk then fails with "tsk_fs_attr_set_run: alloc_size (N) is less than
    size (M)": damage, not memory.  (libtsk's FAT and ext4 open paths produce
    no error with "alloc" in it: every byte of their boot sector, superblock
    and group descriptors was tried.)"""
    with open(path, "r+b") as f:
        boot = f.read(512)
        bps, spc = struct.unpack_from("<H", boot, 11)[0], boot[13]
        mft = struct.unpack_from("<Q", boot, 48)[0] * bps * spc
        f.seek(mft)
        rec = bytearray(f.read(1024))
        assert rec[:4] == b"FILE", "no MFT record at %d" % mft
        off = struct.unpack_from("<H", rec, 20)[0]
        while off + 0x38 < len(rec):
            atype, alen = struct.unpack_from("<II", rec, off)
            if atype == 0xFFFFFFFF or alen == 0:
                break
            if atype == 0x80 and rec[off + 8]:  # non-resident $DATA
                alloc = struct.unpack_from("<Q", rec, off + 0x28)[0]
                struct.pack_into("<Q", rec, off + 0x30, alloc * 2)  # data size
                f.seek(mft)
                f.write(rec)
                return
            off += alen
    raise AssertionError("no non-resident $DATA attribute in $MFT")


def alloc_message_is_not_oom(c, top):
    d = os.path.join(top, "damaged")
    os.makedirs(d)
    img = os.path.join(d, "mft-damaged.img")
    itlib.make_ntfs(img, "DAMAGED")
    damage_mft_data_size(img)
    itlib.make_fat(os.path.join(d, "after.img"), 16, "AFTER", 16 << 20)
    code, rep, err = itlib.scan("--tsk-memory", "256", "--tsk-workers", "1", "-j", "1", d)
    v = by_name(rep, "mft-damaged.img")
    tsk = v["identification"]["tsk"]
    msgs = " ".join(tsk.get("errors") or [])
    c.true("damaged: TSK's message mentions alloc", "alloc" in msgs, msgs)
    c.eq("damaged: TSK answered (not out of memory)", tsk["status"], "ok")
    c.eq("damaged: no worker restart", rep["summary"]["tsk_worker_restarts"], 0)
    c.eq("damaged: no tsk error on the image", [e["stage"] for e in v["errors"]], [])
    c.eq("damaged: the next image on the same worker", by_name(rep, "after.img")["identification"]["tsk"]["status"],
         "ok")


def sparse_copy(src, dst, block=4096):
    """dst as src, its all-zero blocks left as holes."""
    with open(src, "rb") as f:
        data = f.read()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for off in range(0, len(data), block):
            piece = data[off:off + block]
            if piece.count(0) != len(piece):
                os.pwrite(fd, piece, off)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def no_descriptor_leak(c, top, count=1000, limit=64):
    """One worker, a thousand images, 64 descriptors per process: a
    descriptor kept per image would run out after some 60.  The images are
    just over 1 MiB, so each goes to the worker as its descriptor (sparse
    copies: little disk)."""
    d = os.path.join(top, "many")
    os.makedirs(d)
    first = os.path.join(d, "img0000.img")
    itlib.make_fat(first, 12, "MANY", (1 << 20) + (64 << 10))
    for i in range(1, count):
        sparse_copy(first, os.path.join(d, "img%04d.img" % i))

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "report.json")
        p = subprocess.run([itlib.IMGSCAN, "scan", "-q", "-o", out, "-j", "1", "--tsk-workers", "1", d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=low_limit, timeout=600)
        with open(out, "rb") as f:
            rep = json.load(f)
    statuses = {}
    for img in rep["images"]:
        s = img["identification"]["tsk"]["status"]
        statuses[s] = statuses.get(s, 0) + 1
    c.eq("fds: exit status", p.returncode, 0)
    c.eq("fds: every image answered by TSK", statuses, {"ok": count})
    c.eq("fds: no worker restart", rep["summary"]["tsk_worker_restarts"], 0)


def container_links_cleaned(c, top):
    """Containers reach their libraries through a link in a private
    directory under $TMPDIR: TSK reads them, and nothing is left there,
    also when a worker is killed."""
    d, tmp = os.path.join(top, "containers"), os.path.join(top, "tmp")
    os.makedirs(d)
    os.makedirs(tmp)
    raw = os.path.join(top, "inner.img")
    itlib.make_fat(raw, 16, "INNER", 16 << 20)
    itlib.make_qemu(os.path.join(d, "disk.vhd"), "vpc", src=raw)
    itlib.make_qemu(os.path.join(d, "disk.vmdk"), "vmdk", src=raw)
    itlib.make_qemu(os.path.join(d, "cvictim.vhd"), "vpc", src=raw)
    for fault in ("", "crash:cvictim"):
        env = dict(os.environ, TMPDIR=tmp, IMGSCAN_TEST_TSK_FAULT=fault)
        code, rep, err = itlib.scan("--tsk-workers", "1", "-j", "1", d, env=env)
        for name in ("disk.vhd", "disk.vmdk"):
            tsk = by_name(rep, name)["identification"]["tsk"]
            fs = [(f["type"], f["offset"]) for f in tsk.get("filesystems") or []]
            c.eq("containers %r: TSK reads %s through its descriptor" % (fault, name), fs, [("fat16", 0)])
        c.eq("containers %r: cvictim" % fault, by_name(rep, "cvictim.vhd")["identification"]["tsk"]["status"],
             "crashed" if fault else "ok")
        c.eq("containers %r: no link directory left in $TMPDIR" % fault, os.listdir(tmp), [])


def link_dir_swapped(c, top):
    """An attacker (a thread here, standing for another user) keeps renaming
    every imgscan-tsk-* directory in a 0777, non-sticky $TMPDIR and putting a
    symlink to a victim directory in its place while containers are
    scanned: the victim's files survive, and the swapped name is left alone."""
    d, tmp, victim = (os.path.join(top, n) for n in ("swap-images", "swap-tmp", "swap-victim"))
    for x in (d, tmp, victim):
        os.makedirs(x)
    os.chmod(tmp, 0o777)  # world-writable, no sticky bit
    raw = os.path.join(top, "swap-inner.img")
    itlib.make_fat(raw, 16, "SWAP", 16 << 20)
    names = []
    for i in range(4):
        for fmt, ext in (("vpc", "vhd"), ("vmdk", "vmdk")):
            name = "disk%d.%s" % (i, ext)
            itlib.make_qemu(os.path.join(d, name), fmt, src=raw)
            names.append(name)
    # What the old code unlinked and replaced: the links' own names, and more.
    precious = ["image.vhd", "image.E01", "keep.txt"] + [n for n in names if n.endswith(".vmdk")]
    for n in precious:
        with open(os.path.join(victim, n), "w") as f:
            f.write("evidence " + n)

    def victim_intact():
        return sorted(os.listdir(victim)) == sorted(precious) and all(
            not os.path.islink(os.path.join(victim, n)) and open(os.path.join(victim, n)).read() == "evidence " + n
            for n in precious)

    # The normal case first: everything works, nothing is left in $TMPDIR.
    env = dict(os.environ, TMPDIR=tmp)
    code, rep, err = itlib.scan("--tsk-workers", "2", "-j", "2", d, env=env)
    c.eq("swap: normal case, every container read by TSK",
         sorted(by_name(rep, n)["identification"]["tsk"]["status"] for n in names), ["ok"] * len(names))
    c.eq("swap: normal case, nothing left in a 0777 $TMPDIR", os.listdir(tmp), [])

    stop, swaps = threading.Event(), []

    def attacker():
        while not stop.is_set():
            for e in os.listdir(tmp):
                p = os.path.join(tmp, e)
                if e.startswith("imgscan-tsk-") and not e.endswith(".moved") and not os.path.islink(p):
                    try:
                        os.rename(p, p + ".moved")
                        os.symlink(victim, p)
                        swaps.append(e)
                    except OSError:
                        pass
            time.sleep(0.0005)

    for rnd in range(3):
        t = threading.Thread(target=attacker)
        t.start()
        try:
            code, rep, err = itlib.scan("--tsk-workers", "2", "-j", "2", d, env=env)
        finally:
            stop.set()
            t.join()
            stop.clear()
        c.true("swap %d: a report" % rnd, rep is not None, err)
    c.true("swap: the attacker swapped directories", len(swaps) > 0, swaps)
    c.true("swap: the victim's files survive", victim_intact(), os.listdir(victim))
    for e in os.listdir(tmp):
        p = os.path.join(tmp, e)
        if os.path.islink(p):
            c.eq("swap: the symlink in its place is left alone", os.readlink(p), victim)
        elif e.endswith(".moved"):
            c.eq("swap: the moved directory was emptied through its descriptor", os.listdir(p), [])


def worker_children(pid):
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open("/proc/%s/stat" % e) as f:
                    st = f.read()
                with open("/proc/%s/cmdline" % e, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if int(st.rsplit(")", 1)[1].split()[1]) == pid and b"--tsk-worker" in cmd:
                out.append(int(e))
    return out


def proc_fds(pid):
    fds = {}
    for e in os.listdir("/proc/%d/fd" % pid):
        try:
            fds[int(e)] = os.readlink("/proc/%d/fd/%s" % (pid, e))
        except OSError:
            pass
    return fds


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1]
    return None


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def worker_hygiene(c, top):
    """A worker inherits nothing of its caller's (a test-held descriptor,
    a pipe's write end) nor of imgscan's, blocks no signal, ignores SIGINT,
    and dies within a second of a SIGKILLed imgscan."""
    d, tmp = os.path.join(top, "hygiene"), os.path.join(top, "hygiene-tmp")
    os.makedirs(d)
    os.makedirs(tmp)
    raw = os.path.join(top, "hygiene-inner.img")
    itlib.make_fat(raw, 16, "HYG", 16 << 20)
    itlib.make_qemu(os.path.join(d, "hangme.vhd"), "vpc", src=raw)
    marker = os.path.join(top, "held-by-test.txt")
    open(marker, "w").close()
    held = os.open(marker, os.O_RDONLY)
    rd, wr = os.pipe()
    env = dict(os.environ, TMPDIR=tmp, IMGSCAN_TEST_TSK_FAULT="hang:hangme")
    out = os.path.join(top, "hygiene-report.json")
    p = subprocess.Popen([itlib.IMGSCAN, "scan", "-q", "-o", out, "--tsk-timeout", "60", "--tsk-workers", "1",
                          "-j", "1", d], env=env, pass_fds=(held, wr), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.close(wr)
    worker = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker is None:
            for w in worker_children(p.pid):
                fds = proc_fds(w)
                if any("hangme.vhd" in t for t in fds.values()):
                    worker = w
            time.sleep(0.05)
        c.true("hygiene: a worker busy with hangme.vhd", worker is not None)
        if worker is None:
            return
        time.sleep(0.2)
        fds = proc_fds(worker)
        c.true("hygiene: fd 0 is the socket", fds.get(0, "").startswith("socket:"), fds)
        c.eq("hygiene: fds 1 and 2 are /dev/null", (fds.get(1), fds.get(2)), ("/dev/null", "/dev/null"))
        rest = sorted(t for fd, t in fds.items() if fd > 2)
        c.eq("hygiene: besides, only the image and its link directory", len(rest), 2)
        c.true("hygiene: the image", any(t.endswith("/hangme.vhd") for t in rest), rest)
        c.true("hygiene: the link directory", any("/imgscan-tsk-" in t for t in rest), rest)
        c.true("hygiene: not the test's file, not the pipe",
               not any(t == marker or t.startswith("pipe:") for t in fds.values()), fds)
        c.eq("hygiene: no signal blocked", int(status_field(worker, "SigBlk"), 16), 0)
        c.true("hygiene: SIGINT ignored", int(status_field(worker, "SigIgn"), 16) & (1 << (signal.SIGINT - 1)))
        p.kill()
        p.wait()
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline and not gone(worker):
            time.sleep(0.02)
        c.true("hygiene: the worker dies with imgscan", gone(worker), worker)
        os.set_blocking(rd, False)
        try:
            eof = os.read(rd, 1) == b""
        except BlockingIOError:  # someone still holds the write end
            eof = False
        c.true("hygiene: the pipe's write end is closed everywhere", eof)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if worker is not None and not gone(worker):
            os.kill(worker, signal.SIGKILL)
        os.close(held)
        os.close(rd)


def worker_from_elsewhere(c, d, release):
    """imgscan runs the worker program beside it, and only one of its own
    build: another build's worker (here the test-hooks one, named
    imgscan-worker) refuses to serve, every image says why, the scan ends;
    with no worker program at all, the run says so and exits 2."""
    work = tempfile.mkdtemp(prefix="imgscan-stale-")
    try:
        shutil.copy(release, os.path.join(work, "imgscan"))
        shutil.copy(worker_program(itlib.IMGSCAN), os.path.join(work, "imgscan-worker"))
        small = [os.path.join(d, "small%d.img" % i) for i in range(2)]
        hooks, itlib.IMGSCAN = itlib.IMGSCAN, os.path.join(work, "imgscan")
        try:
            t0 = time.monotonic()
            code, rep, err = itlib.scan("--tsk-timeout", "5", *small)
            took = time.monotonic() - t0
            c.eq("stale worker: exit 2", code, 2)
            c.true("stale worker: no wait for the time limit", took < 4, "%.1f s" % took)
            for p in small:
                msgs = [e["message"] for e in by_name(rep, os.path.basename(p))["errors"]]
                c.true("stale worker: %s says another build" % os.path.basename(p),
                       any("another build" in m for m in msgs), repr(msgs))
            c.eq("stale worker: not counted as restarts", rep["summary"]["tsk_worker_restarts"], 0)
            os.unlink(os.path.join(work, "imgscan-worker"))
            code, rep, err = itlib.scan(*small)
            c.eq("no worker program: exit 2", code, 2)
            c.true("no worker program: said", "imgscan-worker" in err, err)
        finally:
            itlib.IMGSCAN = hooks
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    top, d = itlib.workspace("a")
    release = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    c = itlib.Checker()
    try:
        for i in range(6):
            itlib.make_fat(os.path.join(d, "good%d.img" % i), 16, "GOOD%d" % i, 16 << 20)
        itlib.make_fat(os.path.join(d, "victim.img"), 16, "VICTIM", 16 << 20)
        for i in range(SMALL_GOOD):
            itlib.make_fat(os.path.join(d, "small%d.img" % i), 12, "SMALL%d" % i, 64 << 10)
        fault_cases(c, d)
        broken_answer(c, d)
        if release:
            release_ignores_faults(c, d, release)
            worker_from_elsewhere(c, d, release)
        else:  # ctest passes it; an ad-hoc run may not
            print("no release binary given (second argument): its check is skipped")
        alloc_message_is_not_oom(c, top)
        container_links_cleaned(c, top)
        link_dir_swapped(c, top)
        worker_hygiene(c, top)
        no_descriptor_leak(c, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
