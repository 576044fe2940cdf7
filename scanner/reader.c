/*
 * reader.c - the reader thread: admits walked files (admit.c), keeps up to
 * queue_depth reads in flight over up to max_images images, decides every
 * completion in one place, and hands finished blocks to the hashing threads
 * (hash_threads.c).  It owns the engine: every read it prepares is sent by
 * the submit at the top of the next loop turn, whoever prepared it.
 *
 * When the engine fails, or the run is asked to stop, no image is lost:
 * every image in flight is failed with the reason and finalized, the reads
 * still in the kernel are waited for (a bounded time: a buffer the kernel may
 * still write into is never freed), and the walk is not continued.
 */
#include "reader.h"
#include "stop.h"
#include "../config/config.h"
#include "../config/options.h"
#include "../formats/probe.h"
#include "page_cache.h"
#include "stuck_fds.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REAP_BATCH 64
#define MAX_RETRIES 64        /* EAGAIN/EINTR resubmissions of one block */
#define MAX_SUBMIT_FAILURES 1000 /* transient submit errors in a row (~10 s of naps) */
#define DRAIN_SECONDS 30      /* how long a failed or stopped run waits for the kernel */
#define EXPIRY_CHECK_NS 100000000u /* between looks for reads past --read-timeout (0.1 s) */



/* ---- reads ------------------------------------------------------------ */

/* The slots whose buffers are registered with the engine: the first
 * queue-depth ones (the reserve beyond them is not). */
static unsigned registered_slots(const struct pipe_state *ps)
{
	return ps->env->opt->queue_depth;
}

/* Registered buffers pay off for O_DIRECT reads; buffered io_uring reads
 * into them were measured much slower (punted to kernel workers).  Only
 * the first queue-depth buffers: registering pins them (and makes them
 * resident), and the reserve is used only when blocks wait to be hashed. */
static void register_slot_buffers(struct pipe_state *ps)
{
	unsigned n = registered_slots(ps);
	uint8_t **bufs = calloc(n, sizeof(*bufs));

	if (!bufs)
		return;
	for (unsigned i = 0; i < n; i++)
		bufs[i] = ps->slots[i].buf;
	/* Failure is not an error: reads then map the buffers each time. */
	ps->stats->fixed_buffers =
		ps->env->engine->ops->register_buffers(ps->env->engine, bufs, n, ps->buf_len) == 0;
	free(bufs);
}

/* The first block of a file that needs the disk: open the O_DIRECT
 * descriptor (through /proc/self/fd: the file we hold, never the path
 * again), and register the read buffers at the first such block of the run.
 * Lazy, so that images read from the page cache pay for neither.  Called
 * with the lock held (fill_slots()). */
static void start_direct_locked(struct pipe_state *ps, struct active *a, struct seg_io *g)
{
	const struct scan_options *opt = ps->env->opt;
	char self[64];

	g->dfd_tried = true;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", g->fd);
	g->dfd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_DIRECT | (g->noatime ? O_NOATIME : 0));
	g->direct = g->dfd >= 0;
	a->res.direct = a->res.direct || g->direct;
	if (opt->read_mode == READ_DIRECT && g->dfd < 0)
		ps->stats->direct_fallbacks++; /* under the lock we were called with */
	if (g->direct && !ps->buffers_registered && ps->env->engine->ops->register_buffers &&
	    !opt->no_fixed_buffers) {
		ps->buffers_registered = true;
		register_slot_buffers(ps);
	}
}

/* Prepare the read of what slot s still lacks.  O_DIRECT reads the whole
 * block in 4 KiB units (the end of the file shortens it) and never more than
 * the buffer holds; the rest after a short read is read buffered, to the
 * byte, since it starts at an unaligned offset. */
static int queue_read(struct reader *r, struct slot *s)
{
	const struct seg_io *g = &s->img->seg[s->seg];
	size_t len = s->want - s->got;

	s->direct = g->direct && s->got == 0;
	if (s->direct) {
		len = (len + 4095) & ~(size_t)4095;
		if (len > r->ps->buf_len)
			len = r->ps->buf_len;
	} else if (s->none_cached) {
		s->drop_after = true;
	}
	s->req.fd = s->direct ? g->dfd : g->fd;
	s->req.buf = s->buf + s->got;
	s->req.len = len;
	s->req.off = s->foff + s->got;
	s->req.async = g->async_io;
	s->req.started_ns = 0; /* the engine's, from now on */
	assert(s->got + len <= r->ps->buf_len);
	s->in_engine = true;
	r->in_engine++;
	int rc = r->e->ops->queue(r->e, &s->req);
	if (rc) { /* the engine never had it: no read to wait for */
		s->in_engine = false;
		r->in_engine--;
	}
	return rc;
}

static void stop_early(struct reader *r, int err)
{
	if (!r->stop_err)
		r->stop_err = err;
}

/* A read queue_read() could not hand over: its slot back, the image's
 * count and the run's undone (lock held).  The run stops: -ETIMEDOUT when
 * the engine has no thread left to run reads, else -EBUSY. */
static int unqueue_locked(struct pipe_state *ps, struct slot *s, int rc)
{
	s->img->block_lost = true;
	s->img->inflight--;
	ps->inflight--;
	release_slot_locked(ps, s);
	return rc == -ENGINE_GONE ? -ETIMEDOUT : -EBUSY;
}

/* Which of the block's pages were cached before we read it: all (copy it
 * from the cache), none (drop what a buffered read brings in), or some (a
 * buffered read leaves them all cached: dropping would evict pages someone
 * else cached).  Where the kernel cannot tell, as none. */
static void cache_state(struct pipe_state *ps, const struct seg_io *g, uint64_t off, size_t want, bool *all, bool *none)
{
	long cached = 0;

	if (ps->env->opt->read_mode != READ_DIRECT)
		cached = page_cache_pages(g->fd, off, want);
	/* A copy from the cache is a plain pread in a hashing thread, beyond
	 * --read-timeout: on a network file system it may ask the server. */
	*all = cached > 0 && (uint64_t)cached >= page_cache_span(off, want) && !g->async_io;
	*none = cached <= 0;
}

/* A free slot off the stack: for a read, one whose buffer is registered
 * with the engine (the first queue-depth ones) where one is free; for a
 * block copied from the cache (its buffer unused), one of the reserve. */
static struct slot *take_slot_locked(struct pipe_state *ps, bool for_read)
{
	unsigned registered = registered_slots(ps), pick = ps->nfree - 1, idx;

	for (unsigned i = ps->nfree; i-- > 0;)
		if ((ps->free_slots[i] < registered) == for_read) {
			pick = i;
			break;
		}
	idx = ps->free_slots[pick];
	ps->free_slots[pick] = ps->free_slots[--ps->nfree];
	return &ps->slots[idx];
}

/* No image holds more than its share of the queue: a slow file (a dying
 * disk, a remote mount) would otherwise fill it and starve the others. */
static bool over_share_locked(const struct pipe_state *ps, const struct active *a)
{
	unsigned reading, share;

	unsigned parallel = ps->env->engine->parallel;

	if (!a->inflight || (reading = images_reading_locked(ps)) < 2)
		return false;
	share = ps->max_inflight / reading;
	if (parallel && share >= parallel) /* pread: a thread left for the others */
		share = parallel - 1;
	return a->inflight >= (share ? share : 1);
}

/* Take a free buffer for a's next block: 1 when taken, 0 when none is
 * free, BLOCK_WAITS when the block needs a read and the engine holds all
 * the reads it may (another image's block in the page cache still goes:
 * it needs no read), -errno when the engine refused it (the slot is then
 * back). */
#define BLOCK_WAITS 2
static int next_block_locked(struct reader *r, struct active *a)
{
	struct pipe_state *ps = r->ps;
	size_t rs = ps->env->opt->read_size;
	struct seg_io *g;
	uint64_t seg_end;
	size_t want;
	bool all, none, deferred;
	struct slot *s;

	if (!ps->nfree)
		return 0;
	while (a->next_seg + 1 < a->nseg && a->next_off >= a->seg[a->next_seg].start + a->seg[a->next_seg].size)
		a->next_seg++; /* blocks never span two files of media */
	g = &a->seg[a->next_seg];
	seg_end = g->start + g->size;
	want = seg_end - a->next_off < rs ? (size_t)(seg_end - a->next_off) : rs;
	/* The queue is full and this image's last block needed a read: no
	 * residency check for nothing. */
	if (ps->inflight >= ps->max_inflight && a->last_read)
		return BLOCK_WAITS;
	if (over_share_locked(ps, a))
		return BLOCK_WAITS;
	cache_state(ps, g, a->next_off - g->start, want, &all, &none);
	deferred = all && a->phase == IMG_STREAMING;
	a->last_read = !deferred;
	if (!deferred && ps->inflight >= ps->max_inflight)
		return BLOCK_WAITS;
	s = take_slot_locked(ps, !deferred);
	s->img = a;
	s->off = a->next_off;
	s->seg = a->next_seg;
	s->foff = a->next_off - g->start;
	s->want = want;
	s->got = 0;
	s->retries = 0;
	s->seq = a->next_seq++;
	s->drop_after = s->deferred = false;
	s->cached_before = all;
	s->none_cached = none;
	a->next_off += s->want;
	if (deferred) { /* no I/O: the hashing thread copies it */
		s->deferred = true;
		s->ready_at = monotonic_seconds();
		a->ready[s->seq % ps->nslots] = s;
		meter_locked(ps);
		pthread_cond_signal(&ps->work);
		return 1;
	}
	if (!g->dfd_tried && g->async_io) { /* the O_DIRECT open would ask a server, under the lock */
		g->dfd_tried = true;
		if (ps->env->opt->read_mode == READ_DIRECT)
			ps->stats->direct_fallbacks++;
	} else if (!g->dfd_tried) {
		start_direct_locked(ps, a, g);
	}
	a->inflight++;
	ps->inflight++;
	meter_locked(ps);
	int rc = queue_read(r, s);
	return rc ? unqueue_locked(ps, s, rc) : 1;
}

static bool wants_blocks_locked(const struct active *a)
{
	if (a->next_off >= a->size)
		return false;
	return a->phase == IMG_STREAMING || (a->phase == IMG_PROBING && a->next_seq == 0);
}

/* Hand free buffers round-robin over the images, one block each per pass,
 * so every image keeps blocks in hand and every hashing thread has work. */
static int fill_slots(struct reader *r)
{
	struct pipe_state *ps = r->ps;
	int rc = 0, taken;

	pthread_mutex_lock(&ps->lock);
	do {
		taken = 0;
		for (unsigned k = 0; k < ps->nact && rc >= 0; k++) {
			unsigned idx = (ps->rr + k) % ps->nact;

			if (!wants_blocks_locked(&ps->act[idx]))
				continue;
			rc = next_block_locked(r, &ps->act[idx]);
			if (rc == 0)
				goto out;
			if (rc == BLOCK_WAITS) { /* this image waits for the queue; others may go */
				rc = 0;
				continue;
			}
			if (rc > 0) {
				ps->rr = idx + 1;
				taken++;
			}
		}
	} while (taken && rc >= 0);
out:
	pthread_mutex_unlock(&ps->lock);
	return rc < 0 ? rc : 0;
}

/* ---- completions ------------------------------------------------------ */

enum outcome { READ_DONE, READ_SHORT, READ_RETRY, READ_DIRECT_REFUSED, READ_EOF, READ_ERROR };

static enum outcome classify(const struct slot *s, int res)
{
	if ((res == -EAGAIN || res == -EINTR) && s->retries < MAX_RETRIES)
		return READ_RETRY;
	if (res == -EINVAL && s->direct)
		return READ_DIRECT_REFUSED;
	if (res < 0)
		return READ_ERROR;
	if (res == 0)
		return READ_EOF;
	return s->got + (size_t)res >= s->want ? READ_DONE : READ_SHORT;
}

/* Close an undecided file without a report entry (counted as another
 * file).  Its descriptors are handed back for closing after the lock: a
 * close on FUSE or NFS may block. */
void forget_locked(struct pipe_state *ps, struct active *a, int fds[2])
{
	count_other_locked(ps, a->size);
	/* A read of it given up on in a drain may still use them: left open.
	 * Never media: a file that is probed is a file of its own. */
	assert(a->nseg == 1 && a->seg == &a->one);
	/* (a file of a network or user-space file system is not closed here,
	 * in the reader's thread: its server may stop answering at any moment) */
	fds[0] = release_fd(&a->one, a->one.fd, a->keep_fds, ps->fs_stalled);
	fds[1] = release_fd(&a->one, a->one.dfd, a->keep_fds, ps->fs_stalled);
	a->one.fd = a->one.dfd = -1;
	a->nseg = 0;
	free(a->path);
	a->path = NULL;
	a->phase = IMG_FREE;
	reader_event_locked(ps);
}

void close_pair(const int fds[2])
{
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

/* Block 0 of a file with an unknown extension is in: is it an image at all?
 * Decided without the lock (a PROBING image is the reader's alone), so the
 * sector-hash file is created before any hashing thread can see it. */
static void decide_probed(struct reader *r, struct active *a, struct slot *s)
{
	struct pipe_state *ps = r->ps;
	struct probe_view v = {s->buf, s->got, NULL, 0, 0, a->size};
	enum probe_answer answer = r->stop_err ? PROBE_NOT_IMAGE
					       : probe_classify(&v, a->inspect_layer, sizeof(a->inspect_layer));
	bool image = answer == PROBE_IMAGE;
	int fds[2] = {-1, -1};

	if (answer == PROBE_LOOK_INSIDE && (!ps->env->tsk || ps->env->opt->inside == INSIDE_NONE))
		image = named_as_compressed_image(ps->env->cfg, a->path); /* nobody may look: the name decides */
	if (answer == PROBE_LOOK_INSIDE && ps->env->tsk && ps->env->opt->inside != INSIDE_NONE) {
		/* A hashing thread asks a worker what the stream holds
		 * (inspect_locked()); block 0 waits in ready[] meanwhile. */
		pthread_mutex_lock(&ps->lock);
		a->phase = IMG_INSPECTING;
		ps->inspecting++; /* block 0 is held for the worker, not waiting to be hashed */
		a->ready[s->seq % ps->nslots] = s;
		meter_locked(ps);
		pthread_cond_signal(&ps->work);
		pthread_mutex_unlock(&ps->lock);
		return;
	}
	if (image && ps->env->opt->sector_hash_dir)
		open_sector_file(a, ps->env->opt->sector_hash_dir);
	if (!image && !r->stop_err && ps->env->sink.other)
		ps->env->sink.other(ps->env->sink.ctx, a->path, &a->res.st, &a->res.opened_at);
	pthread_mutex_lock(&ps->lock);
	if (image) {
		a->phase = IMG_STREAMING;
		s->ready_at = monotonic_seconds();
		a->ready[s->seq % ps->nslots] = s;
		pthread_cond_signal(&ps->work);
	} else { /* not an image, or a stop came before we could tell */
		release_slot_locked(ps, s);
		forget_locked(ps, a, fds);
	}
	pthread_mutex_unlock(&ps->lock);
	close_pair(fds);
}

/* Every completion passes here, once, and leads to exactly one of: the
 * block is whole, the rest is asked for again, or the image fails. */
static void on_completion(struct reader *r, struct slot *s)
{
	struct pipe_state *ps = r->ps;
	struct active *a = s->img;
	int res = s->req.res;
	enum outcome o = classify(s, res);
	uint64_t at = s->off + s->got;
	bool gone = res == -ENGINE_GONE; /* no I/O thread left to run it: the run stops */

	s->in_engine = false;
	r->in_engine--;
	r->completions++;
	if (!a) { /* given up on, given back after all: free to go */
		ps->lost_slots--;
		pthread_mutex_lock(&ps->lock);
		release_slot_locked(ps, s);
		pthread_mutex_unlock(&ps->lock);
		return;
	}
	if (gone)
		stop_early(r, -ETIMEDOUT);
	pthread_mutex_lock(&ps->lock);
	a->inflight--;
	ps->inflight--;
	if (res > 0)
		ps->disk_bytes += (uint64_t)res;
	meter_locked(ps);
	a->block_lost |= gone;
	if (a->phase == IMG_DRAINING || (gone && a->phase != IMG_PROBING)) {
		/* failed or stopping meanwhile; or never read: the drain fails it */
		release_slot_locked(ps, s);
		pthread_cond_broadcast(&ps->work);
		pthread_mutex_unlock(&ps->lock);
		return;
	}
	if (a->phase == IMG_PROBING && (o == READ_DONE || r->stop_err)) {
		pthread_mutex_unlock(&ps->lock);
		if (o == READ_DONE)
			s->got = s->want;
		decide_probed(r, a, s); /* a stop forgets an undecided file */
		return;
	}
	switch (o) {
	case READ_RETRY:
		s->retries++;
		break;
	case READ_DIRECT_REFUSED: /* the file system took O_DIRECT at open, not at read */
		a->seg[s->seg].direct = false;
		if (ps->env->opt->read_mode == READ_DIRECT)
			ps->stats->direct_fallbacks++;
		break;
	case READ_SHORT:
		s->got += (size_t)res;
		break;
	case READ_DONE:
		s->got = s->want; /* an O_DIRECT read may go past a file that grew */
		s->ready_at = monotonic_seconds();
		a->ready[s->seq % ps->nslots] = s;
		pthread_cond_signal(&ps->work);
		pthread_mutex_unlock(&ps->lock);
		return;
	case READ_EOF:
	case READ_ERROR:
		fail_read_locked(ps, a, s->seg, at, o == READ_EOF ? 0 : -res);
		release_slot_locked(ps, s);
		pthread_mutex_unlock(&ps->lock);
		return;
	}
	/* Ask again for what is missing: sent by the next submit. */
	a->inflight++;
	ps->inflight++;
	pthread_mutex_unlock(&ps->lock);
	int rc = queue_read(r, s);
	if (rc) {
		pthread_mutex_lock(&ps->lock);
		rc = unqueue_locked(ps, s, rc);
		pthread_cond_broadcast(&ps->work);
		pthread_mutex_unlock(&ps->lock);
		stop_early(r, rc);
	}
}

/* ---- reads that never return (--read-timeout) ------------------------- */

/* Leave the slot to the engine: its buffer is reused only once the read
 * comes back, if ever (lock held). */
static void abandon_slot_locked(struct reader *r, struct slot *s)
{
	s->img->inflight--;
	r->ps->inflight--;
	s->img = NULL;
	r->ps->lost_slots++;
}

/* Fail the slot's image and give up every read of it still out (the file
 * is as good as dead: they would time out one by one, holding threads).
 * The image's descriptors stay open, and nothing touches its file again;
 * a file not yet known to be an image is reported as one that could not be
 * read, never dropped. */
static void give_up_read(struct reader *r, struct slot *s)
{
	struct pipe_state *ps = r->ps;
	struct active *a = s->img;
	const char *seg = a->media ? a->media->segs[s->seg].path : "";

	pthread_mutex_lock(&ps->lock);
	a->stalled = a->keep_fds = ps->fs_stalled = true;
	fail_image_locked(ps, a, "read", ETIMEDOUT, s->off + s->got,
			  "a read at byte %llu did not return within %u s (--read-timeout)%s%s",
			  (unsigned long long)(s->off + s->got), ps->env->opt->read_timeout_s,
			  a->media ? "; in segment " : "", seg);
	for (unsigned i = 0; i < ps->nslots; i++) {
		struct slot *o = &ps->slots[i];

		if (!o->in_engine || o->img != a)
			continue;
		abandon_slot_locked(r, o);
		if (r->e->ops->abandon) /* takes only the engine's own lock */
			r->e->ops->abandon(r->e, &o->req);
	}
	meter_locked(ps);
	pthread_cond_broadcast(&ps->work); /* the image may be finalized now */
	pthread_mutex_unlock(&ps->lock);
}

/* Checked a few times a second.  With every buffer lost, the run stops:
 * nothing could stream again. */
static void expire_reads(struct reader *r)
{
	struct pipe_state *ps = r->ps;
	uint64_t limit_ns = (uint64_t)ps->env->opt->read_timeout_s * 1000000000u, now;

	if (!limit_ns || r->in_engine == ps->lost_slots || (now = engine_now_ns()) < r->next_expiry_ns)
		return;
	r->next_expiry_ns = now + EXPIRY_CHECK_NS;
	for (unsigned i = 0; i < ps->nslots; i++) {
		struct slot *s = &ps->slots[i];
		/* From when the kernel got it: a read waiting for a pread thread
		 * is not late, whatever holds the threads.  A read started after
		 * `now` was taken is not late either (unsigned: it would wrap). */
		uint64_t started = __atomic_load_n(&s->req.started_ns, __ATOMIC_RELAXED);

		if (s->in_engine && s->img && started && now > started && now - started >= limit_ns)
			give_up_read(r, s);
	}
	if (ps->lost_slots >= ps->nslots && !r->stop_err)
		r->stop_err = -ETIMEDOUT;
}

/* ---- adapting to the disk (adapt.h) ----------------------------------- */

#define ADAPT_WINDOW 0.25     /* seconds */
#define ADAPT_MAX_PENDING 8   /* windows an images trial may wait to take effect */
#define ADAPT_MIN_BYTES (4u << 20)  /* and at least this much read in it (a slow disk: 16 MB/s) */

static bool adapts(const struct adapt *ad)
{
	return !ad->fixed[ADAPT_DEPTH] || !ad->fixed[ADAPT_IMAGES];
}

/* Was the disk the limit over the window: the queue kept (mostly) full,
 * and hashing capacity to spare? */
static bool disk_bound(const struct pipe_state *ps, double inflight, double busy)
{
	return inflight >= 0.75 * ps->max_inflight && busy < ps->nthreads - 0.25;
}

static void adapt_turn(struct reader *r)
{
	struct pipe_state *ps = r->ps;
	double now = monotonic_seconds(), dt = now - r->win_start;
	double inflight, busy, rate;
	bool pending, changed = false;
	uint64_t bytes;

	if (dt < ADAPT_WINDOW)
		return;
	pthread_mutex_lock(&ps->lock);
	meter_locked(ps); /* the integrals up to now */
	inflight = (ps->meter.inflight_s - r->win_inflight_s) / dt;
	busy = (ps->meter.busy_s - r->win_busy_s) / dt;
	bytes = ps->disk_bytes - r->win_disk_bytes;
	rate = (double)bytes / dt;
	/* Fewer images in flight takes effect only as images end: until then
	 * a window measures the old value and says nothing of the trial. */
	pending = r->adapt.trying == ADAPT_IMAGES && images_reading_locked(ps) > ps->max_images;
	r->pending_windows = pending ? r->pending_windows + 1 : 0;
	if (r->pending_windows > ADAPT_MAX_PENDING) /* the images are long: tried again later */
		changed = adapt_abandon(&r->adapt);
	else if (!pending)
		changed = bytes >= ADAPT_MIN_BYTES && disk_bound(ps, inflight, busy) ? adapt_window(&r->adapt, rate)
										   : adapt_not_limited(&r->adapt);
	if (changed) {
		ps->max_inflight = r->adapt.value[ADAPT_DEPTH];
		ps->max_images = r->adapt.value[ADAPT_IMAGES];
	}
	r->win_start = now;
	r->win_inflight_s = ps->meter.inflight_s;
	r->win_busy_s = ps->meter.busy_s;
	r->win_disk_bytes = ps->disk_bytes;
	pthread_mutex_unlock(&ps->lock);
}

/* ---- the loop --------------------------------------------------------- */

static bool any_active(struct pipe_state *ps)
{
	bool any = false;

	pthread_mutex_lock(&ps->lock);
	for (unsigned i = 0; i < ps->nact && !any; i++)
		any = ps->act[i].phase != IMG_FREE;
	pthread_mutex_unlock(&ps->lock);
	return any;
}

/* Progress, rate-limited; the sink decides whether and how to show it. */
static void maybe_progress(struct pipe_state *ps)
{
	double now;
	uint64_t bytes;

	if (!ps->env->sink.progress || (now = monotonic_seconds()) < ps->next_progress)
		return;
	ps->next_progress = now + 0.17;
	pthread_mutex_lock(&ps->lock);
	bytes = ps->hashed_bytes;
	pthread_mutex_unlock(&ps->lock);
	ps->env->sink.progress(ps->env->sink.ctx, bytes);
}

static bool transient(int err)
{
	return err == -EAGAIN || err == -EBUSY || err == -EINTR || err == -ENOMEM;
}

/* Reap what finished (waiting up to wait_ms) and decide each.  Returns the
 * count, or -errno from the engine. */
static int reap_some(struct reader *r, int wait_ms)
{
	struct io_req *done[REAP_BATCH];
	int n = r->e->ops->reap(r->e, done, REAP_BATCH, wait_ms);

	for (int i = 0; i < n; i++)
		on_completion(r, &r->ps->slots[done[i]->slot]);
	return n;
}

static bool expiry_pending(const struct reader *r)
{
	return r->ps->env->opt->read_timeout_s && r->in_engine > r->ps->lost_slots;
}

/* Sleep in the engine only if nothing was given back since seen: a hashing
 * thread that gives something back later sees reader_waiting and wakes us. */
static int wait_for_work(struct reader *r, uint64_t seen, bool submit_pending)
{
	struct pipe_state *ps = r->ps;
	bool sleep;
	int n;

	pthread_mutex_lock(&ps->lock);
	sleep = ps->events == seen && !stop_requested();
	ps->reader_waiting = sleep;
	pthread_mutex_unlock(&ps->lock);
	/* With reads the kernel has not taken yet, only nap: they must go out.
	 * While the pipeline adapts, wake at least once a window; while a read
	 * may time out, as often as expire_reads() looks. */
	n = reap_some(r, !sleep ? 0 : submit_pending ? 10 : adapts(&r->adapt) ? (int)(ADAPT_WINDOW * 1000)
				 : expiry_pending(r) ? (int)(EXPIRY_CHECK_NS / 1000000) : -1);
	if (sleep) {
		pthread_mutex_lock(&ps->lock);
		ps->reader_waiting = false;
		pthread_mutex_unlock(&ps->lock);
	}
	return n < 0 ? n : 0;
}

/* Fail every image still streaming with why (they are finalized as soon as
 * nothing of theirs is in the kernel or being hashed); one whose every
 * block is already in memory is left to finish.  A file not yet known to be
 * an image is left to decide while its block 0 is in flight (a stop makes
 * that answer "forget it"), and forgotten, like any other file, once
 * nothing of it is: it is never listed as a failed image it may not be. */
static void fail_all(struct pipe_state *ps, int err, const char *why)
{
	for (unsigned i = 0; i < ps->nact; i++) {
		struct active *a = &ps->act[i];
		int fds[2] = {-1, -1};

		pthread_mutex_lock(&ps->lock);
		/* (every block out and back: it finishes, unless one is lost) */
		if (a->phase == IMG_STREAMING && (a->block_lost || !(a->next_off >= a->size && !a->inflight)))
			fail_image_locked(ps, a, "read", err, a->hashed_seq * ps->env->opt->read_size, "%s", why);
		else if (a->phase == IMG_PROBING && !a->inflight)
			forget_locked(ps, a, fds);
		pthread_mutex_unlock(&ps->lock);
		close_pair(fds);
	}
}

/* Slots the kernel never gave back: their images go on without them (the
 * buffers stay allocated and in_engine, so nothing frees or reuses them). */
static void abandon_lost_slots(struct reader *r)
{
	struct pipe_state *ps = r->ps;

	pthread_mutex_lock(&ps->lock);
	for (unsigned i = 0; i < ps->nslots; i++) {
		struct slot *s = &ps->slots[i];
		if (s->in_engine && s->img) {
			s->img->keep_fds = s->img->block_lost = true;
			abandon_slot_locked(r, s);
		}
	}
	pthread_cond_broadcast(&ps->work);
	pthread_mutex_unlock(&ps->lock);
}

/* The run stops early: fail what is in flight, wait (bounded) for the
 * kernel to give back every buffer, and for the images to be reported. */
static void drain(struct reader *r)
{
	struct pipe_state *ps = r->ps;
	double deadline = monotonic_seconds() + r->drain_seconds;
	const char *sig = sigabbrev_np(stop_requested());
	char why[160];

	if (r->stop_err == -EINTR)
		snprintf(why, sizeof(why), "not finished: the scan was stopped (SIG%s)", sig ? sig : "?");
	else if (r->stop_err == -ETIMEDOUT)
		snprintf(why, sizeof(why), "not finished: %u reads did not return within --read-timeout; the run stopped",
			 ps->lost_slots);
	else
		snprintf(why, sizeof(why), "not finished: the I/O engine failed (%s)", strerror(-r->stop_err));
	pthread_mutex_lock(&ps->lock);
	ps->stop_err = r->stop_err; /* finalize skips The Sleuth Kit from now on */
	pthread_mutex_unlock(&ps->lock);
	fail_all(ps, -r->stop_err, why);
	if (r->in_engine && r->e->ops->cancel)
		r->e->ops->cancel(r->e); /* what the kernel has not started ends now */
	for (;;) { /* again after each reap: a probed file may just have become an image */
		fail_all(ps, -r->stop_err, why);
		if (r->in_engine == ps->lost_slots || monotonic_seconds() >= deadline)
			break; /* only reads already given up on are out */
		r->e->ops->submit(r->e); /* prepared reads must go out to come back */
		if (reap_some(r, 100) < 0)
			break;
	}
	if (r->in_engine) {
		abandon_lost_slots(r);
		fail_all(ps, -r->stop_err, why);
	}
	while (any_active(ps) && monotonic_seconds() < deadline)
		reap_some(r, 100); /* woken when an image is given back */
}


#ifdef IMGSCAN_TEST_HOOKS
/* Test-only (imgscan-testhooks): IMGSCAN_TEST_ENGINE_FAIL=N makes submit
 * fail with EIO once N reads have completed, so that a run whose engine dies
 * with reads in flight can be tested; IMGSCAN_TEST_DRAIN_SECONDS shortens
 * the drain's bound.  Not in the shipped binary. */
static void load_engine_fault(struct reader *r)
{
	const char *v = getenv("IMGSCAN_TEST_ENGINE_FAIL");
	const char *d = getenv("IMGSCAN_TEST_DRAIN_SECONDS"); /* a read that never returns, tested briefly */

	r->fail_after = v ? strtoull(v, NULL, 10) : 0;
	if (d)
		r->drain_seconds = strtod(d, NULL);
}

static int engine_fault(const struct reader *r, int rc)
{
	return r->fail_after && r->completions >= r->fail_after ? -EIO : rc;
}
#else
static void load_engine_fault(struct reader *r)
{
	(void)r;
}

static int engine_fault(const struct reader *r, int rc)
{
	(void)r;
	return rc;
}
#endif

/* One turn: admit, fill buffers, send, wait.  Returns false when done. */
static bool reader_turn(struct reader *r)
{
	struct pipe_state *ps = r->ps;
	uint64_t seen;
	int rc;

	pthread_mutex_lock(&ps->lock);
	seen = ps->events;
	pthread_mutex_unlock(&ps->lock);
	if (stop_requested())
		stop_early(r, -EINTR);
	if (r->stop_err)
		return false;
	rc = admit(r);
	if (rc < 0)
		stop_early(r, rc); /* out of memory in the walk */
	if (stop_requested())
		stop_early(r, -EINTR);
	if (r->stop_err)
		return false;
	expire_reads(r);
	rc = fill_slots(r);
	if (rc < 0)
		stop_early(r, rc);
	rc = engine_fault(r, r->e->ops->submit(r->e)); /* also sends reads re-prepared by on_completion */
	r->submit_failures = rc < 0 ? r->submit_failures + 1 : 0;
	/* -EINTR from the engine is never mistaken for a stop by a signal. */
	if (rc < 0 && (!transient(rc) || r->submit_failures > MAX_SUBMIT_FAILURES))
		stop_early(r, rc == -EINTR ? -EIO : rc);
	if (r->stop_err)
		return false;
	if (r->walk_done && !any_active(ps))
		return false;
	maybe_progress(ps);
	adapt_turn(r);
	rc = wait_for_work(r, seen, rc < 0);
	if (rc < 0)
		stop_early(r, rc == -EINTR ? -EIO : rc);
	return true;
}

int reader_run(struct pipe_state *ps, struct walker *w)
{
	struct reader r = {.ps = ps, .e = ps->env->engine, .w = w, .drain_seconds = DRAIN_SECONDS};

	load_engine_fault(&r);
	adapt_init(&r.adapt, ps->max_inflight, ps->env->opt->queue_depth_set, ps->max_images,
		   ps->env->opt->max_images_set);
	r.win_start = monotonic_seconds();
	while (reader_turn(&r))
		;
	if (r.stop_err)
		drain(&r);
	free(r.pending.path);
	walk_media_free(r.pending.media);
	ps->stats->adapt = r.adapt;
	return r.stop_err;
}
