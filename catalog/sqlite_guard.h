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

/* Ours, and not newer, as SQLite sees it (with what its WAL holds):
 * returns 0 with *version, or -1 with err set. */
int sqlite_guard_identity(sqlite3 *db, const struct sqlite_owner *o, int64_t *version, char *err, size_t errlen);
/* The file checked (regular, one name, its -wal/-shm/-journal too, ours
 * or new, not newer; through a read-only connection as well), then opened
 * read-write (made when absent; never through a symlink, never read as an
 * SQLite URI or ":memory:") with a busy timeout of busy_ms.  Returns 0
 * with *db, or -1 with err set. */
int sqlite_guard_open(const char *path, const struct sqlite_owner *o, int busy_ms, sqlite3 **db, char *err,
		      size_t errlen);

#endif
