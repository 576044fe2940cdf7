/*
 * db_pg.c - the evidence database in PostgreSQL (db.h), through libpq.
 * Rows are kept per table as COPY text and sent with COPY ... FROM STDIN
 * when a few MiB have gathered and at the commit: one round trip per
 * batch, not per row (a 10,000-image report is some 100,000 rows).  The
 * foreign keys are deferred to the commit, so the order of the batches
 * does not matter.
 */
#include "db.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_FLUSH_BYTES (8u << 20) /* COPY text gathered before it is sent */

struct copy_buf {
	char *p;
	size_t len, cap;
};

struct db_pg {
	struct db base;
	PGconn *conn;
	struct copy_buf rows[TB_COUNT];
	size_t buffered;           /* bytes in all of rows[] */
	bool in_txn;
	bool oom;                  /* a buffer could not grow: the load fails */
};

static struct db_pg *of(struct db *db)
{
	return (struct db_pg *)db;
}

/* libpq's message without its trailing newline. */
static int fail_msg(const char *what, const char *msg, char *err, size_t errlen)
{
	size_t n = strlen(msg);

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	snprintf(err, errlen, "%s: %.*s", what, (int)n, msg);
	return -1;
}

/* Run sql (no parameters, no rows wanted). */
static int exec(struct db_pg *d, const char *sql, const char *what, char *err, size_t errlen)
{
	PGresult *res = PQexec(d->conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = fail_msg(what, PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : PQerrorMessage(d->conn), err,
			      errlen);
	PQclear(res);
	return rc;
}

/* The first column of the first row of sql with at most one text
 * parameter: *found says whether there was a row, *out its value. */
static int query_int(struct db_pg *d, const char *sql, const char *param, int64_t *out, bool *found, char *err,
		     size_t errlen)
{
	PGresult *res = PQexecParams(d->conn, sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0);
	int rc = 0;

	*found = false;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = fail_msg("cannot query", PQresultErrorMessage(res), err, errlen);
	} else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
		*found = true;
		*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	return rc;
}

/* Create the schema unless it is there, under a lock so that two loads
 * starting together make it once; refuse a newer one, or tables of ours'
 * names that are someone else's. */
static int pg_prepare(struct db *db, char *err, size_t errlen)
{
	struct db_pg *d = of(db);
	int64_t version = 0, foreign = 0;
	bool ours, found;

	if (exec(d, "BEGIN; SELECT pg_advisory_xact_lock(1229801284)", "cannot begin", err, errlen))
		return -1;
	if (query_int(d, "SELECT (to_regclass('imgscan_schema') IS NOT NULL)::int", NULL, &version, &ours, err, errlen))
		goto fail;
	if (version && query_int(d, "SELECT max(version) FROM imgscan_schema", NULL, &version, &found, err, errlen))
		goto fail;
	if (!version &&
	    query_int(d, "SELECT (to_regclass('runs') IS NOT NULL OR to_regclass('images') IS NOT NULL)::int", NULL,
		      &foreign, &found, err, errlen))
		goto fail;
	if (version > DB_SCHEMA_VERSION) {
		snprintf(err, errlen, "written by a newer imgscan (database version %" PRId64 "; this one knows up to %d); "
			 "left untouched", version, DB_SCHEMA_VERSION);
		goto fail;
	}
	if (!version && foreign) {
		snprintf(err, errlen, "the database has tables named runs or images that are not imgscan's (no "
			 "imgscan_schema table); left untouched: give another database or schema");
		goto fail;
	}
	if (!version && exec(d, db_schema_postgresql, "cannot create the schema", err, errlen))
		goto fail;
	return exec(d, "COMMIT", "cannot create the schema", err, errlen);
fail:
	exec(d, "ROLLBACK", "rollback", NULL, 0);
	return -1;
}

static int pg_begin(struct db *db, char *err, size_t errlen)
{
	struct db_pg *d = of(db);

	if (exec(d, "BEGIN", "cannot begin a transaction", err, errlen))
		return -1;
	d->in_txn = true;
	return 0;
}

static int pg_new_run_key(struct db *db, int64_t *key, char *err, size_t errlen)
{
	bool found;

	return query_int(of(db), "SELECT nextval(pg_get_serial_sequence('runs', 'run_key'))", NULL, key, &found, err,
			 errlen);
}

static int pg_run_loaded(struct db *db, const char *run_id, bool *found, char *err, size_t errlen)
{
	int64_t key;

	return query_int(of(db), "SELECT run_key FROM runs WHERE run_id = $1", run_id, &key, found, err, errlen);
}

static void put(struct db_pg *d, struct copy_buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			d->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	d->buffered += n;
}

/* Text in COPY's text format: backslash, tab, newline and CR escaped. */
static void put_text(struct db_pg *d, struct copy_buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;

		if (!esc)
			continue;
		put(d, b, run, (size_t)(s - run));
		put(d, b, esc, 2);
		run = s + 1;
	}
	put(d, b, run, (size_t)(s - run));
}

/* Send every table's gathered rows. */
static int flush(struct db_pg *d, char *err, size_t errlen)
{
	for (int t = 0; t < TB_COUNT; t++) {
		struct copy_buf *b = &d->rows[t];
		const struct db_table_def *def = &db_tables[t];
		char sql[1024];
		size_t n;
		PGresult *res;
		int rc = 0;

		if (!b->len)
			continue;
		n = (size_t)snprintf(sql, sizeof(sql), "COPY %s (", def->name);
		for (size_t i = 0; i < def->ncols; i++)
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s", i ? ", " : "", def->cols[i]);
		snprintf(sql + n, sizeof(sql) - n, ") FROM STDIN");
		res = PQexec(d->conn, sql);
		if (PQresultStatus(res) != PGRES_COPY_IN)
			rc = fail_msg("cannot copy", PQresultErrorMessage(res), err, errlen);
		PQclear(res);
		if (rc)
			return -1;
		if (PQputCopyData(d->conn, b->p, (int)b->len) != 1 || PQputCopyEnd(d->conn, NULL) != 1)
			return fail_msg("cannot copy", PQerrorMessage(d->conn), err, errlen);
		while ((res = PQgetResult(d->conn))) {
			/* rows go in batches: the bad one may be on any line read so far */
			if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK)
				rc = fail_msg("when the rows read so far were written (the fault may be on an earlier line)",
					      PQresultErrorMessage(res), err, errlen);
			PQclear(res);
		}
		d->buffered -= b->len;
		b->len = 0;
		if (rc)
			return -1;
	}
	return 0;
}

static int pg_row(struct db *db, enum db_table t, const struct dv *vals, char *err, size_t errlen)
{
	struct db_pg *d = of(db);
	struct copy_buf *b = &d->rows[t];
	char num[32];

	for (size_t i = 0; i < db_tables[t].ncols; i++) {
		if (i)
			put(d, b, "\t", 1);
		if (vals[i].t == DV_NULL)
			put(d, b, "\\N", 2);
		else if (vals[i].t == DV_BOOL)
			put(d, b, vals[i].i ? "t" : "f", 1);
		else if (vals[i].t == DV_INT)
			put(d, b, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, vals[i].i));
		else
			put_text(d, b, vals[i].s);
	}
	put(d, b, "\n", 1);
	if (d->oom)
		return snprintf(err, errlen, "out of memory"), -1;
	return d->buffered >= PG_FLUSH_BYTES ? flush(d, err, errlen) : 0;
}

static int pg_commit(struct db *db, char *err, size_t errlen)
{
	struct db_pg *d = of(db);

	if (flush(d, err, errlen) || exec(d, "COMMIT", "cannot commit", err, errlen))
		return -1;
	d->in_txn = false;
	return 0;
}

static void pg_rollback(struct db *db)
{
	struct db_pg *d = of(db);

	for (int t = 0; t < TB_COUNT; t++)
		d->rows[t].len = 0;
	d->buffered = 0;
	d->oom = false;
	if (d->in_txn)
		exec(d, "ROLLBACK", "rollback", NULL, 0);
	d->in_txn = false;
}

static void pg_close(struct db *db)
{
	struct db_pg *d = of(db);

	if (d->conn)
		pg_rollback(db);
	for (int t = 0; t < TB_COUNT; t++)
		free(d->rows[t].p);
	PQfinish(d->conn);
	free(d);
}

static const struct db_ops pg_ops = {
	.prepare = pg_prepare, .begin = pg_begin, .new_run_key = pg_new_run_key, .run_loaded = pg_run_loaded,
	.row = pg_row, .commit = pg_commit, .rollback = pg_rollback, .close = pg_close,
};

static void quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int db_pg_open(const char *conninfo, struct db **out, char *err, size_t errlen)
{
	struct db_pg *d;

	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);

	*out = NULL;
	if (!opts) /* libpq's message would quote the text, which may hold a password */
		return snprintf(err, errlen, "not a connection URI libpq can parse"), -1;
	PQconninfoFree(opts);
	if (!(d = calloc(1, sizeof(*d))))
		return snprintf(err, errlen, "out of memory"), -1;
	d->base.ops = &pg_ops;
	d->base.kind = "postgresql";
	d->conn = PQconnectdb(conninfo);
	if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
		fail_msg("cannot connect", d->conn ? PQerrorMessage(d->conn) : "out of memory", err, errlen);
		PQfinish(d->conn);
		d->conn = NULL;
		pg_close(&d->base);
		return -1;
	}
	PQsetNoticeProcessor(d->conn, quiet_notices, NULL);
	if (PQsetClientEncoding(d->conn, "UTF8")) {
		fail_msg("cannot use UTF-8", PQerrorMessage(d->conn), err, errlen);
		pg_close(&d->base);
		return -1;
	}
	*out = &d->base;
	return 0;
}
