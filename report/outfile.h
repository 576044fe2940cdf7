/*
 * outfile.h - every file imgscan writes (the report, sector-hash lists) goes
 * through here, because imgscan runs as root on production machines and a
 * wrong rename can replace a device node.  What the path names decides how:
 *
 *   does not exist, or a regular file   written atomically: a temporary file
 *                                       in the same directory, fsync, rename,
 *                                       fsync of the directory; a replaced
 *                                       file keeps its mode (and owner and
 *                                       group where we may set them)
 *   a symlink                           the same, to the file it points to
 *                                       (resolved once); the link stays; a
 *                                       dangling link is an error
 *   /dev/stdout, /dev/stderr, /dev/fd/N,
 *   /proc/self/fd/N                     that descriptor, written directly
 *   a character device, FIFO or socket  opened and written directly, never
 *                                       replaced
 *   a block device or a directory       refused (a usage error)
 *
 * "-" (or no path) is stdout.  New files get 0666 less the umask.
 */
#ifndef IMGSCAN_OUTFILE_H
#define IMGSCAN_OUTFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

/* Not an errno: the path is a block device (refused, a usage error). */
#define OUTFILE_EBLOCKDEV 4097
/* Not an errno: the path was a symlink whose target does not exist. */
#define OUTFILE_EDANGLING 4098
/* Not an errno: the target stopped being a regular file before the rename. */
#define OUTFILE_ECHANGED 4099

enum outfile_how { OUT_STDOUT, OUT_DIRECT, OUT_ATOMIC };

struct outfile {
	FILE *f;
	enum outfile_how how;
	char final[PATH_MAX];      /* OUT_ATOMIC: the regular file to create or replace */
	char tmp[PATH_MAX + 16];   /* OUT_ATOMIC: the temporary file beside it */
	int err;                   /* sticky errno of the first failed write */
};

/* path NULL or "-": stdout.  Returns 0 or -errno / -OUTFILE_E*. */
int outfile_open(struct outfile *o, const char *path);
void outfile_write(struct outfile *o, const char *text, size_t len);
/* Flush; for atomic files fsync, rename into place, fsync the directory.
 * Returns 0 or -errno (the temporary file is removed on failure). */
int outfile_commit(struct outfile *o);
/* Give up: remove the temporary file (the target is left as it was). */
void outfile_abort(struct outfile *o);

/* Put a finished temporary file tmp (written and fsynced by the caller, in
 * the directory of final) at final under the rules above: renamed when final
 * is absent or a regular file, else copied through outfile_open(final).  tmp
 * is gone afterwards either way.  Returns 0 or -errno / -OUTFILE_E*. */
int outfile_place(const char *tmp, const char *final);

/* A message for an error returned above. */
const char *outfile_strerror(int err);
/* True for the errors that are the caller's mistake (exit status 64). */
bool outfile_is_usage_error(int err);
/* The mode a new file gets: 0666 less the process umask. */
mode_t outfile_new_mode(void);

#endif
