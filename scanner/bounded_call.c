/*
 * bounded_call.c - see bounded_call.h.
 */
#include "bounded_call.h"
#include "page_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum call_op { CALL_FSTAT, CALL_PREAD };

/* Shared by the caller and the call's thread; the last of the two to let
 * go frees it (a call left behind may outlive its caller's frame). */
struct call {
	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	unsigned refs;
	bool done;
	enum call_op op;
	int fd;
	uint64_t off;
	size_t len;
	void *buf;         /* the call's own, copied out when it returns in time */
	struct stat st;
	long rc;
};

static void put_call(struct call *c)
{
	bool last;

	pthread_mutex_lock(&c->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->done_cv);
	free(c->buf);
	free(c);
}

/* One cache-neutral read (page_cache.h): the page cache is left as found. */
static long pread_neutral(int fd, void *buf, size_t len, uint64_t off)
{
	struct page_cache_reader r;
	long rc;

	page_cache_reader_init(&r, fd);
	rc = page_cache_pread(&r, buf, len, off);
	page_cache_reader_release(&r);
	return rc;
}

static long make_call(struct call *c)
{
	switch (c->op) {
	case CALL_FSTAT:
		return fstat(c->fd, &c->st) ? -errno : 0;
	case CALL_PREAD:
		return pread_neutral(c->fd, c->buf, c->len, c->off);
	}
	return -EINVAL;
}

static void *call_thread(void *arg)
{
	struct call *c = arg;
	long rc = make_call(c);

	pthread_mutex_lock(&c->lock);
	c->rc = rc;
	c->done = true;
	pthread_cond_signal(&c->done_cv);
	pthread_mutex_unlock(&c->lock);
	put_call(c);
	return NULL;
}

/* Runs c on its own thread for at most bound_s.  Returns true when it
 * returned in time (c->rc holds its result); false: left behind. */
static bool run_bounded(struct call *c, unsigned bound_s)
{
	pthread_attr_t attr;
	pthread_t tid;
	struct timespec until;
	int rc = 0;

	c->refs = 2;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&tid, &attr, call_thread, c)) {
		pthread_attr_destroy(&attr);
		c->refs = 1;
		c->rc = make_call(c); /* no thread to spare: the call is made here */
		return true;
	}
	pthread_attr_destroy(&attr);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += bound_s;
	pthread_mutex_lock(&c->lock);
	while (!c->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->done_cv, &c->lock, &until);
	bool in_time = c->done;
	pthread_mutex_unlock(&c->lock);
	return in_time;
}

static struct call *new_call(enum call_op op, int fd)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done_cv, NULL);
	c->refs = 1; /* the caller's */
	c->op = op;
	c->fd = fd;
	return c;
}

int bounded_fstat(int fd, struct stat *st, unsigned bound_s)
{
	struct call *c;
	int rc = -ETIMEDOUT;

	if (!bound_s)
		return fstat(fd, st) ? -errno : 0;
	if (!(c = new_call(CALL_FSTAT, fd)))
		return -ENOMEM;
	if (run_bounded(c, bound_s)) {
		rc = (int)c->rc;
		*st = c->st;
	}
	put_call(c);
	return rc;
}

long bounded_pread(int fd, void *buf, size_t len, uint64_t off, unsigned bound_s)
{
	struct call *c;
	long rc = -ETIMEDOUT;

	if (!bound_s)
		return pread_neutral(fd, buf, len, off);
	if (!(c = new_call(CALL_PREAD, fd)) || !(c->buf = malloc(len ? len : 1))) {
		free(c);
		return -ENOMEM;
	}
	c->len = len;
	c->off = off;
	if (run_bounded(c, bound_s)) {
		rc = c->rc;
		if (rc > 0)
			memcpy(buf, c->buf, (size_t)rc);
	}
	put_call(c);
	return rc;
}
