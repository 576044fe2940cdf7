/*
 * engine_uring.c - the io_uring engine.  One ring, owned by the reader thread.
 * An eventfd read stays armed in the ring so that hashing threads can wake a
 * reader blocked in io_uring_wait_cqe() when they give buffers back.
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#define WAKE_TAG ((uint64_t)-1)
#define CANCEL_TAG ((uint64_t)-2)

struct uring_engine {
	struct engine base;
	struct io_uring ring;
	int wake_fd;
	uint64_t wake_buf;
	unsigned queued;  /* prepared, not yet submitted */
	unsigned nfixed;  /* buffers registered: slot i < nfixed reads into buffer i */
};

static int arm_wake(struct uring_engine *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, u->wake_fd, &u->wake_buf, sizeof(u->wake_buf), 0);
	io_uring_sqe_set_data64(sqe, WAKE_TAG);
	u->queued++;
	return 0;
}

static int uring_submit(struct engine *e);

/* A free entry; when the ring is full of cancels (--read-timeout), they
 * are sent first to make room.  NULL if there is still none. */
static struct io_uring_sqe *sqe_with_room(struct uring_engine *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe && uring_submit(&u->base) == 0)
		sqe = io_uring_get_sqe(&u->ring);
	return sqe;
}

static int uring_queue(struct engine *e, struct io_req *req)
{
	struct uring_engine *u = (struct uring_engine *)e;
	struct io_uring_sqe *sqe = sqe_with_room(u);

	if (!sqe)
		return -EBUSY;
	if (req->slot < u->nfixed)
		io_uring_prep_read_fixed(sqe, req->fd, req->buf, (unsigned)req->len, req->off, (int)req->slot);
	else
		io_uring_prep_read(sqe, req->fd, req->buf, (unsigned)req->len, req->off);
	io_uring_sqe_set_data(sqe, req);
	__atomic_store_n(&req->started_ns, engine_now_ns(), __ATOMIC_RELAXED);
	if (req->async) /* a read issued inline would hold the reader while it waits */
		io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	u->queued++;
	return 0;
}

static int uring_submit(struct engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;
	int rc;

	if (!u->queued)
		return 0;
	rc = io_uring_submit(&u->ring);
	if (rc < 0)
		return rc;
	/* The kernel may take fewer than were prepared: the rest stay queued. */
	u->queued = (unsigned)rc >= u->queued ? 0 : u->queued - (unsigned)rc;
	return 0;
}

static int wait_one(struct uring_engine *u, int wait_ms)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = {wait_ms / 1000, (long long)(wait_ms % 1000) * 1000000};
	int rc;

	if (wait_ms == 0)
		return 0;
	rc = wait_ms < 0 ? io_uring_wait_cqe(&u->ring, &cqe) : io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
	return rc == -EINTR || rc == -ETIME ? 0 : rc;
}

static int uring_reap(struct engine *e, struct io_req **out, int max, int wait_ms)
{
	struct uring_engine *u = (struct uring_engine *)e;
	struct io_uring_cqe *cqe;
	int n = 0, rc = wait_one(u, wait_ms);
	unsigned head, seen = 0;

	if (rc < 0)
		return rc;
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		if (n >= max)
			break;
		seen++;
		if (io_uring_cqe_get_data64(cqe) == CANCEL_TAG)
			continue;
		if (io_uring_cqe_get_data64(cqe) == WAKE_TAG) { /* also when cancelled */
			rc = arm_wake(u);
			if (rc)
				return rc;
			continue;
		}
		struct io_req *req = io_uring_cqe_get_data(cqe);
		req->res = cqe->res;
		out[n++] = req;
	}
	io_uring_cq_advance(&u->ring, seen);
	return n;
}

static void uring_wake(struct engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;
	uint64_t one = 1;
	ssize_t rc = write(u->wake_fd, &one, sizeof(one));

	(void)rc; /* an eventfd write only fails on counter overflow: still awake */
}

static int uring_cancel(struct engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, CANCEL_TAG);
	u->queued++;
	return uring_submit(e);
}

/* Best effort: a read the kernel has handed to a file system that never
 * answers (a dead NFS server, a hung FUSE daemon) is not cancellable. */
static void uring_abandon(struct engine *e, struct io_req *req)
{
	struct uring_engine *u = (struct uring_engine *)e;
	struct io_uring_sqe *sqe = sqe_with_room(u);

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)req, 0);
	io_uring_sqe_set_data64(sqe, CANCEL_TAG);
	u->queued++;
}

static int uring_register(struct engine *e, uint8_t *const *bufs, unsigned n, size_t len)
{
	struct uring_engine *u = (struct uring_engine *)e;
	struct iovec *iov = calloc(n, sizeof(*iov));
	int rc;

	if (!iov)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = len;
	}
	/* Pins the pages: may exceed RLIMIT_MEMLOCK for a non-root user. */
	rc = io_uring_register_buffers(&u->ring, iov, n);
	free(iov);
	u->nfixed = rc == 0 ? n : 0;
	return rc;
}

static void uring_destroy(struct engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;

	io_uring_queue_exit(&u->ring);
	close(u->wake_fd);
	free(u);
}

static const struct engine_ops uring_ops = {
	.name = "uring",
	.queue = uring_queue,
	.submit = uring_submit,
	.reap = uring_reap,
	.wake = uring_wake,
	.cancel = uring_cancel,
	.abandon = uring_abandon,
	.destroy = uring_destroy,
	.register_buffers = uring_register,
};

bool engine_uring_disabled_by_sysctl(void)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	int v = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	/* 1 allows only members of io_uring_group; the ring setup tells us then. */
	return v == 2;
}

int engine_uring_create(unsigned depth, struct engine **out)
{
	struct uring_engine *u = calloc(1, sizeof(*u));
	int rc;

	if (!u)
		return -ENOMEM;
	if (engine_uring_disabled_by_sysctl()) {
		free(u);
		return -EPERM;
	}
	/* +1 for the armed wake read, +1 for a cancel; the SQ holds a whole batch. */
	rc = io_uring_queue_init(depth + 2, &u->ring, 0);
	if (rc < 0) {
		free(u);
		return rc;
	}
	u->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (u->wake_fd < 0) {
		rc = -errno;
		io_uring_queue_exit(&u->ring);
		free(u);
		return rc;
	}
	u->base.ops = &uring_ops;
	/* Kernel workers stuck in reads given up on must not leave the others
	 * none: room for every buffer (1.5 x depth) and more. */
	unsigned workers[2] = {2 * depth + 8, 0};
	io_uring_register_iowq_max_workers(&u->ring, workers); /* best effort */
	rc = arm_wake(u);
	if (!rc)
		rc = uring_submit(&u->base);
	if (rc) {
		uring_destroy(&u->base);
		return rc;
	}
	*out = &u->base;
	return 0;
}
