/*
 * io_meter.h - what the pipeline's buffers did over time, measured by the
 * pipeline itself: the mean number of reads in flight, of read blocks
 * waiting for a hashing thread, and how long the engine held fewer reads
 * than buffers exist only because every other buffer held a block that
 * no idle hashing thread could take (an out-of-order block, or one of an
 * image another thread holds): the time the disk waited for hashing.
 *
 * The counts are kept by the pipeline under its lock; io_meter_tick()
 * integrates the previous counts up to now, and is called, under the same
 * lock, after every change of them.  Only the time in which some block was
 * being read, waiting or hashed counts (not the walk before the first
 * read, nor The Sleuth Kit's step after the last block).
 */
#ifndef IMGSCAN_IO_METER_H
#define IMGSCAN_IO_METER_H

#include <stdbool.h>

struct io_meter {
	double last;              /* monotonic seconds: the latest tick */
	bool active;              /* at the latest tick: a block read, waiting or hashed */
	double active_s;          /* time active, over the run */
	unsigned inflight;        /* reads held by the engine */
	unsigned waiting;         /* read blocks ready, not yet taken by a hashing thread */
	unsigned busy;            /* hashing threads at work on a block */
	bool starved;             /* no free buffer, fewer reads than buffers, an idle thread */
	double inflight_s, waiting_s, starved_s, busy_s; /* integrals over time */
};

/* Integrate the counts held since the last tick, then take the new ones. */
void io_meter_tick(struct io_meter *m, unsigned inflight, unsigned waiting, unsigned busy, bool starved, bool active);

/* The run's figures (for the report's summary). */
struct io_figures {
	double seconds;           /* time in which a block was read, waiting or hashed */
	double reads_in_flight;   /* time-weighted means */
	double blocks_waiting;
	double threads_busy;
	double starved_seconds;   /* the disk waited for hashing (see above) */
};

void io_meter_figures(const struct io_meter *m, struct io_figures *out);

#endif
