/*
 * finalize.c - the end of one image: digests, identification (our probes,
 * then The Sleuth Kit behind its fence), the verdict, and the result.
 */
#include "active.h"
#include "reader.h"
#include "bounded_call.h"
#include "../config/config.h"
#include "../config/options.h"
#include "../formats/identify.h"
#include "../formats/inside.h"
#include "../formats/segments.h"
#include "../formats/tsk_glue.h"
#include "../report/outfile.h"
#include "stop.h"

#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void result_add_error(struct image_result *r, const char *stage, int err, uint64_t offset, const char *fmt, ...)
{
	struct scan_error *e;
	va_list ap;

	if (r->nerrors >= RESULT_MAX_ERRORS)
		return;
	e = &r->errors[r->nerrors++];
	e->stage = stage;
	e->err = err;
	e->offset = offset;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

struct finalize_io {
	struct pipe_state *ps;
	struct active *a;
	bool hashed;               /* its digests were taken before identification's reads */
};

/* A file on a network or user-space file system whose call after the
 * reads did not return within --read-timeout: its server may be gone.
 * It is not touched again (no TSK, its descriptors left open).  Before
 * the digests were taken (the change check's fstat) no digest is claimed:
 * whether the file changed could not be asked; after (an identification
 * read) the digests stand and identification has what it had read. */
static void stall_after_read(struct pipe_state *ps, struct active *a, const char *call, unsigned seg, bool hashed)
{
	pthread_mutex_lock(&ps->lock);
	bool first = !a->stalled;
	a->stalled = a->keep_fds = ps->fs_stalled = true;
	pthread_mutex_unlock(&ps->lock);
	if (first)
		result_add_error(&a->res, call, ETIMEDOUT, 0, "%s after the reads did not return within %u s "
				 "(--read-timeout): the file system stopped answering%s%s; %s", call,
				 ps->env->opt->read_timeout_s, a->media ? " for segment " : "",
				 a->media ? a->media->segs[seg].path : "",
				 hashed ? "identified from what was read before, without The Sleuth Kit"
					: "no digest is claimed");
}

/* The bound of a call on g's file after its reads: --read-timeout where
 * the file's server may die (0: the call is made in place). */
static unsigned call_bound(const struct pipe_state *ps, const struct seg_io *g)
{
	return g->async_io ? ps->env->opt->read_timeout_s : 0;
}

/* Identification's reads beside the stream (partition heads, EBR chains):
 * cache-neutral, so they leave the page cache as found (bounded_pread()
 * opens an O_DIRECT descriptor, via /proc/self/fd of the file's, only when
 * a read needs the disk, and closes it again: a few reads per image). */
static long read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct finalize_io *io = ctx;
	struct active *a = io->a;
	size_t done = 0;

	/* A stopping run identifies an image it cut short from what it has;
	 * one it let finish (wholly read) is identified as usual. */
	if (a->read_err.stage && stop_requested())
		return -ECANCELED;
	if (a->stalled) /* a read of it never returned: this one would not either */
		return -ETIMEDOUT;
	/* Media: the files' bytes one after the other. */
	for (unsigned i = 0; i < a->nseg && done < len; i++) {
		const struct seg_io *g = &a->seg[i];
		uint64_t at = off + done;
		size_t want;
		long n;

		if (at >= g->start + g->size)
			continue;
		want = g->start + g->size - at < len - done ? (size_t)(g->start + g->size - at) : len - done;
		n = bounded_pread(g->fd, (uint8_t *)buf + done, want, at - g->start, call_bound(io->ps, g));
		if (n == -ETIMEDOUT)
			stall_after_read(io->ps, a, "read", i, io->hashed);
		if (n < 0)
			return done ? (long)done : n;
		done += (size_t)n;
		if ((size_t)n < want)
			break; /* shorter than it was: the end */
	}
	return (long)done;
}

/* Which container TSK should open it as, or NULL when TSK cannot read it. */
static const char *tsk_container(const struct ident *id, bool all_zero, uint64_t size)
{
	if (all_zero || size == 0)
		return NULL;
	for (int i = 0; i < id->nhits; i++) {
		const char *n = id->hits[i].name;
		if (id->hits[i].cls == HIT_CONTAINER)
			return !strcmp(n, "ewf") ? "ewf" : !strcmp(n, "vmdk") ? "vmdk" : !strcmp(n, "vhd") ? "vhd" : NULL;
		if (id->hits[i].cls == HIT_COMPRESSED || id->hits[i].cls == HIT_RAWCD)
			return NULL;
	}
	return "raw";
}

/* Media: every segment's descriptor goes to the worker, which reads them
 * one after the other (a split raw set) or hands them to libewf. */
static void run_tsk_media(struct pipe_state *ps, struct active *a, struct tsk_request *req)
{
	int *fds = malloc(a->nseg * sizeof(*fds));
	uint64_t *sizes = malloc(a->nseg * sizeof(*sizes));

	if (!fds || !sizes) {
		memset(&a->res.tsk, 0, sizeof(a->res.tsk));
		a->res.tsk.status = TSK_WORKER_ERROR;
		snprintf(a->res.tsk.failure, sizeof(a->res.tsk.failure), "out of memory for the segment list");
	} else {
		for (unsigned i = 0; i < a->nseg; i++) {
			fds[i] = a->seg[i].fd;
			sizes[i] = a->seg[i].size;
		}
		req->nsegments = a->nseg;
		tsk_pool_run_segments(ps->env->tsk, req, &(struct tsk_segments){fds, sizes, a->nseg}, &a->res.tsk);
	}
	free(fds);
	free(sizes);
}

/* An EWF image or set: libewf reads the media whole in the worker and
 * checks the hashes stored at acquisition.  The data is compressed: its
 * size says little of the time, so the limit is generous (2 MB/s of the
 * files' bytes, and two minutes). */
static void ask_ewf_check(const struct scan_options *opt, struct tsk_request *req, uint64_t file_bytes)
{
	req->ewf_check = 1;
	req->want_sha256 = (opt->crypto_mask & (1u << HASH_SHA256)) != 0;
	req->extra_seconds = (uint32_t)(file_bytes / 2000000u) + 120;
}

static void run_tsk(struct pipe_state *ps, struct active *a, bool all_zero, bool complete)
{
	static __thread struct tsk_request req;
	const char *container = tsk_container(&a->res.ident, all_zero, a->size);
	/* Every byte hashed, and all of them kept for the probes (an image of
	 * up to HEAD_CAP bytes): the worker gets those bytes instead of
	 * reading the file again, from the disk (the stream dropped what it
	 * read), for the price of a copy (see tsk_pool_run()). */
	const uint8_t *whole = complete && a->head_len == a->size && !strcmp(container ? container : "", "raw")
				       ? a->head
				       : NULL;
	/* An EWF acquisition is checked even without The Sleuth Kit (--no-tsk,
	 * verify): its answer is then kept for the check alone. */
	bool ewf = container && !strcmp(container, "ewf"), no_tsk = ps->env->opt->no_tsk;

	if (!ps->env->tsk || !container || (no_tsk && !ewf))
		return;
	tsk_request_fill(&req, &a->res.ident, a->path, a->size, container);
	if (ewf)
		ask_ewf_check(ps->env->opt, &req, a->size);
	req.ewf_only = no_tsk;
	/* The worker reads the descriptor we hashed from (or those bytes),
	 * never the path: the name may point elsewhere by now. */
	if (a->media)
		run_tsk_media(ps, a, &req);
	else
		tsk_pool_run(ps->env->tsk, &req, a->one.fd, whole, &a->res.tsk);
	if (no_tsk) {
		struct ewf_acquisition q = a->res.tsk.acq;

		memset(&a->res.tsk, 0, sizeof(a->res.tsk));
		a->res.tsk.status = TSK_NOT_RUN;
		a->res.tsk.acq = q;
	}
}

/* The layer a worker can look inside at offset 0: a compressed stream or
 * archive, or a container whose virtual disk it reads (*container set);
 * NULL for none (EWF, DMG: read by TSK, or not at all). */
static const char *inside_layer(const struct ident *id, bool *container)
{
	for (int i = 0; i < id->nhits; i++) {
		const struct probe_hit *h = &id->hits[i];
		if (h->offset != 0 || (h->cls != HIT_COMPRESSED && h->cls != HIT_CONTAINER))
			continue;
		*container = h->cls == HIT_CONTAINER;
		return !*container || inside_is_container(h->name) ? h->name : NULL;
	}
	return NULL;
}

/* One "inside" request for layer ("magic": libmagic's name only).  The
 * answer's inside part goes to r->tsk.inside; a container's answer is
 * The Sleuth Kit's too (its virtual disk), so it replaces r->tsk whole.
 * A worker that failed leaves inside with the reason. */
static void ask_inside(struct pipe_state *ps, struct active *a, const char *layer, bool container, bool full)
{
	static __thread struct tsk_request req;
	static __thread struct tsk_result answer;
	struct image_result *r = &a->res;

	memset(&req, 0, sizeof(req));
	req.size = a->size;
	snprintf(req.op, sizeof(req.op), "inside");
	snprintf(req.container, sizeof(req.container), "%s", layer);
	snprintf(req.path, sizeof(req.path), "%s", a->path);
	req.run_tsk = container && !ps->env->opt->no_tsk;
	req.inside_full = full && !container;
	/* A whole stream to decompress: the time limit grows with the file,
	 * at 20 MB/s (xz decompresses at 50 to 100 here). */
	req.extra_seconds = req.inside_full ? (uint32_t)(a->size / 20000000u) : 0;
	tsk_pool_run(ps->env->tsk, &req, a->one.fd, NULL, &answer);
	if (answer.status != TSK_DONE) {
		memset(&answer.inside, 0, sizeof(answer.inside));
		answer.inside.status = INSIDE_FAILED;
		snprintf(answer.inside.layer, sizeof(answer.inside.layer), "%s", layer);
		snprintf(answer.inside.failure, sizeof(answer.inside.failure), "the worker %.140s", answer.failure);
		/* A container's worker ran The Sleuth Kit too: its failure is
		 * TSK's (said once, as a tsk error); a stream's is only inside's. */
		if (!container || !req.run_tsk)
			answer.status = TSK_NOT_RUN;
	}
	if (container && !req.run_tsk)
		answer.status = TSK_NOT_RUN; /* --no-tsk: only our probes looked */
	if (container)
		r->tsk = answer;
	else
		r->tsk.inside = answer.inside;
}

/* The workers' part of identification: look inside a compressed file or
 * a container; else The Sleuth Kit; and for a file none of it recognised,
 * libmagic's name for what it is. */
static void ask_workers(struct pipe_state *ps, struct active *a, bool all_zero, bool complete)
{
	struct image_result *r = &a->res;
	bool container = false;
	const char *layer = inside_layer(&r->ident, &container);
	/* Media is read by its segments: looking inside reads one descriptor. */
	bool inside = ps->env->tsk && ps->env->opt->inside != INSIDE_NONE && a->size > 0 && !a->media;
	bool full = ps->env->opt->inside == INSIDE_FULL;

	/* An inspected stream was looked at in head mode: --inside full reads
	 * it whole here, once it is known to be an image. */
	if (inside && layer && (!r->inside_asked || (full && !container && complete)))
		ask_inside(ps, a, layer, container, full && complete);
	else if (!r->inside_asked)
		run_tsk(ps, a, all_zero, complete);
	if (inside && complete && !all_zero && !r->ident.nhits && !tsk_found_something(&r->tsk))
		ask_inside(ps, a, "magic", false, false);
}

bool inspect_image(struct pipe_state *ps, struct active *a)
{
	const struct inside_result *in = &a->res.tsk.inside;

	a->res.inside_asked = true;
	ask_inside(ps, a, a->inspect_layer, false, false);
	/* Only "looked, and found no image" makes it another file: one that
	 * could not be looked into (damaged, a worker that failed) is listed,
	 * with the reason, and never remembered as another file. */
	return in->status != INSIDE_DONE || inside_holds_image(in);
}

static void finish_hashes(struct active *a)
{
	struct image_result *r = &a->res;
	int rc;

	hasher_final(&a->hasher, r->xxh128, r->sector_list_xxh128, r->crypto);
	r->complete = true;
	r->sector_size = a->hasher.sector_size;
	r->sector_count = a->hasher.sectors;
	r->zero_sectors = a->hasher.zero_sectors;
	if (a->sf) {
		rc = sector_file_commit(a->sf, r->sector_size, r->sector_count, a->size, r->xxh128,
					r->sector_file, sizeof(r->sector_file));
		a->sf = NULL;
		if (rc)
			result_add_error(r, "sector-hashes", -rc < 4096 ? -rc : 0, 0,
					 "cannot write the sector-hash list %s.xxh3s: %s", r->xxh128, outfile_strerror(-rc));
	}
}

/* Evidence should not change under us: say so when it did (true).  The
 * bytes hashed are then of no one state of the file: no digest is claimed. */
static bool changed_during_scan(struct pipe_state *ps, struct active *a)
{
	struct stat now;
	bool changed = false;

	for (unsigned i = 0; !a->res.is_blockdev && i < a->nseg; i++) {
		const struct seg_io *g = &a->seg[i];
		int rc = bounded_fstat(g->fd, &now, call_bound(ps, g));

		if (rc == -ETIMEDOUT) {
			stall_after_read(ps, a, "fstat", i, false);
			return true;
		}
		if (rc)
			continue;
		/* ctime too: an in-place rewrite with the mtime set back still moves it. */
		if ((uint64_t)now.st_size == g->size && now.st_mtim.tv_sec == g->st.st_mtim.tv_sec &&
		    now.st_mtim.tv_nsec == g->st.st_mtim.tv_nsec && now.st_ctim.tv_sec == g->st.st_ctim.tv_sec &&
		    now.st_ctim.tv_nsec == g->st.st_ctim.tv_nsec)
			continue;
		changed = true;
		if (a->seg_xxh128) /* of no one state of the segment either */
			a->seg_xxh128[i][0] = '\0';
		if (a->media)
			result_add_error(&a->res, "read", 0, 0, "segment %s changed during the scan (size %llu -> %llu, "
					 "mtime or ctime moved): no digest is claimed", a->media->segs[i].path,
					 (unsigned long long)g->size, (unsigned long long)now.st_size);
		else
			result_add_error(&a->res, "read", 0, 0, "the file changed during the scan (size %llu -> %llu, "
					 "mtime or ctime moved): no digest is claimed", (unsigned long long)a->size,
					 (unsigned long long)now.st_size);
	}
	return changed;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* What the segments' names and sizes say of media (verdict_media()):
 * split raw segments are all of one size but the last, which is not
 * longer; EWF segments are checked by libewf. */
static void media_facts(const struct active *a, struct verdict_media *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->scheme = a->media->scheme == SEG_EWF ? "ewf" : "split-raw";
	vm->segments = a->nseg;
	vm->gaps = a->media->gaps;
	vm->first_gap = a->media->first_gap;
	if (a->media->scheme == SEG_EWF || !a->nseg)
		return;
	vm->expected_size = a->seg[0].size;
	for (unsigned i = 1; i < a->nseg; i++) {
		uint64_t size = a->seg[i].size;
		bool last = i + 1 == a->nseg;

		if (last ? size <= vm->expected_size && (size > 0 || !vm->expected_size) : size == vm->expected_size)
			continue;
		if (!vm->wrong_sizes++) {
			vm->first_wrong = base_name(a->media->segs[i].path);
			vm->first_wrong_size = size;
		}
	}
}

/* EWF media: its files hold compressed data, so the media's digests and
 * size are libewf's (none when it could not read it all); the files' own
 * digests are the segments'. */
static void take_ewf_digests(const struct scan_options *opt, struct image_result *r)
{
	const struct ewf_acquisition *q = &r->tsk.acq;
	const char *computed[HASH_COUNT] = {[HASH_MD5] = q->md5, [HASH_SHA1] = q->sha1, [HASH_SHA256] = q->sha256};
	bool ok = q->status == EWF_ACQ_DONE && r->complete;

	r->sector_size = 0;
	r->sector_count = r->zero_sectors = 0;
	snprintf(r->xxh128, sizeof(r->xxh128), "%s", ok ? q->xxh128 : "");
	for (int i = 0; i < HASH_COUNT; i++)
		snprintf(r->crypto[i], sizeof(r->crypto[i]), "%s",
			 ok && (opt->crypto_mask & (1u << i)) ? computed[i] : "");
	if (ok)
		r->size = q->media_size;
	else if (r->complete) /* the files were read, the media was not: an error, not a finding */
		result_add_error(r, "read", 0, 0, "the media could not be read through libewf: %.200s",
				 q->status == EWF_ACQ_NONE ? "no worker process read it (--inside none, or it failed)"
				 : q->error[0] ? q->error : "it ended early");
}

/* The image's reads are over: was every byte hashed?  A read failure,
 * recorded by whichever thread met it, becomes the result's error. */
static bool reads_complete(struct pipe_state *ps, struct active *a, bool *stopping)
{
	struct scan_error e;
	bool complete;

	pthread_mutex_lock(&ps->lock);
	e = a->read_err;
	complete = !e.stage && a->hashed_seq == a->nblocks;
	*stopping = ps->stop_err != 0;
	pthread_mutex_unlock(&ps->lock);
	if (e.stage)
		result_add_error(&a->res, e.stage, e.err, e.offset, "%s", e.message);
	return complete;
}

void finalize_image(struct pipe_state *ps, struct active *a, uint8_t *scratch, size_t scratch_len)
{
	struct image_result *r = &a->res;
	struct probe_view view = {a->head, a->head_len, a->tail, a->tail_len, a->tail_off, a->size};
	struct verdict_input vin;
	struct verdict_media vm;
	bool stopping, complete = reads_complete(ps, a, &stopping);

	r->bytes_read = a->hasher.bytes;
	/* (a stalled file is not asked: the fstat would hang as its read did) */
	if (!a->stalled && changed_during_scan(ps, a))
		complete = false;
	if (complete)
		finish_hashes(a);
	else if (a->sf) {
		sector_file_abort(a->sf);
		a->sf = NULL;
	}
	identify_image(&view, read_at, &(struct finalize_io){ps, a, complete}, scratch, scratch_len, &r->ident);
	vin.basename = base_name(a->path);
	vin.ext = r->ext;
	vin.size = a->size;
	vin.size_known = complete;
	vin.is_device = r->is_blockdev;
	vin.all_zero = complete && a->size > 0 && r->zero_sectors == r->sector_count;
	vin.media = NULL;
	if (a->media) {
		media_facts(a, &vm);
		vin.media = &vm;
	}
	if (!stopping && !a->stalled) /* a stopped run ends within a second, not after TSK */
		ask_workers(ps, a, vin.all_zero, complete);
	if (r->tsk.status != TSK_NOT_RUN && r->tsk.status != TSK_DONE)
		result_add_error(r, "tsk", 0, 0, "identification by The Sleuth Kit failed: %s", r->tsk.failure);
	if (r->tsk.inside.status == INSIDE_FAILED && (r->tsk.status == TSK_NOT_RUN || r->tsk.status == TSK_DONE) &&
	    !strncmp(r->tsk.inside.failure, "the worker ", 11))
		result_add_error(r, "inside", 0, 0, "looking inside failed: %s", r->tsk.inside.failure + 11);
	verdict_decide(&r->ident, &r->tsk, &vin, ps->env->cfg, &r->verdict);
	if (a->media && a->media->scheme == SEG_EWF)
		take_ewf_digests(ps->env->opt, r);
	r->seconds = monotonic_seconds() - a->t0;
	ps->env->sink.image(ps->env->sink.ctx, r);
}
