#!/usr/bin/env python3
"""Digests are checkable: XXH128 against `xxhsum -H2`, sector hashes against
`dd` + `xxhsum -H3`, the sector-list file format and its digest, for sizes
that are not multiples of the read or sector size, with both I/O engines and
sector sizes 512, 2048, 4096."""
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import by_name  # noqa: E402

SIZES = [1, 511, 4095, 4097, 65536 * 3 + 7, (1 << 20) - 1, (1 << 20) + 1, 3 * (1 << 20) + 12345]


def make_files(d):
    names = []
    for n in SIZES:
        name = "r%d.img" % n
        with open(os.path.join(d, name), "wb") as f:
            # Some zero sectors in the middle, to count.
            f.write(os.urandom(n // 2) + b"\0" * (n // 4) + os.urandom(n - n // 2 - n // 4))
        names.append(name)
    return names


def sector_hash_dd(path, sector, index):
    dd = subprocess.run(["dd", "if=" + path, "bs=%d" % sector, "skip=%d" % index, "count=1", "status=none"],
                        stdout=subprocess.PIPE, check=True)
    x = subprocess.run(["xxhsum", "-H3", "-"], input=dd.stdout, stdout=subprocess.PIPE, check=True)
    return x.stdout.decode().split()[-1]  # "XXH3 (stdin) = <hex>"


def check_list_file(c, img, path, sector, d):
    lf = img["sectors"].get("list_file")
    c.true("list file exists " + img["path"], lf and os.path.exists(lf))
    if not lf:
        return
    with open(lf, "rb") as f:
        data = f.read()
    magic, version, ssize, count, size = struct.unpack(">8sIIQQ", data[:32])
    c.eq("list magic", magic, b"IMGSXH3\0")
    c.eq("list header", (version, ssize, count, size), (1, sector, img["sectors"]["count"], img["size"]))
    c.eq("list header xxh128", data[32:48].hex(), img["hashes"]["xxh128"])
    c.eq("list length", len(data), 64 + 8 * count)
    c.eq("list name", os.path.basename(lf), img["hashes"]["xxh128"] + ".xxh3s")
    # The list digest is XXH128 over the entries: `tail -c +65 file | xxhsum -H2`.
    entries = subprocess.run(["xxhsum", "-H2", "-"], input=data[64:], stdout=subprocess.PIPE, check=True)
    c.eq("list digest", entries.stdout.decode().split()[0], img["sectors"]["list_xxh128"])
    for i in sorted({0, count // 2, count - 1}):
        c.eq("sector %d of %s" % (i, os.path.basename(path)), data[64 + 8 * i:72 + 8 * i].hex(),
             sector_hash_dd(path, sector, i))


def warm(d):
    for n in os.listdir(d):
        with open(os.path.join(d, n), "rb") as f:
            while f.read(1 << 20):
                pass


def evict(d):
    """Drop the files from the page cache, so reads go through the engine
    (resident blocks are copied from the cache instead)."""
    for n in os.listdir(d):
        fd = os.open(os.path.join(d, n), os.O_RDONLY)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)


def main():
    top, d = itlib.workspace("a")
    c = itlib.Checker()
    try:
        names = make_files(d)
        want = {n: itlib.xxhsum(os.path.join(d, n)) for n in names}
        coreutils = {(n, algo): subprocess.run([algo + "sum", os.path.join(d, n)], stdout=subprocess.PIPE,
                                               check=True).stdout.decode().split()[0]
                     for n in names for algo in ("md5", "sha1", "sha256")}
        for engine in ("uring", "pread"):
            for sector in (512, 2048, 4096, 1 << 20):  # 1 MiB: larger than the copy piece
                hd = os.path.join(top, "lists-%s-%d" % (engine, sector))
                os.makedirs(hd)
                status, rep, err = itlib.scan("--io", engine, "--sector-size", sector, "--sector-hashes", hd,
                                              "--read-size", "64K" if sector == 512 else "1M", "-q", d)
                if status == 77 or (engine == "uring" and "io_uring is not available" in err):
                    print("io_uring unavailable here: uring runs skipped")
                    break
                c.eq("exit %s/%d" % (engine, sector), status, 1)  # random data: UNRECOGNISED findings
                c.eq("engine recorded", rep["run"]["options"]["io"], engine)
                for n in names:
                    img = by_name(rep, n)
                    size = os.path.getsize(os.path.join(d, n))
                    c.eq("xxh128 %s %s/%d" % (n, engine, sector), img["hashes"]["xxh128"], want[n])
                    c.eq("sector count %s" % n, img["sectors"]["count"], (size + sector - 1) // sector)
                    c.eq("bytes read %s" % n, img["read"]["bytes"], size)
                    zeros = sum(1 for i in range(0, size, sector) if i + sector <= size and
                                i >= size // 2 and i + sector <= size // 2 + size // 4)
                    c.true("zero sectors >= the fully zero ones %s" % n, img["sectors"]["zero"] >= zeros,
                           "%d < %d" % (img["sectors"]["zero"], zeros))
                    if engine == "pread" or sector == 512:
                        check_list_file(c, img, os.path.join(d, n), sector, d)
        # --hash: the cryptographic digests agree with coreutils, whichever
        # way the bytes come: from the cache, O_DIRECT, buffered, either engine.
        for extra in ([], ["--direct"], ["--direct", "--io", "pread"], ["--read-mode", "buffered"],
                      ["--read-mode", "buffered", "--io", "pread"], ["--no-fixed-buffers"]):
            for cold in (False, True):
                if cold:
                    evict(d)
                else:
                    warm(d)  # a scan leaves the cache as found: warm is made, not assumed
                status, rep, err = itlib.scan("--hash", "md5,sha1,sha256", "-q", *extra, d)
                c.eq("read mode recorded", rep["run"]["options"]["read_mode"],
                     "direct" if "--direct" in extra else "buffered" if "buffered" in extra else "auto")
                c.eq("hash list recorded", rep["run"]["options"]["hashes"], ["xxh128", "md5", "sha1", "sha256"])
                extra_cold = extra + (["(evicted)"] if cold else [])
                for n in names:
                    img = by_name(rep, n)
                    for algo in ("md5", "sha1", "sha256"):
                        c.eq("%s %s %s" % (algo, n, extra_cold), img["hashes"].get(algo), coreutils[n, algo])
                    c.eq("xxh128 %s %s" % (n, extra_cold), img["hashes"]["xxh128"], want[n])
                    c.eq("O_DIRECT used %s %s" % (n, extra_cold), img["read"]["direct"],
                         "--direct" in extra or (cold and "buffered" not in extra))
        # Hashes do not depend on queue depth, read size or thread count.
        status, rep, err = itlib.scan("--queue-depth", "3", "--read-size", "4K", "-j", "1", "--images", "1", "-q", d)
        for n in names:
            c.eq("xxh128 small queue %s" % n, by_name(rep, n)["hashes"]["xxh128"], want[n])
    finally:
        shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
