/*
 * tsk_pool.h - the fence around The Sleuth Kit: a small pool of worker
 * processes (the program imgscan-worker beside this one; see tsk_worker.h),
 * reused across images, each under an address-space limit, each answer
 * awaited under a wall-clock limit.  A worker that crashes, hangs or runs out
 * of memory is killed and replaced; the image gets the reason and the scan
 * goes on.
 */
#ifndef IMGSCAN_TSK_POOL_H
#define IMGSCAN_TSK_POOL_H

#include "../formats/tsk_glue.h"

struct tsk_pool;

/* Returns 0 or -errno (-ENOENT: no imgscan-worker beside our program).
 * Workers start ahead of need (tsk_pool_prestart()) or at first use. */
int tsk_pool_create(unsigned nworkers, unsigned timeout_s, unsigned mem_mib, struct tsk_pool **out);
/* Identify the image open on image_fd (the worker reads only that
 * descriptor; the caller keeps it open and owns it).  image: NULL, or the
 * whole image's bytes (req->size of them, the ones hashed), which a small
 * raw image then travels as (see tsk_worker_send()).  Blocking;
 * thread-safe.  res->status says how it went. */
void tsk_pool_run(struct tsk_pool *p, const struct tsk_request *req, int image_fd, const uint8_t *image,
		  struct tsk_result *res);
/* Media of several files (a split raw or EWF set): each segment's
 * descriptor and size, in order; the worker reads them one after the
 * other as one image (req->nsegments must be n). */
struct tsk_segments {
	const int *fd;
	const uint64_t *size;
	unsigned n;
};
void tsk_pool_run_segments(struct tsk_pool *p, const struct tsk_request *req, const struct tsk_segments *segs,
			   struct tsk_result *res);
/* Have the first `workers` workers started, in the background (returns at
 * once): the run knows it will need them, and a worker's start (loading
 * The Sleuth Kit's libraries, from the disk on a cold start) should not
 * wait for an image to be finished.  Each is started ahead once at most. */
void tsk_pool_prestart(struct tsk_pool *p, unsigned workers);
void tsk_pool_destroy(struct tsk_pool *p);
/* Workers replaced after a failure, over the whole run. */
unsigned tsk_pool_restarts(struct tsk_pool *p);

#endif
