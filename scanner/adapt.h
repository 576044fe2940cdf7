/*
 * adapt.h - the pipeline finds its own queue depth and images in flight.
 *
 * Disks differ: a solid-state or virtual disk wants many reads in flight
 * over several images; a rotating one loses to seeks between images what
 * it gains in depth.  No one setting suits both, so the reader measures.
 * Every window of reads that the disk limited (the queue kept full, a
 * hashing thread idle) it takes the disk's rate; now and then it tries
 * one knob one step away (half or twice the depth, half or twice the
 * images), and keeps the step only if the disk was clearly faster with it
 * (going down) or not clearly slower (going back up: more parallelism is
 * the better bet when they measure alike).  A trial that did not pay is
 * not repeated for twice as many windows as the last, so on a disk where
 * the ceiling is best the trials cost a few percent at most.
 *
 * The options' values are the ceiling and the start; a value the user set
 * explicitly stays as set.  Pure logic: the reader feeds it windows.
 */
#ifndef IMGSCAN_ADAPT_H
#define IMGSCAN_ADAPT_H

#include <stdbool.h>

enum adapt_knob { ADAPT_DEPTH, ADAPT_IMAGES, ADAPT_KNOBS };

struct adapt {
	unsigned value[ADAPT_KNOBS];    /* in force now */
	unsigned min[ADAPT_KNOBS], max[ADAPT_KNOBS];
	bool fixed[ADAPT_KNOBS];        /* set by the user: never changed */
	int trying;                     /* the knob under trial, or -1 */
	unsigned before;                /* its value before the trial */
	double trial_sum;               /* the trial's windows so far: their rates summed, */
	unsigned trial_windows;         /* and how many */
	double base;                    /* bytes/s of the last window at the values in force; 0: none yet */
	unsigned wait[ADAPT_KNOBS];     /* windows before the knob's next trial */
	unsigned backoff[ADAPT_KNOBS];  /* the wait after its next trial that does not pay */
	bool down[ADAPT_KNOBS];         /* the direction of its next trial */
	unsigned next;                  /* the knob whose turn it is */
	unsigned unlimited;             /* windows in a row the disk was not the limit */
	unsigned changes;               /* steps kept over the run */
	unsigned trials;
};

void adapt_init(struct adapt *ad, unsigned depth, bool depth_fixed, unsigned images, bool images_fixed);

/* One window in which the disk was the limit, read at rate bytes/s with
 * the values in force.  Returns true when a value changed (a trial
 * started, or was undone): the caller applies ad->value[]. */
bool adapt_window(struct adapt *ad, double rate);

/* A window in which the disk was not the limit (the hashing was, or the
 * files are too small to fill the queue).  After two seconds of those the
 * ceilings come back: what suited one phase of the run (large images on a
 * rotating disk) must not hold back the next (cached images, which want
 * every image in flight to keep every hashing thread busy, or a tree of
 * small files).  Returns true when a value changed. */
bool adapt_not_limited(struct adapt *ad);

/* The trial in progress could not be measured (fewer images in flight
 * take effect only as images end, and they did not): undone, to be tried
 * again later, not held against the value.  Returns true when a value
 * changed. */
bool adapt_abandon(struct adapt *ad);

/* The knob's value outside any trial: the one it settled on. */
unsigned adapt_settled(const struct adapt *ad, enum adapt_knob k);

#endif
