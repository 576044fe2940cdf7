/*
 * db_open.c - which database a --db argument names (db.h).
 */
#include "db.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <string.h>

/* What a PostgreSQL URI names, from libpq's own parse of it: the
 * password never appears, however the URI spells it. */
static void pg_shown(const char *spec, char *out, size_t len)
{
	static const char *const shown[] = {"host", "hostaddr", "port", "dbname", "user"};
	PQconninfoOption *opts = PQconninfoParse(spec, NULL);
	size_t n;

	if (!opts) {
		snprintf(out, len, "(a connection URI libpq cannot parse; not shown, it may hold a password)");
		return;
	}
	n = (size_t)snprintf(out, len, "postgresql (");
	for (PQconninfoOption *o = opts; o->keyword && n < len; o++)
		for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
			if (o->val && o->val[0] && !strcmp(o->keyword, shown[i]))
				n += (size_t)snprintf(out + n, len - n, "%s%s=%s", out[n - 1] == '(' ? "" : " ", o->keyword,
						      o->val);
	if (n < len)
		snprintf(out + n, len - n, ")");
	PQconninfoFree(opts);
}

void db_spec_shown(const char *spec, char *out, size_t len)
{
	if (!strncmp(spec, "sqlite:", 7))
		snprintf(out, len, "%s", spec);
	else if (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11))
		pg_shown(spec, out, len);
	else
		snprintf(out, len, "(not shown)");
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
