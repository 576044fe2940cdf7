/*
 * merge_index.h - what `imgscan merge` must know across all the shards'
 * images without holding them: that no image is in two shard reports, and
 * which images share a digest (summary.duplicates).  Kept in a private
 * temporary SQLite database (SQLite's own temporary file, in SQLITE_TMPDIR,
 * TMPDIR or /var/tmp, unlinked at once so nothing stays behind), with a
 * bounded page cache: memory does not grow with the number of images.
 */
#ifndef IMGSCAN_MERGE_INDEX_H
#define IMGSCAN_MERGE_INDEX_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct merge_index;

/* Returns 0, or -1 with a message in err. */
int merge_index_open(struct merge_index **out, char *err, size_t errlen);
/* Note one image object of shard report number `report` (0-based, in the
 * order given).  Returns 0; 1 when the same path is in an earlier report
 * already (*other_report says which); -1 with a message in err. */
int merge_index_add(struct merge_index *x, const cJSON *img, unsigned report, unsigned *other_report, char *err,
		    size_t errlen);
/* Note a walk error (a skipped entry with reason "error") of report number
 * `report`.  Every shard whose walk meets an error reports it, so several
 * reports may list one path: *first is true for the report that listed it
 * first (asked again in the second pass, the same report gets true
 * again), false for the others.  Returns 0, or -1 with err set. */
int merge_index_walk_error(struct merge_index *x, const cJSON *entry, unsigned report, bool *first, char *err,
			   size_t errlen);
/* After the first pass: when two images share an index (the archive
 * changed between the shards' walks, so their walks numbered it
 * differently), number every image again, in the order of (index, report):
 * *renumbered says so.  Returns 0, or -1 with a message in err. */
int merge_index_renumber(struct merge_index *x, bool *renumbered, char *err, size_t errlen);
/* The image's new index after merge_index_renumber().  0, or -1. */
int merge_index_new_index(struct merge_index *x, const cJSON *img, double *index, char *err, size_t errlen);
/* After merge_index_renumber(), before the merged report is written:
 * ready the query of summary.duplicates, so that a failure here is said
 * while nothing is written yet.  Returns 0, or -1 with a message in err. */
int merge_index_group(struct merge_index *x, char *err, size_t errlen);
/* summary.duplicates, as a scan groups them (report/duplicates.h): groups
 * of two or more images with equal XXH128 and size (empty ones left out),
 * largest size first, then by digest; a group's images by index.  Written
 * to out row by row as the index gives them (dup_stream), never held: the
 * bytes a scan's report would have.  Returns 0 (a failed write is out's
 * sticky error), or -1 with a message in err when the index fails midway:
 * out then holds a part, which the caller aborts. */
struct outfile;
int merge_index_write_duplicates(struct merge_index *x, struct outfile *out, char *err, size_t errlen);
void merge_index_close(struct merge_index *x);

#endif
