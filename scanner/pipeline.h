/*
 * pipeline.h - from walked files to finished image results.
 *
 * The reader thread (the caller of pipeline_run) owns the I/O engine: it
 * opens images, keeps up to queue_depth reads in flight over up to
 * max_images images, and hands each finished block to the hashing threads.
 * A hashing thread takes an image's blocks in offset order (the whole-image
 * digest needs them so), and the thread that hashes an image's last block
 * identifies it and emits its result.  Buffers are allocated once: memory
 * does not grow with the size or the number of images.
 */
#ifndef IMGSCAN_PIPELINE_H
#define IMGSCAN_PIPELINE_H

#include "adapt.h"
#include "engine.h"
#include "io_meter.h"
#include "result.h"
#include "tsk_pool.h"
#include "walk.h"

#include <stdint.h>

struct scan_options;
struct imgscan_config;

struct result_sink {
	void *ctx;
	/* Called from any thread, one call at a time per result; the result
	 * is only valid during the call. */
	void (*image)(void *ctx, const struct image_result *r);
	void (*skipped)(void *ctx, const struct skipped_entry *s);
	/* Optional, from the reader thread about 6 times a second: bytes
	 * hashed so far (all images), for a progress line. */
	void (*progress)(void *ctx, uint64_t bytes_hashed);
	/* Optional, from the reader thread: a file of unknown extension that
	 * is not an image (probed, or empty); st is of the open file (of the
	 * walk when it was empty), taken at about opened_at (CLOCK_REALTIME). */
	void (*other)(void *ctx, const char *path, const struct stat *st, const struct timespec *opened_at);
};

/* What to do with a walked regular file or block device, asked once per
 * entry before it is opened (an incremental run answers from its catalog;
 * verify forces the files its report lists to be read as images). */
enum admit_verdict {
	ADMIT_READ,          /* as usual: read it (probe it first if its extension is unknown) */
	ADMIT_READ_AS_IMAGE, /* read it as an image, whatever its extension */
	ADMIT_DONE_IMAGE,    /* not read: the hook has reported it as an image itself */
	ADMIT_DONE_OTHER,    /* not read: counted as another file */
};

struct admit_hook {
	void *ctx;           /* NULL decide: every entry is ADMIT_READ */
	/* From the reader thread.  would_probe: the file would be probed (its
	 * extension is not an image extension, and not --all-files). */
	enum admit_verdict (*decide)(void *ctx, const struct walk_entry *e, uint64_t index, bool would_probe);
};

struct run_stats {
	uint64_t entries;        /* everything the walk met */
	uint64_t other_files;    /* regular files that are not images */
	uint64_t other_bytes;
	uint64_t bytes_hashed;
	unsigned direct_fallbacks; /* images read buffered after O_DIRECT was refused */
	bool fixed_buffers;      /* the read buffers are registered with io_uring */
	unsigned lost_buffers;   /* after a failed engine: buffers it never gave back */
	int stop_signal;         /* the signal that stopped the run early, or 0 */
	struct io_figures io;    /* what the buffers did (io_meter.h) */
	struct adapt adapt;      /* the queue depth and images in flight it settled on */
};

struct shard_plan;

struct pipeline_env {
	const struct scan_options *opt;
	const struct imgscan_config *cfg;
	struct engine *engine;
	struct tsk_pool *tsk;    /* NULL: no Sleuth Kit step */
	struct result_sink sink;
	struct admit_hook admit;
	struct shard_plan *shard; /* --shard: the walk's entries this run takes; NULL: all */
};

/* Returns 0; -errno when setup fails (no image started); or -errno when the
 * run stopped early: -EINTR when a signal asked it to (stop.h), another
 * -errno when the engine failed.  Every image that was started has been
 * reported, those cut short with the reason; the walk was not finished. */
int pipeline_run(const struct pipeline_env *env, struct walker *walk, struct run_stats *stats);

#endif
