/*
 * tsk_worker.h - the Sleuth Kit worker process and its protocol.  The pool
 * (tsk_pool.c) talks to each worker over one AF_UNIX SOCK_SEQPACKET socket:
 * one message per request, carrying the image's open descriptor
 * (SCM_RIGHTS), one message per answer (a struct tsk_result, packed: only
 * the used entries of its arrays).  A raw image of at most TSK_SHARED_MAX
 * bytes that the scanner holds whole (it hashed every byte, and keeps the
 * first MiB for the probes) is not read again: the pool copies it into the
 * worker's image buffer (shared memory the worker can only read, see
 * TSK_WORKER_IMAGE_FD) and the request says so instead of carrying a
 * descriptor.  Otherwise the worker
 * reads the image only through that descriptor: raw images through
 * page_cache_pread() (the page cache is left as found), containers through a
 * name that is a symbolic link to /proc/self/fd/N of it, in a private
 * directory the pool makes for the worker and sends, open, with each
 * request (SCM_RIGHTS too): the worker names it only as
 * /proc/self/fd/<dirfd>, never by its path in $TMPDIR.  It closes both
 * descriptors after each request.
 */
#ifndef IMGSCAN_TSK_WORKER_H
#define IMGSCAN_TSK_WORKER_H

#include "../formats/tsk_glue.h"

#include <stdint.h>

/* The worker's end of its socket, where the pool puts it before exec. */
#define TSK_WORKER_SOCKET_FD 0

/* The worker's image buffer, where the pool puts it before exec: a memfd
 * of TSK_SHARED_MAX bytes, sealed so that only the pool's mapping (made
 * before the seal) can write it.  The worker maps it read-only and closes
 * the descriptor at start; without it (closed, not a sealed memfd) every
 * image is read through its descriptor. */
#define TSK_WORKER_IMAGE_FD 3
/* The largest image passed in the buffer: the bytes the scanner keeps from
 * an image's start (HEAD_CAP, scanner/active.h). */
#define TSK_SHARED_MAX (1u << 20)

/* ---- pool side ---- */

/* A socket pair for one worker (close-on-exec both): 0 or -errno. */
int tsk_worker_socketpair(int sv[2]);

/*
 * Send one request with image_fd attached, and link_dfd when >= 0: the
 * worker's private directory for container names, open (-1 when there is
 * none: containers then fail).  shared_len: not 0 when the caller put the
 * whole image (req->size bytes, a raw one) in the worker's image buffer:
 * the request then carries no descriptor.  fault: test hooks only
 * ("crash", "hang", "alloc"), NULL otherwise; a build without
 * IMGSCAN_TEST_HOOKS never sends one.
 * Returns 0, -EPIPE when the worker is gone, or -errno.
 */
int tsk_worker_send(int sock, const struct tsk_request *req, int image_fd, uint32_t shared_len, int link_dfd,
		    const char *fault);

/* After a request of media (req->nsegments = n): every segment's
 * descriptor, the first too, with its size, in messages of
 * SEGS_PER_MESSAGE.  Returns 0, -EPIPE, or -errno. */
int tsk_worker_send_segments(int sock, const int *fds, const uint64_t *sizes, unsigned n);

/* Wait for the answer until deadline (CLOCK_MONOTONIC seconds), or until
 * the run is asked to stop (-ECANCELED, stop.h): 0,
 * -ETIMEDOUT, or -EPIPE (the worker died or broke the protocol).  On 0
 * every string of res is NUL-terminated and every count within its array:
 * the worker runs TSK on hostile images and is not trusted. */
int tsk_worker_receive(int sock, struct tsk_result *res, double deadline);

/* ---- worker side ---- */

/* Every descriptor a received message brought is the worker's to close:
 * the first max go into keep (their count returned), the others are
 * closed. */
struct msghdr;
unsigned tsk_worker_take_fds(struct msghdr *msg, int *keep, unsigned max);

/* The worker's loop, until the pool closes the socket: 0, or 2 on a
 * protocol error.  imgscan-worker (worker_main.c) runs it. */
int tsk_worker_main(int sock);

#endif
