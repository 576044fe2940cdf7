/*
 * db.h - the evidence database `imgscan load` writes (db/SCHEMA.md), behind
 * one small interface with two implementations: SQLite (db_sqlite.c,
 * libsqlite3) and PostgreSQL (db_pg.c, libpq).  The tables and their
 * columns are named once, in db_tables.c; the SQL that creates them is
 * db/schema.sqlite.sql and db/schema.postgresql.sql, built in.
 *
 * One report is loaded in one transaction: db_begin, rows, db_commit (or
 * db_rollback on any failure, leaving the database as it was).
 */
#ifndef IMGSCAN_DB_H
#define IMGSCAN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_SCHEMA_VERSION 1
#define DB_APPLICATION_ID 0x494d4744 /* "IMGD": PRAGMA application_id of an SQLite one */
#define DB_MAX_COLS 32

enum db_table { TB_RUNS, TB_IMAGES, TB_DIGESTS, TB_FINDINGS, TB_PARTITIONS, TB_FILESYSTEMS, TB_ERRORS, TB_SKIPPED,
		TB_COUNT };

struct db_table_def {
	const char *name;
	const char *const *cols;   /* NULL-terminated */
	size_t ncols;
};

extern const struct db_table_def db_tables[TB_COUNT];

/* A column's value.  Text is valid UTF-8 (checked by the row builder);
 * DV_JSON is text holding JSON (jsonb in PostgreSQL). */
enum dv_type { DV_NULL, DV_INT, DV_BOOL, DV_TEXT, DV_JSON };

struct dv {
	enum dv_type t;
	int64_t i;                 /* DV_INT, DV_BOOL (0 or 1) */
	const char *s;             /* DV_TEXT, DV_JSON */
};

struct db;

struct db_ops {
	/* Make the schema when the database has none; refuse one that is not
	 * ours or is newer.  Returns 0, or -1 with err set. */
	int (*prepare)(struct db *db, char *err, size_t errlen);
	int (*begin)(struct db *db, char *err, size_t errlen);
	/* A fresh run_key for the run about to be loaded (inside the transaction). */
	int (*new_run_key)(struct db *db, int64_t *key, char *err, size_t errlen);
	/* *found: a run with this run id is in the database (loaded before). */
	int (*run_loaded)(struct db *db, const char *run_id, bool *found, char *err, size_t errlen);
	/* One row: vals[i] for db_tables[t].cols[i].  May be buffered: errors
	 * may show only at the next row, at db_commit or never before it. */
	int (*row)(struct db *db, enum db_table t, const struct dv *vals, char *err, size_t errlen);
	int (*commit)(struct db *db, char *err, size_t errlen);
	void (*rollback)(struct db *db);
	void (*close)(struct db *db);
};

struct db {
	const struct db_ops *ops;
	const char *kind;          /* "sqlite" or "postgresql" */
};

/* Open the database a --db argument names: "sqlite:FILE", or a libpq
 * connection URI "postgresql://..." (or "postgres://...").  Returns 0
 * with *out, or -1 with err set (and 2 in *usage when the argument
 * itself is wrong). */
int db_open(const char *spec, struct db **out, bool *usage, char *err, size_t errlen);
/* spec as it may be shown (in messages, logs): a password in a
 * postgresql:// URI replaced with "***". */
void db_spec_shown(const char *spec, char *out, size_t len);
int db_sqlite_open(const char *path, struct db **out, char *err, size_t errlen);
int db_pg_open(const char *conninfo, struct db **out, char *err, size_t errlen);

/* The built-in schema text of each kind (from db/schema.*.sql). */
extern const char db_schema_sqlite[];
extern const char db_schema_postgresql[];

#endif
