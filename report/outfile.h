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
 *   a character device or FIFO          opened (never through a symlink swapped
 *                                       in meanwhile) and written directly,
 *                                       never replaced
 *   a block device, directory or socket refused (a usage error)
 *
 * An existing regular file is replaced by an atomic exchange, checked
 * afterwards (what came out must be a regular file, else it goes back), so a
 * node swapped in at the last moment is never replaced either.
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
/* Not an errno: the target changed between the check and the open or rename. */
#define OUTFILE_ECHANGED 4099
/* Not an errno: the path is a socket (refused, a usage error). */
#define OUTFILE_ESOCKET 4100
/* Not an errno: a name imgscan chose itself (a sector list) is not a regular file. */
#define OUTFILE_ENOTREG 4101
/* Not an errno: a node swapped in at the last moment could not be put back. */
#define OUTFILE_ESTUCK 4102

enum outfile_how { OUT_STDOUT, OUT_DIRECT, OUT_ATOMIC };

struct outfile {
	FILE *f;
	enum outfile_how how;
	char final[PATH_MAX];      /* OUT_ATOMIC: the regular file to create or replace */
	char tmp[PATH_MAX + 16];   /* OUT_ATOMIC: the temporary file beside it */
	bool anon;                 /* the temporary file has no name yet (O_TMPFILE) */
	int err;                   /* sticky errno of the first failed write */
};

/* path NULL or "-": stdout.  Returns 0 or -errno / -OUTFILE_E*. */
int outfile_open(struct outfile *o, const char *path);
void outfile_write(struct outfile *o, const char *text, size_t len);
/* Where a reader may be reading as we write (stdout, a pipe, a FIFO, a
 * device): hand what was written to it now.  An atomic file, which nobody
 * sees before the commit, is left to its buffer. */
void outfile_flush_stream(struct outfile *o);
/* Flush; for atomic files fsync, rename into place, fsync the directory.
 * Returns 0 or -errno (the temporary file is removed on failure). */
int outfile_commit(struct outfile *o);
/* Give up: remove the temporary file (the target is left as it was). */
void outfile_abort(struct outfile *o);

/* Put a finished temporary file tmp (written and fsynced by the caller, in
 * the directory of final) at final, a name imgscan chose itself (a sector
 * list): renamed when final is absent or a regular file, copied when it is
 * a symlink to one elsewhere; anything else (a device, FIFO, socket put
 * there by someone) is refused.  tmp is gone afterwards either way.
 * Returns 0 or -errno / -OUTFILE_E*. */
int outfile_place(const char *tmp, const char *final);

/* Put a finished temporary file tmp (in final's directory) at final, never
 * through a symlink: where nothing is there, a rename that refuses to
 * replace; over a regular file, an atomic exchange, checked afterwards
 * (anything else that came out, a symlink or a device swapped in, goes back:
 * -OUTFILE_ECHANGED).  The caller decides beforehand whether final may be
 * replaced at all.  Returns 0 or -errno / -OUTFILE_E*; tmp is left for the
 * caller to remove on failure. */
int outfile_rename_regular(const char *tmp, const char *final);

/* Called first thing, before imgscan opens any descriptor of its own: a
 * /dev/fd/N (or /dev/stdout...) path must name a descriptor the caller
 * passed in, open for writing.  Returns 0 or -EBADF. */
int outfile_check_fd_path(const char *path);

/* A temporary file in dir: unnamed (O_TMPFILE) where the file system
 * allows it, so that a kill leaves nothing behind (*anon true), else named
 * "<stem>.XXXXXX" at once (tmp).  Returns the descriptor or -errno. */
int outfile_temp_open(const char *dir, const char *stem, char *tmp, size_t len, bool *anon);
/* Give an unnamed temporary file the name "<stem>.<random>" (in tmp), right
 * before it is renamed into place.  Returns 0 or -errno. */
int outfile_temp_name(int fd, const char *stem, char *tmp, size_t len);

/* A message for an error returned above. */
const char *outfile_strerror(int err);
/* True for the errors that are the caller's mistake (exit status 64). */
bool outfile_is_usage_error(int err);
/* The mode a new file gets: 0666 less the process umask. */
mode_t outfile_new_mode(void);

/* Write all of buf to fd, a write cut by a signal taken up again.  Returns
 * 0 or -errno (-ENOSPC when the file takes no more). */
int outfile_write_all(int fd, const void *buf, size_t len);

/* fsync the directory holding path (best effort: a rename is durable only
 * once its directory is). */
void outfile_sync_dir(const char *path);

#endif
