/*
 * engine.h - the I/O engine interface: queue reads, submit them, reap
 * completions.  Two engines sit behind it: io_uring (one ring driven by the
 * reader thread) and pread (a few I/O threads), with the same behaviour.
 *
 * Only the reader thread calls queue/submit/reap; engine_wake() may be called
 * from any thread to end a reap() that is waiting.
 */
#ifndef IMGSCAN_ENGINE_H
#define IMGSCAN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct io_req {
	int fd;
	void *buf;
	size_t len;
	uint64_t off;
	uint32_t slot;   /* the caller's slot index */
	bool async;      /* io_uring: never issue it in the submitting thread (IOSQE_ASYNC) */
	uint64_t started_ns; /* set by the engine (__atomic): CLOCK_MONOTONIC ns when the read
	                  * went to the kernel; 0 while it waits for an I/O thread */
	int32_t res;     /* bytes read, or -errno, set on completion; -ENGINE_GONE: the
	                  * engine could not run it (no I/O thread left), not a read error */
};

/* queue()'s error and a request's res when the engine cannot run reads any
 * more: every pread thread is stuck in a read past --read-timeout.  The
 * run stops; no image is charged a read error for it. */
#define ENGINE_GONE ESHUTDOWN

struct engine;

struct engine_ops {
	const char *name;
	/* Prepare a read; it reaches the kernel at the next submit().  Never
	 * fails for lack of room while at most depth reads are outstanding. */
	int (*queue)(struct engine *e, struct io_req *req);
	/* Send every prepared read.  Returns 0 or -errno; after -EAGAIN,
	 * -EBUSY or -EINTR the reads stay prepared and a later submit() sends
	 * them (reap first: the kernel may be waiting for room). */
	int (*submit)(struct engine *e);
	/* Store up to max finished requests in out, waiting up to wait_ms for
	 * one (or a wake): 0 does not wait, -1 waits as long as it takes.
	 * Returns the count (0 on a wake or a timeout), or -errno. */
	int (*reap)(struct engine *e, struct io_req **out, int max, int wait_ms);
	void (*wake)(struct engine *e);
	/* Ask every read not yet done to end now, with -ECANCELED where the
	 * kernel can (a read already at the device still completes).  For a
	 * stopping run.  Returns 0 or -errno. */
	int (*cancel)(struct engine *e);
	/* Optional: the caller gives up on req (--read-timeout).  A read not
	 * started ends as -ECANCELED; one the kernel is inside may still
	 * complete, later or never, so req and its buffer stay the caller's
	 * until reaped.  The engine's other reads keep going meanwhile. */
	void (*abandon)(struct engine *e, struct io_req *req);
	void (*destroy)(struct engine *e);
	/* Optional: the caller's n buffers of len bytes, buffer i for slot i,
	 * registered once so reads need not map them each time; slots n and
	 * above read unregistered.  Returns 0 or -errno (then reads go on
	 * unregistered). */
	int (*register_buffers)(struct engine *e, uint8_t *const *bufs, unsigned n, size_t len);
};

struct engine {
	const struct engine_ops *ops;
	unsigned parallel;  /* reads it can have in the kernel at once (pread: its threads); 0: no limit */
};

/* CLOCK_MONOTONIC now, in ns, for io_req.started_ns (never 0). */
uint64_t engine_now_ns(void);

/* Create an io_uring engine for depth reads in flight.  Returns 0 or -errno
 * (-ENOSYS, -EPERM when the kernel or a seccomp profile refuses io_uring). */
int engine_uring_create(unsigned depth, struct engine **out);

/* Create the pread engine with nthreads I/O threads. */
int engine_pread_create(unsigned depth, unsigned nthreads, struct engine **out);

/* True when /proc/sys/kernel/io_uring_disabled says io_uring is off for us. */
bool engine_uring_disabled_by_sysctl(void);

#endif
