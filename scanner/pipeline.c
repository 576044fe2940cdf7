/*
 * pipeline.c - the reader loop and the hashing threads (see pipeline.h).
 */
#include "active.h"
#include "../config/config.h"
#include "../config/options.h"
#include "../formats/probe.h"
#include "page_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define REAP_BATCH 64
#define EFTYPE_CHANGED EBADFD /* "no longer a regular file" */

/* ---- setup ---------------------------------------------------------- */

static int alloc_slots(struct pipe_state *ps)
{
	size_t rs = ps->env->opt->read_size;

	ps->slots = calloc(ps->nslots, sizeof(*ps->slots));
	ps->free_slots = calloc(ps->nslots, sizeof(*ps->free_slots));
	if (!ps->slots || !ps->free_slots)
		return -ENOMEM;
	for (unsigned i = 0; i < ps->nslots; i++) {
		/* 4096-aligned so the same buffers serve O_DIRECT reads. */
		if (posix_memalign((void **)&ps->slots[i].buf, 4096, rs))
			return -ENOMEM;
		ps->slots[i].req.slot = i;
		ps->free_slots[ps->nfree++] = i;
	}
	return 0;
}

/* Registered buffers pay off for O_DIRECT reads; buffered io_uring reads
 * into them were measured much slower (punted to kernel workers). */
static void register_slot_buffers(struct pipe_state *ps)
{
	uint8_t **bufs = calloc(ps->nslots, sizeof(*bufs));

	if (!bufs)
		return;
	for (unsigned i = 0; i < ps->nslots; i++)
		bufs[i] = ps->slots[i].buf;
	/* Failure is not an error: reads then map the buffers each time. */
	ps->stats->fixed_buffers = ps->env->engine->ops->register_buffers(ps->env->engine, bufs, ps->nslots,
									   ps->env->opt->read_size) == 0;
	free(bufs);
}

static int alloc_actives(struct pipe_state *ps)
{
	ps->act = calloc(ps->nact, sizeof(*ps->act));
	if (!ps->act)
		return -ENOMEM;
	for (unsigned i = 0; i < ps->nact; i++) {
		struct active *a = &ps->act[i];
		a->ready = calloc(ps->nslots, sizeof(*a->ready));
		a->head = malloc(HEAD_CAP);
		a->tail = malloc(TAIL_CAP);
		if (!a->ready || !a->head || !a->tail || hasher_init(&a->hasher, ps->env->opt->crypto_mask))
			return -ENOMEM;
		a->fd = a->dfd = -1;
	}
	return 0;
}

static void free_state(struct pipe_state *ps)
{
	for (unsigned i = 0; ps->slots && i < ps->nslots; i++)
		free(ps->slots[i].buf);
	for (unsigned i = 0; ps->act && i < ps->nact; i++) {
		free(ps->act[i].ready);
		free(ps->act[i].head);
		free(ps->act[i].tail);
		hasher_free(&ps->act[i].hasher);
	}
	free(ps->slots);
	free(ps->free_slots);
	free(ps->act);
}

/* ---- hashing threads -------------------------------------------------- */

static void close_image_fds(struct active *a)
{
	close(a->fd);
	if (a->dfd >= 0)
		close(a->dfd);
	a->fd = a->dfd = -1;
}

static int read_hash_deferred(struct pipe_state *ps, struct active *a, struct slot *s, uint8_t *buf);

/* Something the reader may act on happened; wake it only if it sleeps. */
static void reader_event_locked(struct pipe_state *ps)
{
	ps->events++;
	if (ps->reader_waiting) {
		ps->reader_waiting = false;
		ps->env->engine->ops->wake(ps->env->engine);
	}
}

static void release_slot_locked(struct pipe_state *ps, struct slot *s)
{
	s->img = NULL;
	ps->free_slots[ps->nfree++] = s->req.slot;
	reader_event_locked(ps);
}

/* Keep the bytes the probes need: the head and the tail of the image. */
static void keep_head_tail(struct active *a, uint64_t off, const uint8_t *data, size_t len)
{
	uint64_t end = off + len;

	if (off < HEAD_CAP) {
		size_t n = (size_t)((end < HEAD_CAP ? end : HEAD_CAP) - off);
		memcpy(a->head + off, data, n);
		if (off + n > a->head_len)
			a->head_len = (size_t)(off + n);
	}
	if (end > a->tail_off) {
		uint64_t from = off > a->tail_off ? off : a->tail_off;
		memcpy(a->tail + (from - a->tail_off), data + (from - off), (size_t)(end - from));
		a->tail_len = (size_t)(end - a->tail_off);
	}
}

/* Hash len bytes at image offset off (the next bytes in order). */
static void hash_bytes(struct active *a, uint64_t off, const uint8_t *data, size_t len)
{
	int rc;

	keep_head_tail(a, off, data, len);
	rc = hasher_update(&a->hasher, data, len);
	if (rc && a->sf) {
		result_add_error(&a->res, "sector-hashes", -rc, 0, "cannot write the sector-hash list: %s",
				 strerror(-rc));
		sector_file_abort(a->sf);
		a->sf = NULL;
		a->hasher.out = NULL;
	}
}

static bool finalizable_locked(const struct active *a)
{
	return a->state == A_IMAGE && !a->claimed && !a->finalizing && a->inflight == 0 &&
	       (a->read_failed || a->hashed_seq == a->nblocks);
}

/* Find work: an image whose next block is ready, or one to finalize. */
static struct active *pick_locked(struct pipe_state *ps, struct slot **block)
{
	for (unsigned i = 0; i < ps->nact; i++) {
		struct active *a = &ps->act[i];
		struct slot *s;

		if (a->state != A_IMAGE || a->claimed || a->finalizing)
			continue;
		s = a->ready[a->hashed_seq % ps->nslots];
		if (!a->read_failed && s && s->seq == a->hashed_seq) {
			*block = s;
			return a;
		}
		if (finalizable_locked(a)) {
			*block = NULL;
			return a;
		}
	}
	return NULL;
}

static void drop_ready_locked(struct pipe_state *ps, struct active *a)
{
	for (unsigned i = 0; i < ps->nslots; i++)
		if (a->ready[i]) {
			release_slot_locked(ps, a->ready[i]);
			a->ready[i] = NULL;
		}
}

static void do_finalize(struct pipe_state *ps, struct active *a, uint8_t *scratch)
{
	a->finalizing = true;
	pthread_mutex_unlock(&ps->lock);
	finalize_image(ps, a, scratch, scratch ? HEAD_CAP : 0);
	close_image_fds(a);
	free(a->path);
	a->path = NULL;
	pthread_mutex_lock(&ps->lock);
	ps->stats->bytes_hashed += a->hasher.bytes;
	drop_ready_locked(ps, a);
	a->finalizing = false;
	a->state = A_FREE;
	reader_event_locked(ps);
}

static void *hash_thread(void *arg)
{
	struct pipe_state *ps = arg;
	uint8_t *scratch = malloc(HEAD_CAP);
	/* Resident blocks are copied here, a whole block at a time: a buffer of
	 * this thread's own stays hot in its core's cache (measured: smaller
	 * pieces cost more in page-cache lookups than they save). */
	uint8_t *piece = aligned_alloc(4096, ps->env->opt->read_size);
	struct active *a;
	struct slot *s;

	pthread_mutex_lock(&ps->lock);
	for (;;) {
		a = pick_locked(ps, &s);
		if (!a) {
			if (ps->stopping)
				break;
			pthread_cond_wait(&ps->work, &ps->lock);
			continue;
		}
		if (!s) {
			do_finalize(ps, a, scratch);
			continue;
		}
		a->claimed = true;
		a->ready[s->seq % ps->nslots] = NULL;
		pthread_mutex_unlock(&ps->lock);
		if (s->deferred && read_hash_deferred(ps, a, s, piece ? piece : s->buf)) {
			pthread_mutex_lock(&ps->lock);
			a->claimed = false;
			continue;
		}
		if (!s->deferred)
			hash_bytes(a, s->off, s->buf, s->got);
		if (!s->cached && !a->direct) /* we brought it in: do not leave it behind */
			posix_fadvise(a->fd, (off_t)s->off, (off_t)s->got, POSIX_FADV_DONTNEED);
		pthread_mutex_lock(&ps->lock);
		a->hashed_seq++;
		a->claimed = false;
		ps->hashed_bytes += s->got;
		release_slot_locked(ps, s);
	}
	pthread_mutex_unlock(&ps->lock);
	free(scratch);
	free(piece);
	return NULL;
}

/* ---- the reader ------------------------------------------------------- */

static const char *extension_of(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	return (dot && dot != base) ? dot + 1 : "";
}

static void emit_skipped(struct pipe_state *ps, const struct walk_entry *e, enum skip_reason why)
{
	struct skipped_entry s = {e->path, why, e->st.st_mode, e->err, e->what};

	ps->env->sink.skipped(ps->env->sink.ctx, &s);
}

/* Open read-only, keeping access times where the kernel lets us.
 * O_NONBLOCK: if the file was swapped for a FIFO since the walk, open must
 * not hang (it has no effect on reads of files and block devices). */
static int open_image(const char *path, bool *noatime)
{
	int base = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, fd;
	struct stat st;

	fd = open(path, base | O_NOATIME);
	if (fd < 0 && errno == EPERM) /* O_NOATIME needs ownership */
		fd = open(path, base);
	else
		*noatime = fd >= 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(fd);
		return -EFTYPE_CHANGED;
	}
	return fd;
}

static void start_result(struct active *a, struct walk_entry *e, uint64_t index)
{
	struct image_result *r = &a->res;

	memset(r, 0, sizeof(*r));
	r->index = index;
	r->path = e->path;
	r->ext = extension_of(e->path);
	r->is_blockdev = e->type == WALK_BLOCKDEV;
	r->st = e->st;
	a->path = e->path;
	e->path = NULL;
	a->t0 = monotonic_seconds();
}

/* An image that never reached the pipeline: report it and go on. */
static void emit_open_error(struct pipe_state *ps, struct active *a, int err)
{
	struct image_result *r = &a->res;

	if (err == EFTYPE_CHANGED)
		result_add_error(r, "open", 0, 0, "no longer a regular file: it changed after it was listed");
	else
		result_add_error(r, "open", err, 0, "%s%s", strerror(err),
				 err == ENOENT ? " (the file vanished after it was listed)" : "");
	r->size = (uint64_t)r->st.st_size;
	verdict_decide(&r->ident, &r->tsk, &(struct verdict_input){"", r->ext, r->size, false, false, r->is_blockdev},
		       ps->env->cfg, &r->verdict);
	ps->env->sink.image(ps->env->sink.ctx, r);
	free(a->path);
	a->path = NULL;
}

/* The O_DIRECT descriptor, or -1 where the file system refuses it. */
static int open_direct(const char *path, bool noatime)
{
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_DIRECT | (noatime ? O_NOATIME : 0));
}

static int setup_active(struct pipe_state *ps, struct active *a, bool needs_decision)
{
	const struct scan_options *opt = ps->env->opt;
	uint64_t size = (uint64_t)a->res.st.st_size;
	int fd = open_image(a->path, &a->res.noatime);

	if (fd < 0)
		return fd;
	if (a->res.is_blockdev && ioctl(fd, BLKGETSIZE64, &size)) {
		int err = errno;
		close(fd);
		return -err;
	}
	/* Buffered: no readahead, so that a block found in the cache was there
	 * before us (and stays), and one we read is dropped again after hashing;
	 * our own queue keeps the disk busy instead. */
	if (size > opt->read_size && opt->read_mode == READ_BUFFERED) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
		posix_fadvise(fd, 0, 0, POSIX_FADV_NOREUSE);
	}
	a->fd = fd;
	a->dfd = -1; /* opened at the first block that needs the disk */
	a->dfd_tried = opt->read_mode == READ_BUFFERED;
	a->direct = a->res.direct = false;
	a->size = a->res.size = size;
	a->next_off = 0;
	a->next_seq = a->hashed_seq = 0;
	a->nblocks = (uint32_t)((size + opt->read_size - 1) / opt->read_size);
	a->inflight = 0;
	a->read_failed = a->claimed = a->finalizing = false;
	a->head_len = a->tail_len = 0;
	a->tail_off = size > TAIL_CAP ? size - TAIL_CAP : 0;
	a->sf = NULL;
	if (opt->sector_hash_dir && !needs_decision) {
		int rc = sector_file_open(opt->sector_hash_dir, &a->sf);
		if (rc)
			result_add_error(&a->res, "sector-hashes", -rc, 0, "cannot create a file in %s: %s",
					 opt->sector_hash_dir, strerror(-rc));
	}
	hasher_reset(&a->hasher, opt->sector_size, a->sf);
	return 0;
}

static struct active *free_active(struct pipe_state *ps)
{
	struct active *found = NULL;

	pthread_mutex_lock(&ps->lock);
	for (unsigned i = 0; i < ps->nact && !found; i++)
		if (ps->act[i].state == A_FREE)
			found = &ps->act[i];
	pthread_mutex_unlock(&ps->lock);
	return found;
}

static void count_other(struct pipe_state *ps, uint64_t bytes)
{
	pthread_mutex_lock(&ps->lock);
	ps->stats->other_files++;
	ps->stats->other_bytes += bytes;
	pthread_mutex_unlock(&ps->lock);
}

/* One walked entry: skip it, count it, or make it an active image.
 * Returns false when no active slot was free (entry kept for later). */
static bool admit_entry(struct pipe_state *ps, struct walk_entry *e, uint64_t index)
{
	const struct scan_options *opt = ps->env->opt;
	bool image_ext, decide;
	struct active *a;
	int rc;

	switch (e->type) {
	case WALK_SYMLINK: emit_skipped(ps, e, SKIP_SYMLINK); return true;
	case WALK_SPECIAL: emit_skipped(ps, e, SKIP_SPECIAL); return true;
	case WALK_ERROR: emit_skipped(ps, e, SKIP_WALK_ERROR); return true;
	default: break;
	}
	image_ext = config_is_image_ext(ps->env->cfg, extension_of(e->path));
	decide = !image_ext && !opt->all_files && e->type != WALK_BLOCKDEV;
	if (decide && e->st.st_size == 0) {
		count_other(ps, 0);
		return true;
	}
	a = free_active(ps);
	if (!a)
		return false;
	start_result(a, e, index);
	rc = setup_active(ps, a, decide);
	if (rc) {
		emit_open_error(ps, a, -rc);
		return true;
	}
	pthread_mutex_lock(&ps->lock);
	a->state = decide ? A_UNDECIDED : A_IMAGE;
	if (!decide && a->nblocks == 0)
		pthread_cond_signal(&ps->work); /* empty: straight to finalize */
	pthread_mutex_unlock(&ps->lock);
	return true;
}

/* ---- submission and completion ------------------------------------ */

static bool can_submit_locked(const struct active *a)
{
	if (a->state == A_FREE || a->read_failed || a->finalizing || a->next_off >= a->size)
		return false;
	return a->state == A_IMAGE || a->next_seq == 0; /* undecided: block 0 only */
}

static int queue_slot(struct pipe_state *ps, struct slot *s)
{
	size_t len = s->want - s->got;

	if (s->img->direct) /* O_DIRECT wants whole 4 KiB units; EOF shortens it */
		len = (len + 4095) & ~(size_t)4095;
	s->req.fd = s->img->direct ? s->img->dfd : s->img->fd;
	s->req.buf = s->buf + s->got;
	s->req.len = len;
	s->req.off = s->off + s->got;
	return ps->env->engine->ops->queue(ps->env->engine, &s->req);
}

/* The first block of an image that needs the disk: open the O_DIRECT
 * descriptor, and register the read buffers at the first such block of the
 * run.  Done lazily so that images read from the page cache pay for neither. */
static void start_direct_locked(struct pipe_state *ps, struct active *a)
{
	const struct scan_options *opt = ps->env->opt;

	a->dfd_tried = true;
	a->dfd = open_direct(a->path, a->res.noatime);
	a->direct = a->res.direct = a->dfd >= 0;
	if (opt->read_mode == READ_DIRECT && a->dfd < 0)
		ps->stats->direct_fallbacks++;
	if (a->direct && !ps->buffers_registered && ps->env->engine->ops->register_buffers &&
	    !opt->no_fixed_buffers) {
		ps->buffers_registered = true;
		register_slot_buffers(ps);
	}
}

/* Take a free buffer for a's next block; 1 when queued, 0 when no buffer. */
static int submit_one_locked(struct pipe_state *ps, struct active *a)
{
	size_t rs = ps->env->opt->read_size;
	struct slot *s;

	if (!ps->nfree)
		return 0;
	s = &ps->slots[ps->free_slots[--ps->nfree]];
	s->img = a;
	s->off = a->next_off;
	s->want = a->size - a->next_off < rs ? (size_t)(a->size - a->next_off) : rs;
	s->got = 0;
	s->seq = a->next_seq++;
	a->next_off += s->want;
	s->cached = ps->env->opt->read_mode != READ_DIRECT && page_cache_resident(a->fd, s->off, s->want) == 1;
	s->deferred = s->cached && a->state == A_IMAGE;
	if (s->deferred) { /* no I/O to wait for: the hashing thread copies it */
		a->ready[s->seq % ps->nslots] = s;
		pthread_cond_signal(&ps->work);
		return 1;
	}
	if (!a->dfd_tried)
		start_direct_locked(ps, a);
	a->inflight++;
	return queue_slot(ps, s) ? -1 : 1;
}

/* Fill free buffers round-robin over the images, one block each per pass. */
static int submit_reads(struct pipe_state *ps)
{
	int queued = 0, progress, rc = 0;

	pthread_mutex_lock(&ps->lock);
	do {
		progress = 0;
		for (unsigned k = 0; k < ps->nact && rc >= 0; k++) {
			unsigned idx = (ps->rr + k) % ps->nact;
			struct active *a = &ps->act[idx];

			if (!can_submit_locked(a))
				continue;
			rc = submit_one_locked(ps, a);
			if (rc == 0)
				goto out;
			if (rc > 0) {
				/* The next buffer goes to the next image: every image
				 * keeps blocks in hand, so every hashing thread has work. */
				ps->rr = idx + 1;
				progress++;
				queued++;
			}
		}
	} while (progress && rc >= 0);
out:
	pthread_mutex_unlock(&ps->lock);
	if (rc < 0)
		return rc;
	if (queued)
		return ps->env->engine->ops->submit(ps->env->engine);
	return 0;
}

/* Block 0 of a file with an unknown extension: is it an image at all? */
static bool decide_locked(struct pipe_state *ps, struct active *a, struct slot *s)
{
	struct probe_view v = {s->buf, s->got, NULL, 0, 0, a->size};

	const char *dir = ps->env->opt->sector_hash_dir;
	int rc;

	if (!probe_looks_like_image(&v))
		return false;
	a->state = A_IMAGE;
	if (dir) {
		rc = sector_file_open(dir, &a->sf);
		if (rc)
			result_add_error(&a->res, "sector-hashes", -rc, 0, "cannot create a file in %s: %s", dir,
					 strerror(-rc));
		a->hasher.out = a->sf;
	}
	return true;
}

/* Not an image: forget it without a report entry (counted in the summary). */
static void drop_other_locked(struct pipe_state *ps, struct active *a, struct slot *s)
{
	release_slot_locked(ps, s);
	a->inflight--;
	ps->stats->other_files++;
	ps->stats->other_bytes += a->size;
	close_image_fds(a);
	free(a->path);
	a->path = NULL;
	a->state = A_FREE;
}

static void fail_read_locked(struct pipe_state *ps, struct active *a, struct slot *s, int err);

/* A resident block: copy it here, on the core that hashes it, into buf
 * (this thread's own read-size buffer, which stays in its core's cache),
 * then hash it.  Returns 0, or marks the image failed (lock taken inside)
 * and returns -1. */
static int read_hash_deferred(struct pipe_state *ps, struct active *a, struct slot *s, uint8_t *buf)
{
	while (s->got < s->want) {
		ssize_t n = pread(a->fd, buf + s->got, s->want - s->got, (off_t)(s->off + s->got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pthread_mutex_lock(&ps->lock);
			a->inflight++; /* fail_read_locked() balances it */
			fail_read_locked(ps, a, s, n < 0 ? errno : 0);
			pthread_mutex_unlock(&ps->lock);
			return -1;
		}
		s->got += (size_t)n;
	}
	hash_bytes(a, s->off, buf, s->got);
	return 0;
}

static void fail_read_locked(struct pipe_state *ps, struct active *a, struct slot *s, int err)
{
	uint64_t at = s->off + s->got;

	if (!a->read_failed) {
		if (err)
			result_add_error(&a->res, "read", err, at, "read error at byte %llu: %s",
					 (unsigned long long)at, strerror(err));
		else
			result_add_error(&a->res, "read", 0, at,
					 "file ended at byte %llu, %llu bytes short of its listed size (it shrank or is being written)",
					 (unsigned long long)at, (unsigned long long)(a->size - at));
	}
	a->read_failed = true;
	a->inflight--;
	release_slot_locked(ps, s);
	if (a->state == A_UNDECIDED)
		a->state = A_IMAGE; /* an unreadable file is reported, never dropped */
	pthread_cond_broadcast(&ps->work);
}

/* Every completion passes here: done, short (resubmit the rest), retry, error. */
static int on_completion(struct pipe_state *ps, struct slot *s)
{
	struct active *a = s->img;
	int res = s->req.res;

	if (res == -EAGAIN || res == -EINTR)
		return queue_slot(ps, s);
	if (res == -EINVAL && a->direct) {
		/* O_DIRECT refused at read time (the file system): go on buffered.
		 * The direct descriptor stays open until the image is done. */
		a->direct = a->res.direct = false;
		return queue_slot(ps, s);
	}
	pthread_mutex_lock(&ps->lock);
	if (res < 0 || (res == 0 && s->got < s->want) || a->read_failed) {
		if (a->read_failed) {
			a->inflight--;
			release_slot_locked(ps, s);
			pthread_cond_broadcast(&ps->work);
		} else {
			fail_read_locked(ps, a, s, res < 0 ? -res : 0);
		}
		pthread_mutex_unlock(&ps->lock);
		return 0;
	}
	s->got += (size_t)res;
	if (s->got < s->want) {
		pthread_mutex_unlock(&ps->lock);
		return queue_slot(ps, s); /* short read: the rest */
	}
	if (s->got > s->want)
		s->got = s->want; /* O_DIRECT rounding read past a file that grew */
	if (a->state == A_UNDECIDED && !decide_locked(ps, a, s)) {
		drop_other_locked(ps, a, s);
	} else {
		a->inflight--;
		a->ready[s->seq % ps->nslots] = s;
		pthread_cond_signal(&ps->work);
	}
	pthread_mutex_unlock(&ps->lock);
	return 0;
}

static bool any_active(struct pipe_state *ps)
{
	bool any = false;

	pthread_mutex_lock(&ps->lock);
	for (unsigned i = 0; i < ps->nact && !any; i++)
		any = ps->act[i].state != A_FREE;
	pthread_mutex_unlock(&ps->lock);
	return any;
}

/* Admit walked entries while there is room.  Returns 0, 1 at the end of the
 * walk, or -errno. */
static int admit(struct pipe_state *ps, struct walker *w, struct walk_entry *pending, bool *have_pending)
{
	int rc;

	for (;;) {
		if (!*have_pending) {
			rc = walk_next(w, pending);
			if (rc <= 0)
				return rc == 0 ? 1 : rc;
			*have_pending = true;
			pthread_mutex_lock(&ps->lock);
			ps->stats->entries++;
			pthread_mutex_unlock(&ps->lock);
		}
		if (!admit_entry(ps, pending, ps->stats->entries - 1))
			return 0;
		free(pending->path);
		pending->path = NULL;
		*have_pending = false;
	}
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

static int reader_loop(struct pipe_state *ps, struct walker *w)
{
	struct engine *e = ps->env->engine;
	struct io_req *done[REAP_BATCH];
	struct walk_entry pending = {0};
	bool have_pending = false, walk_done = false;
	int rc = 0, n;

	for (;;) {
		uint64_t seen;
		bool sleep;

		pthread_mutex_lock(&ps->lock);
		seen = ps->events;
		pthread_mutex_unlock(&ps->lock);
		if (!walk_done) {
			rc = admit(ps, w, &pending, &have_pending);
			if (rc < 0)
				break;
			walk_done = rc == 1;
		}
		rc = submit_reads(ps);
		if (rc < 0)
			break;
		if (walk_done && !any_active(ps))
			break;
		maybe_progress(ps);
		/* Sleep only if nothing was given back since we looked: a hashing
		 * thread that gives something back later sees reader_waiting. */
		pthread_mutex_lock(&ps->lock);
		sleep = ps->events == seen;
		ps->reader_waiting = sleep;
		pthread_mutex_unlock(&ps->lock);
		n = e->ops->reap(e, done, REAP_BATCH, sleep);
		if (sleep) {
			pthread_mutex_lock(&ps->lock);
			ps->reader_waiting = false;
			pthread_mutex_unlock(&ps->lock);
		}
		if (n < 0) {
			rc = n;
			break;
		}
		for (int i = 0; i < n && rc >= 0; i++)
			rc = on_completion(ps, &ps->slots[done[i]->slot]);
		if (rc < 0)
			break;
	}
	free(pending.path);
	return rc < 0 ? rc : 0;
}

static void load_test_fault(struct pipe_state *ps)
{
	/* Test-only: IMGSCAN_TEST_TSK_FAULT=crash|hang|alloc:PATH-PART makes the
	 * Sleuth Kit worker fail that way on images whose path contains PATH-PART. */
	const char *f = getenv("IMGSCAN_TEST_TSK_FAULT");
	const char *colon = f ? strchr(f, ':') : NULL;

	if (!colon || (size_t)(colon - f) >= sizeof(ps->fault))
		return;
	memcpy(ps->fault, f, (size_t)(colon - f));
	ps->fault[colon - f] = '\0';
	snprintf(ps->fault_match, sizeof(ps->fault_match), "%s", colon + 1);
}

int pipeline_run(const struct pipeline_env *env, struct walker *walk, struct run_stats *stats)
{
	struct pipe_state ps = {0};
	pthread_t threads[256];
	unsigned nthreads = 0;
	int rc;

	ps.env = env;
	ps.stats = stats;
	ps.nslots = env->opt->queue_depth;
	ps.nact = env->opt->max_images;
	pthread_mutex_init(&ps.lock, NULL);
	pthread_cond_init(&ps.work, NULL);
	load_test_fault(&ps);
	rc = alloc_slots(&ps);
	if (!rc)
		rc = alloc_actives(&ps);
	while (!rc && nthreads < env->opt->jobs && nthreads < 256) {
		if (pthread_create(&threads[nthreads], NULL, hash_thread, &ps)) {
			rc = nthreads ? 0 : -EAGAIN; /* fewer threads still work */
			break;
		}
		nthreads++;
	}
	if (!rc)
		rc = reader_loop(&ps, walk);
	pthread_mutex_lock(&ps.lock);
	ps.stopping = true;
	pthread_cond_broadcast(&ps.work);
	pthread_mutex_unlock(&ps.lock);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free_state(&ps);
	pthread_mutex_destroy(&ps.lock);
	pthread_cond_destroy(&ps.work);
	return rc;
}
