/*
 * engine_pread.c - the fallback engine: a few I/O threads doing pread(2),
 * for kernels or sandboxes that refuse io_uring.  Same contract as the ring:
 * the reader queues and reaps, hashing threads may wake a waiting reader.
 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_IO_THREADS 16
#define MAX_REPLACED 64 /* threads started in place of stuck ones, at most */

struct pread_engine;

/* One I/O thread.  A thread stuck in a read the reader gave up on is
 * written off (lost) and another takes its place in threads[], so one dead
 * file cannot starve the others; the lost one frees itself if its read
 * ever returns. */
struct io_worker {
	struct pread_engine *p;
	pthread_t tid;
	struct io_req *cur;        /* (lock) the request being read, or NULL */
	bool lost;                 /* (lock) written off: leaves after its read */
};

struct pread_engine {
	struct engine base;
	pthread_mutex_t lock;
	pthread_cond_t work;       /* I/O threads wait here for requests */
	pthread_cond_t done;       /* the reader waits here for completions */
	struct io_req **todo;      /* FIFO of queued requests (lock) */
	struct io_req **finished;  /* FIFO of completed requests (lock) */
	unsigned cap, todo_head, todo_len, fin_head, fin_len;
	bool woken, stopping;      /* (lock) */
	struct io_worker *threads[MAX_IO_THREADS];
	unsigned nthreads;
	unsigned nlost;            /* (lock) written-off threads still inside a read */
	unsigned replaced;         /* (lock) threads started in place of lost ones */
	unsigned max_replaced;     /* MAX_REPLACED (a test hook may lower it) */
};

/* An engine left to a thread stuck in a read that never returned. */
static struct pread_engine *abandoned;

static void read_fully(struct io_req *req)
{
	ssize_t n;

	do
		n = pread(req->fd, req->buf, req->len, (off_t)req->off);
	while (n < 0 && errno == EINTR);
	/* A short count is handed up as it is: the reader resubmits the rest,
	 * exactly as it does for a short io_uring read. */
	req->res = n < 0 ? -errno : (int32_t)n;
}

static void finish_locked(struct pread_engine *p, struct io_req *req)
{
	p->finished[(p->fin_head + p->fin_len) % p->cap] = req;
	p->fin_len++;
	pthread_cond_signal(&p->done);
}

static void *io_thread(void *arg)
{
	struct io_worker *w = arg;
	struct pread_engine *p = w->p;
	struct io_req *req;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo_len && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stopping)
			break;
		req = p->todo[p->todo_head];
		p->todo_head = (p->todo_head + 1) % p->cap;
		p->todo_len--;
		w->cur = req;
		__atomic_store_n(&req->started_ns, engine_now_ns(), __ATOMIC_RELAXED);
		pthread_mutex_unlock(&p->lock);
		read_fully(req);
		pthread_mutex_lock(&p->lock);
		w->cur = NULL;
		finish_locked(p, req);
		if (w->lost) { /* detached, replaced: this thread's part is over */
			p->nlost--;
			pthread_mutex_unlock(&p->lock);
			free(w);
			return NULL;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int start_worker(struct pread_engine *p, unsigned i)
{
	struct io_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->p = p;
	if (pthread_create(&w->tid, NULL, io_thread, w)) {
		free(w);
		return -EAGAIN;
	}
	p->threads[i] = w;
	return 0;
}

static int pread_queue(struct engine *e, struct io_req *req)
{
	struct pread_engine *p = (struct pread_engine *)e;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (!p->nthreads) {
		rc = -ENGINE_GONE; /* every I/O thread is stuck in a read that never returned */
	} else if (p->todo_len >= p->cap) {
		rc = -EBUSY;
	} else {
		p->todo[(p->todo_head + p->todo_len) % p->cap] = req;
		p->todo_len++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static int pread_submit(struct engine *e)
{
	(void)e; /* queue() already handed the request to a thread */
	return 0;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static int pread_reap(struct engine *e, struct io_req **out, int max, int wait_ms)
{
	struct pread_engine *p = (struct pread_engine *)e;
	struct timespec until;
	int n = 0;

	if (wait_ms > 0)
		deadline_in(&until, wait_ms);
	pthread_mutex_lock(&p->lock);
	while (wait_ms != 0 && !p->fin_len && !p->woken) {
		if (wait_ms < 0)
			pthread_cond_wait(&p->done, &p->lock);
		else if (pthread_cond_timedwait(&p->done, &p->lock, &until) == ETIMEDOUT)
			break;
	}
	p->woken = false;
	while (p->fin_len && n < max) {
		out[n++] = p->finished[p->fin_head];
		p->fin_head = (p->fin_head + 1) % p->cap;
		p->fin_len--;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void pread_wake(struct engine *e)
{
	struct pread_engine *p = (struct pread_engine *)e;

	pthread_mutex_lock(&p->lock);
	p->woken = true;
	pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
}

/* Every request no thread has taken yet ends now with res. */
static void end_queued_locked(struct pread_engine *p, int32_t res)
{
	while (p->todo_len) {
		struct io_req *req = p->todo[p->todo_head];
		p->todo_head = (p->todo_head + 1) % p->cap;
		p->todo_len--;
		req->res = res;
		finish_locked(p, req);
	}
}

/* Requests no thread has taken yet end as cancelled; those being read finish. */
static int pread_cancel(struct engine *e)
{
	struct pread_engine *p = (struct pread_engine *)e;

	pthread_mutex_lock(&p->lock);
	end_queued_locked(p, -ECANCELED);
	pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Not started: cancelled now.  Being read: its thread is written off and
 * replaced (up to MAX_REPLACED times in a run). */
static void pread_abandon(struct engine *e, struct io_req *req)
{
	struct pread_engine *p = (struct pread_engine *)e;

	pthread_mutex_lock(&p->lock);
	for (unsigned k = 0; k < p->todo_len; k++) {
		unsigned at = (p->todo_head + k) % p->cap;

		if (p->todo[at] != req)
			continue;
		for (; k + 1 < p->todo_len; k++) /* close the gap, keeping the order */
			p->todo[(p->todo_head + k) % p->cap] = p->todo[(p->todo_head + k + 1) % p->cap];
		p->todo_len--;
		req->res = -ECANCELED;
		finish_locked(p, req);
		goto out;
	}
	for (unsigned i = 0; i < p->nthreads; i++) {
		struct io_worker *w = p->threads[i];

		if (w->cur != req || w->lost)
			continue;
		w->lost = true;
		p->nlost++;
		pthread_detach(w->tid);
		if (p->replaced < p->max_replaced && start_worker(p, i) == 0) {
			p->replaced++;
		} else { /* one thread fewer from now on */
			p->threads[i] = p->threads[--p->nthreads];
			p->base.parallel = p->nthreads;
		}
		if (!p->nthreads) /* every thread stuck: nothing queued would ever run */
			end_queued_locked(p, -ENGINE_GONE);
		break;
	}
out:
	pthread_mutex_unlock(&p->lock);
}

/* A thread still inside a read that never returns (a dead NFS server) is
 * left behind, detached, with the engine it uses: never freed under it. */
static bool join_threads(struct pread_engine *p)
{
	bool all = true;

	for (unsigned i = 0; i < p->nthreads; i++) {
		struct timespec until;
		deadline_in(&until, 2000);
		struct io_worker *w = p->threads[i];
		bool stuck = false;

		if (pthread_timedjoin_np(w->tid, NULL, &until)) {
			pthread_mutex_lock(&p->lock);
			stuck = w->cur != NULL; /* else it is on its way out */
			if (stuck) {
				w->lost = true; /* frees itself if it ever returns */
				p->nlost++;
			}
			pthread_mutex_unlock(&p->lock);
			if (stuck) {
				pthread_detach(w->tid);
				all = false;
				continue;
			}
			pthread_join(w->tid, NULL);
		}
		free(w);
	}
	return all;
}

static void pread_destroy(struct engine *e)
{
	struct pread_engine *p = (struct pread_engine *)e;

	pread_cancel(e); /* nothing queued is started now */
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	bool joined = join_threads(p);
	unsigned lost;

	pthread_mutex_lock(&p->lock);
	lost = p->nlost;
	pthread_mutex_unlock(&p->lock);
	if (!joined || lost) {
		abandoned = p; /* in use by a stuck thread; reachable, so not reported as a leak */
		return;
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->todo);
	free(p->finished);
	free(p);
}

static const struct engine_ops pread_ops = {
	.name = "pread",
	.queue = pread_queue,
	.submit = pread_submit,
	.reap = pread_reap,
	.wake = pread_wake,
	.cancel = pread_cancel,
	.abandon = pread_abandon,
	.destroy = pread_destroy,
};

/* Test-only (imgscan-testhooks): IMGSCAN_TEST_PREAD_REPLACEMENTS=N runs
 * out of threads after N stuck reads instead of MAX_REPLACED. */
static unsigned max_replaced(void)
{
#ifdef IMGSCAN_TEST_HOOKS
	const char *v = getenv("IMGSCAN_TEST_PREAD_REPLACEMENTS");

	if (v)
		return (unsigned)strtoul(v, NULL, 10);
#endif
	return MAX_REPLACED;
}

int engine_pread_create(unsigned depth, unsigned nthreads, struct engine **out)
{
	struct pread_engine *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	/* Room for every read buffer (1.5 x depth): reads given up on stay
	 * here, and the reader sends new ones meanwhile. */
	p->cap = 2 * depth + 2;
	p->todo = calloc(p->cap, sizeof(*p->todo));
	p->finished = calloc(p->cap, sizeof(*p->finished));
	if (!p->todo || !p->finished) {
		free(p->todo);
		free(p->finished);
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->base.ops = &pread_ops;
	p->max_replaced = max_replaced();
	if (nthreads > MAX_IO_THREADS)
		nthreads = MAX_IO_THREADS;
	for (p->nthreads = 0; p->nthreads < nthreads; p->nthreads++) {
		if (start_worker(p, p->nthreads)) {
			if (!p->nthreads) {
				pread_destroy(&p->base);
				return -EAGAIN;
			}
			break;
		}
	}
	p->base.parallel = p->nthreads;
	*out = &p->base;
	return 0;
}
