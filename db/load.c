/*
 * load.c - `imgscan load --db DB REPORT...`: each report (JSON or JSON
 * lines, "-" for stdin) in one transaction, so that one which fails to
 * read or to check halfway leaves the database as it was, and says where.
 * The run id is the key: a report loaded before changes nothing.  Keep the
 * help text in step with README.md ("Loading reports into a database").
 */
#include "load.h"
#include "db.h"
#include "load_rows.h"
#include "spool.h"
#include "../config/options.h"
#include "../scanner/clock.h"
#include "../report/pathenc.h"
#include "../verify/report_read.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char load_usage[] =
	"Usage: imgscan load --db DB [-q] REPORT...\n"
	"\n"
	"Load scan reports (JSON or JSON lines; '-' reads one from stdin, so\n"
	"'imgscan scan --format jsonl ... | imgscan load --db DB -' reads a scan as it\n"
	"runs, and writes it when its summary arrives) into an evidence database: runs, images, digests, findings, partitions,\n"
	"file systems (imgscan's and The Sleuth Kit's), errors and skipped entries, with\n"
	"the views 'scanned' and 'duplicates' (db/SCHEMA.md). The schema is made when\n"
	"the database has none.\n"
	"\n"
	"Each report is loaded in one transaction: one that cannot be read or checked\n"
	"is not loaded at all (the message says which line), and the others still are.\n"
	"A report whose run id the database holds already is left out: loading the\n"
	"same report twice changes nothing.\n"
	"\n"
	"  --db sqlite:FILE         an SQLite file (made when absent; only a regular file\n"
	"                           with one name, never a symlink, that is an imgscan\n"
	"                           database or empty)\n"
	"  --db postgresql://...    a PostgreSQL database (a libpq connection URI, e.g.\n"
	"                           postgresql://user@host/db or\n"
	"                           postgresql:///db?host=/run/postgresql)\n"
	"  -q, --quiet              no line per report on stderr\n"
	"\n"
	"Exit status:\n"
	"  0   every report is in the database (loaded now, or before)\n"
	"  2   a report could not be loaded, or the database could not be used\n"
	"  64  usage error\n";

struct loader {
	struct db *db;
	struct load_run lr;
	struct report_head *head;
	bool checked;              /* the run id was looked up */
	bool loaded_before;        /* ...and the database has it: rows are not written */
	size_t images;
};

/* As soon as the run is known (the first line of JSON lines), whether it
 * is loaded already: then the rest is read and checked, not written. */
static int check_early(struct loader *L, char *err, size_t errlen)
{
	const char *run_id;

	if (L->checked || !L->head->run)
		return 0;
	if (load_check_head(L->head->tool, L->head->run, &run_id, err, errlen) ||
	    L->db->ops->run_loaded(L->db, run_id, &L->loaded_before, err, errlen))
		return -1;
	L->checked = true;
	return 0;
}

static int on_image(void *ctx, const cJSON *img, size_t n, char *err, size_t errlen)
{
	struct loader *L = ctx;

	(void)n;
	if (check_early(L, err, errlen))
		return -1;
	L->images++;
	return L->loaded_before ? 0 : load_image(&L->lr, img, err, errlen);
}

static int on_skipped(void *ctx, const cJSON *s, size_t n, char *err, size_t errlen)
{
	struct loader *L = ctx;

	if (check_early(L, err, errlen))
		return -1;
	return L->loaded_before ? 0 : load_skipped(&L->lr, s, n, err, errlen);
}

/* After the whole report: its head checked, and the run row unless the
 * run was loaded before.  Returns 0, 1 (loaded before) or -1. */
static int finish(struct loader *L, char *err, size_t errlen)
{
	struct report_head *h = L->head;
	const char *run_id;
	cJSON *type;

	if (load_check_head(h->tool, h->run, &run_id, err, errlen))
		return -1;
	if (!run_id)
		return snprintf(err, errlen, "the report has no run object"), -1;
	if (!L->checked && L->db->ops->run_loaded(L->db, run_id, &L->loaded_before, err, errlen))
		return -1;
	if (L->loaded_before)
		return 1;
	if ((type = cJSON_DetachItemFromObjectCaseSensitive(h->summary, "type"))) /* a JSON line's */
		cJSON_Delete(type);
	return load_run_row(&L->lr, h->format == REPORT_JSONL ? "jsonl" : "json", h->tool, h->run, h->summary, err,
			    errlen);
}

static const char *run_id_of(const struct report_head *h)
{
	const cJSON *id = json_at(h->run, "id", NULL);

	return cJSON_IsString(id) ? id->valuestring : "?";
}

/* The commit failed: was it because another load of the same report
 * committed first (the run id is unique)?  Then it is in, unchanged. */
static bool loaded_meanwhile(struct db *db, const struct report_head *h, const char *path, bool quiet)
{
	bool found = false;
	char err[200];

	db->ops->rollback(db);
	if (db->ops->run_loaded(db, run_id_of(h), &found, err, sizeof(err)) || !found)
		return false;
	if (!quiet)
		fprintf(stderr, "imgscan load: %s: run %s was loaded by another load meanwhile: unchanged\n", path,
			run_id_of(h));
	return true;
}

/* One report, in one transaction.  Returns 0 (loaded, or loaded before)
 * or -1 (said why; the database is as it was). */
static int load_one(struct db *db, const char *path, bool quiet)
{
	struct report_head head = {0};
	struct loader L = {.db = db, .head = &head, .lr = {.db = db, .source = path}};
	struct report_visitor v = {.image = on_image, .skipped = on_skipped, .ctx = &L};
	char err[600] = "";
	double t0;
	bool spooled;
	FILE *f;
	int rc;

	if (!(f = spool_open(path, &spooled, err, sizeof(err))))
		goto fail;
	t0 = monotonic_seconds(); /* the load, not the wait for a pipe */
	if (db->ops->begin(db, err, sizeof(err)) || db->ops->new_run_key(db, &L.lr.run_key, err, sizeof(err)))
		goto fail;
	if (report_visit_stream(f, &head, &v, err, sizeof(err)) || (rc = finish(&L, err, sizeof(err))) < 0)
		goto fail;
	if (rc == 1) {
		db->ops->rollback(db);
		if (!quiet)
			fprintf(stderr, "imgscan load: %s: run %s is in the database already: unchanged\n", path,
				run_id_of(&head));
	} else if (db->ops->commit(db, err, sizeof(err))) {
		if (!loaded_meanwhile(db, &head, path, quiet))
			goto fail;
	} else if (!quiet) {
		double s = monotonic_seconds() - t0;

		fprintf(stderr, "imgscan load: %s: run %s loaded: %zu images, %llu rows in %.2f s (%.0f images/s)\n", path,
			run_id_of(&head), L.images, (unsigned long long)L.lr.rows, s, s > 0 ? L.images / s : 0);
	}
	report_head_free(&head);
	fclose(f);
	return 0;
fail:
	db->ops->rollback(db);
	fprintf(stderr, "imgscan load: %s: ", path);
	term_say("", err, "; nothing of it was loaded\n"); /* err may quote the report's strings */
	report_head_free(&head);
	if (f)
		fclose(f);
	return -1;
}

static const struct option load_longopts[] = {
	{"db", required_argument, NULL, 'd'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int load_main(int argc, char **argv)
{
	const char *spec = NULL;
	bool quiet = false, usage;
	struct db *db;
	char err[600];
	int c, status = 0, stdin_uses = 0;

	optind = 2;
	while ((c = getopt_long(argc, argv, "qh", load_longopts, NULL)) != -1) {
		if (c == 'd')
			spec = optarg;
		else if (c == 'q')
			quiet = true;
		else if (c == 'h')
			return fputs(load_usage, stdout), 0;
		else
			return fputs("Try 'imgscan load --help'.\n", stderr), EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		stdin_uses += !strcmp(argv[i], "-");
	if (!spec || optind == argc || stdin_uses > 1) {
		fprintf(stderr, "imgscan load: %s\nTry 'imgscan load --help'.\n",
			!spec ? "--db is required" : optind == argc ? "no REPORT given" : "'-' (stdin) given twice");
		return EXIT_USAGE;
	}
	if (db_open(spec, &db, &usage, err, sizeof(err))) {
		char shown[512];

		db_spec_shown(spec, shown, sizeof(shown));
		if (usage)
			fprintf(stderr, "imgscan load: %s\n", err);
		else
			fprintf(stderr, "imgscan load: --db %s: %s\n", shown, err);
		return usage ? EXIT_USAGE : EXIT_ERRORS;
	}
	for (int i = optind; i < argc; i++)
		if (load_one(db, argv[i], quiet))
			status = EXIT_ERRORS;
	db->ops->close(db);
	return status;
}
