/*
 * pipeline.c - sets the pipeline up and takes it down (see pipeline.h): the
 * read buffers and image slots, allocated once for the whole run, the
 * hashing threads (hash_threads.c), and the reader loop on the calling
 * thread (reader.c).
 */
#include "active.h"
#include "../config/options.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>

#define MAX_HASH_THREADS 256

/* Slots of a run whose engine kept some reads (see free_state). */
static struct slot *abandoned_slots;

/* Buffers beyond the queue depth, for blocks that wait to be hashed (one
 * that came back before its predecessor, or whose image a thread holds):
 * without them such blocks take buffers from the queue, and the disk
 * waits for the hashing (measured: 20% of a cold run of four 1 GiB images
 * had fewer reads in flight than the queue depth for that reason). */
static unsigned reserve_slots(unsigned queue_depth)
{
	return queue_depth / 2;
}

static int alloc_slots(struct pipe_state *ps)
{
	ps->slots = calloc(ps->nslots, sizeof(*ps->slots));
	ps->free_slots = calloc(ps->nslots, sizeof(*ps->free_slots));
	if (!ps->slots || !ps->free_slots)
		return -ENOMEM;
	for (unsigned i = 0; i < ps->nslots; i++) {
		/* 4 KiB-aligned and a whole number of 4 KiB units, so the same
		 * buffers serve O_DIRECT reads, rounded up, of any block. */
		if (posix_memalign((void **)&ps->slots[i].buf, 4096, ps->buf_len))
			return -ENOMEM;
		ps->slots[i].req.slot = i;
	}
	/* A stack, slot 0 on top: the registered buffers (the first
	 * queue-depth ones) are used first, the reserve only when needed. */
	for (unsigned i = ps->nslots; i-- > 0;)
		ps->free_slots[ps->nfree++] = i;
	return 0;
}

static int alloc_actives(struct pipe_state *ps)
{
	ps->act = calloc(ps->nact, sizeof(*ps->act));
	if (!ps->act)
		return -ENOMEM;
	for (unsigned i = 0; i < ps->nact; i++) {
		struct active *a = &ps->act[i];
		a->one.fd = a->one.dfd = -1;
		a->seg = &a->one;
		a->ready = calloc(ps->nslots, sizeof(*a->ready));
		a->head = malloc(HEAD_CAP);
		a->tail = malloc(TAIL_CAP);
		a->seg_state = hash_state_new();
		a->carry = malloc(ps->env->opt->sector_size);
		if (!a->ready || !a->head || !a->tail || !a->seg_state || !a->carry || hasher_init(&a->hasher, ps->env->opt->crypto_mask))
			return -ENOMEM;
	}
	return 0;
}

static void free_state(struct pipe_state *ps)
{
	/* A read the engine never gave back may still complete: the kernel
	 * writes its buffer, a pread thread its request in the slot array.
	 * Both are left allocated then (the run is ending anyway). */
	for (unsigned i = 0; ps->slots && i < ps->nslots; i++)
		if (!ps->slots[i].in_engine)
			free(ps->slots[i].buf);
	free(ps->free_slots);
	if (!ps->lost_slots) {
		free(ps->slots);
	} else {
		abandoned_slots = ps->slots; /* kept reachable: leak checkers see it is meant */
	}
	for (unsigned i = 0; ps->act && i < ps->nact; i++) {
		free(ps->act[i].ready);
		free(ps->act[i].head);
		free(ps->act[i].tail);
		hasher_free(&ps->act[i].hasher);
		hash_state_free(ps->act[i].seg_state);
		free(ps->act[i].carry);
	}
	free(ps->act);
}

static void stop_hash_threads(struct pipe_state *ps, pthread_t *threads, unsigned n)
{
	pthread_mutex_lock(&ps->lock);
	ps->stopping = true;
	pthread_cond_broadcast(&ps->work);
	pthread_mutex_unlock(&ps->lock);
	for (unsigned i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

/* Media of many segments keeps each one open while it is read (hundreds
 * for a large split acquisition): the soft descriptor limit (often 1024)
 * goes up to the hard one. */
static void raise_fd_limit(void)
{
	struct rlimit nofile;

	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
}

int pipeline_run(const struct pipeline_env *env, struct walker *walk, struct run_stats *stats)
{
	struct pipe_state ps = {0};
	pthread_t threads[MAX_HASH_THREADS];
	unsigned nthreads = 0;
	int rc;

	raise_fd_limit();
	ps.env = env;
	ps.stats = stats;
	ps.max_inflight = env->opt->queue_depth;
	ps.max_images = env->opt->max_images;
	ps.nslots = env->opt->queue_depth + reserve_slots(env->opt->queue_depth);
	ps.nact = env->opt->max_images;
	ps.buf_len = (env->opt->read_size + 4095) & ~(size_t)4095;
	pthread_mutex_init(&ps.lock, NULL);
	pthread_cond_init(&ps.work, NULL);
	rc = alloc_slots(&ps);
	if (!rc)
		rc = alloc_actives(&ps);
	while (!rc && nthreads < env->opt->jobs && nthreads < MAX_HASH_THREADS) {
		if (pthread_create(&threads[nthreads], NULL, hash_thread, &ps)) {
			rc = nthreads ? 0 : -EAGAIN; /* fewer threads still work */
			break;
		}
		nthreads++;
	}
	pthread_mutex_lock(&ps.lock);
	ps.nthreads = nthreads; /* the threads count themselves idle meanwhile */
	pthread_mutex_unlock(&ps.lock);
	if (!rc)
		rc = reader_run(&ps, walk);
	stop_hash_threads(&ps, threads, nthreads);
	stats->lost_buffers = ps.lost_slots;
	io_meter_figures(&ps.meter, &stats->io);
	free_state(&ps);
	pthread_mutex_destroy(&ps.lock);
	pthread_cond_destroy(&ps.work);
	return rc;
}
