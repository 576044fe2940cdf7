/*
 * sibling.h - the programs imgscan runs (imgscan-worker, imgscan-load) are
 * built and installed beside it, and found there: never through PATH.
 */
#ifndef IMGSCAN_SIBLING_H
#define IMGSCAN_SIBLING_H

#include <stddef.h>

/* The path of program name in the directory of our own executable.
 * Returns 0, or -errno (-ENOENT: our own path cannot be known;
 * -ENAMETOOLONG). */
int sibling_path(const char *name, char *out, size_t len);

#endif
