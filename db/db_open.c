/*
 * db_open.c - which database a --db argument names (db.h).
 */
#include "db.h"

#include <stdio.h>
#include <string.h>

/* "password=..." in the query part: its value replaced in place. */
static void hide_query_password(char *s)
{
	char *p = strchr(s, '?');

	while (p && (p = strstr(p, "password="))) {
		char *v = p + 9, *end = v + strcspn(v, "&");

		if (p[-1] == '?' || p[-1] == '&') {
			memmove(v + 3, end, strlen(end) + 1);
			memcpy(v, "***", 3);
		}
		p = v;
	}
}

void db_spec_shown(const char *spec, char *out, size_t len)
{
	const char *scheme = strstr(spec, "://"), *at, *colon;

	snprintf(out, len, "%s", spec);
	if (!scheme || strncmp(spec, "postgres", 8))
		return;
	at = strchr(scheme + 3, '@');
	colon = memchr(scheme + 3, ':', at ? (size_t)(at - scheme - 3) : 0);
	if (at && colon) /* user:password@: the password stays out of logs */
		snprintf(out, len, "%.*s:***%s", (int)(colon - spec), spec, at);
	if (len > 3)
		hide_query_password(out);
}

int db_open(const char *spec, struct db **out, bool *usage, char *err, size_t errlen)
{
	struct db *db = NULL;

	*usage = false;
	*out = NULL;
	if (!strncmp(spec, "sqlite:", 7) && spec[7]) {
		if (db_sqlite_open(spec + 7, &db, err, errlen))
			return -1;
	} else if (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11)) {
		if (db_pg_open(spec, &db, err, errlen))
			return -1;
	} else {
		*usage = true;
		return snprintf(err, errlen, "--db must be sqlite:FILE or postgresql://..."), -1;
	}
	if (db->ops->prepare(db, err, errlen)) {
		db->ops->close(db);
		return -1;
	}
	*out = db;
	return 0;
}
