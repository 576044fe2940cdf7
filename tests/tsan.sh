#!/bin/sh
# ThreadSanitizer build of imgscan: the reader, the hashing threads, the
# Sleuth Kit pool and the signal thread share state under one lock, and each
# field says who may touch it (scanner/active.h); TSan checks that claim on
# real runs.  Any report fails the test (exit code 66 from the sanitizer).
set -eu
src=$1
out=$2
faultfs=${3:-}
cmake -S "$src" -B "$out" -DIMGSCAN_TSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$out" -j2 --target imgscan imgscan-testhooks >/dev/null  # and their worker programs
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
python3 "$src/tests/it_hashes.py" "$out/imgscan"
python3 "$src/tests/it_verify.py" "$out/imgscan"
python3 "$src/tests/it_inside.py" "$out/imgscan"
FAULTFS=$faultfs python3 "$src/tests/it_reader_faults.py" "$out/imgscan"
FAULTFS=$faultfs python3 "$src/tests/it_stop.py" "$out/imgscan"
python3 "$src/tests/it_tsk_fence.py" "$out/imgscan-testhooks" "$out/imgscan"
FAULTFS=$faultfs python3 "$src/tests/it_catalog.py" "$out/imgscan"
