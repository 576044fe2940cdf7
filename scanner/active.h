/*
 * active.h - the state of one image being streamed, and the shared state of
 * the pipeline.  Internal to scanner/ (pipeline.c, finalize.c).
 *
 * Locking: fields marked (lock) are read and written under pipe->lock; fields
 * marked (reader) belong to the reader thread; (holder) fields belong to the
 * thread that has claimed the image (claimed or finalizing set).
 */
#ifndef IMGSCAN_ACTIVE_H
#define IMGSCAN_ACTIVE_H

#include "engine.h"
#include "hasher.h"
#include "pipeline.h"
#include "result.h"
#include "sector_file.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define HEAD_CAP (1u << 20)  /* bytes kept from the start, for the probes */
#define TAIL_CAP (64u << 10) /* bytes kept from the end (VHD, DMG, GPT backup) */

struct active;

struct slot {
	struct io_req req;
	uint8_t *buf;
	struct active *img;
	uint64_t off;
	size_t want, got;
	uint32_t seq;
	bool deferred;  /* resident in the page cache: the hashing thread reads it */
	bool cached;    /* was resident before we read it: leave it cached */
};

enum active_state { A_FREE, A_UNDECIDED, A_IMAGE };

struct active {
	enum active_state state;   /* (lock) */
	char *path;                /* (reader until A_IMAGE, then holder) */
	int fd;                    /* buffered: cache checks, copies, identification */
	int dfd;                   /* O_DIRECT, for reads through the engine; -1 if none */
	bool direct;               /* engine reads use dfd */
	bool dfd_tried;            /* dfd opened (or refused) at the first engine read */
	uint64_t size, next_off;   /* (reader) */
	uint32_t next_seq;         /* (reader) */
	uint32_t nblocks;
	uint32_t hashed_seq;       /* (lock) */
	unsigned inflight;         /* (lock) */
	bool read_failed;          /* (lock) */
	bool claimed, finalizing;  /* (lock) */
	struct slot **ready;       /* (lock) [nslots], by seq % nslots */
	struct hasher hasher;      /* (holder) */
	struct sector_file *sf;    /* (holder) */
	uint8_t *head;             /* (holder) */
	size_t head_len;
	uint8_t *tail;
	size_t tail_len;
	uint64_t tail_off;
	struct image_result res;   /* (holder) */
	double t0;
};

struct pipe_state {
	const struct pipeline_env *env;
	pthread_mutex_t lock;
	pthread_cond_t work;       /* hashing threads wait here */
	bool stopping;             /* (lock) */
	uint64_t events;           /* (lock) buffers or images given back */
	uint64_t hashed_bytes;     /* (lock) for progress */
	double next_progress;      /* (reader) when to report progress next */
	bool reader_waiting;       /* (lock) the reader sleeps: wake it on an event */
	struct slot *slots;
	unsigned nslots;
	unsigned *free_slots;      /* (lock) stack of slot indices */
	unsigned nfree;            /* (lock) */
	struct active *act;
	unsigned nact;
	unsigned rr;               /* (reader) round-robin cursor */
	struct run_stats *stats;   /* (lock) */
	bool buffers_registered;   /* (reader) tried once, at the first O_DIRECT read */
	char fault[16];            /* test-only TSK fault and the path part that triggers it */
	char fault_match[256];
};

/* Identify an image whose reads are over, emit its result, release it.
 * Called by a hashing thread with the image claimed (finalizing set). */
void finalize_image(struct pipe_state *ps, struct active *a, uint8_t *scratch, size_t scratch_len);

double monotonic_seconds(void);

#endif
