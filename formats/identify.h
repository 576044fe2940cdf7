/*
 * identify.h - run our probes over an image: the head and tail the scanner
 * captured, then the first bytes of every partition the table lists, read
 * through the callback it is given (formats/ never opens a file itself).
 */
#ifndef IMGSCAN_IDENTIFY_H
#define IMGSCAN_IDENTIFY_H

#include "ident.h"
#include "probe.h"

/* Read len bytes at off into buf; returns bytes read or -errno. */
typedef long (*ident_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

/* scratch (scratch_len bytes, at least 128 KiB) receives partition heads. */
void identify_image(const struct probe_view *whole, ident_read_fn read, void *ctx, uint8_t *scratch,
		    size_t scratch_len, struct ident *id);

#endif
