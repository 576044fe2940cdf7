/*
 * catalog.h - the incremental catalog: one SQLite file (--state FILE) that
 * remembers, per file path, which version of the file was measured (device,
 * inode, size, mtime and ctime in nanoseconds) and the whole result, plus
 * one row per run.  Schema: catalog/SCHEMA.md.
 *
 * Thread-safe (one mutex): lookups come from the reader thread, results
 * from the hashing threads.  Writes go into one open transaction that is
 * committed every CATALOG_BATCH writes or second, so a crash loses at most
 * the last batch and never leaves a catalog that does not open.
 *
 * Errors are returned, never printed.  After the first SQLite error the
 * catalog goes quiet (lookups miss, writes are dropped) and catalog_error()
 * says what happened: the scan goes on without it.
 */
#ifndef IMGSCAN_CATALOG_H
#define IMGSCAN_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define CATALOG_VERSION 1            /* PRAGMA user_version this build writes */
#define CATALOG_APPLICATION_ID 0x494d4753 /* "IMGS": PRAGMA application_id */

/* Which version of a file a result belongs to. */
struct catalog_stamp {
	int64_t dev, ino, size, mtime_ns, ctime_ns;
};

struct catalog_row {
	struct catalog_stamp stamp;
	bool gone;        /* marked gone by an earlier run */
	bool is_image;    /* false: probed and found not to be an image */
	bool reusable;    /* the result may stand in for a new read */
	char *options;    /* hashing-options fingerprint (JSON text); malloc'd */
	char *result;     /* the image's report object (JSON text); malloc'd, NULL for other files */
	char xxh128[33];  /* "" when none */
	char reference_xxh128[33]; /* the digest first measured with these stamps, "" when none */
	char measured_at[40];
};

struct catalog_put {
	const char *path;
	struct catalog_stamp stamp;
	bool is_image, reusable;
	const char *options;     /* NULL for other files */
	const char *result;      /* NULL for other files */
	const char *xxh128;      /* NULL or "" when none */
	const char *reference_xxh128; /* kept across rereads with unchanged stamps */
	const char *measured_at;
};

struct catalog_run_end {
	const char *ended;
	const char *report;      /* NULL: stdout */
	bool partial;
	int exit_status;
	uint64_t new_images, changed, reread, reused, gone, other_files;
};

struct catalog;

void catalog_stamp_from_stat(const struct stat *st, struct catalog_stamp *out);

/* Open or create.  Refuses (and leaves untouched) a file that is not a
 * regular file, not SQLite, not an imgscan catalog, or written by a newer
 * imgscan.  Returns 0, or -1 with the reason in err. */
int catalog_open(const char *path, struct catalog **out, char *err, size_t errlen);

/* The run row.  argv and options are JSON text. */
int catalog_begin_run(struct catalog *c, const char *uuid, const char *started, const char *host,
		      const char *version, const char *argv, const char *options);

/* 1 with *row filled (free with catalog_row_free), 0 when the path is not
 * in the catalog, -1 after an error. */
int catalog_lookup(struct catalog *c, const char *path, struct catalog_row *row);
void catalog_row_free(struct catalog_row *row);

/* Record a file seen and measured in this run (replaces its row). */
int catalog_put(struct catalog *c, const struct catalog_put *p);
/* Record a file seen in this run, its earlier result standing. */
int catalog_mark_seen(struct catalog *c, const char *path);

/* Every present row not seen in this run for which covered() is true (the
 * run looked where the file was and did not find it): *ngone counts them,
 * and with apply they are marked gone. */
int catalog_mark_gone(struct catalog *c, bool (*covered)(void *ctx, const char *path, size_t len), void *ctx,
		      bool apply, uint64_t *ngone);

/* Commit the open batch if it is a second old, even with no new write
 * (a long image must not keep the ones before it uncommitted). */
int catalog_commit_if_due(struct catalog *c);

int catalog_end_run(struct catalog *c, const struct catalog_run_end *end);

/* Commit and close; NULL is fine.  Returns 0 or -1 (see catalog_error
 * before closing). */
int catalog_close(struct catalog *c);

/* True after an error, with the first one's text in out. */
bool catalog_error(struct catalog *c, char *out, size_t len);

#endif
