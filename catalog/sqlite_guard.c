/*
 * sqlite_guard.c - an SQLite file is written only when it is ours (see
 * sqlite_guard.h).
 */
#include "sqlite_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Only a regular file with one name, or nothing, may be opened. */
static int check_kind(const char *path, const struct sqlite_owner *o, struct stat *st, char *err, size_t errlen)
{
	if (lstat(path, st))
		return errno == ENOENT ? 1 : (snprintf(err, errlen, "%s", strerror(errno)), -1);
	if (S_ISLNK(st->st_mode))
		return snprintf(err, errlen, "is a symbolic link (give the %s's own path)", o->noun), -1;
	if (!S_ISREG(st->st_mode))
		return snprintf(err, errlen, "not a regular file"), -1;
	if (st->st_nlink != 1) /* another name of it may be someone's file */
		return snprintf(err, errlen, "has %ju hard links (a %s has one name)", (uintmax_t)st->st_nlink, o->noun),
		       -1;
	return 0;
}

/* The name to give sqlite3_open_v2: path itself when absolute, else
 * "./path" in buf (NULL when it does not fit). */
static const char *literal_name(const char *path, char *buf, size_t len)
{
	if (path[0] == '/')
		return path;
	/* "file:x?vfs=..." or ":memory:" would be read as a URI or a database
	 * in memory (Debian's SQLite takes URIs): "./" keeps it a file name. */
	if ((size_t)snprintf(buf, len, "./%s", path) >= len)
		return NULL;
	return buf;
}

/* SQLite's own files beside the database (FILE-wal, -shm, -journal) are
 * written and deleted by it: another user's, or a FIFO, is refused. */
static int check_side_files(const char *path, const struct stat *db, const struct sqlite_owner *o, char *err,
			    size_t errlen)
{
	static const char *const suffix[] = {"-wal", "-shm", "-journal"};
	char side[4096];
	struct stat st;

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(side, sizeof(side), "%s%s", path, suffix[i]) >= sizeof(side))
			return snprintf(err, errlen, "the path is too long"), -1;
		if (lstat(side, &st))
			continue;
		if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != (db ? db->st_uid : geteuid()))
			return snprintf(err, errlen, "%s exists and is not the %s's own (a regular file with one name, "
					"of the same owner); left untouched", side, o->noun), -1;
	}
	return 0;
}

/* Returns 0 (ours, new, or absent) or -1 with the reason in err. */
static int check_file(const char *path, const struct sqlite_owner *o, char *err, size_t errlen)
{
	unsigned char hdr[108]; /* the file header, and page 1's b-tree header */
	struct stat st;
	bool tables;
	ssize_t n;
	int fd, rc = check_kind(path, o, &st, err, errlen);

	if (rc < 0 || check_side_files(path, rc > 0 ? NULL : &st, o, err, errlen))
		return -1;
	if (rc > 0)
		return 0;
	if (st.st_size == 0)
		return 0; /* SQLite makes a new database of an empty file */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return snprintf(err, errlen, "%s", strerror(errno)), -1;
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, "SQLite format 3", 16))
		return snprintf(err, errlen, "not an SQLite database (damaged, or another kind of file); left untouched"), -1;
	/* Ours carry our application id; a database without it is ours only
	 * while it is new: version 0 and no table in its schema page (page 1's
	 * b-tree: a leaf with cells, or an interior page, holds tables). This
	 * is decided here, before SQLite may write to it (a WAL checkpoint). */
	tables = hdr[100] == 0x05 || (hdr[100] == 0x0d && (hdr[103] || hdr[104]));
	if (be32(hdr + 68) != o->application_id && (be32(hdr + 68) || be32(hdr + 60) || tables))
		return snprintf(err, errlen, "an SQLite database that is not an imgscan %s; left untouched", o->noun), -1;
	if (be32(hdr + 60) > (uint32_t)o->version)
		return snprintf(err, errlen, "written by a newer imgscan (%s version %u; this one knows up to %d); left untouched",
				o->noun, be32(hdr + 60), o->version), -1;
	return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int sqlite_guard_identity(sqlite3 *db, const struct sqlite_owner *o, int64_t *version, char *err, size_t errlen)
{
	int64_t app = 0, tables = 0;

	*version = 0;
	if (pragma_int(db, "PRAGMA user_version", version) || pragma_int(db, "PRAGMA application_id", &app) ||
	    pragma_int(db, "SELECT count(*) FROM sqlite_master", &tables))
		return snprintf(err, errlen, "cannot read the %s: %s", o->noun, sqlite3_errmsg(db)), -1;
	if (*version > o->version)
		return snprintf(err, errlen, "written by a newer imgscan (%s version %lld; this one knows up to %d); left untouched",
				o->noun, (long long)*version, o->version), -1;
	if (app != (int64_t)o->application_id && (app || *version || tables))
		return snprintf(err, errlen, "an SQLite database that is not an imgscan %s; left untouched", o->noun), -1;
	return 0;
}

/* check_file, then sqlite_guard_identity over a read-only connection
 * (to literal, path's name for SQLite) when the file exists. */
static int open_check(const char *path, const char *literal, const struct sqlite_owner *o, char *err, size_t errlen)
{
	sqlite3 *ro = NULL;
	int64_t version;
	int rc;

	if (check_file(path, o, err, errlen))
		return -1;
	if (access(path, F_OK))
		return 0; /* made new */
	if (sqlite3_open_v2(literal, &ro, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open it: %s", ro ? sqlite3_errmsg(ro) : "out of memory");
		rc = -1;
	} else {
		sqlite3_busy_timeout(ro, 60000); /* another process may be making it */
		rc = sqlite_guard_identity(ro, o, &version, err, errlen);
	}
	sqlite3_close(ro);
	return rc;
}

int sqlite_guard_open(const char *path, const struct sqlite_owner *o, int busy_ms, sqlite3 **db, char *err,
		      size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX;
	char buf[4096];
	const char *literal = literal_name(path, buf, sizeof(buf));

	*db = NULL;
	if (!literal)
		return snprintf(err, errlen, "the path is too long"), -1;
	if (open_check(path, literal, o, err, errlen))
		return -1;
	if (sqlite3_open_v2(literal, db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open it: %s", *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, busy_ms);
	return 0;
}
