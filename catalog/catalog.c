/*
 * catalog.c - the incremental catalog in SQLite (see catalog.h and
 * catalog/SCHEMA.md).
 */
#include "catalog.h"
#include "../scanner/clock.h"
#include "sqlite_guard.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATALOG_BATCH 256          /* writes per transaction at most... */
#define CATALOG_BATCH_SECONDS 1.0  /* ...and at most this old */

/* migrations[v] takes a catalog from user_version v to v + 1. */
static const char *const migrations[CATALOG_VERSION] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, started TEXT NOT NULL, ended TEXT,"
	" host TEXT, tool_version TEXT NOT NULL, argv TEXT, options TEXT, report TEXT,"
	" partial INTEGER, exit_status INTEGER, images_new INTEGER, images_changed INTEGER,"
	" images_reread INTEGER, images_reused INTEGER, images_gone INTEGER, other_files_reused INTEGER);"
	"CREATE TABLE files ("
	" id INTEGER PRIMARY KEY, path BLOB NOT NULL UNIQUE,"
	" dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,"
	" mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
	" is_image INTEGER NOT NULL, reusable INTEGER NOT NULL, options TEXT, xxh128 TEXT, reference_xxh128 TEXT,"
	" result TEXT,"
	" measured_at TEXT, measured_run INTEGER REFERENCES runs(id),"
	" first_seen_run INTEGER REFERENCES runs(id), seen_run INTEGER REFERENCES runs(id),"
	" gone_run INTEGER REFERENCES runs(id));"
	"CREATE INDEX files_xxh128 ON files(xxh128);",
};

enum stmt_id { ST_LOOKUP, ST_PUT, ST_SEEN, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
	[ST_LOOKUP] = "SELECT dev, ino, size, mtime_ns, ctime_ns, gone_run IS NOT NULL, is_image, reusable,"
		      " options, result, xxh128, measured_at, reference_xxh128 FROM files WHERE path = ?1",
	[ST_PUT] = "INSERT INTO files (path, dev, ino, size, mtime_ns, ctime_ns, is_image, reusable, options,"
		   " xxh128, result, measured_at, measured_run, first_seen_run, seen_run, gone_run, reference_xxh128)"
		   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13, NULL, ?14)"
		   " ON CONFLICT (path) DO UPDATE SET dev = ?2, ino = ?3, size = ?4, mtime_ns = ?5,"
		   " ctime_ns = ?6, is_image = ?7, reusable = ?8, options = ?9, xxh128 = ?10, result = ?11,"
		   " measured_at = ?12, measured_run = ?13, seen_run = ?13, gone_run = NULL, reference_xxh128 = ?14",
	[ST_SEEN] = "UPDATE files SET seen_run = ?2, gone_run = NULL WHERE path = ?1",
};

struct catalog {
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int64_t run;              /* this run's row id, 0 before catalog_begin_run */
	bool in_txn;
	unsigned pending;         /* writes since the last commit */
	double last_commit;
	char error[512];          /* the first error; the catalog is quiet after it */
};

void catalog_stamp_from_stat(const struct stat *st, struct catalog_stamp *out)
{
	out->dev = (int64_t)st->st_dev;
	out->ino = (int64_t)st->st_ino;
	out->size = (int64_t)st->st_size;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	out->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

static void set_error(struct catalog *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct catalog *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

/* An SQLite call failed: remember why, and go quiet. */
static int db_fail(struct catalog *c, const char *what)
{
	set_error(c, "%s: %s", what, sqlite3_errmsg(c->db));
	return -1;
}

static const struct sqlite_owner catalog_owner = {CATALOG_APPLICATION_ID, CATALOG_VERSION, "catalog"};

static int check_and_migrate(struct catalog *c)
{
	int64_t version = 0;
	char *msg = NULL, sql[128];

	if (sqlite_guard_identity(c->db, &catalog_owner, &version, c->error, sizeof(c->error)))
		return -1;
	if (sqlite3_exec(c->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL, NULL, NULL))
		return db_fail(c, "cannot set the journal mode");
	if (version == CATALOG_VERSION)
		return 0;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_fail(c, "cannot migrate the catalog");
	for (int64_t v = version; v < CATALOG_VERSION; v++)
		if (sqlite3_exec(c->db, migrations[v], NULL, NULL, &msg))
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d; COMMIT", CATALOG_VERSION,
		 CATALOG_APPLICATION_ID);
	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg))
		goto fail;
	return 0;
fail:
	set_error(c, "cannot migrate the catalog from version %lld: %s", (long long)version, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int catalog_open(const char *path, struct catalog **out, char *err, size_t errlen)
{
	struct catalog *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return snprintf(err, errlen, "%s", strerror(ENOMEM)), -1;
	pthread_mutex_init(&c->lock, NULL);
	if (sqlite_guard_open(path, &catalog_owner, 10000, &c->db, err, errlen))
		goto fail;
	if (check_and_migrate(c))
		goto fail_msg;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i], NULL)) {
			db_fail(c, "cannot prepare a statement");
			goto fail_msg;
		}
	c->last_commit = monotonic_seconds();
	*out = c;
	return 0;
fail_msg:
	snprintf(err, errlen, "%s", c->error);
fail:
	catalog_close(c); /* nothing written: no transaction is open */
	return -1;
}

static int begin_locked(struct catalog *c)
{
	if (c->in_txn)
		return 0;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_fail(c, "cannot start a transaction");
	c->in_txn = true;
	return 0;
}

static int commit_locked(struct catalog *c)
{
	if (!c->in_txn)
		return 0;
	c->in_txn = false;
	c->pending = 0;
	c->last_commit = monotonic_seconds();
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL))
		return db_fail(c, "cannot commit");
	return 0;
}

/* One write done: commit when the batch is full or old. */
static int wrote_locked(struct catalog *c)
{
	if (++c->pending >= CATALOG_BATCH || monotonic_seconds() - c->last_commit >= CATALOG_BATCH_SECONDS)
		return commit_locked(c);
	return 0;
}

int catalog_commit_if_due(struct catalog *c)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (!c->error[0] && c->in_txn && monotonic_seconds() - c->last_commit >= CATALOG_BATCH_SECONDS)
		rc = commit_locked(c);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Run a prepared write statement inside the batch transaction. */
static int step_write_locked(struct catalog *c, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return db_fail(c, what);
	return wrote_locked(c);
}

int catalog_begin_run(struct catalog *c, const char *uuid, const char *started, const char *host,
		      const char *version, const char *argv, const char *options)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	if (c->error[0] || begin_locked(c))
		goto out;
	if (sqlite3_prepare_v2(c->db, "INSERT INTO runs (uuid, started, host, tool_version, argv, options)"
			       " VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL)) {
		db_fail(c, "cannot record the run");
		goto out;
	}
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, started, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, argv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, options, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(c, "cannot record the run");
		goto out;
	}
	c->run = sqlite3_last_insert_rowid(c->db);
	rc = commit_locked(c); /* the run row is there even if we are killed */
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

static void column_copy(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

int catalog_lookup(struct catalog *c, const char *path, struct catalog_row *row)
{
	sqlite3_stmt *st = c->st[ST_LOOKUP];
	int rc;

	memset(row, 0, sizeof(*row));
	pthread_mutex_lock(&c->lock);
	if (c->error[0]) {
		pthread_mutex_unlock(&c->lock);
		return -1;
	}
	sqlite3_bind_blob(st, 1, path, (int)strlen(path), SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row->stamp = (struct catalog_stamp){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4)};
		row->gone = sqlite3_column_int(st, 5);
		row->is_image = sqlite3_column_int(st, 6);
		row->reusable = sqlite3_column_int(st, 7);
		row->options = column_dup(st, 8);
		row->result = column_dup(st, 9);
		column_copy(st, 10, row->xxh128, sizeof(row->xxh128));
		column_copy(st, 11, row->measured_at, sizeof(row->measured_at));
		column_copy(st, 12, row->reference_xxh128, sizeof(row->reference_xxh128));
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_fail(c, "cannot look up a file");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void catalog_row_free(struct catalog_row *row)
{
	free(row->options);
	free(row->result);
	row->options = row->result = NULL;
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *text)
{
	if (text && text[0])
		sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int catalog_put(struct catalog *c, const struct catalog_put *p)
{
	sqlite3_stmt *st = c->st[ST_PUT];
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	if (c->error[0] || begin_locked(c))
		goto out;
	sqlite3_bind_blob(st, 1, p->path, (int)strlen(p->path), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, p->stamp.dev);
	sqlite3_bind_int64(st, 3, p->stamp.ino);
	sqlite3_bind_int64(st, 4, p->stamp.size);
	sqlite3_bind_int64(st, 5, p->stamp.mtime_ns);
	sqlite3_bind_int64(st, 6, p->stamp.ctime_ns);
	sqlite3_bind_int(st, 7, p->is_image);
	sqlite3_bind_int(st, 8, p->reusable);
	bind_opt_text(st, 9, p->options);
	bind_opt_text(st, 10, p->xxh128);
	bind_opt_text(st, 11, p->result);
	bind_opt_text(st, 12, p->measured_at);
	sqlite3_bind_int64(st, 13, c->run);
	bind_opt_text(st, 14, p->reference_xxh128);
	rc = step_write_locked(c, st, "cannot record a file");
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int catalog_mark_seen(struct catalog *c, const char *path)
{
	sqlite3_stmt *st = c->st[ST_SEEN];
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	if (c->error[0] || begin_locked(c))
		goto out;
	sqlite3_bind_blob(st, 1, path, (int)strlen(path), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->run);
	rc = step_write_locked(c, st, "cannot record a file");
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Ids of present rows this run did not see and covered() claims. */
static int collect_unseen_locked(struct catalog *c, bool (*covered)(void *, const char *, size_t), void *ctx,
				 int64_t **ids, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT id, path FROM files WHERE gone_run IS NULL AND seen_run IS NOT ?1",
			       -1, &st, NULL))
		return db_fail(c, "cannot list the catalog");
	sqlite3_bind_int64(st, 1, c->run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!covered(ctx, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1)))
			continue;
		if (*n == cap) {
			int64_t *grown = realloc(*ids, (cap = cap ? cap * 2 : 64) * sizeof(**ids));
			if (!grown) {
				sqlite3_finalize(st);
				return set_error(c, "out of memory while marking gone files"), -1;
			}
			*ids = grown;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(c, "cannot list the catalog");
}

int catalog_mark_gone(struct catalog *c, bool (*covered)(void *, const char *, size_t), void *ctx, bool apply,
		      uint64_t *ngone)
{
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc = -1;

	*ngone = 0;
	pthread_mutex_lock(&c->lock);
	if (c->error[0] || begin_locked(c) || collect_unseen_locked(c, covered, ctx, &ids, &n))
		goto out;
	if (!apply) {
		*ngone = n;
		rc = 0;
		goto out;
	}
	if (sqlite3_prepare_v2(c->db, "UPDATE files SET gone_run = ?1 WHERE id = ?2", -1, &st, NULL)) {
		db_fail(c, "cannot mark gone files");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, c->run);
		sqlite3_bind_int64(st, 2, ids[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_fail(c, "cannot mark gone files");
			goto out;
		}
		sqlite3_reset(st);
	}
	*ngone = n;
	rc = 0;
out:
	sqlite3_finalize(st);
	free(ids);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int catalog_end_run(struct catalog *c, const struct catalog_run_end *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	if (c->error[0] || begin_locked(c))
		goto out;
	if (sqlite3_prepare_v2(c->db, "UPDATE runs SET ended = ?2, report = ?3, partial = ?4, exit_status = ?5,"
			       " images_new = ?6, images_changed = ?7, images_reread = ?8, images_reused = ?9,"
			       " images_gone = ?10, other_files_reused = ?11 WHERE id = ?1", -1, &st, NULL)) {
		db_fail(c, "cannot record the end of the run");
		goto out;
	}
	sqlite3_bind_int64(st, 1, c->run);
	sqlite3_bind_text(st, 2, e->ended, -1, SQLITE_STATIC);
	bind_opt_text(st, 3, e->report);
	sqlite3_bind_int(st, 4, e->partial);
	sqlite3_bind_int(st, 5, e->exit_status);
	sqlite3_bind_int64(st, 6, (int64_t)e->new_images);
	sqlite3_bind_int64(st, 7, (int64_t)e->changed);
	sqlite3_bind_int64(st, 8, (int64_t)e->reread);
	sqlite3_bind_int64(st, 9, (int64_t)e->reused);
	sqlite3_bind_int64(st, 10, (int64_t)e->gone);
	sqlite3_bind_int64(st, 11, (int64_t)e->other_files);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(c, "cannot record the end of the run");
		goto out;
	}
	rc = commit_locked(c);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int catalog_close(struct catalog *c)
{
	int rc = 0;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (!c->error[0])
		rc = commit_locked(c);
	else if (c->in_txn)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&c->lock);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	if (sqlite3_close(c->db) != SQLITE_OK)
		rc = -1;
	pthread_mutex_destroy(&c->lock);
	free(c);
	return rc;
}

bool catalog_error(struct catalog *c, char *out, size_t len)
{
	bool failed;

	if (!c)
		return false;
	pthread_mutex_lock(&c->lock);
	failed = c->error[0] != '\0';
	snprintf(out, len, "%s", c->error);
	pthread_mutex_unlock(&c->lock);
	return failed;
}
