#!/bin/sh
# ASan/UBSan build of imgscan and its tests; runs the unit tests and the
# identification and hashing tests on real images with the sanitized binary,
# verify and load (their report reader is fed malformed reports; load's
# rows, COPY buffers and the spool of a piped report), the CASE export, the duplicate
# groups (sorted and freed at the report's end), and the reader-fault
# and stop tests (a read abandoned by a drain must never be written into
# freed memory).
set -eu
src=$1
out=$2
faultfs=${3:-}
cmake -S "$src" -B "$out" -DIMGSCAN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$out" -j2 >/dev/null
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$out"
for t in unit_probes unit_hasher unit_pathenc; do "./tests/$t"; done
./tests/fuzz_probes "$src"/tests/*.py "$src"/tests/fuzz-regressions/*
python3 "$src/tests/it_identify.py" "$out/imgscan"
python3 "$src/tests/it_hashes.py" "$out/imgscan"
python3 "$src/tests/it_verify.py" "$out/imgscan"
python3 "$src/tests/it_duplicates.py" "$out/imgscan"
python3 "$src/tests/it_load.py" "$out/imgscan" sqlite
python3 "$src/tests/it_load.py" "$out/imgscan" postgresql || [ $? = 77 ]
/usr/bin/python3 "$src/tests/it_case.py" "$out/imgscan" || [ $? = 77 ]
python3 "$src/tests/it_inside.py" "$out/imgscan"
FAULTFS=$faultfs python3 "$src/tests/it_reader_faults.py" "$out/imgscan"
FAULTFS=$faultfs python3 "$src/tests/it_stop.py" "$out/imgscan"
FAULTFS=$faultfs python3 "$src/tests/it_catalog.py" "$out/imgscan"
