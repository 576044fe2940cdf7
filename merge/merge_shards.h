/*
 * merge_shards.h - the shard reports `imgscan merge` is given: what each
 * says of itself (run.shard, tool, options, summary), whether they are the
 * N parts of one scan, and what the merged report says of them.
 */
#ifndef IMGSCAN_MERGE_SHARDS_H
#define IMGSCAN_MERGE_SHARDS_H

#include "../verify/report_read.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct merge_shard {
	const char *file;          /* as given */
	struct stat st;            /* when first read: it must not change before the second pass */
	struct report_head head;   /* tool, run, summary (owned) */
	uint64_t images;           /* image objects it holds */
	unsigned index, count;     /* run.shard */
	const char *by;
};

/* Take a shard report's head (after the first pass).  Returns 0, or -1
 * with a message in err: not a whole report (no summary), or no run.shard. */
int merge_shard_take(struct merge_shard *s, char *err, size_t errlen);

/* Whether the n shards are the parts of one scan: the same count, rule,
 * roots, imgscan and library versions and result-deciding options, each
 * index once and none missing, none stopped early (unless allow_partial),
 * none that walked nothing where another walked entries.  Returns 0, or
 * -1 with the first problem in err (missing shards all named).
 * *tree_differs: the complete shards did not all walk the same tree (names
 * and sizes); refused with --shard-by size (err set), a warning with path. */
int merge_shards_check(const struct merge_shard *s, size_t n, bool allow_partial, bool *tree_differs, char *err,
		       size_t errlen);

/* The merged report's run object: a new id, the earliest start and the
 * latest end of the shards, this host, output and argv, the first shard's
 * options (format: the merged report's), and run.merge (renumbered: the
 * images' indexes are the merge's, see merge_index_renumber()). */
cJSON *merge_run_json(const struct merge_shard *s, size_t n, const char *output, const char *format, int argc,
		      char **argv, bool tree_differs, bool renumbered);

/* The sums over the shards' summaries that the images do not give back
 * (entries, other files, links, special files, walk errors...). */
struct merge_sums {
	uint64_t entries, other_files, other_bytes, symlinks, specials, walk_errors, not_listed;
	uint64_t direct_fallbacks, tsk_restarts, lost_buffers;
	bool fixed_buffers, any_lost_buffers;
	int worst_exit;            /* the largest shard exit status of 0, 1, 2 */
	const struct merge_shard *stopped; /* the first shard stopped early (partial), or NULL */
	double wall_seconds;       /* the latest end less the earliest start */
};
void merge_sums(const struct merge_shard *s, size_t n, struct merge_sums *out);

#endif
