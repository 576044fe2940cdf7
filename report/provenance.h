/*
 * provenance.h - what made a report: the version of every library imgscan
 * and its worker program link, and the kernel release, for tool.libraries
 * and tool.kernel (SCHEMA.md, "tool") and for `imgscan --version`.
 *
 * A version comes from the library itself where it can say it ("runtime":
 * the one loaded now) and otherwise from the build ("build": the version
 * pkg-config gave when imgscan was built).  The worker-only libraries (The
 * Sleuth Kit, libarchive, libmagic, libqcow, libvmdk, libvhdi) are always
 * "build": imgscan does not load them (start-up time, see CMakeLists.txt),
 * liburing 2.3 has no version call, and libpq is linked by `imgscan load`
 * only, not by the library this file is in.
 */
#ifndef IMGSCAN_PROVENANCE_H
#define IMGSCAN_PROVENANCE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* {"<pkg-config module>": {"version": "...", "from": "runtime"|"build"}},
 * one member per library, in link order. */
cJSON *provenance_libraries_json(void);
/* The kernel release (uname -r) into buf; "" when uname fails.  Returns buf. */
const char *provenance_kernel(char *buf, size_t len);
/* imgscan --version's text.  uring_rc: 0 when io_uring could be set up
 * here, else the -errno it was refused with. */
void provenance_print(FILE *f, int uring_rc);

#endif
