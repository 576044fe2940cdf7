#!/bin/sh
# fuzz_ci.sh - the probes under libFuzzer, ASan and UBSan, seeded with real
# images that the real tools make here (mkfs.*, mkntfs, genisoimage, sgdisk,
# qemu-img...), packed to the bytes the probes see (tests/fuzz_probes.c).
#
#   sh tests/fuzz_ci.sh SRC OUT [SECONDS]      (SECONDS: FUZZ_SECONDS, else 40)
#
# Then the report encoder's target for FUZZ_REPORT_SECONDS (else 25), in
# OUT/report (tests/fuzz_report_ci.sh, which also runs alone).  About 90 s
# in all with the builds and seeds; for longer runs by hand set both
# (FUZZ_SECONDS=3600 FUZZ_REPORT_SECONDS=600), or run either script alone.
# FUZZ_SANITIZE replaces the sanitizer list of both.
#
# Every sanitizer finding is fatal (-fno-sanitize-recover=all), and so is a
# wrapped unsigned sum, product or shift: not undefined in C, but in a probe a
# size that wraps is a bug (issue 8), so arithmetic on disk values goes
# through probe.h's checked helpers and nothing in formats/ wraps on purpose.
# The regressions in tests/fuzz-regressions/ are replayed first.
# Exit status: 0 nothing found; 1 a finding (its reproducer is named: fix the
# bug and commit the file under tests/fuzz-regressions/, or the encoder's
# under tests/fuzz-regressions-report/); 77 clang is not installed.  OUT keeps the corpus, so a longer run by hand goes on from it.
set -eu
src=$(cd "$1" && pwd)
. "$src/tests/fuzz_lib.sh"
out=$2
secs=${3:-${FUZZ_SECONDS:-40}}

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz_ci: clang is not installed (Debian: apt-get install clang libclang-rt-dev): skipped"
	exit 77
fi
mkdir -p "$out/corpus" "$out/seeds"
out=$(cd "$out" && pwd)
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* "$out"/slow-unit-*

# 1. The libFuzzer target: the probes and identify_image(), as CMake builds them.
# FUZZ_SANITIZE replaces the list, fuzzer included (by hand: what plain UBSan finds).
san=${FUZZ_SANITIZE:-fuzzer,address,undefined,unsigned-integer-overflow,unsigned-shift-base}
if ! clang -g -O1 -fno-omit-frame-pointer -fsanitize="$san" -fno-sanitize-recover=all \
	-DIMGSCAN_LIBFUZZER -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -D_GNU_SOURCE -std=c11 -I"$src" \
	"$src"/tests/fuzz_probes.c "$src"/formats/probe_*.c "$src"/formats/probes.c "$src"/formats/identify.c \
	-o "$out/fuzz_probes_lf"; then
	echo "fuzz_ci: cannot build the libFuzzer target (is libclang-rt-dev installed?)"
	exit 1
fi

# 2. Known crashes stay fixed: each regression input runs once.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fuzz_replay fuzz_ci "$out/fuzz_probes_lf" "$src/tests/fuzz-regressions" "$out" || exit 1

# 3. Seeds: real images from the real tools, packed to head + tail + size.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
python3 - "$src/tests" "$work" "$out/seeds" <<'EOF'
import os, shutil, struct, subprocess, sys
sys.path.insert(0, sys.argv[1])
import itlib
work, seeds = sys.argv[2], sys.argv[3]
HEAD, TAIL, M = 1 << 20, 64 << 10, 1 << 20


def write_seed(name, head, tail, size):
    with open(os.path.join(seeds, name), "wb") as g:
        g.write(head + tail + b"IMGSCANV" + struct.pack("<QQ", size, len(tail)))


def pack(name, path):
    """The bytes the probes see: the first MiB (trailing zeros cut), the last
    64 KiB (leading zeros cut) and the trailer with the real size.  Also the
    first 8 KiB alone: most boot sectors and superblocks are there, and in a
    small input a mutation lands on their fields more often."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(HEAD).rstrip(b"\0")
        tail = b""
        if size > HEAD:
            f.seek(max(size - TAIL, HEAD))
            tail = f.read().lstrip(b"\0")
    write_seed(name, head, tail, size)
    write_seed(name + "-8k", head[:8192], b"", size)


def made(name, make):
    """make(path) builds an image with a real tool; pack it.  A tool that
    fails costs one seed, not the run."""
    path = os.path.join(work, name)
    try:
        make(path)
        pack(name, path)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        print("fuzz_ci: no %s seed: %s" % (name, str(e).strip()[:200]))


def mkfs(size, *cmd):
    """A maker: a sparse file of size bytes, then cmd with its path last."""
    return lambda p: (itlib.sized(p, size), itlib.sh(*cmd, p))


def partitioned(table, fs_maker):
    """A 24 MiB disk whose first partition starts at sector 64, inside the
    first MiB, so the file system in it is in the packed head too."""
    def make(p):
        itlib.sized(p, 24 * M)
        table(p)
        part = p + ".part"
        fs_maker(part)
        itlib.put_at(p, 64 * 512, part)
        os.unlink(part)
    return make


def sfdisk(p):
    r = subprocess.run(["sfdisk", "-q", p], input=b"label: dos\nstart=64, size=32768, type=6, bootable\n"
                       b"start=32832, type=5\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        raise RuntimeError(r.stderr.decode())


src = itlib.content_dir(work, nbytes=4096)
made("fat12", lambda p: itlib.make_fat(p, 12, "FZ", 1440 << 10))
made("fat16", lambda p: itlib.make_fat(p, 16, "FZ", 16 * M))
made("fat32", lambda p: itlib.make_fat(p, 32, "FZ", 40 * M))
made("exfat", lambda p: itlib.make_exfat(p, "FZ", 8 * M))
made("ntfs", lambda p: itlib.make_ntfs(p, "FZNTFS", 8 * M))
made("ntfs-128k-clusters", mkfs(64 * M, "mkntfs", "-q", "-F", "-Q", "-c", "131072", "-L", "FZBIG"))
made("ext2", mkfs(4 * M, "mkfs.ext2", "-q", "-F", "-b", "1024", "-L", "FZ"))
made("ext3", mkfs(8 * M, "mkfs.ext3", "-q", "-F", "-L", "FZ"))
made("ext4", mkfs(16 * M, "mkfs.ext4", "-q", "-F", "-b", "4096", "-L", "FZ"))
made("xfs", mkfs(300 * M, "mkfs.xfs", "-q", "-f", "-L", "FZ"))
made("btrfs", mkfs(128 * M, "mkfs.btrfs", "-q", "-f", "-L", "FZ"))
made("f2fs", mkfs(64 * M, "mkfs.f2fs", "-q", "-f"))
made("hfs", mkfs(8 * M, "hformat", "-l", "FZ"))
made("udf", lambda p: itlib.make_udf(p, "FZ", 8 * M))
made("squashfs", lambda p: itlib.sh("mksquashfs", src, p, "-quiet", "-noappend"))
made("iso", lambda p: itlib.make_iso(p, "FZ", src))
made("iso-udf", lambda p: itlib.make_iso(p, "FZ", src, udf=True))
made("isohybrid", lambda p: itlib.make_hybrid(p, "FZ", work))
made("rawcd", lambda p: itlib.frame_raw_cd(os.path.join(work, "iso"), p))
made("mbr-fat16", partitioned(sfdisk, lambda f: itlib.make_fat(f, 16, "FZP", 32768 * 512)))
made("gpt-ext4", partitioned(lambda p: itlib.sh("sgdisk", "-a", "1", "-n", "1:64:+16M", "-t", "1:8300", "-c",
                                                "1:fz", p), lambda f: itlib.make_ext(f, "ext4", "FZP", 16 * M)))
raw = os.path.join(work, "fat16")
for fmt, opts in (("qcow2", ()), ("vmdk", ()), ("vpc", ()), ("vpc", ("-o", "subformat=fixed")), ("vhdx", ()),
                  ("vdi", ())):
    made(fmt + ("-fixed" if opts else ""),
         lambda p: itlib.sh("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, *opts, raw, p))
made("e01", lambda p: shutil.move(itlib.make_e01(p + "-ewf", raw), p))
for t in ("gzip", "xz", "zstd", "bzip2"):
    made(t, lambda p: itlib.compress(raw, p, t))
made("zip", lambda p: itlib.sh("zip", "-q", "-j", p + ".zip", raw) and shutil.move(p + ".zip", p))
print("fuzz_ci: %d seeds from real images" % len(os.listdir(seeds)))
EOF

# 4. A dictionary: the magics, and the values that break size arithmetic.
cat >"$out/probes.dict" <<'EOF'
"NTFS    "
"EXFAT   "
"EFI PART"
"XFSB"
"_BHRfS_M"
"\x10\x20\xf5\xf2"
"\x53\xef"
"CD001"
"BEA01"
"NSR03"
"H+"
"hsqs"
"KDMV"
"QFI\xfb"
"conectix"
"koly"
"\x55\xaa"
"IMGSCANV"
"\xff\xff\xff\xff\xff\xff\xff\xff"
"\x10\x00\x00\x00\x00\x00\x10\x00"
"\x00\x00\x00\x00\x00\x00\x00\x80"
"\xff\xff\xff\xff"
"\x00\x00\x00\x80"
"\x00\x00\x01\x00"
EOF

# 5. Fuzz for a bounded time.  max_len: a packed view at its largest
# (1 MiB + 64 KiB + 24).
status=0
fuzz_for fuzz_ci "$out/fuzz_probes_lf" "$out" "$secs" tests/fuzz-regressions -max_len=1114136 \
	-dict="$out/probes.dict" || status=1

# 6. The report encoder's target: a finding there fails this run too.
sh "$src/tests/fuzz_report_ci.sh" "$src" "$out/report" || status=1
exit $status
