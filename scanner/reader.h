/*
 * reader.h - the reader thread's own state, shared by its two halves:
 * admit.c (walked entries become images in flight) and reader.c (reads,
 * completions, the drain).  Internal to scanner/; everything here belongs
 * to the reader thread.
 */
#ifndef IMGSCAN_READER_H
#define IMGSCAN_READER_H

#include "active.h"
#include "adapt.h"

struct reader {
	struct pipe_state *ps;
	struct engine *e;
	struct walker *w;
	struct walk_entry pending;
	bool have_pending, walk_done;
	uint64_t walk_index;      /* entries the walk met, every shard's: the next image's index */
	bool pending_decided;     /* the admit hook has answered for pending */
	enum admit_verdict pending_verdict;
	unsigned in_engine;       /* slots the engine holds */
	unsigned submit_failures; /* transient submit errors in a row */
	uint64_t completions;     /* reads reaped over the run */
	uint64_t fail_after;      /* test hooks only: the engine "fails" after this many */
	double drain_seconds;     /* how long a drain waits for the kernel */
	int stop_err;             /* -errno: the run stops early */
	struct adapt adapt;       /* the queue depth and images in flight in force */
	double win_start;         /* the adaptation window: when it began, */
	double win_inflight_s, win_busy_s; /* and the meter's integrals then */
	uint64_t win_disk_bytes;
	unsigned pending_windows; /* windows in a row an images trial has not taken effect */
	uint64_t next_expiry_ns;  /* when to look for reads past --read-timeout next (engine_now_ns) */
};

/* Admit walked entries while there is an image slot free.  Returns 0, or
 * -errno (out of memory in the walk). */
int admit(struct reader *r);
/* A regular file that is not an image: counted in the summary. */
void count_other_locked(struct pipe_state *ps, uint64_t bytes);
/* Start the image's sector-hash list (an error for the image if it cannot). */
void open_sector_file(struct active *a, const char *dir);
/* "disk.img.gz", "cd.iso.xz": the extension under the compressor's is an
 * image extension.  Decides a compressed file nobody could look inside. */
bool named_as_compressed_image(const struct imgscan_config *cfg, const char *path);

#endif
