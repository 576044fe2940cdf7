/*
 * hash_threads.c - the hashing threads: each takes an image's next block in
 * offset order (the whole-image digest needs that order; several images are
 * hashed side by side), and finalizes an image whose reads are over.  The
 * reader (reader.c) fills the blocks; the two meet under pipe_state.lock.
 */
#include "active.h"
#include "../config/options.h"
#include "reader.h"
#include "stop.h"
#include "stuck_fds.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes of a resident block copied and hashed at a time (see below). */
#define COPY_PIECE (256u << 10)

/* The piece: COPY_PIECE, or one sector where sectors are larger, so that
 * every piece is whole sectors (sector sizes are powers of two). */
static size_t piece_len(const struct pipe_state *ps)
{
	size_t sector = ps->env->opt->sector_size;

	return sector > COPY_PIECE ? sector : COPY_PIECE;
}

/* Something the reader may act on happened; wake it only if it sleeps. */
void reader_event_locked(struct pipe_state *ps)
{
	ps->events++;
	if (ps->reader_waiting) {
		ps->reader_waiting = false;
		ps->env->engine->ops->wake(ps->env->engine);
	}
}

unsigned images_reading_locked(const struct pipe_state *ps)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ps->nact; i++) {
		const struct active *a = &ps->act[i];
		n += a->phase == IMG_PROBING || a->phase == IMG_INSPECTING ||
		     (a->phase == IMG_STREAMING && (a->next_off < a->size || a->inflight)) ||
		     (a->phase == IMG_DRAINING && a->inflight); /* failed, its reads still in the disk */
	}
	return n;
}

/* Some image's next block in order is ready and no thread holds it: an
 * idle thread is about to take it. */
static bool hashable_block_locked(const struct pipe_state *ps)
{
	for (unsigned i = 0; i < ps->nact; i++) {
		const struct active *a = &ps->act[i];
		const struct slot *s = a->ready ? a->ready[a->hashed_seq % ps->nslots] : NULL;
		if (a->phase == IMG_STREAMING && !a->claimed && s && s->seq == a->hashed_seq)
			return true;
	}
	return false;
}

void meter_locked(struct pipe_state *ps)
{
	unsigned held = ps->nslots - ps->nfree;
	unsigned waiting = held - ps->inflight - ps->hashing - ps->inspecting;
	/* Fewer reads than buffers, no buffer free, and a thread with nothing
	 * to do: the blocks holding the buffers are ones it cannot hash yet. */
	bool starved = ps->nfree == 0 && ps->inflight < ps->max_inflight && ps->idle > 0 && !hashable_block_locked(ps);

	if (held < ps->inflight + ps->hashing + ps->inspecting) /* a slot on its way between two counts */
		waiting = 0;
	io_meter_tick(&ps->meter, ps->inflight, waiting, ps->nthreads > ps->idle ? ps->nthreads - ps->idle : 0,
		      starved, held > ps->inspecting);
}

void release_slot_locked(struct pipe_state *ps, struct slot *s)
{
	assert(!s->in_engine); /* the kernel may still write into it */
	/* A block we read through the cache and did not hash (not an image,
	 * a failed or stopped one) is dropped from it too. */
	if (s->drop_after && s->got && s->img)
		posix_fadvise(s->img->seg[s->seg].fd, (off_t)s->foff, (off_t)s->got, POSIX_FADV_DONTNEED);
	s->drop_after = false;
	s->img = NULL;
	ps->free_slots[ps->nfree++] = s->req.slot;
	meter_locked(ps);
	reader_event_locked(ps);
}

static void drop_ready_locked(struct pipe_state *ps, struct active *a)
{
	for (unsigned i = 0; i < ps->nslots; i++)
		if (a->ready[i]) {
			release_slot_locked(ps, a->ready[i]);
			a->ready[i] = NULL;
		}
}

void fail_image_locked(struct pipe_state *ps, struct active *a, const char *stage, int err, uint64_t at,
		       const char *fmt, ...)
{
	va_list ap;

	if (!a->read_err.stage) {
		a->read_err.stage = stage;
		a->read_err.err = err;
		a->read_err.offset = at;
		va_start(ap, fmt);
		vsnprintf(a->read_err.message, sizeof(a->read_err.message), fmt, ap);
		va_end(ap);
	}
	if (a->phase == IMG_PROBING || a->phase == IMG_STREAMING)
		a->phase = IMG_DRAINING; /* an unreadable file is reported, never dropped */
	drop_ready_locked(ps, a);
	pthread_cond_broadcast(&ps->work);
	reader_event_locked(ps);
}

void fail_read_locked(struct pipe_state *ps, struct active *a, unsigned seg, uint64_t at, int err)
{
	const char *name = a->media ? a->media->segs[seg].path : "";

	if (!err)
		fail_image_locked(ps, a, "read", 0, at,
				  "file ended at byte %llu, %llu bytes short of its size (it shrank or is being written)%s%s",
				  (unsigned long long)at, (unsigned long long)(a->size - at), a->media ? "; in segment " : "",
				  name);
	else
		fail_image_locked(ps, a, "read", err, at, "read error at byte %llu%s%s: %s", (unsigned long long)at,
				  a->media ? " in segment " : "", name, strerror(err));
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

/* Media: each segment's own digest as well (blocks never span two). */
static void hash_segment(struct active *a, uint64_t off, const uint8_t *data, size_t len)
{
	const struct seg_io *g;

	if (!a->media || a->hash_seg >= a->nseg)
		return;
	g = &a->seg[a->hash_seg];
	if (off == g->start)
		hash_state_reset(a->seg_state);
	hash_state_update(a->seg_state, data, len);
	if (off + len < g->start + g->size)
		return;
	hash_state_hex(a->seg_state, a->seg_xxh128[a->hash_seg]);
	do /* the empty ones' digests are known already */
		a->hash_seg++;
	while (a->hash_seg < a->nseg && !a->seg[a->hash_seg].size);
}

/* Media: a segment may end inside a sector, and the hasher takes whole
 * sectors but at the very end; what a block leaves of a sector waits in
 * carry for the next block's first bytes.  Returns hasher_update()'s. */
static int hash_media_bytes(struct active *a, uint64_t off, const uint8_t *data, size_t len)
{
	size_t ss = a->hasher.sector_size, whole;
	bool last = off + len >= a->size;
	int rc = 0, r;

	if (a->carry_len) {
		size_t take = ss - a->carry_len < len ? ss - a->carry_len : len;

		memcpy(a->carry + a->carry_len, data, take);
		a->carry_len += take;
		data += take;
		len -= take;
		if (a->carry_len < ss && !last)
			return 0;
		rc = hasher_update(&a->hasher, a->carry, a->carry_len);
		a->carry_len = 0;
	}
	whole = last ? len : len / ss * ss;
	if (whole && (r = hasher_update(&a->hasher, data, whole)) && !rc)
		rc = r;
	memcpy(a->carry, data + whole, len - whole);
	a->carry_len = len - whole;
	return rc;
}

/* Hash len bytes at image offset off (the next bytes in order). */
static void hash_bytes(struct active *a, uint64_t off, const uint8_t *data, size_t len)
{
	int rc;

	keep_head_tail(a, off, data, len);
	hash_segment(a, off, data, len);
	rc = a->media ? hash_media_bytes(a, off, data, len) : hasher_update(&a->hasher, data, len);
	if (rc && a->sf) {
		result_add_error(&a->res, "sector-hashes", -rc, 0, "cannot write the sector-hash list: %s",
				 strerror(-rc));
		sector_file_abort(a->sf);
		a->sf = NULL;
		a->hasher.out = NULL;
	}
}

/* A resident block: copied here, on the core that hashes it, a piece at a
 * time into buf (this thread's own buffer), each piece hashed while it is
 * still in the core's L2 (a whole 1 MiB block overflows the 512 KiB L2 of
 * some processors, and the hash then reads it back from L3 or memory).
 * Returns 0, or -errno (0 bytes: -ENODATA, the file shrank) with *at the
 * offset that failed. */
static int read_hash_deferred(struct active *a, struct slot *s, uint8_t *buf, size_t piece, uint64_t *at)
{
	while (s->got < s->want) {
		size_t want = s->want - s->got < piece ? s->want - s->got : piece, have = 0;

		while (have < want) { /* whole pieces: the sector hashes need whole sectors */
			ssize_t n = pread(a->seg[s->seg].fd, buf + have, want - have, (off_t)(s->foff + s->got + have));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				*at = s->off + s->got + have;
				return n < 0 ? -errno : -ENODATA;
			}
			have += (size_t)n;
		}
		hash_bytes(a, s->off + s->got, buf, want);
		s->got += want;
	}
	return 0;
}

static bool finalizable_locked(const struct active *a)
{
	if (a->claimed || a->inflight)
		return false;
	return a->phase == IMG_DRAINING || (a->phase == IMG_STREAMING && a->hashed_seq == a->nblocks);
}

/* Find work.  First an image to finalize or inspect: that frees its place
 * for the next image.  Then, of the images whose next block (in order) is
 * ready, the one whose block has waited longest: any thread takes any
 * image's block, so a block never waits for a particular thread. */
static struct active *pick_locked(struct pipe_state *ps, struct slot **block)
{
	struct active *best = NULL;
	struct slot *best_s = NULL;

	*block = NULL;
	for (unsigned i = 0; i < ps->nact; i++) {
		struct active *a = &ps->act[i];
		struct slot *s;

		if (a->claimed)
			continue;
		if (a->phase == IMG_INSPECTING || finalizable_locked(a))
			return a;
		if (a->phase != IMG_STREAMING)
			continue;
		s = a->ready[a->hashed_seq % ps->nslots];
		if (s && s->seq == a->hashed_seq && (!best_s || s->ready_at < best_s->ready_at)) {
			best = a;
			best_s = s;
		}
	}
	*block = best_s;
	return best;
}

/* Forget the image's files (each descriptor closed or kept already). */
static void drop_image_fds(struct active *a)
{
	if (a->seg != &a->one)
		free(a->seg);
	a->seg = &a->one;
	a->nseg = 0;
	a->one.fd = a->one.dfd = -1;
}

/* A close asks the file system too (a FUSE FLUSH, an NFS CLOSE): a file
 * of a network or user-space file system is closed on the closer thread
 * (its server may stop answering at any moment), or, once a read or a
 * call of this run timed out (fs_stalled), left open to the end
 * (stuck_fds.h). */
int release_fd(const struct seg_io *g, int fd, bool keep, bool fs_stalled)
{
	if (fd < 0)
		return -1;
	if (keep || (g->async_io && fs_stalled))
		stuck_fd_keep(fd);
	else if (g->async_io)
		stuck_fd_close_later(fd);
	else
		return fd;
	return -1;
}

static void close_fd(const struct seg_io *g, int fd, bool keep, bool fs_stalled)
{
	if ((fd = release_fd(g, fd, keep, fs_stalled)) >= 0)
		close(fd);
}

static void close_fds(struct active *a, bool keep, bool fs_stalled)
{
	for (unsigned i = 0; i < a->nseg; i++) {
		close_fd(&a->seg[i], a->seg[i].fd, keep, fs_stalled);
		close_fd(&a->seg[i], a->seg[i].dfd, keep, fs_stalled);
		a->seg[i].fd = a->seg[i].dfd = -1; /* closed or kept: drop_image_fds keeps nothing */
	}
	drop_image_fds(a);
}

void close_image_fds(struct active *a)
{
	close_fds(a, false, false);
}

static void finalize_locked(struct pipe_state *ps, struct active *a, uint8_t *scratch)
{
	bool keep_fds, fs_stalled;

	a->phase = IMG_FINALIZING;
	pthread_mutex_unlock(&ps->lock);
	finalize_image(ps, a, scratch, scratch ? HEAD_CAP : 0);
	pthread_mutex_lock(&ps->lock); /* finalize may have found its server gone */
	keep_fds = a->keep_fds;
	fs_stalled = ps->fs_stalled;
	pthread_mutex_unlock(&ps->lock);
	close_fds(a, keep_fds, fs_stalled); /* keep_fds: a read still running may use them */
	free(a->path);
	a->path = NULL;
	walk_media_free(a->media);
	a->media = NULL;
	free(a->seg_xxh128);
	a->seg_xxh128 = NULL;
	pthread_mutex_lock(&ps->lock);
	ps->stats->bytes_hashed += a->hasher.bytes;
	a->phase = IMG_FREE;
	reader_event_locked(ps);
}

/* A compressed file of unknown extension: ask a worker what it holds.  An
 * image goes on streaming from block 1 (block 0 is ready); anything else,
 * or any answer during a stop, is forgotten like any other file. */
static void inspect_locked(struct pipe_state *ps, struct active *a)
{
	struct slot *first = a->ready[0];
	int fds[2] = {-1, -1};
	bool image;

	a->claimed = true;
	pthread_mutex_unlock(&ps->lock);
	image = inspect_image(ps, a) && !stop_requested();
	if (!image && !stop_requested() && ps->env->sink.other)
		ps->env->sink.other(ps->env->sink.ctx, a->path, &a->res.st, &a->res.opened_at);
	if (image && ps->env->opt->sector_hash_dir)
		open_sector_file(a, ps->env->opt->sector_hash_dir);
	pthread_mutex_lock(&ps->lock);
	a->claimed = false;
	ps->inspecting--;
	meter_locked(ps);
	if (image && !ps->stop_err) {
		first->ready_at = monotonic_seconds(); /* waiting to be hashed from now */
		a->phase = IMG_STREAMING;
		pthread_cond_signal(&ps->work); /* block 0 is ready to hash */
		reader_event_locked(ps);         /* and the reader may read on */
		return;
	}
	if (a->sf) {
		sector_file_abort(a->sf);
		a->sf = NULL;
		a->hasher.out = NULL;
	}
	a->ready[0] = NULL;
	release_slot_locked(ps, first);
	forget_locked(ps, a, fds);
	pthread_mutex_unlock(&ps->lock);
	close_pair(fds);
	pthread_mutex_lock(&ps->lock);
}

/* Hash one ready block of a, which this thread has just picked. */
static void hash_block_locked(struct pipe_state *ps, struct active *a, struct slot *s, uint8_t *piece)
{
	uint64_t at = 0;
	int rc = 0;

	a->claimed = true;
	a->ready[s->seq % ps->nslots] = NULL;
	a->res.buffer_wait += monotonic_seconds() - s->ready_at;
	ps->hashing++;
	meter_locked(ps);
	pthread_mutex_unlock(&ps->lock);
	if (s->deferred)
		rc = read_hash_deferred(a, s, piece ? piece : s->buf, piece ? piece_len(ps) : ps->buf_len, &at);
	else
		hash_bytes(a, s->off, s->buf, s->got);
	if (s->drop_after) /* we brought it into the cache: do not leave it behind */
		posix_fadvise(a->seg[s->seg].fd, (off_t)s->foff, (off_t)s->got, POSIX_FADV_DONTNEED);
	s->drop_after = false; /* done, outside the lock */
	pthread_mutex_lock(&ps->lock);
	a->claimed = false;
	ps->hashing--;
	if (rc == 0) {
		a->hashed_seq++;
		ps->hashed_bytes += s->got;
	} else {
		fail_read_locked(ps, a, s->seg, at, rc == -ENODATA ? 0 : -rc);
	}
	release_slot_locked(ps, s);
}

void *hash_thread(void *arg)
{
	struct pipe_state *ps = arg;
	uint8_t *scratch = malloc(HEAD_CAP);
	/* Resident blocks are copied here, a piece at a time: a buffer of
	 * this thread's own stays hot in its core's cache. */
	uint8_t *piece = aligned_alloc(4096, piece_len(ps));
	struct active *a;
	struct slot *s;

	pthread_mutex_lock(&ps->lock);
	for (;;) {
		a = pick_locked(ps, &s);
		if (!a) {
			if (ps->stopping)
				break;
			ps->idle++;
			meter_locked(ps);
			pthread_cond_wait(&ps->work, &ps->lock);
			ps->idle--;
			meter_locked(ps);
			continue;
		}
		if (s)
			hash_block_locked(ps, a, s, piece);
		else if (a->phase == IMG_INSPECTING)
			inspect_locked(ps, a);
		else
			finalize_locked(ps, a, scratch);
	}
	pthread_mutex_unlock(&ps->lock);
	free(scratch);
	free(piece);
	return NULL;
}
