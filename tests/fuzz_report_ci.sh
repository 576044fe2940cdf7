#!/bin/sh
# fuzz_report_ci.sh - the report encoder under libFuzzer, ASan and UBSan:
# tests/fuzz_report.c puts bytes as a disk holds them through the code that
# writes them into the report and on a terminal (what it checks is at its
# top), seeded by tests/fuzz_report_seeds.sh.  tests/fuzz_ci.sh runs it
# after the probes; by hand, for longer:
#
#   sh tests/fuzz_report_ci.sh SRC OUT [SECONDS]   (SECONDS: FUZZ_REPORT_SECONDS, else 25)
#
# FUZZ_SANITIZE replaces the sanitizer list, as in fuzz_ci.sh.  The
# regressions in tests/fuzz-regressions-report/ are replayed first.
# Exit status: 0 nothing found; 1 a finding (its reproducer is named: fix
# the bug and commit the file under tests/fuzz-regressions-report/); 77
# clang is not installed.  OUT keeps the corpus, so a longer run by hand
# goes on from it.
set -eu
src=$(cd "$1" && pwd)
. "$src/tests/fuzz_lib.sh"
out=$2
secs=${3:-${FUZZ_REPORT_SECONDS:-25}}

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz_report_ci: clang is not installed (Debian: apt-get install clang libclang-rt-dev): skipped"
	exit 77
fi
mkdir -p "$out/corpus"
out=$(cd "$out" && pwd)
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* "$out"/slow-unit-*

# 1. The target, on the real encoder: report/, and what image_json.c takes
# from formats/ and config/ (kind names, digest names), whose files need the
# built-in configuration: made here as CMake makes it.
cmake -DIN="$src/config/defaults.json" -DOUT="$out/default_config.c" -P "$src/config/embed.cmake"
san=${FUZZ_SANITIZE:-fuzzer,address,undefined,unsigned-integer-overflow,unsigned-shift-base}
if ! clang -g -O1 -fno-omit-frame-pointer -fsanitize="$san" -fno-sanitize-recover=all \
	-DIMGSCAN_LIBFUZZER -D_GNU_SOURCE -std=c11 -I"$src" "$src"/tests/fuzz_report.c \
	"$src"/report/pathenc.c "$src"/report/image_json.c "$src"/report/media_json.c \
	"$src"/report/case_image.c "$src"/report/case_node.c "$src"/report/tally.c \
	"$src"/formats/verdict.c "$src"/formats/verdict_media.c "$src"/formats/probes.c "$src"/formats/probe_*.c \
	"$src"/config/config.c "$src"/config/options.c "$out/default_config.c" \
	-lcjson -lcrypto -lxxhash -o "$out/fuzz_report_lf"; then
	echo "fuzz_report_ci: cannot build the libFuzzer target (libclang-rt-dev, libcjson-dev, libssl-dev, libxxhash-dev?)"
	exit 1
fi

# 2. Known findings stay fixed: each regression input runs once.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fuzz_replay fuzz_report_ci "$out/fuzz_report_lf" "$src/tests/fuzz-regressions-report" "$out" || exit 1

# 3. Seeds, and a dictionary: the bytes where UTF-8 validity, the C1
# controls and the escapes change.
sh "$src/tests/fuzz_report_seeds.sh" "$out/seeds"
cat >"$out/report.dict" <<'EOF'
# C1 controls in UTF-8 (CSI among them), and the first character past them
"\xc2\x80"
"\xc2\x9b"
"\xc2\x9f"
"\xc2\xa0"
# overlong forms, surrogates and the end of Unicode, with their neighbours
"\xc1\xbf"
"\xe0\x9f\xbf"
"\xe0\xa0\x80"
"\xed\x9f\xbf"
"\xed\xa0\x80"
"\xf0\x8f\xbf\xbf"
"\xf0\x90\x80\x80"
"\xf4\x8f\xbf\xbf"
"\xf4\x90\x80\x80"
"\xef\xbf\xbd"
# a terminal's escapes, and term_escaped()'s
"\x1b["
"\x7f"
"\\x1b"
"\\n"
"\\\\"
"=="
EOF

# 4. Fuzz for a bounded time.  max_len: past the longest field (4096 bytes),
# so cuts are tried too.
fuzz_for fuzz_report_ci "$out/fuzz_report_lf" "$out" "$secs" tests/fuzz-regressions-report -max_len=8192 \
	-dict="$out/report.dict"
