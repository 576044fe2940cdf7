/*
 * merge_index.c - the merge's temporary index (see merge_index.h).
 */
#include "merge_index.h"
#include "../report/duplicates.h"
#include "../report/image_json.h"
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

/* One image of a group: {"index", "path"} as a scan writes it. */
static void add_member(cJSON *images, sqlite3_stmt *st)
{
	cJSON *img = cJSON_CreateObject();
	size_t len = (size_t)sqlite3_column_bytes(st, 3);
	const void *bytes = sqlite3_column_blob(st, 3);
	char *path = malloc(len + 1);

	cJSON_AddNumberToObject(img, "index", (double)sqlite3_column_int64(st, 2));
	if (path) {
		memcpy(path, bytes ? bytes : "", len);
		path[len] = '\0';
		json_add_path(img, "path", path);
		free(path);
	}
	cJSON_AddItemToArray(images, img);
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

cJSON *merge_index_duplicates(struct merge_index *x, char *err, size_t errlen)
{
	static const char q[] =
		"SELECT xxh, size, idx, path FROM img WHERE xxh IS NOT NULL AND (xxh, size) IN"
		" (SELECT xxh, size FROM img WHERE xxh IS NOT NULL GROUP BY xxh, size HAVING count(*) > 1)"
		" ORDER BY size DESC, xxh, idx";
	sqlite3_stmt *st;
	cJSON *groups = cJSON_CreateArray(), *group = NULL, *images = NULL;
	unsigned char last[16];
	sqlite3_int64 last_size = -1;
	int rc;

	if (sqlite3_exec(x->db, "COMMIT; CREATE INDEX img_content ON img (xxh, size);", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(x->db, q, -1, &st, NULL)) {
		cJSON_Delete(groups);
		db_error(x, "cannot group the duplicates", err, errlen);
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *xxh = sqlite3_column_blob(st, 0);
		sqlite3_int64 size = sqlite3_column_int64(st, 1);
		char hex[33];

		if (!group || size != last_size || memcmp(xxh, last, 16)) {
			group = cJSON_CreateObject();
			xxh128_hex(xxh, hex);
			cJSON_AddStringToObject(group, "xxh128", hex);
			cJSON_AddNumberToObject(group, "size", (double)size);
			images = cJSON_AddArrayToObject(group, "images");
			cJSON_AddItemToArray(groups, group);
			memcpy(last, xxh, 16);
			last_size = size;
		}
		add_member(images, st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(groups);
		db_error(x, "cannot group the duplicates", err, errlen);
		return NULL;
	}
	return groups;
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
	sqlite3_close(x->db);
	free(x);
}
