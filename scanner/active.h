/*
 * active.h - the state of one image being streamed, and the shared state of
 * the pipeline.  Internal to scanner/ (admit.c, reader.c, hash_threads.c,
 * pipeline.c, finalize.c).
 *
 * Who may touch what (checked with assertions where it is cheap, and by the
 * ThreadSanitizer build of the tests):
 *   (lock)    read and written under pipe_state.lock, by any thread
 *   (reader)  the reader thread only, while the image is PROBING, STREAMING
 *             or DRAINING; the finalizing thread may read it after the
 *             image became FINALIZING (the lock orders the two)
 *   (holder)  the hashing thread that has claimed the image (claimed set)
 *             or is finalizing it; the reader sets it up before the image
 *             leaves FREE, under the lock
 *
 * An image's life, one phase at a time (all transitions under the lock):
 *   FREE -> PROBING    admitted with an unknown extension: only block 0 is
 *                      read, to decide whether it is an image at all
 *   FREE -> STREAMING  admitted as an image
 *   PROBING -> STREAMING or FREE (not an image: counted, never reported)
 *   PROBING -> INSPECTING  block 0 is a compressed stream or an archive:
 *                      a hashing thread (claimed) asks a worker what it
 *                      holds, block 0 waiting in ready[]; then
 *   INSPECTING -> STREAMING (it holds an image) or FREE (it does not, or
 *                      the run is stopping: counted, never reported)
 *   PROBING, STREAMING -> DRAINING   a read failed, or the run is stopping:
 *                      no new reads; ready blocks are dropped
 *   STREAMING, DRAINING -> FINALIZING   no read in flight, no block being
 *                      hashed, and every block hashed or the image draining
 *   FINALIZING -> FREE  a hashing thread identified and reported it
 */
#ifndef IMGSCAN_ACTIVE_H
#define IMGSCAN_ACTIVE_H

#include "clock.h"
#include "engine.h"
#include "hasher.h"
#include "io_meter.h"
#include "pipeline.h"
#include "result.h"
#include "sector_file.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define HEAD_CAP (1u << 20)  /* bytes kept from the start, for the probes */
#define TAIL_CAP (64u << 10) /* bytes kept from the end (VHD, DMG, GPT backup) */

struct active;

/* One file an image is read from: the image itself, or one segment of
 * evidence media stored as several files (a split raw or EWF set), whose
 * bytes are [start, start + size) of the media.  A block never spans two. */
struct seg_io {
	int fd;                    /* (reader) buffered: cache checks, copies, identification */
	int dfd;                   /* (reader) O_DIRECT, opened at its first read that needs the disk; -1 */
	bool direct;               /* (reader) engine reads use dfd */
	bool dfd_tried;            /* (reader) */
	bool noatime;              /* (reader) opened with O_NOATIME: so is dfd */
	bool async_io;             /* (reader) on a network or user-space file system
	                            * (fs_kind.h): reads go to kernel workers */
	uint64_t start, size;
	struct stat st;            /* (reader) of the open file, for the change check */
};

/* A read buffer and the request that fills it.  Between the reader and the
 * hashing threads a slot is handed over, whole, under the lock. */
struct slot {
	struct io_req req;
	uint8_t *buf;          /* buf_len bytes, 4 KiB-aligned (O_DIRECT) */
	struct active *img;
	uint64_t off;          /* image offset of buf[0] */
	uint64_t seq;          /* block number within the image */
	size_t want, got;      /* bytes wanted (to the end of the image) and read */
	unsigned retries;      /* EAGAIN/EINTR resubmissions of this block */
	bool in_engine;        /* (reader) handed to the engine, not yet reaped; still set
	                        * after a failed drain: the buffer is never freed */
	bool cached_before;    /* (reader) wholly resident in the page cache before we read it */
	bool none_cached;      /* (reader) none of it was: what we read in is ours to drop */
	bool deferred;         /* resident: no I/O, the hashing thread copies it itself */
	bool direct;           /* the request used the O_DIRECT descriptor */
	bool drop_after;       /* read through the cache by us: drop it after hashing */
	unsigned seg;          /* the image's file it is read from (active.seg[]) */
	uint64_t foff;         /* that file's offset of buf[0] */
	double ready_at;       /* (lock) monotonic seconds it became ready to hash */
};

enum image_phase { IMG_FREE, IMG_PROBING, IMG_INSPECTING, IMG_STREAMING, IMG_DRAINING, IMG_FINALIZING };

struct active {
	enum image_phase phase;    /* (lock) */
	bool claimed;              /* (lock) a hashing thread is hashing one of its blocks */
	unsigned inflight;         /* (lock) its slots held by the engine */
	uint64_t hashed_seq;       /* (lock) blocks hashed, in order */
	struct slot **ready;       /* (lock) [nslots], read blocks by seq % nslots */
	struct scan_error read_err;/* (lock) the first read failure; stage NULL: none */
	bool keep_fds;             /* (lock) a read of it was given up on in a drain or
	                            * after --read-timeout and may still be running: its
	                            * descriptors stay open */
	bool stalled;              /* (lock) a read of it timed out: its file is not touched
	                            * again (an fstat or a worker's open would hang too) */
	bool block_lost;           /* (lock) a block of it will never be read (the engine
	                            * refused it, or gave up on it): it cannot finish */
	char *path;                /* (reader until FINALIZING, then holder) */
	struct seg_io one;         /* a single file's */
	struct seg_io *seg;        /* (reader) the files read: &one, or media's array (owned) */
	unsigned nseg;
	unsigned next_seg;         /* (reader) the file next_off is in */
	struct walk_media *media;  /* (reader until FINALIZING, then holder) the segments' walk entry; NULL */
	void *seg_state;           /* (holder) XXH3 state of the segment being hashed */
	unsigned hash_seg;         /* (holder) that segment */
	char (*seg_xxh128)[33];    /* (holder) each segment's own digest (media only) */
	uint8_t *carry;            /* (holder) media: a sector a block ended inside, sector_size bytes */
	size_t carry_len;
	bool last_read;            /* (reader) its latest block needed a read (not in the page cache) */
	uint64_t size;             /* (reader) bytes to read, from fstat of the open file */
	uint64_t next_off;         /* (reader) */
	uint64_t next_seq;         /* (reader) */
	uint64_t nblocks;          /* (reader) */
	struct hasher hasher;      /* (holder) */
	struct sector_file *sf;    /* (holder) */
	uint8_t *head;             /* (holder) */
	size_t head_len;
	uint8_t *tail;
	size_t tail_len;
	uint64_t tail_off;
	struct image_result res;   /* (holder) */
	char inspect_layer[16];    /* (reader, then holder once INSPECTING) what to look inside: "gzip" */
	double t0;
};

struct pipe_state {
	const struct pipeline_env *env;
	pthread_mutex_t lock;
	pthread_cond_t work;       /* hashing threads wait here */
	bool stopping;             /* (lock) the hashing threads may exit */
	int stop_err;              /* (lock) why the run stops early: -errno, or 0 */
	bool fs_stalled;           /* (lock) a read or a call after the reads timed out: a
	                            * server may be gone, and the files of network and
	                            * user-space file systems are no longer closed by us
	                            * (a FUSE FLUSH, an NFS CLOSE: stuck_fds.h) */
	uint64_t events;           /* (lock) buffers or images given back */
	uint64_t hashed_bytes;     /* (lock) for progress */
	bool reader_waiting;       /* (lock) the reader sleeps: wake it on an event */
	struct slot *slots;
	unsigned nslots;           /* read buffers: max_inflight and a reserve */
	unsigned max_inflight;     /* (lock) reads the engine may hold: the queue depth in force */
	unsigned max_images;       /* (lock) images in flight at most, in force (<= nact) */
	uint64_t disk_bytes;       /* (lock) bytes the engine's reads brought in */
	size_t buf_len;            /* each slot's buffer: read_size rounded up to 4 KiB */
	unsigned *free_slots;      /* (lock) stack of slot indices */
	unsigned nfree;            /* (lock) */
	unsigned lost_slots;       /* (reader) reads given up on (--read-timeout, a failed
	                            * drain) the engine has not given back: not reused */
	struct active *act;
	unsigned nact;
	unsigned rr;               /* (reader) round-robin cursor */
	double next_progress;      /* (reader) */
	bool buffers_registered;   /* (reader) tried once, at the first O_DIRECT read */
	unsigned images_opened;    /* (reader) images opened to be read, for tsk_pool_prestart() (to 64) */
	struct run_stats *stats;   /* (lock) */
	unsigned nthreads;         /* hashing threads running */
	unsigned inflight;         /* (lock) slots held by the engine, all images */
	unsigned hashing;          /* (lock) slots being hashed */
	unsigned inspecting;       /* (lock) slots held by an image being looked into (block 0) */
	unsigned idle;             /* (lock) hashing threads waiting for work */
	struct io_meter meter;     /* (lock) */
};

/* hash_threads.c */
void *hash_thread(void *ps);
void release_slot_locked(struct pipe_state *ps, struct slot *s);
void reader_event_locked(struct pipe_state *ps);
/* After a change of the counts above: the buffers' time line (io_meter.h). */
void meter_locked(struct pipe_state *ps);
/* Images that still read (or will: probed, inspected): what the images
 * in flight in force (max_images) bounds. */
unsigned images_reading_locked(const struct pipe_state *ps);
/* Close the image's descriptors (buffered, and O_DIRECT if opened). */
void close_image_fds(struct active *a);
/* The end of one descriptor of g's file: kept open to the end when keep
 * (a read of it may still run) or when g is on a network or user-space file
 * system and fs_stalled; handed to the closer thread when g is on one
 * (stuck_fds.h); otherwise given back (fd) for the caller to close, maybe
 * after its lock.  -1 when nothing is left to do. */
int release_fd(const struct seg_io *g, int fd, bool keep, bool fs_stalled);
/* reader.c: drop an undecided file (counted as another file, never
 * reported); fds get its descriptors, to close after the lock. */
void forget_locked(struct pipe_state *ps, struct active *a, int fds[2]);
void close_pair(const int fds[2]);
/* finalize.c: ask a worker what a compressed file holds (the answer stays
 * in a->res.tsk.inside); true when it holds an image.  Called by the
 * hashing thread that claimed the image, INSPECTING, without the lock. */
bool inspect_image(struct pipe_state *ps, struct active *a);
/* Stop an image's reads with the first failure; its ready blocks are
 * dropped and it is finalized once nothing of it is in flight. */
/* A read of a's file seg failed at media offset at: err, or 0 when the file
 * ended early (the message names the segment of media). */
void fail_read_locked(struct pipe_state *ps, struct active *a, unsigned seg, uint64_t at, int err);
void fail_image_locked(struct pipe_state *ps, struct active *a, const char *stage, int err, uint64_t at,
		       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* reader.c: the reader loop; returns 0 or the -errno that stopped it early. */
int reader_run(struct pipe_state *ps, struct walker *w);

/* finalize.c: identify an image whose reads are over, emit its result.
 * Called by a hashing thread with the image FINALIZING. */
void finalize_image(struct pipe_state *ps, struct active *a, uint8_t *scratch, size_t scratch_len);


#endif
