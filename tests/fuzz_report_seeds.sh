#!/bin/sh
# fuzz_report_seeds.sh - seeds for the report encoder's fuzz harness
# (tests/fuzz_report.c): strings of the kinds a disk holds, each in a file.
# A seed is split at its NUL bytes into the report's fields, and a seed
# without one goes into every field.
#
#   sh tests/fuzz_report_seeds.sh DIR [PROGRAM PATH...]
#
# Writes the seeds into DIR (made when missing).  With PROGRAM, then runs
# PROGRAM DIR PATH... and exits with its status: so the replay test
# (fuzz_report_replay) runs the plain fuzz_report binary on the seeds and on
# tests/fuzz-regressions-report/.  tests/fuzz_ci.sh seeds libFuzzer with DIR.
set -eu
dir=$1
shift
mkdir -p "$dir"

# seed NAME TEXT: TEXT is a printf format, its bytes as octal escapes.
seed() {
	# shellcheck disable=SC2059
	printf "$2" >"$dir/$1"
}

seed utf8-label 'Donn\303\251es d\342\200\231\303\251t\303\251 2024'   # a UTF-8 label (ext4, XFS)
seed utf8-wide '\343\203\251\343\203\231\343\203\253 \360\237\222\276 disk'  # Joliet/NTFS label decoded from UTF-16
seed latin1-name 'Donn\351es \351t\351.img'                              # a Latin-1 file name
seed esc-clear 'label\033[2Jafter'                                       # ESC [ 2 J: clears a terminal
seed lone-ff '\377'
seed csi-utf8 'a\302\2332Jb'                                             # CSI as a C1 control in UTF-8
seed cr-name 'disk\r.iso\nsecond line\177'                                # CR, LF, DEL
seed backslashes 'C:\\x1b\\n\\\\.iso'                                    # looks like term_escaped's escapes
seed not-utf8 'overlong \300\257 \340\200\257 surrogate \355\240\200 past-max \364\220\200\200 cut \342\202'
seed nul-pieces '/archive/disk\377.img\0img\0VOL\033[2J\0caf\303\251\0\302\205next\0Mac HD\0tsk: \376\377 error'
seed base64 'Zm9vYmE='                                                   # also read as base64 text
seed base64-loose 'Zh=='                                                 # unused bits set: refused
# Longer than a label's field: cut inside a character.
i=0
while [ $i -lt 300 ]; do
	printf '\303\251'
	i=$((i + 1))
done >"$dir/long-label"

if [ $# -gt 0 ]; then
	prog=$1
	shift
	exec "$prog" "$dir" "$@"
fi
