/*
 * engine_choice.c - io_uring when the kernel allows it, else pread (see
 * engine_choice.h).
 */
#include "engine_choice.h"
#include "../config/options.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

int engine_choose(enum io_choice io, unsigned queue_depth, struct engine_choice *out)
{
	int rc = -EINVAL;
	unsigned io_threads = queue_depth < 8 ? queue_depth : 8;

	out->engine = NULL;
	out->note = NULL;
	if (io != IO_PREAD) {
		rc = engine_uring_create(queue_depth, &out->engine);
		if (!rc) {
			out->name = "uring";
			return 0;
		}
		if (io == IO_URING) {
			fprintf(stderr, "imgscan: io_uring is not available: %s\n", strerror(-rc));
			return rc;
		}
		snprintf(out->note_buf, sizeof(out->note_buf), "io_uring refused (%s): using pread", strerror(-rc));
		out->note = out->note_buf;
		fprintf(stderr, "imgscan: %s\n", out->note);
	}
	rc = engine_pread_create(queue_depth, io_threads, &out->engine);
	if (rc)
		fprintf(stderr, "imgscan: cannot start the pread engine: %s\n", strerror(-rc));
	out->name = "pread";
	return rc;
}

int engine_uring_probe(void)
{
	struct engine *e = NULL;
	int rc = engine_uring_create(1, &e);

	if (!rc)
		e->ops->destroy(e);
	return rc;
}

uint64_t engine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1;
}
