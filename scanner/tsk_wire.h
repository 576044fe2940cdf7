/*
 * tsk_wire.h - what goes over a worker's socket, for its two ends: the
 * pool's (tsk_wire.c, in imgscan) and the worker's (tsk_worker.c, in
 * imgscan-worker).  The two programs are built together from one tree; the
 * worker refuses to start for a pool whose protocol stamp differs from its
 * own (TSK_WIRE_STAMP), so a stale worker binary never answers.
 */
#ifndef IMGSCAN_TSK_WIRE_H
#define IMGSCAN_TSK_WIRE_H

#include "tsk_worker.h"

#include <stddef.h>
#include <stdint.h>

#define REQ_MAGIC 0x54534b33u /* "TSK3": the image's descriptor, and the directory's, travel with each request */
#define RES_MAGIC 0x54534b52u

struct wire_request {
	uint32_t magic;
	struct tsk_request req;
	uint8_t has_dir;              /* the second descriptor is the private directory for container names */
	uint32_t shared_len;          /* the whole image (req.size bytes) is in the worker's image
				       * buffer: no descriptor comes; 0: read it through the descriptor */
#ifdef IMGSCAN_TEST_HOOKS
	char fault[16];               /* "crash", "hang", "alloc", "garble", "" */
#endif
};

/*
 * An answer on the wire: the struct's fixed part up to its first array
 * (nparts included), then only the used entries of each array, each count
 * first, then a word of flags and the inside part only when an "inside"
 * request filled it (its status is set then; otherwise it is all zero and
 * not sent), the EWF acquisition check only when one was made.  A FAT image's
 * answer is some 200 bytes instead of the whole struct's 31 KB, which the
 * worker copied into the socket and we out of it for every image.
 */
#define ANSWER_HEAD offsetof(struct tsk_result, parts)
/* After the errors, a word saying which optional parts follow, in order. */
#define ANSWER_INSIDE 1u
#define ANSWER_ACQ 2u

/* Media of several files: the request's descriptor is the first segment's;
 * the others follow in messages of their own, SEGS_PER_MESSAGE at most
 * each (SCM_RIGHTS carries 253 at most), with their sizes. */
#define SEGS_MAGIC 0x5345474du /* "SEGM" */
#define SEGS_PER_MESSAGE 200
struct wire_segments {
	uint32_t magic;
	uint32_t count;
	uint64_t size[SEGS_PER_MESSAGE];
};

/* The stamp the pool passes to the worker (its argv[2]): the version, the
 * test hooks, a digest of the headers that define the messages (computed
 * by CMake), and the sizes of both messages.  The worker exits at once
 * (status 126) when its own differs.  Inline: each end computes it with
 * its own build's settings. */
#include <stdio.h>

static inline void tsk_wire_stamp(char *buf, size_t len)
{
#ifdef IMGSCAN_TEST_HOOKS
	const char *hooks = "+hooks";
#else
	const char *hooks = "";
#endif
	snprintf(buf, len, "%s%s:%s:%zu:%zu", IMGSCAN_VERSION, hooks, IMGSCAN_WIRE_DIGEST, sizeof(struct wire_request),
		 sizeof(struct tsk_result));
}

#endif
