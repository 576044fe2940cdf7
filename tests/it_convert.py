#!/usr/bin/env python3
"""imgscan convert: raw 2352-byte CD images back to ISO 9660.  An ISO made by
genisoimage (real files inside) is framed here into MODE1/2352 and MODE2/2352
Form 1 sectors with the EDC and the Reed-Solomon P/Q parity computed by
itlib (ECMA-130 Annex A, in Python: a second implementation beside the C
checker, which must find every sector good with --ecc).  Converted back it
must be the ISO byte for byte; damaged sectors are named by number; what
cannot be converted faithfully (audio, two tracks, Form 2, a cut-short
file) is refused and nothing written; OUT is never written over an existing
file without --force nor through a symlink; IN is left as it was."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

RAW = 2352


def convert(*args, timeout=120):
    p = subprocess.run([itlib.IMGSCAN, "convert", *[str(a) for a in args]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def xxh(path):
    return itlib.sh("xxhsum", "-H2", path).stdout.decode().split()[0]


def patch(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def listing(d):
    return sorted(os.listdir(d))


def cue(path, text):
    with open(path, "w") as f:
        f.write(text)


def check_round_trip(c, d, iso, mode):
    raw = os.path.join(d, "mode%d.bin" % mode)
    out = os.path.join(d, "mode%d.iso" % mode)
    itlib.frame_raw_cd(iso, raw, mode=mode, edc=True, ecc=True)
    rc, so, se = convert("--ecc", raw, out)
    c.eq("mode %d: exit 0" % mode, rc, 0)
    c.true("mode %d: byte-identical to the ISO" % mode, xxh(out) == xxh(iso), so + se)
    c.true("mode %d: no bad sector (C EDC and ECC agree with Python's)" % mode,
           ("bad sectors: none of %d" % (os.path.getsize(iso) // 2048)) in so, so)
    c.eq("mode %d: last line is xxhsum -H2's" % mode, so.splitlines()[-1],
         itlib.sh("xxhsum", "-H2", out).stdout.decode().strip())
    c.true("mode %d: the volume and its label" % mode, 'volume: ISO 9660 "CONVERT_ME", %d bytes' %
           os.path.getsize(iso) in so, so)
    return raw, out


def check_damage(c, d, iso, raw1):
    bad = os.path.join(d, "damaged.bin")
    out = os.path.join(d, "damaged.iso")
    shutil.copy(raw1, bad)
    n, m, k, q = 20, 25, 30, 33
    patch(bad, n * RAW + 16 + 100, b"\x5a")           # user data: the EDC no longer matches
    patch(bad, m * RAW + 3, b"\x00")                  # sync
    patch(bad, k * RAW + 14, b"\x74")                 # address: frame 74 instead of 30+150's
    patch(bad, q * RAW + 2300, b"\x00\x01")           # Q parity only: a bad sector with --ecc
    rc, so, se = convert("--ecc", bad, out)
    # Mode 1's EDC covers the sync and header, its parity the header (not the sync)
    c.eq("damaged: exit 1 (findings)", rc, 1)
    c.true("damaged: sector N named for its EDC", re.search(r"^bad sector %d: EDC, ECC$" % n, so, re.M), so)
    c.true("damaged: sector M named for its sync", re.search(r"^bad sector %d: sync, EDC$" % m, so, re.M), so)
    c.true("damaged: sector K named for its address",
           re.search(r"^bad sector %d: address, EDC, ECC \(header says 00:02:74, expected 00:02:30\)$" % k, so, re.M), so)
    c.true("damaged: sector Q named for its parity", re.search(r"^bad sector %d: ECC$" % q, so, re.M), so)
    c.true("damaged: the count", "bad sectors: 4 of" in so, so)
    c.true("damaged: OUT written anyway", os.path.exists(out))
    with open(out, "rb") as f, open(iso, "rb") as g:
        a, b = f.read(), g.read()
    diff = sorted({i // 2048 for i in range(len(a)) if a[i] != b[i]})
    c.eq("damaged: only sector N's data differs (copied as read)", diff, [n])
    rc, so, _ = convert("--force", bad, out)
    c.true("without --ecc the parity is not read", rc == 1 and not re.search(r"^bad sector %d" % q, so, re.M), so)
    rc, so, _ = convert("--force", "--max-listed", "1", bad, out)
    c.true("--max-listed 1: one line and the rest counted",
           len(re.findall(r"^bad sector \d+", so, re.M)) == 1 and "and 2 more bad sectors" in so, so)


def check_mode2_damage(c, d, raw2):
    """Mode 2 Form 1: the EDC and parity leave the header out (the parity
    takes it as zero), so a wrong address is only an address fault."""
    bad = os.path.join(d, "damaged2.bin")
    shutil.copy(raw2, bad)
    patch(bad, 40 * RAW + 14, b"\x74")
    patch(bad, 41 * RAW + 24 + 7, b"\xee")
    rc, so, _ = convert("--ecc", bad, os.path.join(d, "damaged2.iso"))
    c.true("mode 2: address fault alone", re.search(r"^bad sector 40: address \(", so, re.M), so)
    c.true("mode 2: user data fault", re.search(r"^bad sector 41: EDC, ECC$", so, re.M) and rc == 1, so)


def check_refusals(c, d, iso, raw1):
    # cut short: not a whole number of sectors
    trunc = os.path.join(d, "trunc.bin")
    with open(raw1, "rb") as f, open(trunc, "wb") as g:
        g.write(f.read(RAW * 10 + 1000))
    rc, so, se = convert(trunc, os.path.join(d, "trunc.iso"))
    c.true("truncated: refused, exit 2", rc == 2 and "not a whole number of 2352-byte sectors" in se, se)
    c.true("truncated: nothing written", not os.path.exists(os.path.join(d, "trunc.iso")))
    # an audio track: sectors without sync
    audio = os.path.join(d, "audio.bin")
    with open(audio, "wb") as f:
        f.write(os.urandom(RAW * 20))
    rc, _, se = convert(audio, os.path.join(d, "audio.iso"))
    c.true("audio bin: refused for its missing sync", rc == 2 and "no sync pattern" in se, se)
    # an ISO given as IN
    rc, _, se = convert(iso, os.path.join(d, "iso.iso"))
    c.eq("an ISO as IN: refused", rc, 2)
    # a Form 2 sector in a MODE2 image
    form2 = os.path.join(d, "form2.bin")
    with open(form2, "wb") as f:
        for lba in range(40):
            f.write(itlib.raw_cd_sector(bytes(2048), lba, 2, submode=0x28 if lba == 37 else 0x08))
    rc, _, se = convert(form2, os.path.join(d, "form2.iso"))
    c.true("Form 2 sector: refused, named", rc == 2 and "sector 37 is Mode 2 Form 2" in se, se)
    c.true("Form 2: nothing written", not [n for n in listing(d) if n.startswith("form2.iso")], listing(d))


def check_cue(c, d, raw1, iso):
    sub = os.path.join(d, "cue dir")
    os.makedirs(os.path.join(sub, "bins"))
    shutil.copy(raw1, os.path.join(sub, "bins", "My Disc.bin"))
    good = os.path.join(sub, "disc.cue")
    cue(good, 'REM made by hand\r\nFILE "bins/My Disc.bin" BINARY\r\n  TRACK 01 MODE1/2352\r\n'
        '    INDEX 01 00:00:00\r\n')
    out = os.path.join(d, "from-cue.iso")
    rc, so, se = convert(good, out)
    c.true("cue: followed to its BIN (quoted, relative, CR LF)", rc == 0 and xxh(out) == xxh(iso), so + se)
    two = os.path.join(sub, "two.cue")
    cue(two, 'FILE "bins/My Disc.bin" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n'
        '  TRACK 02 AUDIO\n    INDEX 01 00:10:00\n')
    rc, _, se = convert(two, os.path.join(d, "two.iso"))
    c.true("two-track cue: refused naming TRACK 02", rc == 2 and "TRACK 02 AUDIO" in se, se)
    two = os.path.join(sub, "two-data.cue")
    cue(two, 'FILE "bins/My Disc.bin" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n'
        '  TRACK 02 MODE1/2352\n    INDEX 01 00:10:00\n')
    rc, _, se = convert(two, os.path.join(d, "two.iso"))
    c.true("two data tracks: refused as a second track", rc == 2 and "TRACK 02 MODE1/2352: a second track" in se, se)
    audio = os.path.join(sub, "audio.cue")
    cue(audio, 'FILE "bins/My Disc.bin" BINARY\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n')
    rc, _, se = convert(audio, os.path.join(d, "audio-cue.iso"))
    c.true("AUDIO track: refused naming it", rc == 2 and "TRACK 01 AUDIO is an audio track" in se, se)
    outside = os.path.join(sub, "outside.cue")
    cue(outside, 'FILE "../mode1.bin" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n')
    rc, _, se = convert(outside, os.path.join(d, "outside.iso"))
    c.true("cue naming a file outside its directory: refused", rc == 2 and "outside" in se, se)
    c.eq("refused cues: nothing written", [n for n in listing(d) if n.endswith(".iso") and
                                           n.split(".")[0] in ("two", "audio-cue", "outside")], [])


def convert_bounded(*args):
    """convert, but a hang (an open blocking on a FIFO) is a failure, not a
    stuck test."""
    try:
        return convert(*args, timeout=10)
    except subprocess.TimeoutExpired:
        return None, "", "timed out"


def check_not_regular(c, d):
    """A FIFO as IN, as a cue sheet, or as the BIN a sheet names: refused at
    once (the open must not wait for a writer)."""
    fdir = os.path.join(d, "fifos")
    os.makedirs(fdir)
    os.mkfifo(os.path.join(fdir, "disc.bin"))
    os.mkfifo(os.path.join(fdir, "pipe.cue"))
    cue(os.path.join(fdir, "disc.cue"), 'FILE "disc.bin" BINARY\n TRACK 01 MODE1/2352\n  INDEX 01 00:00:00\n')
    for name in ("disc.bin", "pipe.cue", "disc.cue"):
        rc, _, se = convert_bounded(os.path.join(fdir, name), os.path.join(d, "fifo.iso"))
        c.true("a FIFO (%s): refused at once, exit 2" % name, rc == 2 and "not a regular file" in se, se)
    c.true("FIFOs: nothing written", not os.path.exists(os.path.join(d, "fifo.iso")))


def check_broken_form2(c, d, raw2):
    """A Mode 2 sector overwritten with 0xFF (sync and mode broken) says
    Form 2 in its submode: damage, a bad sector, not mixed data."""
    bad = os.path.join(d, "ff-sector.bin")
    out = os.path.join(d, "ff-sector.iso")
    shutil.copy(raw2, bad)
    patch(bad, 12 * RAW, b"\xff" * RAW)
    rc, so, se = convert(bad, out)
    c.true("0xFF sector in Mode 2: a bad sector, not a Form 2 refusal",
           rc == 1 and re.search(r"^bad sector 12: sync, mode, address, subheader, EDC ", so, re.M)
           and os.path.exists(out), so + se)


def check_long_out_name(c, d, raw1, iso):
    """OUT's name may be NAME_MAX long; the temporary file must still fit."""
    out = os.path.join(d, "n" * 251 + ".iso")
    rc, so, se = convert(raw1, out)
    c.true("OUT of a 255-byte name: written", rc == 0 and xxh(out) == xxh(iso), so + se)
    os.unlink(out)


def check_output_rules(c, d, raw1, iso):
    out = os.path.join(d, "exists.iso")
    with open(out, "w") as f:
        f.write("keep me")
    rc, _, se = convert(raw1, out)
    c.true("existing OUT: refused without --force (64)", rc == 64 and "exists" in se, se)
    c.eq("existing OUT: untouched", open(out).read(), "keep me")
    rc, so, se = convert("--force", raw1, out)
    c.true("existing OUT: replaced with --force", rc == 0 and xxh(out) == xxh(iso), so + se)
    target = os.path.join(d, "target.iso")
    with open(target, "w") as f:
        f.write("not through me")
    link = os.path.join(d, "link.iso")
    os.symlink("target.iso", link)
    for args in ((), ("--force",)):
        rc, _, se = convert(*args, raw1, link)
        c.true("OUT a symlink %s: refused (64)" % (args,), rc == 64 and "symlink" in se, se)
    c.true("OUT a symlink: link and target as they were",
           os.path.islink(link) and open(target).read() == "not through me")
    rc, _, se = convert("--force", raw1, raw1)
    c.true("OUT is IN: refused even with --force", rc == 64 and os.path.getsize(raw1) % RAW == 0, se)
    leftovers = [n for n in listing(d) if ".tmp." in n]
    c.eq("no temporary file left", leftovers, [])


def check_input_untouched(c, d, iso):
    src_dir = os.path.join(d, "readonly-in")
    os.makedirs(src_dir)
    raw = os.path.join(src_dir, "disc.bin")
    itlib.frame_raw_cd(iso, raw, mode=1, edc=True)
    cue(os.path.join(src_dir, "disc.cue"), 'FILE "disc.bin" BINARY\n TRACK 01 MODE1/2352\n  INDEX 01 00:00:00\n')
    for name in ("disc.bin", "disc.cue"):
        st = os.stat(os.path.join(src_dir, name))
        # atime before mtime: relatime would update it on any read
        os.utime(os.path.join(src_dir, name), ns=(st.st_mtime_ns - 10**12, st.st_mtime_ns))
    before = {n: os.stat(os.path.join(src_dir, n)) for n in listing(src_dir)}
    rc, so, se = convert(os.path.join(src_dir, "disc.cue"), os.path.join(d, "untouched.iso"))
    c.eq("IN untouched: converted", rc, 0)
    after = {n: os.stat(os.path.join(src_dir, n)) for n in listing(src_dir)}
    c.eq("IN untouched: nothing created beside it", sorted(after), sorted(before))
    for n in before:
        c.eq("IN untouched: %s atime and mtime" % n, (after[n].st_atime_ns, after[n].st_mtime_ns),
             (before[n].st_atime_ns, before[n].st_mtime_ns))


def check_first_address(c, d):
    raw = os.path.join(d, "later.bin")
    with open(raw, "wb") as f:
        for lba in range(100, 120):
            f.write(itlib.raw_cd_sector(bytes(2048), lba, 1))
    rc, so, _ = convert(raw, os.path.join(d, "later.iso"))
    c.true("sector 0 at 00:03:25: said, exit 1, no address fault for the rest",
           rc == 1 and "sector 0's address is 00:03:25, not 00:02:00" in so and "bad sectors: none" in so, so)
    c.true("no ISO volume in it: said", "no ISO 9660 volume" in so, so)


def check_scan(c, d, out):
    rc, report, se = itlib.scan(out)
    img = report["images"][0] if report else {}
    c.eq("scan of OUT: kind optical", img.get("kind"), "optical")
    c.eq("scan of OUT: no finding", itlib.codes(img) if img else None, [])


def check_cli(c):
    rc, so, _ = convert("--help")
    c.true("--help: exit 0, exit statuses", rc == 0 and "Exit status" in so and "--force" in so)
    c.eq("no OUT: usage (64)", convert("x.bin")[0], 64)
    c.eq("unknown option: usage (64)", convert("--bogus", "a", "b")[0], 64)


def main():
    top = itlib.setup()
    itlib.skip_without(["genisoimage", "xxhsum"], top)
    c = itlib.Checker()
    d = os.path.join(top, "work")
    os.makedirs(d)
    src = itlib.content_dir(top, nbytes=300_000)
    iso = os.path.join(top, "disc.iso")
    itlib.make_iso(iso, "CONVERT_ME", src)
    raw1, out1 = check_round_trip(c, d, iso, 1)
    raw2, _ = check_round_trip(c, d, iso, 2)
    check_mode2_damage(c, d, raw2)
    check_damage(c, d, iso, raw1)
    check_refusals(c, d, iso, raw1)
    check_not_regular(c, d)
    check_broken_form2(c, d, raw2)
    check_long_out_name(c, d, raw1, iso)
    check_cue(c, d, raw1, iso)
    check_output_rules(c, d, raw1, iso)
    check_input_untouched(c, d, iso)
    check_first_address(c, d)
    check_scan(c, d, out1)
    check_cli(c)
    shutil.rmtree(top, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
