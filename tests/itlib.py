"""itlib - shared helpers for imgscan's integration tests and the demo archive.

Every image is made at test time by the real tool (genisoimage, xorriso,
isohybrid, mkudffs, mkfs.*, mkntfs, sfdisk, sgdisk, qemu-img, ewfacquire,
gzip, xz).  The one exception is the raw 2352-byte CD image, which no Debian
tool writes: it is framed here from a real ISO's sectors (sync pattern, BCD
header, mode byte, user data), as the FORMATS.md facts describe.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

IMGSCAN = os.environ.get("IMGSCAN", "")


def sh(*cmd, cwd=None, env=None, check=True):
    """Run a tool; fail loudly with its stderr."""
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.decode(errors="replace")))
    return p


def content_dir(root, name="content", nbytes=200_000):
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "readme.txt"), "w") as f:
        f.write("imgscan test content\n")
    with open(os.path.join(d, "data.bin"), "wb") as f:
        f.write(os.urandom(nbytes))
    return d


def make_iso(path, label, src, udf=False):
    sh("genisoimage", "-quiet", "-J", "-R", *(["-udf"] if udf else []), "-V", label, "-o", path, src)


def make_hybrid(path, label, root):
    """A bootable El Torito ISO made isohybrid by syslinux's isohybrid."""
    src = os.path.join(root, "hybrid-src")
    os.makedirs(os.path.join(src, "isolinux"), exist_ok=True)
    shutil.copy("/usr/lib/ISOLINUX/isolinux.bin", os.path.join(src, "isolinux"))
    sh("genisoimage", "-quiet", "-J", "-R", "-V", label, "-b", "isolinux/isolinux.bin", "-c",
       "isolinux/boot.cat", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "-o", path, src)
    sh("isohybrid", path)


def sized(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


def make_udf(path, label, size=16 << 20, media="dvd"):
    """UDF as mkudffs writes it: media "dvd" has 2048-byte blocks (an optical
    disc's); "hd" 512-byte blocks (a hard disk's, not for a disc)."""
    sized(path, size)
    sh("mkudffs", "--label=" + label, "--media-type=" + media, path)


def make_fat(path, bits, label, size):
    sized(path, size)
    sh("mkfs.vfat", "-F", str(bits), "-n", label, path)


def make_exfat(path, label, size=16 << 20):
    sized(path, size)
    sh("mkfs.exfat", "-L", label, path)


def make_ext(path, kind, label, size=16 << 20):
    sized(path, size)
    sh("mkfs." + kind, "-q", "-F", "-L", label, path)


def make_ntfs(path, label, size=32 << 20):
    sized(path, size)
    sh("mkntfs", "-q", "-F", "-Q", "-L", label, path)


def put_at(disk, offset, part_image):
    """Copy a file-system image into a disk image at a byte offset."""
    sh("dd", "if=" + part_image, "of=" + disk, "bs=1M", "seek=%d" % offset, "oflag=seek_bytes", "conv=notrunc",
       "status=none")


def make_mbr_disk(path, root, size=64 << 20, fs="fat32"):
    """MBR disk, one partition at 1 MiB holding a real file system."""
    sized(path, size)
    p = subprocess.run(["sfdisk", "-q", path], input=b"label: dos\nstart=2048, type=c, bootable\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise RuntimeError("sfdisk: " + p.stderr.decode())
    part = os.path.join(root, "mbr-part.tmp")
    if fs == "fat32":
        make_fat(part, 32, "MBRPART", size - (1 << 20))
    else:
        make_ext(part, fs, "MBRPART", size - (1 << 20))
    put_at(path, 1 << 20, part)
    os.unlink(part)


def make_gpt_disk(path, root, size=64 << 20, fs="ext4"):
    """GPT disk (protective MBR), partition 1 at 1 MiB with a real file system."""
    sized(path, size)
    sh("sgdisk", "-n", "1:2048:+32M", "-t", "1:8300", "-c", "1:imgscan-data", path)
    part = os.path.join(root, "gpt-part.tmp")
    make_ext(part, fs, "GPTPART", 32 << 20)
    put_at(path, 1 << 20, part)
    os.unlink(part)


def make_qemu(path, fmt, size="64M", src=None):
    if src:
        sh("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, src, path)
    else:
        sh("qemu-img", "create", "-q", "-f", fmt, path, size)


def make_e01(target_base, src, segment_size=None, compression="none"):
    """ewfacquire in unattended mode (MD5 and SHA-1 stored); returns the .E01
    path.  segment_size ("1MiB"): a set of several segment files."""
    more = ["-S", segment_size] if segment_size else []
    sh("ewfacquire", "-u", "-q", "-t", target_base, "-c", compression, "-C", "case", "-D", "imgscan test",
       "-e", "tester", "-E", "ev1", "-N", "none", "-d", "sha1", *more, src)
    return target_base + ".E01"


def bcd(v):
    return (v // 10) << 4 | (v % 10)


# ECMA-130 Annex A, computed here in Python on its own terms (a second
# implementation beside imgscan's act/cd_sector.c and act/cd_ecc.c, which the
# tests check against each other): the EDC is a CRC-32 with the reflected
# polynomial 0xD8018001, init 0, no final xor; the P and Q parity are
# Reed-Solomon over GF(2^8) with x^8+x^4+x^3+x^2+1, two parity bytes per
# vector such that, with the vector v[0..n-1] then a, b:
#     sum v[i] + a + b = 0   and   sum v[i]*x^(n+1-i) + a*x + b = 0.
_EDC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ (0xD8018001 if _c & 1 else 0)
    _EDC_TABLE.append(_c)
_GF_EXP = [0] * 512
_GF_LOG = [0] * 256
_v = 1
for _i in range(255):
    _GF_EXP[_i] = _GF_EXP[_i + 255] = _v
    _GF_LOG[_v] = _i
    _v = (_v << 1) ^ (0x11D if _v & 0x80 else 0)


def cd_edc(data):
    crc = 0
    for b in data:
        crc = (crc >> 8) ^ _EDC_TABLE[(crc ^ b) & 0xFF]
    return crc


def _gf_mul_table(power):
    """bytes.translate table multiplying by x^power."""
    return bytes(0 if v == 0 else _GF_EXP[_GF_LOG[v] + power % 255] for v in range(256))


_DIV_X1 = bytes(0 if v == 0 else _GF_EXP[_GF_LOG[v] - _GF_LOG[3] + 255] for v in range(256))  # v/(x+1)
# Q vector k, element i: byte ((k//2)*86 + k%2 + 88*i) mod 2236 of header..P parity.
_Q_GATHER = [((k >> 1) * 86 + (k & 1) + 88 * i) % 2236 for i in range(43) for k in range(52)]


def _parity(rows, width):
    """Parity of `width` vectors given as rows (row i = element i of each
    vector): returns a[0..width-1] + b[0..width-1]."""
    n = len(rows)
    s0 = s1 = 0
    for i, row in enumerate(rows):
        s0 ^= int.from_bytes(row, "big")
        s1 ^= int.from_bytes(row.translate(_gf_mul_table(n + 1 - i)), "big")
    a = (s0 ^ s1).to_bytes(width, "big").translate(_DIV_X1)
    b = (int.from_bytes(a, "big") ^ s0).to_bytes(width, "big")
    return a + b


def cd_ecc(sector, zero_header):
    """P (172 bytes) and Q (104) parity of a 2352-byte sector."""
    block = bytearray(sector[12:2076])
    if zero_header:
        block[0:4] = b"\0\0\0\0"
    p = _parity([bytes(block[r * 86:(r + 1) * 86]) for r in range(24)], 86)
    block += p
    gathered = bytes(map(block.__getitem__, _Q_GATHER))
    q = _parity([gathered[i * 52:(i + 1) * 52] for i in range(43)], 52)
    return p + q


def raw_cd_sector(data, lba, mode=1, edc=True, ecc=True, submode=0x08):
    """One 2352-byte sector holding 2048 bytes of data at lba (address
    lba + 150 frames): MODE1, or MODE2 with the subheader's submode (0x08:
    Form 1 data; 0x28 would be Form 2)."""
    sync = b"\x00" + b"\xff" * 10 + b"\x00"
    frame = lba + 150
    s = bytearray(sync + bytes([bcd(frame // 4500), bcd(frame // 75 % 60), bcd(frame % 75), mode]))
    if mode == 1:
        s += data + b"\0" * 288
        edc_from, edc_at = 0, 2064
    else:
        s += bytes([0, 0, submode, 0]) * 2 + data + b"\0" * 280
        edc_from, edc_at = 16, 2072
    if edc:
        s[edc_at:edc_at + 4] = cd_edc(s[edc_from:edc_at]).to_bytes(4, "little")
    if ecc:
        s[2076:2352] = cd_ecc(s, mode == 2)
    assert len(s) == 2352
    return bytes(s)


def frame_raw_cd(iso_path, out_path, mode=1, edc=False, ecc=False):
    """Wrap each 2048-byte ISO sector in a 2352-byte raw sector (MODE1, or
    MODE2 form 1): sync, BCD M:S:F address (150-frame lead-in), mode, data;
    with edc/ecc the EDC and the P/Q parity too (left zero otherwise:
    identification does not read them)."""
    with open(iso_path, "rb") as src, open(out_path, "wb") as out:
        lba = 0
        while True:
            data = src.read(2048)
            if not data:
                break
            out.write(raw_cd_sector(data.ljust(2048, b"\0"), lba, mode, edc, ecc))
            lba += 1


def compress(src, dst, tool):
    with open(dst, "wb") as out:
        subprocess.run([tool, "-c", src], stdout=out, check=True)


def scan(*args, env=None, timeout=300):
    """Run imgscan scan with JSON to a file; returns (exit status, report, stderr)."""
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "report.json")
        p = subprocess.run([IMGSCAN, "scan", "-o", out, *[str(a) for a in args]], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        report = None
        if os.path.exists(out):
            with open(out, "rb") as f:
                report = json.load(f)
        return p.returncode, report, p.stderr.decode(errors="replace")


def by_name(report, name):
    """The image entry whose file name is name."""
    for img in report["images"]:
        if os.path.basename(img["path"]) == name:
            return img
    raise AssertionError("no image %r in report: %s" % (name, [i["path"] for i in report["images"]]))


def codes(img):
    return sorted(f["code"] for f in img["findings"])


def blkid(path):
    p = sh("blkid", "-p", "-o", "export", path, check=False)
    return dict(l.split("=", 1) for l in p.stdout.decode().splitlines() if "=" in l)


def xxhsum(path, algo="2"):
    return sh("xxhsum", "-H" + algo, path).stdout.decode().split()[0]


class Checker:
    """Collects failures so one run shows them all; exit status 1 if any."""

    def __init__(self):
        self.failures = 0
        self.checks = 0

    def eq(self, what, got, want):
        self.checks += 1
        if got != want:
            self.failures += 1
            print("FAIL %s: got %r, want %r" % (what, got, want))

    def true(self, what, cond, info=""):
        self.checks += 1
        if not cond:
            self.failures += 1
            print("FAIL %s %s" % (what, info))

    def done(self):
        print("%d checks, %d failures" % (self.checks, self.failures))
        sys.exit(1 if self.failures else 0)


def workspace(*subdirs):
    """setup(), plus the named subdirectories: (top, sub1, sub2, ...)."""
    top = setup()
    made = [os.path.join(top, s) for s in subdirs]
    for m in made:
        os.makedirs(m)
    return (top, *made)


def copy_imgscan(exe):
    """Copy imgscan to exe, and its worker program (NAME-worker beside it:
    imgscan-worker, imgscan-testhooks-worker) beside that, under the name
    the program looks for: a copy runs like the original."""
    shutil.copy(IMGSCAN, exe)
    os.chmod(exe, 0o755)
    name = os.path.basename(IMGSCAN) + "-worker"
    worker = os.path.join(os.path.dirname(exe), name)
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(IMGSCAN)), name), worker)
    os.chmod(worker, 0o755)
    return exe


def setup():
    global IMGSCAN
    if len(sys.argv) > 1:
        IMGSCAN = os.path.abspath(sys.argv[1])
    if not IMGSCAN or not os.access(IMGSCAN, os.X_OK):
        sys.exit("usage: %s path/to/imgscan" % sys.argv[0])
    return tempfile.mkdtemp(prefix="imgscan-test-")


def skip_without(tools, top, also=()):
    """Exit 77 (skipped), naming what is missing, when one of the programs
    tools is not on PATH or also (other needs, already found missing) is not
    empty; the test's directory top is removed first."""
    missing = [t for t in tools if not shutil.which(t)] + list(also)
    if missing:
        shutil.rmtree(top, ignore_errors=True)
        print("skipped: missing " + ", ".join(missing))
        sys.exit(77)


# ---- faultfs: a FUSE mount that injects faults (tests/faultfs.c) ----------
import contextlib  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402


class FuseUnavailable(Exception):
    """FUSE cannot be used here (no /dev/fuse, mounting refused, faultfs not
    built): a test catching it prints the reason and exits 77 (skipped)."""


def faultfs_binary():
    """$FAULTFS (set by CTest), else tests/faultfs beside the imgscan binary."""
    if "FAULTFS" in os.environ:
        return os.environ["FAULTFS"]
    return os.path.join(os.path.dirname(os.path.abspath(IMGSCAN)), "tests", "faultfs") if IMGSCAN else ""


def fuse_mounted(mnt):
    """Whether mnt is a mount point now, from /proc/self/mountinfo (asking the
    file system itself would be a request, and move faultfs's counters)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            field = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if field == mnt:
                return True
    return False


def _faultfs_failed(proc, log):
    """The exception for a faultfs that exited before mounting: FUSE refused
    (libfuse's and fusermount3's own messages) or a test's mistake."""
    log.seek(0)
    msg = log.read().decode(errors="replace").strip()
    if "/dev/fuse" in msg or any(l.startswith(("fuse:", "fusermount")) for l in msg.splitlines()):
        return FuseUnavailable("faultfs could not mount (exit %s): %s" % (proc.returncode, msg))
    return RuntimeError("faultfs exited %s: %s" % (proc.returncode, msg))


def _faultfs_stop(proc, mnt):
    """Unmount (lazily if something still holds the mount) and end faultfs."""
    if fuse_mounted(mnt):
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not shutil.which("fusermount3") or subprocess.run(["fusermount3", "-u", mnt], **quiet).returncode:
            subprocess.run(["umount", "-l", mnt], **quiet)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.terminate()  # faultfs unmounts on SIGTERM
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def faultfs(backing_dir, rules_text, trace=False):
    """Mount faultfs over backing_dir, read-only, with the given rules (their
    format is at the top of tests/faultfs.c) on a fresh temporary directory,
    and yield the mount point.  Raises FuseUnavailable where FUSE cannot be
    used.  On leaving, always: unmounts, stops faultfs, removes the temporary
    directory (never while something is still mounted on it).  With trace,
    faultfs's log of every request is printed on leaving."""
    binary = faultfs_binary()
    if not binary or not os.access(binary, os.X_OK):
        raise FuseUnavailable("faultfs is not built (libfuse3-dev missing?)")
    if not os.path.exists("/dev/fuse"):
        raise FuseUnavailable("no /dev/fuse")
    td = tempfile.mkdtemp(prefix="imgscan-faultfs-")
    mnt = os.path.join(td, "mnt")
    os.mkdir(mnt)
    rules = os.path.join(td, "rules")
    with open(rules, "w") as f:
        f.write(rules_text)
    # The log goes to a file, not a pipe: a full pipe would stall the mount.
    log = open(os.path.join(td, "faultfs.log"), "w+b")
    proc = subprocess.Popen([binary, *(["--trace"] if trace else []), os.path.abspath(backing_dir), rules, mnt],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while not fuse_mounted(mnt):
            if proc.poll() is not None:
                raise _faultfs_failed(proc, log)
            if time.monotonic() > deadline:
                raise RuntimeError("faultfs did not mount within 10 s")
            time.sleep(0.02)
        yield mnt
    finally:
        _faultfs_stop(proc, mnt)
        if trace:
            log.seek(0)
            sys.stdout.write(log.read().decode(errors="replace"))
        log.close()
        # A lazy unmount (something still held the mount: a process stuck in
        # it, the stuck descriptors' closer) completes when that lets go.
        deadline = time.monotonic() + 15
        while True:
            try:
                os.rmdir(mnt)
            except OSError:
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                print("faultfs: %s is still mounted or busy; left in place" % mnt)
            else:
                shutil.rmtree(td, ignore_errors=True)
            break


# ---- a throwaway PostgreSQL server (Debian's postgresql package) ----------
import glob  # noqa: E402


class PostgresUnavailable(Exception):
    """No PostgreSQL server can run here (not installed, or it would not
    start): a test catching it prints the reason and exits 77 (skipped)."""


@contextlib.contextmanager
def postgres_server(fsync=False):
    """Start a PostgreSQL server of its own: initdb into a fresh temporary
    directory, listening only on a unix socket there (no TCP port), trust
    authentication for the user "imgscan"; stopped and removed afterwards.
    As root it runs as the "postgres" user (the server refuses root).
    Yields a function db(name) giving a libpq URI for a new database."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                  key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not bins:
        raise PostgresUnavailable("no PostgreSQL server installed (/usr/lib/postgresql/*/bin/initdb)")
    bindir = os.path.dirname(bins[-1])
    top = tempfile.mkdtemp(prefix="imgscan-pg-")
    as_user = []
    if os.geteuid() == 0:
        import pwd
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(top)
            raise PostgresUnavailable("running as root and there is no postgres user to run the server as")
        os.chown(top, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log = os.path.join(top, "data"), os.path.join(top, "log")
    opts = "-k %s -c listen_addresses='' -c max_connections=20" % top
    if not fsync:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    started = False
    try:
        p = subprocess.run(as_user + [os.path.join(bindir, "initdb"), "-D", data, "-U", "imgscan",
                                      "--auth=trust", "-E", "UTF8", "--locale=C"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode:
            raise PostgresUnavailable("initdb failed: %s" % p.stdout.decode(errors="replace")[-400:])
        p = subprocess.run(as_user + [os.path.join(bindir, "pg_ctl"), "-D", data, "-o", opts, "-l", log,
                                      "-w", "-t", "60", "start"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode:
            with open(log, errors="replace") as f:
                raise PostgresUnavailable("the server did not start: %s" % f.read()[-400:])
        started = True
        count = [0]

        def db(name=None):
            count[0] += 1
            name = name or "db%d" % count[0]
            sh("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
               "postgresql:///postgres?host=%s&user=imgscan" % top, "-c", "CREATE DATABASE %s" % name)
            return "postgresql:///%s?host=%s&user=imgscan" % (name, top)
        yield db
    finally:
        if started:
            subprocess.run(as_user + [os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        shutil.rmtree(top, ignore_errors=True)
