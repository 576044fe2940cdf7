/*
 * clock.h - seconds on the monotonic clock, for deadlines and durations
 * (never the wall clock: it may jump while a scan runs).
 */
#ifndef IMGSCAN_CLOCK_H
#define IMGSCAN_CLOCK_H

#include <time.h>

static inline double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
