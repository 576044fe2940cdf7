/*
 * journal.h - the rename journal: JSON lines, one record per step, each
 * written and fsynced before the step it announces ("intent") and again
 * after it ("done", or "failed"), so that after a crash the journal says
 * exactly what may have happened; `imgscan rename --undo` reads it back.
 *
 * A journal is a new file, never an existing one: created with O_CREAT |
 * O_EXCL | O_NOFOLLOW, so no file, symlink, device or FIFO already at the
 * name is ever opened, let alone overwritten.
 */
#ifndef IMGSCAN_JOURNAL_H
#define IMGSCAN_JOURNAL_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stddef.h>

struct journal {
	int fd;                    /* -1: none (a dry run) */
	char path[PATH_MAX];
	int err;                   /* sticky errno of the first failed write */
};

/* Create path.  Returns 0 or -errno (EEXIST: something is there). */
int journal_create(struct journal *j, const char *path);
/* Create "<base>.<what>-<UTC time>.jsonl", or with "-2", "-3"... when the
 * name is taken.  Returns 0 or -errno. */
int journal_create_beside(struct journal *j, const char *base, const char *what);
/* Append rec as one line and fsync.  Returns 0 or -errno (sticky: once a
 * write failed, every later append fails, and nothing more may be done). */
int journal_append(struct journal *j, const cJSON *rec);
void journal_close(struct journal *j);

/* The records of a journal, in order (the header line included).  A last
 * line cut short (a crash while it was written) is left out: its step had
 * not begun.  Returns 0 with *recs (a cJSON array, the caller's) or -1
 * with a message in err. */
int journal_read(const char *path, cJSON **recs, char *err, size_t errlen);

#endif
