#!/usr/bin/env python3
"""Build the small demo archive that `make scan` scans when no ARCHIVE is given:
real images made by real tools, some named rightly and some wrongly."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/demo-archive")
    stamp = os.path.join(out, ".complete")
    if os.path.exists(stamp):
        return
    shutil.rmtree(out, ignore_errors=True)
    work = os.path.join(out, ".work")
    os.makedirs(os.path.join(out, "cds"))
    os.makedirs(os.path.join(out, "disks"))
    os.makedirs(os.path.join(out, "vms"))
    os.makedirs(os.path.join(out, "downloads"))
    os.makedirs(os.path.join(out, "evidence"))
    os.makedirs(work)
    src = itlib.content_dir(work, nbytes=2_000_000)
    iso = os.path.join(out, "cds", "install-disc.iso")
    itlib.make_iso(iso, "INSTALL_DISC", src)
    shutil.copy(iso, os.path.join(out, "cds", "backup-2019.img"))           # ISO named .img
    itlib.make_hybrid(os.path.join(out, "cds", "live-usb.img"), "LIVE", work)  # isohybrid named .img
    itlib.make_iso(os.path.join(out, "cds", "bridge.iso"), "BRIDGE", src, udf=True)
    itlib.make_udf(os.path.join(out, "cds", "dvd-video.udf"), "DVDVIDEO")
    itlib.frame_raw_cd(iso, os.path.join(out, "cds", "game.bin"))
    itlib.frame_raw_cd(iso, os.path.join(out, "cds", "rip.iso"))            # raw CD named .iso
    itlib.make_fat(os.path.join(out, "disks", "floppy.ima"), 12, "FLOPPY", 1440 << 10)
    itlib.make_fat(os.path.join(out, "disks", "usb-stick.iso"), 32, "USBSTICK", 40 << 20)  # FAT named .iso
    itlib.make_ext(os.path.join(out, "disks", "rootfs.img"), "ext4", "rootfs")
    itlib.make_mbr_disk(os.path.join(out, "disks", "sdcard.img"), work)
    itlib.make_gpt_disk(os.path.join(out, "disks", "server.dd"), work)
    itlib.make_ntfs(os.path.join(out, "disks", "windows.raw"), "WINDATA")
    itlib.make_qemu(os.path.join(out, "vms", "guest.img"), "qcow2")          # qcow2 named .img
    itlib.make_qemu(os.path.join(out, "vms", "guest.vmdk"), "vmdk")
    itlib.compress(os.path.join(out, "disks", "rootfs.img"), os.path.join(out, "vms", "rootfs-backup.img"), "gzip")
    # Evidence media of several files: a split raw acquisition and an EnCase set.
    ev = os.path.join(out, "evidence")
    itlib.sh("split", "-b", "3000000", "--numeric-suffixes=1", "-a", "3",
             os.path.join(out, "disks", "sdcard.img"), os.path.join(ev, "sdcard."))
    itlib.make_e01(os.path.join(ev, "server"), os.path.join(out, "disks", "server.dd"), segment_size="1MiB",
                   compression="best")
    # What else a real archive holds: other files (counted, never flagged),
    # and files named as images that are not images.
    dl = os.path.join(out, "downloads")
    itlib.compress(iso, os.path.join(dl, "install-disc.iso.xz"), "xz")    # a compressed image, rightly named
    itlib.sh("tar", "czf", os.path.join(dl, "sources.tar.gz"), "-C", work, "content")  # another file
    itlib.sh("tar", "czf", os.path.join(dl, "backup.img"), "-C", work, "content")      # a tarball named .img
    itlib.sh("zip", "-q", "-j", os.path.join(dl, "manual.docx"), os.path.join(src, "readme.txt"))  # another file
    with open(os.path.join(dl, "netinst.iso"), "w") as f:                 # a failed download
        f.write("<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
                "<body>Try again later.</body></html>\n")
    with open(os.path.join(out, "README.txt"), "w") as f:
        f.write("imgscan demo archive: real images, some of them misnamed.\n")
    shutil.rmtree(work)
    open(stamp, "w").close()
    print("demo archive: %s" % out, file=sys.stderr)


if __name__ == "__main__":
    main()
