/*
 * tsk_glue.h - the Sleuth Kit step, run inside a worker process (see
 * scanner/tsk_pool.c for the fence around it).  The worker reads one
 * struct tsk_request at a time from its input, answers one struct tsk_result,
 * and is reused for the next image.  Nothing TSK says is printed: its errors
 * go into the result.
 */
#ifndef IMGSCAN_TSK_GLUE_H
#define IMGSCAN_TSK_GLUE_H

#include "ident.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSK_REQ_MAGIC 0x54534b31u /* "TSK1" */
#define TSK_RES_MAGIC 0x54534b52u
#define TSK_MAX_HINTS 16

struct tsk_hint {
	uint64_t offset;
	char type[16];           /* TSK file-system name: "fat", "ext", "iso9660" */
};

struct tsk_request {
	uint32_t magic;
	uint64_t size;
	char container[8];       /* "raw", "ewf", "vmdk", "vhd" */
	uint8_t has_ptable;      /* our probes saw a partition table */
	uint32_t nhints;
	struct tsk_hint hints[TSK_MAX_HINTS];
	char fault[16];          /* test-only: "crash", "hang", "alloc" */
	char path[4096];
};

/* Fill the request's hints from what our probes found. */
void tsk_request_fill(struct tsk_request *req, const struct ident *id, const char *path, uint64_t size,
		      const char *container);

/* Read (writing false) or write all len bytes on a pipe: 0, or -1 when
 * the other end is gone. */
int tsk_pipe_transfer(int fd, void *buf, size_t len, bool writing);

/* The worker's loop: requests on in_fd, results on out_fd, until EOF. */
int tsk_worker_main(int in_fd, int out_fd);

#endif
