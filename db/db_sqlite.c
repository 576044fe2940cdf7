/*
 * db_sqlite.c - the evidence database in an SQLite file (db.h): one
 * prepared INSERT per table, one transaction per report.  The file is
 * guarded like the catalog (catalog/sqlite_guard.h): a regular file with
 * one name, ours or new, never one a newer imgscan wrote.
 */
#include "db.h"
#include "../catalog/sqlite_guard.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_sqlite {
	struct db base;
	sqlite3 *h;
	sqlite3_stmt *insert[TB_COUNT];
	bool in_txn;
};

static const struct sqlite_owner db_owner = {DB_APPLICATION_ID, DB_SCHEMA_VERSION, "database"};

static struct db_sqlite *of(struct db *db)
{
	return (struct db_sqlite *)db;
}

static int fail(struct db_sqlite *d, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(d->h));
	return -1;
}

/* "INSERT INTO t (a, b) VALUES (?1, ?2)" */
static int prepare_insert(struct db_sqlite *d, enum db_table t, char *err, size_t errlen)
{
	const struct db_table_def *def = &db_tables[t];
	char sql[2048];
	size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (", def->name);

	for (size_t i = 0; i < def->ncols; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s", i ? ", " : "", def->cols[i]);
	n += (size_t)snprintf(sql + n, sizeof(sql) - n, ") VALUES (");
	for (size_t i = 0; i < def->ncols; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s?%zu", i ? ", " : "", i + 1);
	snprintf(sql + n, sizeof(sql) - n, ")");
	if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &d->insert[t], NULL))
		return fail(d, "cannot prepare an insert", err, errlen);
	return 0;
}

/* The schema, made in a write transaction when the file has none: a
 * second load starting at the same time finds it made. */
static int make_schema(struct db_sqlite *d, char *err, size_t errlen)
{
	char *msg = NULL, sql[128];
	int64_t version;

	if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, &msg))
		goto fail;
	if (sqlite_guard_identity(d->h, &db_owner, &version, err, errlen)) {
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d", DB_SCHEMA_VERSION,
		 DB_APPLICATION_ID);
	if (version == 0 &&
	    (sqlite3_exec(d->h, db_schema_sqlite, NULL, NULL, &msg) || sqlite3_exec(d->h, sql, NULL, NULL, &msg)))
		goto fail;
	if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, &msg))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot create the schema: %s", msg ? msg : sqlite3_errmsg(d->h));
	sqlite3_free(msg);
	sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int sq_prepare(struct db *db, char *err, size_t errlen)
{
	struct db_sqlite *d = of(db);
	int64_t version;

	if (sqlite_guard_identity(d->h, &db_owner, &version, err, errlen))
		return -1;
	/* FULL: a load that said "loaded" survives a power cut */
	if (sqlite3_exec(d->h, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", NULL,
			 NULL, NULL))
		return fail(d, "cannot set up the connection", err, errlen);
	if (version == 0 && make_schema(d, err, errlen))
		return -1;
	for (int t = 0; t < TB_COUNT; t++)
		if (prepare_insert(d, (enum db_table)t, err, errlen))
			return -1;
	return 0;
}

static int sq_begin(struct db *db, char *err, size_t errlen)
{
	struct db_sqlite *d = of(db);

	/* IMMEDIATE: the write lock now, so two loads never deadlock later */
	if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return fail(d, "cannot begin a transaction", err, errlen);
	d->in_txn = true;
	return 0;
}

static int query_int(struct db_sqlite *d, const char *sql, const char *param, int64_t *out, bool *found, char *err,
		     size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL))
		return fail(d, "cannot query", err, errlen);
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(d, "cannot query", err, errlen);
	return 0;
}

static int sq_new_run_key(struct db *db, int64_t *key, char *err, size_t errlen)
{
	bool found;

	return query_int(of(db), "SELECT coalesce(max(run_key), 0) + 1 FROM runs", NULL, key, &found, err, errlen);
}

static int sq_run_loaded(struct db *db, const char *run_id, bool *found, char *err, size_t errlen)
{
	int64_t key;

	return query_int(of(db), "SELECT run_key FROM runs WHERE run_id = ?1", run_id, &key, found, err, errlen);
}

static int sq_row(struct db *db, enum db_table t, const struct dv *vals, char *err, size_t errlen)
{
	struct db_sqlite *d = of(db);
	sqlite3_stmt *st = d->insert[t];
	int rc;

	for (size_t i = 0; i < db_tables[t].ncols; i++) {
		int c = (int)i + 1;

		if (vals[i].t == DV_NULL)
			rc = sqlite3_bind_null(st, c);
		else if (vals[i].t == DV_INT || vals[i].t == DV_BOOL)
			rc = sqlite3_bind_int64(st, c, vals[i].i);
		else
			rc = sqlite3_bind_text(st, c, vals[i].s, -1, SQLITE_STATIC);
		if (rc)
			return fail(d, "cannot bind a value", err, errlen);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot insert into %s: %s", db_tables[t].name, sqlite3_errmsg(d->h));
		return -1;
	}
	return 0;
}

static int sq_commit(struct db *db, char *err, size_t errlen)
{
	struct db_sqlite *d = of(db);

	if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL))
		return fail(d, "cannot commit", err, errlen); /* still open: the caller rolls back */
	d->in_txn = false;
	return 0;
}

static void sq_rollback(struct db *db)
{
	struct db_sqlite *d = of(db);

	if (d->in_txn)
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
	d->in_txn = false;
}

static void sq_close(struct db *db)
{
	struct db_sqlite *d = of(db);

	sq_rollback(db);
	for (int t = 0; t < TB_COUNT; t++)
		sqlite3_finalize(d->insert[t]);
	sqlite3_close(d->h);
	free(d);
}

static const struct db_ops sqlite_ops = {
	.prepare = sq_prepare, .begin = sq_begin, .new_run_key = sq_new_run_key, .run_loaded = sq_run_loaded,
	.row = sq_row, .commit = sq_commit, .rollback = sq_rollback, .close = sq_close,
};

int db_sqlite_open(const char *path, struct db **out, char *err, size_t errlen)
{
	struct db_sqlite *d;

	*out = NULL;
	if (!(d = calloc(1, sizeof(*d))))
		return snprintf(err, errlen, "out of memory"), -1;
	d->base.ops = &sqlite_ops;
	d->base.kind = "sqlite";
	if (sqlite_guard_open(path, &db_owner, 60000, &d->h, err, errlen)) {
		sq_close(&d->base);
		return -1;
	}
	*out = &d->base;
	return 0;
}
