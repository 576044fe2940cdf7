/*
 * walk.h - the directory walk, as an iterator so memory does not grow with
 * the number of files: only the directories on the current path are held,
 * each as its sorted list of names (so reports come out in a stable order).
 *
 * Symlinks are returned as such (not followed) unless follow is set; FIFOs,
 * sockets and devices met in a directory are returned as WALK_SPECIAL and are
 * never opened.  A block device named on the command line is WALK_BLOCKDEV.
 *
 * Each directory on the current path is held open (256 levels of it at
 * most, a descriptor each) and its entries are looked up relative to it:
 * paths longer than PATH_MAX are walked, and a directory renamed, removed or
 * replaced by a symlink while it is walked is walked on as it was listed
 * (what is gone from it is a "stat" error), never through the link.  More
 * than 256 levels down, entries are looked up by their whole path, as far
 * as PATH_MAX lets them be (ENAMETOOLONG beyond: a "stat" error).
 *
 * Nothing the walk cannot see is dropped silently: every failure is returned
 * as a WALK_ERROR entry naming the path, the call that failed and its errno.
 * A path that cannot be stat'ed (vanished, too long: ENAMETOOLONG, ...) is
 * "stat"; a directory that cannot be opened is "opendir" and is not entered;
 * a directory met again below itself through a followed symlink is "loop".
 * A directory whose listing fails part way (readdir: EIO, ESTALE...) is
 * "readdir", and one whose closedir() fails is "closedir": such a directory
 * is still entered, and the names its listing gave before the error are
 * walked (nothing that could be read is lost) right after its error entry;
 * the names it could not list are, of course, missing.
 *
 * Files of a directory named as a segment set (disk.001 disk.002 ...,
 * disk.aa disk.ab ..., case.E01 case.E02 ...: formats/segments.h) that are
 * regular files (after the walk's own stat or lstat) and number two or more
 * are one WALK_MEDIA entry, met where its first name sorts; none of its
 * files is returned on its own.  A member that is not a regular file is
 * returned on its own, as any other entry.
 */
#ifndef IMGSCAN_WALK_H
#define IMGSCAN_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

enum walk_type { WALK_FILE, WALK_BLOCKDEV, WALK_SYMLINK, WALK_SPECIAL, WALK_ERROR, WALK_MEDIA };

/* One file of a segment set (formats/segments.h). */
struct walk_segment {
	char *path;
	struct stat st;
	unsigned number;       /* as named: 1 for .001 and E01, 0 for .000 and .aa */
};

/* Evidence media stored as several files of one directory, met in the walk
 * as one entry: its segments in order, and the numbers missing between
 * them (counted from the set's first number). */
struct walk_media {
	int scheme;            /* enum seg_scheme */
	struct walk_segment *segs;
	size_t n;
	unsigned gaps;         /* segment numbers missing, the first named below */
	char first_gap[256];   /* "disk.002", "case.E02"; "" when none */
};
void walk_media_free(struct walk_media *m);

struct walk_entry {
	char *path;            /* owned by the caller after walk_next() */
	bool followed;         /* st is of what a symlink at path points to (stat, not lstat):
	                        * the opener must follow links too, else refuse them */
	enum walk_type type;
	struct stat st;
	int err;               /* errno for WALK_ERROR */
	const char *what;      /* for WALK_ERROR: "stat", "opendir", "readdir", "closedir", "loop" */
	struct walk_media *media; /* WALK_MEDIA: owned by the caller after walk_next();
	                        * path and st are its first segment's */
	int root;              /* the PATH it was found under: paths[root] of walk_open() */
	int at_fd;             /* where to open it: openat(at_fd, walk_at_name(e, path)), the
	                        * directory it was listed in (valid until the next walk_next())
	                        * or AT_FDCWD; the same for a WALK_MEDIA's segments */
};

struct walker;

/* group: segment sets are WALK_MEDIA entries (else every file is its own
 * entry: verify of a report that listed a set's files one by one). */
int walk_open(char **paths, int npaths, bool follow, bool group, struct walker **out);
/* Next entry: 1 when one was stored, 0 at the end, -ENOMEM. */
int walk_next(struct walker *w, struct walk_entry *e);
/* The name of path (e's, or one of its segments') relative to e->at_fd. */
const char *walk_at_name(const struct walk_entry *e, const char *path);
void walk_close(struct walker *w);

/* path (len bytes, a NUL not needed) is dir itself or below it, as the walk
 * joins names: dir as given, "a", "a/" and "/" all work. */
bool walk_path_within(const char *path, size_t len, const char *dir);

/* The places a walk could not look into (its WALK_ERROR entries): nothing
 * under them was seen, so nothing under them may be called gone.  Bounded:
 * past WALK_UNLISTED_MAX paths (or out of memory) it overflows, and then
 * covers every path.  Not thread-safe: the owner locks. */
#define WALK_UNLISTED_MAX 100000
struct walk_unlisted {
	char **paths;
	size_t n, cap;
	bool overflow;
};
void walk_unlisted_add(struct walk_unlisted *u, const char *path);
/* path (len bytes, a NUL not needed) is under one of them, or u overflowed. */
bool walk_unlisted_covers(const struct walk_unlisted *u, const char *path, size_t len);
void walk_unlisted_free(struct walk_unlisted *u);

#endif
