/*
 * outfile.h - where the report goes: stdout, or a file written atomically
 * (a temporary file in the same directory, fsync, rename, fsync of the
 * directory), so no reader and no crash ever sees half a report.
 */
#ifndef IMGSCAN_OUTFILE_H
#define IMGSCAN_OUTFILE_H

#include <stdio.h>

struct outfile {
	FILE *f;
	char final[4096];  /* "" for stdout */
	char tmp[4200];
	int err;           /* sticky errno of the first failed write */
};

/* path NULL or "-": stdout.  Returns 0 or -errno. */
int outfile_open(struct outfile *o, const char *path);
void outfile_write(struct outfile *o, const char *text, size_t len);
/* Flush, fsync, rename into place.  Returns 0 or -errno (temp removed). */
int outfile_commit(struct outfile *o);
/* Give up: remove the temporary file. */
void outfile_abort(struct outfile *o);

#endif
