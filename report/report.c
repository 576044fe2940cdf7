/*
 * report.c - streams the report (see report.h and SCHEMA.md).
 */
#include "report.h"
#include "case_json.h"
#include "duplicates.h"
#include "image_json.h"
#include "outfile.h"
#include "pathenc.h"
#include "run_json.h"
#include "tally.h"
#include "../config/config.h"
#include "../config/options.h"
#include "../config/version.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SKIPPED_KEPT 10000 /* skipped entries listed in a JSON document */
#define MAX_MISNAMED_SHOWN 50  /* lines of the stderr summary */

struct report {
	pthread_mutex_t lock;
	const struct scan_options *opt;
	struct outfile out;
	cJSON *run;                /* the run object */
	cJSON *skipped;            /* JSON mode: kept until the end */
	uint64_t nskipped, skipped_dropped, symlinks, specials, walk_errors;
	struct tally t;            /* the images' counts */
	struct case_doc *case_doc; /* --format case: the document being streamed */
	cJSON *catalog;            /* summary.catalog, or NULL */
	cJSON *shard;              /* summary.shard, or NULL (no --shard) */
	struct dup_index *dups;    /* summary.duplicates: every image with a digest */
	bool catalog_failed;       /* the catalog could not be used: exit status 2 */
	char *misnamed_lines;      /* stderr summary, bounded */
	size_t misnamed_len;
	unsigned misnamed_shown;
	uint64_t lists_failed;     /* images whose sector-hash list was not written */
	char first_list_error[600]; /* the first of them, for stderr: "path: message" */
	bool first_image;
	bool progress_shown;       /* a progress line is on the terminal: clear it at the end */
	struct timespec t0_wall, t0_mono;
};

static void write_json_line(struct report *r, cJSON *obj, const char *prefix)
{
	json_write_line(&r->out, obj, prefix);
	/* A line is whole as its image finishes: `scan --format jsonl | loader`
	 * streams (stdout to a pipe is block-buffered: every line came at the
	 * end of the scan). */
	outfile_flush_stream(&r->out);
}

static cJSON *run_json(struct report *r, const struct imgscan_config *cfg, const struct report_run_info *info)
{
	return run_object_json(r->opt, &r->t0_wall, info, run_options_json(r->opt, cfg, info));
}

/* What opens the document: the run line (JSONL), the tool object (JSON),
 * the @context and the tool's nodes (CASE).  0 or -ENOMEM. */
static int write_head(struct report *r)
{
	cJSON *tool = run_tool_json();

	if (r->opt->format == FMT_CASE) {
		r->case_doc = case_open(&r->out, tool, r->run, r->opt->npaths, r->opt->paths);
		cJSON_Delete(tool);
		return r->case_doc ? 0 : -ENOMEM;
	}
	if (r->opt->format == FMT_JSONL) {
		cJSON *line = cJSON_CreateObject();
		cJSON_AddStringToObject(line, "type", "run");
		cJSON_AddItemToObject(line, "tool", tool);
		cJSON_AddItemReferenceToObject(line, "run", r->run);
		write_json_line(r, line, NULL);
		cJSON_Delete(line);
		return 0;
	}
	json_open_document(&r->out, tool);
	cJSON_Delete(tool);
	return 0;
}

int report_open(const struct scan_options *opt, const struct imgscan_config *cfg,
		const struct report_run_info *info, struct report **out)
{
	struct report *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->opt = opt;
	r->first_image = true;
	clock_gettime(CLOCK_REALTIME, &r->t0_wall);
	clock_gettime(CLOCK_MONOTONIC, &r->t0_mono);
	/* CASE output does not carry the groups: no index to keep */
	rc = opt->format == FMT_CASE ? 0 : dup_index_create(&r->dups);
	if (!rc)
		rc = outfile_open(&r->out, opt->output);
	if (rc) {
		dup_index_free(r->dups);
		free(r);
		return rc;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->run = run_json(r, cfg, info);
	r->skipped = cJSON_CreateArray();
	rc = write_head(r);
	if (rc) {
		outfile_abort(&r->out);
		cJSON_Delete(r->run);
		cJSON_Delete(r->skipped);
		dup_index_free(r->dups);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* A line for the stderr summary: "  path -> suggested (CODE)". */
static void note_misnamed_locked(struct report *r, const char *path, const char *suggested, const char *code)
{
	char line[1200];
	int n;

	if (r->misnamed_shown >= MAX_MISNAMED_SHOWN)
		return;
	char *p = term_escaped(path), *sug = term_escaped(suggested); /* names from disk: data */
	n = snprintf(line, sizeof(line), "  %s -> %s  (%s)\n", p ? p : "?", sug ? sug : "?", code);
	free(p);
	free(sug);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	char *grown = realloc(r->misnamed_lines, r->misnamed_len + (size_t)n + 1);
	if (!grown)
		return;
	r->misnamed_lines = grown;
	memcpy(grown + r->misnamed_len, line, (size_t)n + 1);
	r->misnamed_len += (size_t)n;
	r->misnamed_shown++;
}

/* The image's sector-hashes error (its list was not written), or NULL. */
static const cJSON *sector_list_error(const cJSON *img)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(img, "errors"))
		if (!strcmp(json_str(e, "stage"), "sector-hashes"))
			return e;
	return NULL;
}

/* A --sector-hashes DIR that is full or read-only fails every list: said
 * once on stderr at the end, with the first image's error. */
static void note_list_error_locked(struct report *r, const cJSON *img)
{
	const cJSON *e = r->opt->sector_hash_dir ? sector_list_error(img) : NULL;

	if (!e || r->lists_failed++ > 0)
		return;
	char *p = term_escaped(json_str(img, "path")); /* a name from disk: data */
	snprintf(r->first_list_error, sizeof(r->first_list_error), "%s: %s", p ? p : "?", json_str(e, "message"));
	free(p);
}

/* The summary counts what the image objects say (tally.h). */
static void tally_locked(struct report *r, const cJSON *img)
{
	const cJSON *named = tally_image(&r->t, img);

	note_list_error_locked(r, img);
	if (r->dups)
		dup_note(r->dups, img); /* a failure is sticky: the groups are left out at the end */
	if (named)
		note_misnamed_locked(r, json_str(img, "path"), json_str(named, "suggested_name"),
				     json_str(named, "code"));
}

void report_image_json(struct report *r, cJSON *obj)
{
	pthread_mutex_lock(&r->lock);
	tally_locked(r, obj);
	if (r->opt->format == FMT_CASE) {
		case_write_image(r->case_doc, obj);
	} else if (r->opt->format == FMT_JSONL) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "type");
		cJSON_AddStringToObject(obj, "type", "image");
		write_json_line(r, obj, NULL);
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "type");
	} else {
		write_json_line(r, obj, r->first_image ? NULL : ",");
	}
	r->first_image = false;
	pthread_mutex_unlock(&r->lock);
}

void report_image(void *report, const struct image_result *res)
{
	cJSON *obj = image_to_json(res);

	report_image_json(report, obj);
	cJSON_Delete(obj);
}

void report_skipped(void *report, const struct skipped_entry *s)
{
	struct report *r = report;
	cJSON *obj = skipped_to_json(s);

	pthread_mutex_lock(&r->lock);
	r->nskipped++;
	r->symlinks += s->reason == SKIP_SYMLINK;
	r->specials += s->reason == SKIP_SPECIAL;
	r->walk_errors += s->reason == SKIP_WALK_ERROR;
	if (r->opt->format == FMT_CASE) {
		cJSON_Delete(obj); /* counted in the summary; not an image, no node */
	} else if (r->opt->format == FMT_JSONL) {
		cJSON_AddStringToObject(obj, "type", "skipped");
		write_json_line(r, obj, NULL);
		cJSON_Delete(obj);
	} else if (cJSON_GetArraySize(r->skipped) < MAX_SKIPPED_KEPT) {
		cJSON_AddItemToArray(r->skipped, obj);
	} else {
		r->skipped_dropped++;
		cJSON_Delete(obj);
	}
	pthread_mutex_unlock(&r->lock);
}

static double elapsed(const struct report *r);

const cJSON *report_run(const struct report *r)
{
	return r->run;
}

void report_set_catalog(struct report *r, cJSON *catalog, bool failed)
{
	pthread_mutex_lock(&r->lock);
	cJSON_Delete(r->catalog);
	r->catalog = catalog;
	r->catalog_failed = failed;
	pthread_mutex_unlock(&r->lock);
}

void report_set_shard(struct report *r, cJSON *shard)
{
	pthread_mutex_lock(&r->lock);
	cJSON_Delete(r->shard);
	r->shard = shard;
	pthread_mutex_unlock(&r->lock);
}

void report_progress(void *report, uint64_t bytes)
{
	struct report *r = report;
	double secs = elapsed(r);
	uint64_t images;

	if (!r->progress_shown && (r->opt->quiet || !isatty(STDERR_FILENO)))
		return;
	pthread_mutex_lock(&r->lock);
	images = r->t.images;
	pthread_mutex_unlock(&r->lock);
	r->progress_shown = true;
	fprintf(stderr, "\rimgscan: %llu image%s done, %.2f GB hashed, %.2f GB/s   ", (unsigned long long)images,
		images == 1 ? "" : "s", (double)bytes / 1e9, secs > 0 ? (double)bytes / 1e9 / secs : 0.0);
}

static double elapsed(const struct report *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->t0_mono.tv_sec) + (now.tv_nsec - r->t0_mono.tv_nsec) / 1e9;
}

/* A run stopped by a signal exits 128 + the signal, as a shell reports a
 * killed command; its report is whole, with summary.partial true. */
static int exit_status(const struct report *r, const struct run_stats *st, int pipeline_rc)
{
	if (st->stop_signal)
		return 128 + st->stop_signal;
	if (pipeline_rc || r->t.image_errors || r->walk_errors || r->catalog_failed)
		return EXIT_ERRORS;
	return r->t.counted_findings ? EXIT_FINDINGS : EXIT_CLEAN;
}

/* What the read buffers did over the run (scanner/io_meter.h). */
static cJSON *pipeline_json(const struct run_stats *st)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddNumberToObject(p, "seconds", st->io.seconds);
	cJSON_AddNumberToObject(p, "reads_in_flight_mean", st->io.reads_in_flight);
	cJSON_AddNumberToObject(p, "blocks_waiting_mean", st->io.blocks_waiting);
	cJSON_AddNumberToObject(p, "threads_busy_mean", st->io.threads_busy);
	cJSON_AddNumberToObject(p, "disk_waited_seconds", st->io.starved_seconds);
	cJSON_AddNumberToObject(p, "queue_depth", adapt_settled(&st->adapt, ADAPT_DEPTH));
	cJSON_AddNumberToObject(p, "images", adapt_settled(&st->adapt, ADAPT_IMAGES));
	cJSON_AddNumberToObject(p, "adapt_trials", st->adapt.trials);
	cJSON_AddNumberToObject(p, "adapt_changes", st->adapt.changes);
	return p;
}

static cJSON *summary_json(struct report *r, const struct run_stats *st, unsigned restarts, double secs, int status)
{
	cJSON *s = cJSON_CreateObject();
	cJSON *dups = r->dups ? dup_groups_json(r->dups) : NULL;

	cJSON_AddNumberToObject(s, "entries", (double)st->entries);
	cJSON_AddNumberToObject(s, "images", (double)r->t.images);
	cJSON_AddItemToObject(s, "by_kind", tally_kinds_json(&r->t));
	cJSON_AddNumberToObject(s, "other_files", (double)st->other_files);
	cJSON_AddNumberToObject(s, "other_bytes", (double)st->other_bytes);
	cJSON_AddNumberToObject(s, "symlinks", (double)r->symlinks);
	cJSON_AddNumberToObject(s, "special_files", (double)r->specials);
	cJSON_AddNumberToObject(s, "walk_errors", (double)r->walk_errors);
	cJSON_AddNumberToObject(s, "skipped_not_listed", (double)r->skipped_dropped);
	cJSON_AddNumberToObject(s, "findings", (double)r->t.findings);
	cJSON_AddNumberToObject(s, "misnamed", (double)r->t.misnamed);
	cJSON_AddNumberToObject(s, "images_with_errors", (double)r->t.image_errors);
	cJSON_AddNumberToObject(s, "bytes_hashed", (double)r->t.bytes);
	cJSON_AddNumberToObject(s, "images_reused", (double)r->t.reused);
	cJSON_AddNumberToObject(s, "bytes_reused", (double)r->t.bytes_reused);
	/* out of memory for the groups: null (not known), never a partial
	 * list, and the rest of the report is kept */
	if (r->dups && !dups && !r->opt->quiet)
		fprintf(stderr, "imgscan: not enough memory to group the duplicate images: summary.duplicates is null\n");
	cJSON_AddItemToObject(s, "duplicates", dups ? dups : cJSON_CreateNull());
	if (r->catalog)
		cJSON_AddItemReferenceToObject(s, "catalog", r->catalog);
	else
		cJSON_AddNullToObject(s, "catalog");
	cJSON_AddNumberToObject(s, "wall_seconds", secs);
	cJSON_AddNumberToObject(s, "bytes_per_second", secs > 0 ? (double)r->t.bytes / secs : 0);
	cJSON_AddNumberToObject(s, "direct_fallbacks", st->direct_fallbacks);
	cJSON_AddBoolToObject(s, "fixed_buffers", st->fixed_buffers);
	cJSON_AddItemToObject(s, "pipeline", pipeline_json(st));
	cJSON_AddNumberToObject(s, "tsk_worker_restarts", restarts);
	cJSON_AddNumberToObject(s, "exit_status", status);
	if (r->shard)
		cJSON_AddItemReferenceToObject(s, "shard", r->shard);
	return s;
}

static void print_human(const struct report *r, const struct run_stats *st, double secs, int status)
{
	fprintf(stderr, "imgscan: %llu image%s, %.2f GB hashed in %.2f s (%.2f GB/s); %llu other file%s; "
		"%llu misnamed, %llu finding%s, %llu error%s -> exit %d\n",
		(unsigned long long)r->t.images, r->t.images == 1 ? "" : "s", (double)r->t.bytes / 1e9, secs,
		secs > 0 ? (double)r->t.bytes / 1e9 / secs : 0.0, (unsigned long long)st->other_files,
		st->other_files == 1 ? "" : "s", (unsigned long long)r->t.misnamed, (unsigned long long)r->t.findings,
		r->t.findings == 1 ? "" : "s", (unsigned long long)(r->t.image_errors + r->walk_errors),
		r->t.image_errors + r->walk_errors == 1 ? "" : "s", status);
	if (r->misnamed_len) {
		fprintf(stderr, "misnamed (path -> suggested name):\n%s", r->misnamed_lines);
		if (r->t.misnamed > r->misnamed_shown)
			fprintf(stderr, "  ... and %llu more (see the report)\n",
				(unsigned long long)(r->t.misnamed - r->misnamed_shown));
	}
}

/* Where the report was to go, for a message: the file, else the path as
 * given (a device, FIFO, /dev/fd/N), else standard output. */
static const char *destination(const struct report *r)
{
	if (r->out.final[0])
		return r->out.final;
	return r->opt->output && strcmp(r->opt->output, "-") ? r->opt->output : "standard output";
}

int report_close(struct report *r, const struct run_stats *stats, unsigned tsk_restarts, int pipeline_rc,
		 bool *written)
{
	double secs = elapsed(r);
	int status = exit_status(r, stats, pipeline_rc), rc;
	cJSON *summary = summary_json(r, stats, tsk_restarts, secs, status);

	char when[48];

	run_add_stop_json(summary, stats, pipeline_rc);
	run_add_end(r->run, when, sizeof(when));
	if (r->opt->format == FMT_CASE) {
		case_close(r->case_doc, r->run, summary);
	} else if (r->opt->format == FMT_JSONL) {
		cJSON_AddStringToObject(summary, "type", "summary");
		cJSON_AddStringToObject(summary, "end", when);
		write_json_line(r, summary, NULL);
	} else {
		cJSON *tail = cJSON_CreateObject();
		cJSON_AddItemToObject(tail, "skipped", r->skipped);
		cJSON_AddItemToObject(tail, "run", r->run);
		cJSON_AddItemToObject(tail, "summary", summary);
		json_close_document(&r->out, tail);
		cJSON_DetachItemViaPointer(tail, r->skipped);
		cJSON_DetachItemViaPointer(tail, r->run);
		cJSON_DetachItemViaPointer(tail, summary);
		cJSON_Delete(tail);
	}
	rc = outfile_commit(&r->out);
	if (written)
		*written = rc == 0;
	if (r->progress_shown) /* before any message: it would share the progress line */
		fputs("\r\033[K", stderr);
	/* Not written: status 2, never 0 or 1 (an atomic file's previous
	 * content is left as it was). */
	if (rc) {
		fprintf(stderr, "imgscan: cannot write the report to %s: %s\n", destination(r), outfile_strerror(-rc));
		status = EXIT_ERRORS;
	}
	if (r->lists_failed)
		fprintf(stderr, "imgscan: --sector-hashes %s: %llu sector-hash list%s not written (the first: %s); "
			"each such image has a sector-hashes error in the report\n", r->opt->sector_hash_dir,
			(unsigned long long)r->lists_failed, r->lists_failed == 1 ? "" : "s", r->first_list_error);
	if (!r->opt->quiet)
		print_human(r, stats, secs, status);
	cJSON_Delete(summary);
	cJSON_Delete(r->catalog);
	cJSON_Delete(r->shard);
	dup_index_free(r->dups);
	cJSON_Delete(r->run);
	cJSON_Delete(r->skipped);
	free(r->misnamed_lines);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return status;
}
