/*
 * items.h - what verify says about each image: one item per image the
 * report lists (in report order), then one per image found under the PATHs
 * that the report does not list (in walk order).  An item keeps only what
 * its output needs: the listed entry, what this run measured, the errors.
 *
 * Statuses: unchanged, changed (differs names what), missing, moved (a
 * missing listed image found, same XXH128 and size, at a path the report
 * does not list), new, error (not read completely), unverifiable (the
 * report holds no digest for it); a partial run leaves the listed images
 * it did not reach "not reached" (not written out, counted).
 */
#ifndef IMGSCAN_VERIFY_ITEMS_H
#define IMGSCAN_VERIFY_ITEMS_H

#include "report_read.h"
#include "strindex.h"
#include "../scanner/result.h"

#include <stdbool.h>
#include <stdint.h>

enum item_status {
	ITEM_PENDING,              /* nothing known yet */
	ITEM_UNCHANGED, ITEM_CHANGED, ITEM_MISSING, ITEM_MOVED, ITEM_NEW, ITEM_ERROR, ITEM_UNVERIFIABLE,
	ITEM_NOT_REACHED,          /* a partial run stopped before it */
	ITEM_CLAIMED,              /* a new image that is a moved one's moved_to: not an item of its own */
	ITEM_STATUS_COUNT
};
extern const char *const item_status_names[ITEM_STATUS_COUNT];

/* differs, in the order the output names them: xxh128, md5, sha1, sha256,
 * sectors, size. */
#define DIFF_XXH128 1u
#define DIFF_CRYPTO(i) (2u << (i))
#define DIFF_SECTORS (2u << HASH_COUNT)
#define DIFF_SIZE (4u << HASH_COUNT)

/* What this run read (a complete read only). */
struct measured {
	uint64_t size;
	char xxh128[33];
	char crypto[HASH_COUNT][HASH_HEX_MAX];
	uint32_t sector_size;
	char sector_list_xxh128[33];
};

struct item_error {
	const char *stage;         /* a string literal: "open", "read", "walk" */
	int err;                   /* errno, 0 when none applies */
	bool has_offset;           /* read errors: offset is where */
	uint64_t offset;
	char message[240];
};

struct item {
	const struct listed_image *listed; /* NULL: an image the report does not list */
	char *found_path;          /* new: the path walked; moved: where it was found (owned) */
	uint64_t walk_index;       /* new: the walk's order */
	enum item_status status;
	bool seen;                 /* the walk met it (so it is not missing) */
	bool have_actual;          /* actual holds a complete read */
	unsigned differs;          /* DIFF_* (changed) */
	struct measured actual;
	struct item_error *errors; /* error: why (owned) */
	unsigned nerrors;
	size_t next;               /* the next item sharing its key in an index chain, or NO_ITEM */
};

/* A walk error that is not about a listed path itself (a directory that
 * could not be listed): the listed images below it that were not met are
 * errors, not missing. */
struct walk_failure {
	char *path;
	int err;
	const char *what;          /* "opendir", "readdir", "stat"... */
};

struct item_table {
	struct item *v;            /* the listed items first, then the new ones */
	size_t n, cap, nlisted;
	struct strindex by_path;   /* listed path -> first listed item with it (then ->next) */
};

/* One item per listed image.  Returns 0 or -ENOMEM. */
int items_init(struct item_table *t, const struct listed_report *rep);
void items_free(struct item_table *t);
/* The first listed item with this path (its duplicates follow through
 * next), or NULL. */
struct item *items_find(struct item_table *t, const char *path);
/* An item for an image the report does not list.  NULL on ENOMEM.  The
 * pointer is valid until the next items_add_new. */
struct item *items_add_new(struct item_table *t, const char *path, uint64_t walk_index);
/* The path an item is known by: the listed one, or the one found. */
const char *item_path(const struct item *it);

/* The pipeline's result for it: missing (vanished before it could be
 * opened), error, unverifiable, unchanged, changed, or new. */
void item_record(struct item *it, const struct image_result *r);
/* An error of its own (stage "walk": the walk could not reach or examine
 * it), err 0 when no errno applies. */
void item_fail(struct item *it, const char *stage, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* After the run: the listed items the walk never met become not reached
 * (a partial run), error (under a directory in failures, or there but not
 * a file), or missing; then missing ones whose XXH128 and size a new
 * image has become moved.  Returns 0 or -ENOMEM. */
int items_finish(struct item_table *t, bool partial, const struct walk_failure *failures, size_t nfailures);

#endif
