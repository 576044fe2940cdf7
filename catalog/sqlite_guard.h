/*
 * sqlite_guard.h - opening an SQLite file that imgscan owns (the --state
 * catalog, the database `imgscan load` writes) without harming one it does
 * not own: only a regular file with one name (never a symlink, a device or
 * a FIFO), and only a database that carries our application id, or one
 * still new, is written; one written by a newer imgscan is left alone.
 * Checked in the file's header before SQLite opens it, then again through
 * a read-only connection (a newer version may sit in the WAL; a read-write
 * connection would checkpoint a foreign file's WAL into it on closing).
 */
#ifndef IMGSCAN_SQLITE_GUARD_H
#define IMGSCAN_SQLITE_GUARD_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite_owner {
	uint32_t application_id;   /* PRAGMA application_id of our files */
	int version;               /* the newest PRAGMA user_version this build knows */
	const char *noun;          /* "catalog": said in messages */
};

/* The name to give sqlite3_open_v2 for the file path: path itself when
 * absolute, else "./path" in buf (NULL when it does not fit), so that
 * SQLite never reads it as a URI ("file:...") or as ":memory:". */
const char *sqlite_guard_literal(const char *path, char *buf, size_t len);
/* Returns 0 (ours, new, or absent) or -1 with the reason in err. */
int sqlite_guard_file(const char *path, const struct sqlite_owner *o, char *err, size_t errlen);
/* The same through SQLite: returns 0 with *version, or -1 with err set. */
int sqlite_guard_identity(sqlite3 *db, const struct sqlite_owner *o, int64_t *version, char *err, size_t errlen);
/* sqlite_guard_file, then sqlite_guard_identity over a read-only
 * connection when the file exists. */
int sqlite_guard_open_check(const char *path, const struct sqlite_owner *o, char *err, size_t errlen);

/* All of it: sqlite_guard_open_check, then the file opened read-write
 * (made when absent; never through a symlink, never as a URI) with a
 * busy timeout of busy_ms.  Returns 0 with *db, or -1 with err set. */
int sqlite_guard_open(const char *path, const struct sqlite_owner *o, int busy_ms, sqlite3 **db, char *err,
		      size_t errlen);

#endif
