#!/usr/bin/env python3
"""The fence around The Sleuth Kit: a worker told (by the test-only
IMGSCAN_TEST_TSK_FAULT) to crash, hang or exhaust its memory is killed and
replaced; that image's identification is reported as failed with the reason,
next to what our own probes found, and every other image is still done."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name  # noqa: E402


def main():
    top, d = itlib.workspace("a")
    c = itlib.Checker()
    try:
        for i in range(6):
            itlib.make_fat(os.path.join(d, "good%d.img" % i), 16, "GOOD%d" % i, 16 << 20)
        itlib.make_fat(os.path.join(d, "victim.img"), 16, "VICTIM", 16 << 20)
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
            c.true(fault + ": bounded time", took < 30, "%.1f s" % took)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
