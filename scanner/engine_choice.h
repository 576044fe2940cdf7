/*
 * engine_choice.h - which I/O engine a run uses, chosen the same way by
 * every command that reads images (scan, verify): io_uring when the kernel
 * allows it, else the pread engine, and the fallback said once on stderr.
 */
#ifndef IMGSCAN_ENGINE_CHOICE_H
#define IMGSCAN_ENGINE_CHOICE_H

#include "engine.h"
#include "../config/options.h"

#include <stddef.h>

struct engine_choice {
	struct engine *engine;     /* the caller destroys it */
	const char *name;          /* "uring" or "pread", for run.options.io */
	const char *note;          /* why the pread fallback was taken, or NULL; points into note_buf */
	char note_buf[160];
};

/* io: IO_AUTO tries io_uring and falls back to pread (saying why on
 * stderr); IO_URING insists; IO_PREAD takes pread.  The struct must stay
 * where it is while note is used.  Returns 0 or -errno (said on stderr). */
int engine_choose(enum io_choice io, unsigned queue_depth, struct engine_choice *out);
/* Whether io_uring can be used here: an engine is set up as a run would
 * (the sysctl, a ring) and taken down again.  Returns 0 or the -errno it
 * was refused with.  Quiet. */
int engine_uring_probe(void);

#endif
