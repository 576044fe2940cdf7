/*
 * admit.c - the reader's first half: each walked entry is skipped (links,
 * special files, walk errors: reported as such), counted (an empty file of
 * unknown extension) or opened and set up as an image in flight.  An image
 * is opened once, and only if it is still the file the walk listed.
 */
#include "fs_kind.h"
#include "open_noatime.h"
#include "reader.h"
#include "shard.h"
#include "stop.h"
#include "../config/config.h"
#include "../config/options.h"
#include "../formats/segments.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define EFTYPE_CHANGED EBADFD /* "no longer the file the walk listed" */

static const char *extension_of(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	return (dot && dot != base) ? dot + 1 : "";
}

bool named_as_compressed_image(const struct imgscan_config *cfg, const char *path)
{
	const char *base = strrchr(path, '/'), *last, *inner;
	char ext[CFG_EXT_LEN];

	base = base ? base + 1 : path;
	last = strrchr(base, '.');
	if (!last || last == base)
		return false;
	for (inner = last - 1; inner > base && *inner != '.'; inner--)
		;
	if (*inner != '.' || inner == base || (size_t)(last - inner - 1) >= sizeof(ext))
		return false;
	memcpy(ext, inner + 1, (size_t)(last - inner - 1));
	ext[last - inner - 1] = '\0';
	return config_is_image_ext(cfg, ext) && !config_is_probe_first_ext(cfg, ext);
}

static void emit_skipped(struct pipe_state *ps, const struct walk_entry *e, enum skip_reason why)
{
	struct skipped_entry s = {e->path, why, e->st.st_mode, e->err, e->what};

	ps->env->sink.skipped(ps->env->sink.ctx, &s);
}

/* Open the file the walk listed, and only that file: where the walk found
 * it (name in the directory at_fd, walk.h), read-only, keeping access times
 * where the kernel lets us, not through a symlink the walk did not follow,
 * and the same device and inode the walk saw (listed).  O_NONBLOCK: a file
 * swapped for a FIFO must not hang the open.  Returns the descriptor with
 * *now filled, or -errno (-EFTYPE_CHANGED: another file is there). */
static int open_listed(int at_fd, const char *name, const struct stat *listed, bool followed, bool *noatime,
		       struct stat *now)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (followed ? 0 : O_NOFOLLOW), fd;

	fd = openat_noatime(at_fd, name, flags, noatime);
	if (fd < 0)
		return fd == -ELOOP && !followed ? -EFTYPE_CHANGED : fd;
	if (fstat(fd, now) || now->st_dev != listed->st_dev || now->st_ino != listed->st_ino ||
	    (now->st_mode & S_IFMT) != (listed->st_mode & S_IFMT)) {
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
	clock_gettime(CLOCK_REALTIME, &r->opened_at);
	a->path = e->path;
	e->path = NULL;
	a->media = e->media;
	r->media = e->media;
	e->media = NULL;
	a->t0 = monotonic_seconds();
}

/* An image that never reached the pipeline: report it and go on. */
static void emit_open_error(struct pipe_state *ps, struct active *a, int err)
{
	struct image_result *r = &a->res;

	if (err == EALREADY)
		; /* said already (a segment of media) */
	else if (err == EFTYPE_CHANGED)
		result_add_error(r, "open", 0, 0, "not opened: it changed after it was listed (now another file, a symlink or not a regular file)");
	else
		result_add_error(r, "open", err, 0, "%s%s", strerror(err),
				 err == ENOENT ? " (the file vanished after it was listed)" : "");
	r->size = (uint64_t)r->st.st_size;
	for (size_t i = 1; a->media && i < a->media->n; i++)
		r->size += (uint64_t)a->media->segs[i].st.st_size;
	verdict_decide(&r->ident, &r->tsk, &(struct verdict_input){.basename = "", .ext = r->ext, .size = r->size, .is_device = r->is_blockdev},
		       ps->env->cfg, &r->verdict);
	ps->env->sink.image(ps->env->sink.ctx, r);
	free(a->path);
	a->path = NULL;
	walk_media_free(a->media);
	a->media = NULL;
	r->media = NULL;
}

static int image_size(int fd, const struct stat *st, bool blockdev, uint64_t *size)
{
	*size = (uint64_t)st->st_size;
	if (blockdev && ioctl(fd, BLKGETSIZE64, size))
		return -errno;
	return 0;
}

void open_sector_file(struct active *a, const char *dir)
{
	int rc = sector_file_open(dir, &a->sf);

	if (rc)
		result_add_error(&a->res, "sector-hashes", -rc, 0, "cannot create a file in %s: %s", dir,
				 strerror(-rc));
	a->hasher.out = a->sf;
}

/* Buffered reads: no readahead, so that a block found in the cache was
 * there before us (and stays), and one we read is dropped again after
 * hashing; our own queue keeps the disk busy instead. */
static void advise_file(const struct scan_options *opt, const struct seg_io *g)
{
	if (g->size > opt->read_size && opt->read_mode != READ_DIRECT) {
		/* Auto mode too: a resident block copied with pread must not read
		 * ahead into the next ones, which would then look cached before us. */
		posix_fadvise(g->fd, 0, 0, POSIX_FADV_RANDOM);
		if (opt->read_mode == READ_BUFFERED)
			posix_fadvise(g->fd, 0, 0, POSIX_FADV_NOREUSE);
	}
}

/* Open one file of the image (path, of e or one of its segments) into g.
 * Returns 0 or -errno. */
static int open_file(struct active *a, struct seg_io *g, const struct walk_entry *e, const char *path,
		     const struct stat *listed, bool *noatime)
{
	int fd = open_listed(e->at_fd, walk_at_name(e, path), listed, e->followed, noatime, &g->st), rc;

	if (fd < 0)
		return fd;
	g->fd = fd;
	g->dfd = -1; /* opened at the first block that needs the disk */
	g->direct = false;
	g->async_io = fs_reads_may_stall(fd, &g->st);
	rc = image_size(fd, &g->st, a->res.is_blockdev, &g->size);
	if (rc)
		close(fd);
	return rc;
}

/* Open every file the image is read from: itself, or each segment of
 * media, in order (a failure names the segment: -EALREADY, said).
 * Returns 0 with a->seg, a->nseg and a->size set, or -errno. */
static int open_files(struct pipe_state *ps, struct active *a, const struct walk_entry *e)
{
	const struct walk_media *m = a->media;
	unsigned n = m ? (unsigned)m->n : 1;
	uint64_t start = 0;
	bool noatime;
	int rc = 0;

	a->seg = m ? calloc(n, sizeof(*a->seg)) : &a->one;
	a->nseg = 0;
	if (!a->seg) {
		a->seg = &a->one;
		return -ENOMEM;
	}
	a->res.noatime = true;
	for (unsigned i = 0; i < n && !rc; i++) {
		struct seg_io *g = &a->seg[i];
		const char *path = m ? m->segs[i].path : a->path;

		rc = open_file(a, g, e, path, m ? &m->segs[i].st : &e->st, &noatime);
		if (rc && m)
			result_add_error(&a->res, "open", rc == -EFTYPE_CHANGED ? 0 : -rc, 0, "segment %s: %s", path,
					 rc == -EFTYPE_CHANGED ? "changed after it was listed" : strerror(-rc));
		if (rc)
			break;
		a->nseg++;
		g->noatime = noatime;
		a->res.noatime = a->res.noatime && noatime;
		if (a->media) /* the report gives the size it was read at */
			a->media->segs[i].st = g->st;
		g->start = start;
		g->dfd_tried = ps->env->opt->read_mode == READ_BUFFERED;
		start += g->size;
		advise_file(ps->env->opt, g);
	}
	if (rc) {
		close_image_fds(a);
		return m ? -EALREADY : rc;
	}
	a->size = a->res.size = start;
	a->res.st = a->seg[0].st; /* the change check at the end compares with the open files */
	return 0;
}

/* Blocks to read: none spans two files. */
static uint64_t count_blocks(const struct active *a, size_t read_size)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < a->nseg; i++)
		n += (a->seg[i].size + read_size - 1) / read_size;
	return n;
}

/* Media: room for each segment's digest; an empty one's is known now. */
static int start_segment_digests(struct active *a)
{
	a->hash_seg = 0;
	if (!a->media)
		return 0;
	if (!(a->seg_xxh128 = calloc(a->nseg, sizeof(*a->seg_xxh128))))
		return -ENOMEM;
	for (unsigned i = 0; i < a->nseg; i++)
		if (!a->seg[i].size)
			hash_xxh128_hex("", 0, a->seg_xxh128[i]);
	while (a->hash_seg < a->nseg && !a->seg[a->hash_seg].size)
		a->hash_seg++;
	a->res.seg_xxh128 = a->seg_xxh128;
	return 0;
}

/* Open the image and reset its per-image state.  Returns 0 or -errno. */
static int setup_active(struct pipe_state *ps, struct active *a, struct walk_entry *e, bool probing)
{
	const struct scan_options *opt = ps->env->opt;
	int rc = open_files(ps, a, e);

	if (rc)
		return rc;
	if ((rc = start_segment_digests(a))) {
		close_image_fds(a);
		return rc;
	}
	a->next_seg = 0;
	a->last_read = false;
	a->res.direct = false;
	a->next_off = a->next_seq = 0;
	a->nblocks = count_blocks(a, opt->read_size);
	a->head_len = a->tail_len = 0;
	a->tail_off = a->size > TAIL_CAP ? a->size - TAIL_CAP : 0;
	a->sf = NULL;
	a->carry_len = 0;
	hasher_reset(&a->hasher, opt->sector_size, NULL);
	/* An image to read: a Sleuth Kit worker will be needed for it, so one
	 * starts now, beside the reads, not when the image ends (one more per
	 * image opened, up to the pool's size). */
	if (!probing && ps->images_opened < 64 && ps->env->tsk && !opt->no_tsk)
		tsk_pool_prestart(ps->env->tsk, ++ps->images_opened);
	/* EWF media's files hold compressed data: its sectors are libewf's. */
	if (opt->sector_hash_dir && !probing && !(a->media && a->media->scheme == SEG_EWF))
		open_sector_file(a, opt->sector_hash_dir);
	return 0;
}

/* A free image slot, if fewer images than the number in force (adapt.h)
 * are still reading: one whose reads are over and is being hashed to the
 * end or identified does not hold the disk back. */
static struct active *free_active_locked(struct pipe_state *ps)
{
	struct active *free = NULL;

	for (unsigned i = 0; i < ps->nact; i++)
		if (ps->act[i].phase == IMG_FREE) {
			free = &ps->act[i];
			break;
		}
	return free && images_reading_locked(ps) < ps->max_images ? free : NULL;
}

void count_other_locked(struct pipe_state *ps, uint64_t bytes)
{
	ps->stats->other_files++;
	ps->stats->other_bytes += bytes;
}

/* An empty file of unknown extension: counted, and told to the sink. */
static void note_other(struct pipe_state *ps, const char *path, const struct stat *st, const struct timespec *at)
{
	struct timespec now;

	if (!at) {
		clock_gettime(CLOCK_REALTIME, &now);
		at = &now;
	}
	pthread_mutex_lock(&ps->lock);
	count_other_locked(ps, 0);
	pthread_mutex_unlock(&ps->lock);
	if (ps->env->sink.other)
		ps->env->sink.other(ps->env->sink.ctx, path, st, at);
}

/* The admit hook's answer for the pending entry, asked once: an entry
 * that waits for a free slot is not asked again. */
static enum admit_verdict ask_hook(struct reader *r, const struct walk_entry *e, uint64_t index, bool probing)
{
	const struct admit_hook *h = &r->ps->env->admit;

	if (!r->pending_decided) {
		r->pending_verdict = h->decide ? h->decide(h->ctx, e, index, probing) : ADMIT_READ;
		r->pending_decided = true;
	}
	return r->pending_verdict;
}

/* One walked entry: skip it, count it, or make it an active image.
 * Returns false when no active slot was free (entry kept for later). */
static bool admit_entry(struct reader *rd, struct walk_entry *e, uint64_t index)
{
	struct pipe_state *ps = rd->ps;
	const struct scan_options *opt = ps->env->opt;
	bool probing;
	struct active *a;
	int rc;

	switch (e->type) {
	case WALK_SYMLINK: emit_skipped(ps, e, SKIP_SYMLINK); return true;
	case WALK_SPECIAL: emit_skipped(ps, e, SKIP_SPECIAL); return true;
	case WALK_ERROR: emit_skipped(ps, e, SKIP_WALK_ERROR); return true;
	default: break;
	}
	probing = (!config_is_image_ext(ps->env->cfg, extension_of(e->path)) ||
		   config_is_probe_first_ext(ps->env->cfg, extension_of(e->path))) &&
		  !opt->all_files && e->type != WALK_BLOCKDEV && e->type != WALK_MEDIA;
	switch (ask_hook(rd, e, index, probing)) {
	case ADMIT_DONE_IMAGE: return true;
	case ADMIT_DONE_OTHER:
		pthread_mutex_lock(&ps->lock);
		count_other_locked(ps, (uint64_t)e->st.st_size);
		pthread_mutex_unlock(&ps->lock);
		return true;
	case ADMIT_READ_AS_IMAGE: probing = false; break;
	case ADMIT_READ: break;
	}
	if (probing && e->st.st_size == 0) { /* nothing to probe */
		note_other(ps, e->path, &e->st, NULL);
		return true;
	}
	pthread_mutex_lock(&ps->lock);
	a = free_active_locked(ps);
	pthread_mutex_unlock(&ps->lock);
	if (!a)
		return false;
	start_result(a, e, index);
	rc = setup_active(ps, a, e, probing);
	if (rc) {
		emit_open_error(ps, a, -rc);
		return true;
	}
	if (probing && a->size == 0) { /* emptied since the walk: nothing to probe */
		note_other(ps, a->path, &a->res.st, &a->res.opened_at);
		close_image_fds(a);
		free(a->path);
		a->path = NULL;
		return true;
	}
	pthread_mutex_lock(&ps->lock);
	a->hashed_seq = 0;
	a->inflight = 0;
	a->claimed = false;
	a->keep_fds = false;
	a->stalled = false;
	a->block_lost = false;
	memset(&a->read_err, 0, sizeof(a->read_err));
	a->phase = probing ? IMG_PROBING : IMG_STREAMING;
	if (a->nblocks == 0)
		pthread_cond_signal(&ps->work); /* empty: straight to finalize */
	pthread_mutex_unlock(&ps->lock);
	return true;
}

static void drop_pending(struct reader *r)
{
	free(r->pending.path);
	r->pending.path = NULL;
	walk_media_free(r->pending.media); /* a set not taken by an image (the hook's) */
	r->pending.media = NULL;
	r->have_pending = r->pending_decided = false;
}

/* Admit walked entries while there is room.  Returns 0, or -errno. */
int admit(struct reader *r)
{
	struct pipe_state *ps = r->ps;
	uint64_t index;
	int rc;

	while (!r->walk_done && !stop_requested()) {
		if (!r->have_pending) {
			rc = walk_next(r->w, &r->pending);
			if (rc <= 0) {
				r->walk_done = true;
				return rc;
			}
			if (ps->env->shard && !shard_plan_take(ps->env->shard, &r->pending)) {
				r->walk_index++; /* another shard's: its index stays taken */
				drop_pending(r);
				continue;
			}
			r->have_pending = true;
		}
		index = r->walk_index;
		if (!admit_entry(r, &r->pending, index))
			return 0;
		r->walk_index++;
		/* Counted once admitted: an entry left pending by a stop is not. */
		pthread_mutex_lock(&ps->lock);
		ps->stats->entries++;
		pthread_mutex_unlock(&ps->lock);
		drop_pending(r);
	}
	return 0;
}
