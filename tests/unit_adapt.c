/*
 * unit_adapt.c - the queue depth and images in flight that adapt.c settles
 * on, against simulated disks with measurement noise: a seek-bound disk
 * (rotating: best one image at a time), a latency-bound one (best at the
 * deepest queue), one whose bridge chokes on deep queues (best at 8), and
 * a flat one; what the trials cost on each; values the user set stay.
 */
#include "scanner/adapt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int failures;

#define CHECK(cond) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

typedef double (*disk_fn)(unsigned depth, unsigned images);

static double seek_bound(unsigned depth, unsigned images)
{
	(void)depth;
	return 200e6 / (1 + 0.6 * (images - 1)); /* every switch between images is a seek */
}

static double latency_bound(unsigned depth, unsigned images)
{
	(void)images;
	return depth * 60e6; /* 1 MiB reads at ~17 ms each, in parallel */
}

static double choking_bridge(unsigned depth, unsigned images)
{
	(void)images;
	return depth <= 8 ? depth * 50e6 : 400e6 / (1 + 0.1 * (depth - 8));
}

static double flat(unsigned depth, unsigned images)
{
	(void)depth;
	(void)images;
	return 3e9;
}

/* Deterministic noise of +-noise (relative). */
static double noisy(double v, double noise, unsigned *seed)
{
	return v * (1 + noise * (2.0 * rand_r(seed) / RAND_MAX - 1));
}

/* Runs n windows; returns the mean true rate over the last half, and
 * *mean_all the mean over all of them (the trials' cost included). */
static double run(struct adapt *ad, disk_fn disk, unsigned n, double noise, double *mean_all)
{
	unsigned seed = 12345;
	double sum = 0, sum_tail = 0;

	for (unsigned i = 0; i < n; i++) {
		double truth = disk(ad->value[ADAPT_DEPTH], ad->value[ADAPT_IMAGES]);
		sum += truth;
		if (i >= n / 2)
			sum_tail += truth;
		adapt_window(ad, noisy(truth, noise, &seed));
		CHECK(ad->value[ADAPT_DEPTH] >= ad->min[ADAPT_DEPTH] && ad->value[ADAPT_DEPTH] <= ad->max[ADAPT_DEPTH]);
		CHECK(ad->value[ADAPT_IMAGES] >= 1 && ad->value[ADAPT_IMAGES] <= ad->max[ADAPT_IMAGES]);
	}
	*mean_all = sum / n;
	return sum_tail / (n - n / 2);
}

int main(void)
{
	struct adapt ad;
	double all, tail;

	/* A rotating disk: one image at a time, found within the first minute
	 * (240 windows), and kept. */
	adapt_init(&ad, 32, false, 4, false);
	tail = run(&ad, seek_bound, 1200, 0.05, &all);
	CHECK(adapt_settled(&ad, ADAPT_IMAGES) == 1);
	CHECK(tail >= 0.97 * seek_bound(32, 1));
	printf("seek-bound: depth %u images %u, tail %.0f MB/s of %.0f, all %.0f, %u trials\n", ad.value[0],
	       ad.value[1], tail / 1e6, seek_bound(32, 1) / 1e6, all / 1e6, ad.trials);

	/* Latency-bound: the deepest queue is best; trials cost little. */
	adapt_init(&ad, 32, false, 4, false);
	tail = run(&ad, latency_bound, 1200, 0.05, &all);
	CHECK(adapt_settled(&ad, ADAPT_DEPTH) == 32);
	CHECK(all >= 0.95 * latency_bound(32, 4));
	printf("latency-bound: depth %u images %u, all %.0f MB/s of %.0f, %u trials\n", ad.value[0], ad.value[1],
	       all / 1e6, latency_bound(32, 4) / 1e6, ad.trials);

	/* A bridge that chokes on deep queues: 8 found. */
	adapt_init(&ad, 32, false, 4, false);
	tail = run(&ad, choking_bridge, 1200, 0.05, &all);
	CHECK(adapt_settled(&ad, ADAPT_DEPTH) == 8);
	CHECK(tail >= 0.95 * choking_bridge(8, 4));
	printf("choking bridge: depth %u, tail %.0f MB/s of %.0f\n", ad.value[0], tail / 1e6, choking_bridge(8, 4) / 1e6);

	/* Flat, and noisier (+-15%): whatever it wanders to costs nothing,
	 * and it keeps trying rarely (backed off). */
	adapt_init(&ad, 32, false, 4, false);
	run(&ad, flat, 1200, 0.15, &all);
	CHECK(ad.trials < 1200 / 4);
	printf("flat: depth %u images %u, %u trials, %u kept\n", ad.value[0], ad.value[1], ad.trials, ad.changes);

	/* A rotating disk's phase, then two seconds in which the disk was not
	 * the limit (cached images, small files): the ceilings come back. */
	adapt_init(&ad, 32, false, 4, false);
	run(&ad, seek_bound, 400, 0.05, &all);
	CHECK(adapt_settled(&ad, ADAPT_IMAGES) == 1);
	for (int i = 0; i < 7; i++)
		CHECK(!adapt_not_limited(&ad));
	CHECK(adapt_not_limited(&ad));
	CHECK(ad.value[ADAPT_DEPTH] == 32 && ad.value[ADAPT_IMAGES] == 4 && ad.trying < 0);
	/* and it finds the one image again when the disk limits once more */
	run(&ad, seek_bound, 400, 0.05, &all);
	CHECK(adapt_settled(&ad, ADAPT_IMAGES) == 1);

	/* A trial that could not take effect is undone without being held
	 * against the value: tried again after the usual wait. */
	adapt_init(&ad, 32, false, 4, false);
	for (int i = 0; i < 4 && ad.trying < 0; i++)
		adapt_window(&ad, 100e6);
	CHECK(ad.trying >= 0);
	{
		int k = ad.trying;
		unsigned backoff = ad.backoff[k];
		CHECK(adapt_abandon(&ad));
		CHECK(ad.trying < 0 && ad.value[k] == ad.max[k] && ad.backoff[k] == backoff && ad.base == 0);
		CHECK(!adapt_abandon(&ad));
	}

	/* Set by the user: never changed, whatever the disk. */
	adapt_init(&ad, 32, true, 4, true);
	run(&ad, seek_bound, 400, 0.05, &all);
	CHECK(ad.value[ADAPT_DEPTH] == 32 && ad.value[ADAPT_IMAGES] == 4 && ad.trials == 0);
	adapt_init(&ad, 32, true, 4, false);
	run(&ad, seek_bound, 400, 0.05, &all);
	CHECK(ad.value[ADAPT_DEPTH] == 32 && adapt_settled(&ad, ADAPT_IMAGES) == 1);

	/* A queue depth of 1 and one image: nothing to try. */
	adapt_init(&ad, 1, false, 1, false);
	run(&ad, latency_bound, 100, 0.05, &all);
	CHECK(ad.trials == 0 && ad.value[ADAPT_DEPTH] == 1);

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures != 0;
}
