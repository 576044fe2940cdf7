/*
 * merge_index.c - the merge's temporary index (see merge_index.h).
 */
#include "merge_index.h"
#include "../report/duplicates.h"
#include "../report/image_json.h"
#include "../report/outfile.h"
#include "../report/pathenc.h"
#include "../report/tally.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct merge_index {
	sqlite3 *db;
	sqlite3_stmt *add, *owner, *lookup;
	sqlite3_stmt *werr_add, *werr_owner; /* walk errors: the first report to list each */
	sqlite3_stmt *groups;      /* summary.duplicates' rows, ready before the report is written */
};

static int db_error(struct merge_index *x, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "the merge's temporary index: %s: %s", what, sqlite3_errmsg(x->db));
	return -1;
}

int merge_index_open(struct merge_index **out, char *err, size_t errlen)
{
	struct merge_index *x = calloc(1, sizeof(*x));
	/* "": a private on-disk database, deleted when closed; the cache is
	 * bounded (4 MiB), the rest spills to that file. */
	static const char setup[] = "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4096;"
				    "CREATE TABLE img (path BLOB PRIMARY KEY, report INTEGER, idx INTEGER, xxh BLOB,"
				    " size INTEGER);"
				    "CREATE TABLE werr (path BLOB PRIMARY KEY, report INTEGER);"
				    "BEGIN;";

	*out = NULL;
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2("", &x->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_exec(x->db, setup, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, "INSERT INTO img VALUES (?1, ?2, ?3, ?4, ?5)", -1, &x->add, NULL) ||
	    sqlite3_prepare_v2(x->db, "SELECT report FROM img WHERE path = ?1", -1, &x->owner, NULL) ||
	    sqlite3_prepare_v2(x->db, "INSERT OR IGNORE INTO werr VALUES (?1, ?2)", -1, &x->werr_add, NULL) ||
	    sqlite3_prepare_v2(x->db, "SELECT report FROM werr WHERE path = ?1", -1, &x->werr_owner, NULL)) {
		if (x->db)
			db_error(x, "cannot create it", err, errlen);
		else
			snprintf(err, errlen, "the merge's temporary index: cannot create it: out of memory");
		merge_index_close(x);
		return -1;
	}
	*out = x;
	return 0;
}

int merge_index_add(struct merge_index *x, const cJSON *img, unsigned report, unsigned *other_report, char *err,
		    size_t errlen)
{
	const cJSON *xxh = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(img, "hashes"), "xxh128");
	unsigned char digest[16];
	uint64_t size = json_u64(img, "size");
	char *path = image_path_bytes(img);
	int rc;

	if (!path) {
		snprintf(err, errlen, "%s", errno == ENOMEM ? "out of memory" : "an image without a valid path");
		return -1;
	}
	sqlite3_reset(x->add);
	sqlite3_bind_blob(x->add, 1, path, (int)strlen(path), SQLITE_TRANSIENT);
	sqlite3_bind_int64(x->add, 2, report);
	sqlite3_bind_int64(x->add, 3, (sqlite3_int64)json_u64(img, "index"));
	/* Only a whole-file digest of a non-empty image groups (duplicates.h). */
	if (cJSON_IsString(xxh) && parse_xxh128(xxh->valuestring, digest) && size)
		sqlite3_bind_blob(x->add, 4, digest, sizeof(digest), SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(x->add, 4);
	sqlite3_bind_int64(x->add, 5, (sqlite3_int64)(size > INT64_MAX ? INT64_MAX : size));
	rc = sqlite3_step(x->add);
	if (rc == SQLITE_CONSTRAINT) {
		sqlite3_reset(x->owner);
		sqlite3_bind_blob(x->owner, 1, path, (int)strlen(path), SQLITE_TRANSIENT);
		*other_report = sqlite3_step(x->owner) == SQLITE_ROW ? (unsigned)sqlite3_column_int64(x->owner, 0) : 0;
		free(path);
		return 1;
	}
	free(path);
	return rc == SQLITE_DONE ? 0 : db_error(x, "cannot note an image", err, errlen);
}

int merge_index_walk_error(struct merge_index *x, const cJSON *entry, unsigned report, bool *first, char *err,
			   size_t errlen)
{
	char *path = image_path_bytes(entry);
	int rc;

	if (!path)
		return snprintf(err, errlen, "%s", errno == ENOMEM ? "out of memory" : "a walk error without a valid path"),
		       -1;
	sqlite3_reset(x->werr_add);
	sqlite3_bind_blob(x->werr_add, 1, path, (int)strlen(path), SQLITE_TRANSIENT);
	sqlite3_bind_int64(x->werr_add, 2, report);
	rc = sqlite3_step(x->werr_add);
	if (rc == SQLITE_DONE && sqlite3_changes(x->db)) {
		*first = true;
	} else if (rc == SQLITE_DONE) { /* listed before: by this report or an earlier one? */
		sqlite3_reset(x->werr_owner);
		sqlite3_bind_blob(x->werr_owner, 1, path, (int)strlen(path), SQLITE_TRANSIENT);
		rc = sqlite3_step(x->werr_owner);
		*first = rc == SQLITE_ROW && (unsigned)sqlite3_column_int64(x->werr_owner, 0) == report;
		rc = rc == SQLITE_ROW ? SQLITE_DONE : rc;
	}
	free(path);
	return rc == SQLITE_DONE ? 0 : db_error(x, "cannot note a walk error", err, errlen);
}

int merge_index_renumber(struct merge_index *x, bool *renumbered, char *err, size_t errlen)
{
	static const char renumber[] =
		"CREATE TEMP TABLE renum AS SELECT path, row_number() OVER (ORDER BY idx, report) - 1 AS n FROM img;"
		"UPDATE img SET idx = renum.n FROM renum WHERE renum.path = img.path;"
		"DROP TABLE renum;";
	sqlite3_stmt *st;
	int rc;

	*renumbered = false;
	if (sqlite3_exec(x->db, "COMMIT; CREATE INDEX img_idx ON img (idx); BEGIN;", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(x->db, "SELECT 1 FROM img GROUP BY idx HAVING count(*) > 1 LIMIT 1", -1, &st, NULL))
		return db_error(x, "cannot check the indexes", err, errlen);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW || sqlite3_exec(x->db, renumber, NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(x->db, "SELECT idx FROM img WHERE path = ?1", -1, &x->lookup, NULL))
		return db_error(x, "cannot number the images again", err, errlen);
	*renumbered = true;
	return 0;
}

int merge_index_new_index(struct merge_index *x, const cJSON *img, double *index, char *err, size_t errlen)
{
	char *path = image_path_bytes(img);
	int rc;

	if (!path)
		return snprintf(err, errlen, "an image without a valid path"), -1;
	sqlite3_reset(x->lookup);
	sqlite3_bind_blob(x->lookup, 1, path, (int)strlen(path), SQLITE_TRANSIENT);
	rc = sqlite3_step(x->lookup);
	free(path);
	if (rc != SQLITE_ROW)
		return db_error(x, "an image of the second pass is not in the first", err, errlen);
	*index = (double)sqlite3_column_int64(x->lookup, 0);
	return 0;
}

#ifdef IMGSCAN_TEST_HOOKS
/* Test-only (imgscan-testhooks): IMGSCAN_TEST_MERGE_GROUPS_FAIL=N
 * interrupts the database once N rows of summary.duplicates were read
 * (N >= 1: before the first row no statement runs, and SQLite ignores an
 * interrupt then), so that a SQLite error in the middle of writing them
 * (the merged report half written) can be tested.  Not in the shipped
 * binary. */
static int step_groups(struct merge_index *x)
{
	static long rows;
	const char *v = getenv("IMGSCAN_TEST_MERGE_GROUPS_FAIL");

	if (v && rows++ == atol(v))
		sqlite3_interrupt(x->db);
	return sqlite3_step(x->groups);
}
#else
static int step_groups(struct merge_index *x)
{
	return sqlite3_step(x->groups);
}
#endif

int merge_index_group(struct merge_index *x, char *err, size_t errlen)
{
	static const char q[] =
		"SELECT xxh, size, idx, path FROM img WHERE xxh IS NOT NULL AND (xxh, size) IN"
		" (SELECT xxh, size FROM img WHERE xxh IS NOT NULL GROUP BY xxh, size HAVING count(*) > 1)"
		" ORDER BY size DESC, xxh, idx";

	if (sqlite3_exec(x->db, "COMMIT; CREATE INDEX img_content ON img (xxh, size);", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(x->db, q, -1, &x->groups, NULL))
		return db_error(x, "cannot group the duplicates", err, errlen);
	return 0;
}

/* The path column of the row as a NUL-terminated string in *buf (grown as
 * needed).  Returns it, or NULL on ENOMEM. */
static const char *row_path(sqlite3_stmt *st, int col, char **buf, size_t *cap)
{
	size_t len = (size_t)sqlite3_column_bytes(st, col);
	const void *bytes = sqlite3_column_blob(st, col);

	if (len + 1 > *cap) {
		char *grown = realloc(*buf, len + 1);
		if (!grown)
			return NULL;
		*buf = grown;
		*cap = len + 1;
	}
	memcpy(*buf, bytes ? bytes : "", len);
	(*buf)[len] = '\0';
	return *buf;
}

int merge_index_write_duplicates(struct merge_index *x, struct outfile *out, char *err, size_t errlen)
{
	struct dup_stream ds;
	unsigned char last[16];
	sqlite3_int64 last_size = -1;
	char *path = NULL;
	size_t cap = 0;
	int rc = SQLITE_DONE;

	dup_stream_begin(&ds, out);
	/* A row at a time, in the order the groups are written: a group's
	 * images follow one another, a new digest or size starts the next. */
	while (!out->err && (rc = step_groups(x)) == SQLITE_ROW) {
		const unsigned char *xxh = sqlite3_column_blob(x->groups, 0);
		sqlite3_int64 size = sqlite3_column_int64(x->groups, 1);
		const char *p;

		if (!xxh || sqlite3_column_bytes(x->groups, 0) != 16) {
			free(path);
			return snprintf(err, errlen, "the merge's temporary index: a digest that is not 16 bytes"), -1;
		}
		if (!ds.groups || size != last_size || memcmp(xxh, last, 16)) {
			dup_stream_group(&ds, xxh, (uint64_t)size);
			memcpy(last, xxh, 16);
			last_size = size;
		}
		if (!(p = row_path(x->groups, 3, &path, &cap))) {
			free(path);
			return snprintf(err, errlen, "out of memory"), -1;
		}
		dup_stream_image(&ds, (uint64_t)sqlite3_column_int64(x->groups, 2), p);
	}
	free(path);
	if (out->err) /* said by the caller, as any write failure */
		return 0;
	if (rc != SQLITE_DONE)
		return db_error(x, "cannot read the duplicates back", err, errlen);
	dup_stream_end(&ds);
	return 0;
}

void merge_index_close(struct merge_index *x)
{
	if (!x)
		return;
	sqlite3_finalize(x->add);
	sqlite3_finalize(x->owner);
	sqlite3_finalize(x->lookup);
	sqlite3_finalize(x->werr_add);
	sqlite3_finalize(x->werr_owner);
	sqlite3_finalize(x->groups);
	sqlite3_close(x->db);
	free(x);
}
