/*
 * merge.c - imgscan merge (see merge.h).  Two passes over every shard
 * report, one image at a time: the first checks that the reports are the
 * parts of one scan and counts (the temporary index finds an image in two
 * shards and the duplicates); the second copies the images into the merged
 * report.  Memory holds one image, the shards' heads and the index's
 * bounded cache, whatever the number of images.
 */
#include "merge.h"
#include "merge_index.h"
#include "merge_shards.h"
#include "../config/options.h"
#include "../report/outfile.h"
#include "../report/pathenc.h"
#include "../report/run_json.h"
#include "../report/tally.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SKIPPED_KEPT 10000 /* skipped entries listed in a JSON document, as a scan */
#define OPT_ALLOW_PARTIAL 1000 /* past scan's options (options.h) */

static const char merge_usage[] =
	"Usage: imgscan merge [OPTIONS] SHARD-REPORT...\n"
	"\n"
	"Merge the reports of a sharded scan (`imgscan scan --shard K/N`, one per\n"
	"shard, JSON or JSON lines in any mix) into one report with one summary, as\n"
	"if one machine had scanned it all: the images of every shard, the counts\n"
	"added up, the duplicate groups found again across shards, run.merge naming\n"
	"each shard's report, host and times.  The reports are read twice, one image\n"
	"at a time: memory does not grow with the number of images.\n"
	"\n"
	"Refused (exit 65, nothing written): reports of different roots, shard counts\n"
	"or rules, imgscan or library versions, or result-deciding options (hashes,\n"
	"sector size, --all-files, --inside, --follow-symlinks, The Sleuth Kit and its\n"
	"limits, --config); a shard given twice or missing (each named); a report\n"
	"that is not whole or not a regular file; a shard stopped early (partial:\n"
	"by a signal, or by an error such as every read buffer held by hung reads)\n"
	"unless --allow-partial; an image in two shards; a shard that walked no\n"
	"entry where others did (the archive not mounted on its machine?); with\n"
	"--shard-by size, shards that walked different trees.  By path, an archive\n"
	"that changed between the shards' walks is a warning (run.merge.same_tree\n"
	"false: a file renamed between two walks may be in no shard or in two, under\n"
	"its two names); if two shards then gave one index to different images, every\n"
	"image is numbered again (run.merge.renumbered).  A walk error is reported by\n"
	"every shard whose walk met it and listed once.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE        write the merged report to FILE (default: stdout), as scan\n"
	"                           writes its report: strftime fields expanded, a regular\n"
	"                           file atomically, a device, FIFO or /dev/fd/N directly\n"
	"      --format json|jsonl  one JSON document (default) or one object per line\n"
	"      --allow-partial      merge shards that stopped early too: the merged report\n"
	"                           is partial (summary.stopped_by names the shard)\n"
	"  -q, --quiet              no summary on stderr\n"
	"\n"
	"Exit status (0, 1, 2 and 128+N: the merged report was written):\n"
	"  0, 1, 2   the merged report's: 0 nothing to report, 1 findings, 2 errors in\n"
	"            some shard (and, with --allow-partial, a shard stopped by an error)\n"
	"  128+N     with --allow-partial, a shard was stopped by signal N: the merged\n"
	"            report is partial\n"
	"  64        usage error (also: -o names a shard report)\n"
	"  65        nothing merged: the reports were refused or cannot be read, or the\n"
	"            merged report could not be written\n";

struct merge_run {
	struct scan_options opt;   /* output, format, quiet: as scan reads them */
	char **files;
	size_t n;
	struct merge_shard *shards;
	struct merge_index *index;
	struct tally t;
	struct outfile out;
	cJSON *skipped;            /* JSON document: the first MAX_SKIPPED_KEPT */
	uint64_t skipped_kept, skipped_dropped;
	size_t current;            /* the report being read */
	uint64_t seen;             /* its images, this pass */
	bool first_image;
	bool renumbered;           /* two shards gave one index: every image numbered again */
	bool allow_partial;        /* --allow-partial */
	uint64_t repeated_walk_errors; /* listed by an earlier shard too: counted and listed once */
	char conflict[700];        /* the first image found in two shard reports */
	char fill_err[300];        /* the index's failure while summary.duplicates was written */
};

static int parse(int argc, char **argv, struct merge_run *m, int *exit_now)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'}, {"format", required_argument, NULL, OPT_FORMAT},
		{"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},
		{"allow-partial", no_argument, NULL, OPT_ALLOW_PARTIAL}, {NULL, 0, NULL, 0},
	};
	struct scan_options *opt = &m->opt;
	int c, rc, stop = 0;

	options_defaults(opt, "merge", argc, argv);
	*exit_now = 1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		if (c == 'h')
			return fputs(merge_usage, stdout), EXIT_CLEAN;
		if (c == OPT_ALLOW_PARTIAL) {
			m->allow_partial = true;
			continue;
		}
		if ((rc = options_apply(c, optarg, opt, &stop)) || stop)
			return rc;
	}
	if (opt->format == FMT_CASE)
		return options_usage_error(opt, "--format must be json or jsonl", "case");
	if (options_expand_output(opt))
		return EXIT_USAGE;
	if (optind >= argc)
		return options_usage_error(opt, "no SHARD-REPORT given", NULL);
	m->files = argv + optind;
	m->n = (size_t)(argc - optind);
	for (size_t i = 0; i < m->n; i++)
		if (!m->files[i][0] || !strcmp(m->files[i], "-")) /* read twice: a file, not a stream */
			return options_usage_error(opt, "a SHARD-REPORT must be a file", m->files[i]);
	*exit_now = 0;
	return 0;
}

/* First pass: count, index, refuse an image in two shards. */
static int first_image(void *ctx, const cJSON *img, size_t n, char *err, size_t errlen)
{
	struct merge_run *m = ctx;
	unsigned other = 0;
	int rc = merge_index_add(m->index, img, (unsigned)m->current, &other, err, errlen);

	(void)n;
	if (rc == 1 && !m->conflict[0]) /* said after the checks, which name a shard given twice better */
		snprintf(m->conflict, sizeof(m->conflict), "the image %s is in two shard reports: %s and %s",
			 json_str(img, "path"), m->files[other], m->files[m->current]);
	if (rc < 0)
		return -1;
	tally_image(&m->t, img);
	m->seen++;
	return 0;
}

/* A walk error listed by an earlier shard is left out.  0, or -1. */
static int walk_error_repeated(struct merge_run *m, const cJSON *entry, bool *repeated, char *err, size_t errlen)
{
	bool first = true;

	*repeated = false;
	if (strcmp(json_str(entry, "reason"), "error"))
		return 0;
	if (merge_index_walk_error(m->index, entry, (unsigned)m->current, &first, err, errlen))
		return -1;
	*repeated = !first;
	return 0;
}

static int first_skipped(void *ctx, const cJSON *entry, size_t n, char *err, size_t errlen)
{
	struct merge_run *m = ctx;
	bool repeated;

	(void)n;
	if (walk_error_repeated(m, entry, &repeated, err, errlen))
		return -1;
	m->repeated_walk_errors += repeated;
	return 0;
}

/* Second pass: copy.  A JSON line gets its type again. */
static int copy_image(void *ctx, const cJSON *img, size_t n, char *err, size_t errlen)
{
	struct merge_run *m = ctx;
	cJSON *copy = (cJSON *)img; /* the reader's object, only for this call */

	double index;

	(void)n;
	if (m->renumbered) {
		if (merge_index_new_index(m->index, img, &index, err, errlen))
			return -1;
		cJSON_ReplaceItemInObjectCaseSensitive(copy, "index", cJSON_CreateNumber(index));
	}
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "type");
	if (m->opt.format == FMT_JSONL) {
		cJSON_AddStringToObject(copy, "type", "image");
		json_write_line(&m->out, copy, NULL);
	} else {
		json_write_line(&m->out, copy, m->first_image ? NULL : ",");
	}
	m->first_image = false;
	m->seen++;
	return m->out.err ? (snprintf(err, errlen, "cannot write: %s", strerror(m->out.err)), -1) : 0;
}

static int copy_skipped(void *ctx, const cJSON *entry, size_t n, char *err, size_t errlen)
{
	struct merge_run *m = ctx;
	cJSON *copy = (cJSON *)entry;
	bool repeated;

	(void)n;
	if (walk_error_repeated(m, entry, &repeated, err, errlen))
		return -1;
	if (repeated)
		return 0;
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "type");
	if (m->opt.format == FMT_JSONL) {
		cJSON_AddStringToObject(copy, "type", "skipped");
		json_write_line(&m->out, copy, NULL);
	} else if (m->skipped_kept < MAX_SKIPPED_KEPT) { /* counted: the list is walked to size it */
		cJSON_AddItemToArray(m->skipped, cJSON_Duplicate(copy, true));
		m->skipped_kept++;
	} else {
		m->skipped_dropped++;
	}
	return 0;
}

/* A shard report: a regular file (it is read twice: a pipe would be empty
 * the second time), opened without blocking on a FIFO.  NULL with msg set. */
static FILE *open_report(const char *path, struct stat *st, char *msg, size_t len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	FILE *f;

	if (fd < 0) {
		snprintf(msg, len, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		snprintf(msg, len, "%s", S_ISREG(st->st_mode) ? strerror(errno)
			 : "not a regular file (a shard report is read twice)");
		close(fd);
		return NULL;
	}
	if (fcntl(fd, F_SETFL, 0) || !(f = fdopen(fd, "r"))) {
		snprintf(msg, len, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

/* One pass over report i.  The second must find the file the first read. */
static int pass(struct merge_run *m, size_t i, const struct report_visitor *v, bool second, char *err,
		size_t errlen)
{
	struct merge_shard *s = &m->shards[i];
	struct report_head head;
	struct stat st;
	char msg[600] = "";
	FILE *f = open_report(m->files[i], &st, msg, sizeof(msg));
	int rc = -1;

	m->current = i;
	m->seen = 0;
	if (!f)
		goto out;
	if (second && (st.st_dev != s->st.st_dev || st.st_ino != s->st.st_ino || st.st_size != s->st.st_size ||
			      st.st_mtim.tv_sec != s->st.st_mtim.tv_sec || st.st_mtim.tv_nsec != s->st.st_mtim.tv_nsec)) {
		snprintf(msg, sizeof(msg), "it changed while it was being merged");
	} else if (!report_visit_stream(f, &head, v, msg, sizeof(msg))) {
		rc = 0;
		if (second) {
			report_head_free(&head);
			if (m->seen != s->images)
				rc = -1, snprintf(msg, sizeof(msg), "it changed while it was being merged");
		} else {
			s->st = st;
			s->head = head;
			s->images = m->seen;
			rc = merge_shard_take(s, msg, sizeof(msg));
		}
	}
	fclose(f);
out:
	if (rc)
		snprintf(err, errlen, "%s: %s", m->files[i], msg);
	return rc;
}

/* A walk error several shards met is one entry of the merged report.
 * (Past the 10,000 skipped entries a JSON report lists, what a shard did
 * not list cannot be matched: counted as the shards counted it.) */
static void uncount_repeated(const struct merge_run *m, struct merge_sums *sums)
{
	uint64_t r = m->repeated_walk_errors;

	sums->walk_errors -= r < sums->walk_errors ? r : sums->walk_errors;
	sums->entries -= r < sums->entries ? r : sums->entries;
}

static int exit_status(const struct merge_run *m, const struct merge_sums *sums)
{
	const cJSON *stopped = sums->stopped ? json_at(sums->stopped->head.summary, "exit_status", NULL) : NULL;

	if (stopped && cJSON_GetNumberValue(stopped) > 128 && cJSON_GetNumberValue(stopped) <= 128 + 64)
		return (int)cJSON_GetNumberValue(stopped); /* 128 + the signal (Linux has 64) */
	if (sums->stopped || m->t.image_errors || sums->walk_errors || sums->worst_exit == EXIT_ERRORS)
		return EXIT_ERRORS;
	return m->t.counted_findings || sums->worst_exit == EXIT_FINDINGS ? EXIT_FINDINGS : EXIT_CLEAN;
}

/* The merged summary; its duplicates are a hole, written in place from the
 * index (fill_duplicates): they are never held. */
static cJSON *summary_json(const struct merge_run *m, const struct merge_sums *sums, int status)
{
	cJSON *s = cJSON_CreateObject();

	cJSON_AddNumberToObject(s, "entries", (double)sums->entries);
	cJSON_AddNumberToObject(s, "images", (double)m->t.images);
	cJSON_AddItemToObject(s, "by_kind", tally_kinds_json(&m->t));
	cJSON_AddNumberToObject(s, "other_files", (double)sums->other_files);
	cJSON_AddNumberToObject(s, "other_bytes", (double)sums->other_bytes);
	cJSON_AddNumberToObject(s, "symlinks", (double)sums->symlinks);
	cJSON_AddNumberToObject(s, "special_files", (double)sums->specials);
	cJSON_AddNumberToObject(s, "walk_errors", (double)sums->walk_errors);
	cJSON_AddNumberToObject(s, "skipped_not_listed", (double)(sums->not_listed + m->skipped_dropped));
	cJSON_AddNumberToObject(s, "findings", (double)m->t.findings);
	cJSON_AddNumberToObject(s, "misnamed", (double)m->t.misnamed);
	cJSON_AddNumberToObject(s, "images_with_errors", (double)m->t.image_errors);
	cJSON_AddNumberToObject(s, "bytes_hashed", (double)m->t.bytes);
	cJSON_AddNumberToObject(s, "images_reused", (double)m->t.reused);
	cJSON_AddNumberToObject(s, "bytes_reused", (double)m->t.bytes_reused);
	cJSON_AddItemToObject(s, "duplicates", json_hole());
	cJSON_AddNullToObject(s, "catalog"); /* each shard's own: run.merge.shards[].catalog */
	cJSON_AddNumberToObject(s, "wall_seconds", sums->wall_seconds);
	cJSON_AddNumberToObject(s, "bytes_per_second", sums->wall_seconds > 0 ? (double)m->t.bytes / sums->wall_seconds : 0);
	cJSON_AddNumberToObject(s, "direct_fallbacks", (double)sums->direct_fallbacks);
	cJSON_AddBoolToObject(s, "fixed_buffers", sums->fixed_buffers);
	cJSON_AddNumberToObject(s, "tsk_worker_restarts", (double)sums->tsk_restarts);
	cJSON_AddNumberToObject(s, "exit_status", status);
	cJSON_AddBoolToObject(s, "partial", sums->stopped != NULL);
	if (sums->stopped) {
		char why[300];
		snprintf(why, sizeof(why), "shard %u: %s", sums->stopped->index,
			 json_str(sums->stopped->head.summary, "stopped_by"));
		cJSON_AddStringToObject(s, "stopped_by", why);
	} else {
		cJSON_AddNullToObject(s, "stopped_by");
	}
	if (sums->any_lost_buffers)
		cJSON_AddNumberToObject(s, "lost_buffers", (double)sums->lost_buffers);
	return s;
}

/* {"tool": ..., "images": [ (JSON) or the run line (JSON lines, without
 * its end, which the summary line carries). */
static void write_head(struct merge_run *m, cJSON *run)
{
	const cJSON *tool = m->shards[0].head.tool;

	if (m->opt.format == FMT_JSONL) {
		cJSON *line = cJSON_CreateObject(), *end = cJSON_DetachItemFromObjectCaseSensitive(run, "end");
		cJSON_AddStringToObject(line, "type", "run");
		cJSON_AddItemReferenceToObject(line, "tool", (cJSON *)tool);
		cJSON_AddItemReferenceToObject(line, "run", run);
		json_write_line(&m->out, line, NULL);
		cJSON_Delete(line);
		cJSON_AddItemToObject(run, "end", end);
		return;
	}
	json_open_document(&m->out, tool);
}

/* summary.duplicates, where the summary's hole is. */
static int fill_duplicates(void *ctx, struct outfile *out)
{
	struct merge_run *m = ctx;

	return merge_index_write_duplicates(m->index, out, m->fill_err, sizeof(m->fill_err));
}

/* The summary (and, for a JSON document, skipped and run before it).
 * Returns 0, or -1 with m->fill_err set: the index failed while the
 * duplicates were written. */
static int write_tail(struct merge_run *m, cJSON *run, cJSON *summary)
{
	int rc;

	if (m->opt.format == FMT_JSONL) {
		cJSON_AddStringToObject(summary, "type", "summary");
		cJSON_AddStringToObject(summary, "end", json_str(run, "end"));
		return json_write_line_filled(&m->out, summary, NULL, fill_duplicates, m);
	}
	cJSON *tail = cJSON_CreateObject();
	cJSON_AddItemReferenceToObject(tail, "skipped", m->skipped);
	cJSON_AddItemReferenceToObject(tail, "run", run);
	cJSON_AddItemReferenceToObject(tail, "summary", summary);
	rc = json_close_document_filled(&m->out, tail, fill_duplicates, m);
	cJSON_Delete(tail);
	return rc;
}

/* The first pass and the checks: 0, or -1 with err set (nothing written). */
static int read_and_check(struct merge_run *m, bool *tree_differs, char *err, size_t errlen)
{
	/* The shards' own groups are found again across shards: passed over. */
	const struct report_visitor v = {first_image, first_skipped, m, .skip_duplicates = true};

	if (merge_index_open(&m->index, err, errlen))
		return -1;
	for (size_t i = 0; i < m->n; i++)
		if (pass(m, i, &v, false, err, errlen))
			return -1;
	if (merge_shards_check(m->shards, m->n, m->allow_partial, tree_differs, err, errlen))
		return -1;
	if (m->conflict[0])
		return snprintf(err, errlen, "%s", m->conflict), -1;
	return 0;
}

/* A failure while the merged report is written: it goes (an atomic file
 * was never there; a stream has a part of it).  Returns the exit status. */
static int give_up(struct merge_run *m, const char *why)
{
	/* why may quote an image's path or a shard report's strings */
	term_say("imgscan merge: ", why, m->out.how == OUT_ATOMIC ? "; nothing was written\n"
		 : "; what was written is cut short\n");
	outfile_abort(&m->out);
	return EXIT_NOT_MERGED;
}

/* The second pass into the merged report (open already).  Returns the
 * exit status. */
static int write_merged(struct merge_run *m, cJSON *run, cJSON *summary, int status, char *err, size_t errlen)
{
	const struct report_visitor v = {copy_image, copy_skipped, m, .skip_duplicates = true};
	int rc;

	m->first_image = true;
	write_head(m, run);
	for (size_t i = 0; i < m->n; i++)
		if (pass(m, i, &v, true, err, errlen))
			return give_up(m, err);
	cJSON_ReplaceItemInObjectCaseSensitive(summary, "skipped_not_listed",
		cJSON_CreateNumber(cJSON_GetNumberValue(json_at(summary, "skipped_not_listed", NULL)) +
				   (double)m->skipped_dropped));
	if (write_tail(m, run, summary))
		return give_up(m, m->fill_err);
	rc = outfile_commit(&m->out);
	if (rc) {
		fprintf(stderr, "imgscan merge: cannot write the merged report%s%s: %s\n", m->out.final[0] ? " to " : "",
			m->out.final, outfile_strerror(-rc));
		return EXIT_NOT_MERGED;
	}
	return status;
}

/* -o, opened before anything is read (a mistake is said at once), and
 * never one of the shard reports.  0, or an exit status. */
static int open_output(struct merge_run *m)
{
	struct stat out, in;
	int rc = outfile_check_fd_path(m->opt.output);

	if (!rc && m->opt.output && strcmp(m->opt.output, "-") && !stat(m->opt.output, &out)) {
		for (size_t i = 0; i < m->n; i++) {
			if (!stat(m->files[i], &in) && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
				fprintf(stderr, "imgscan merge: -o %s is the shard report %s: write the merged report "
					"elsewhere\n", m->opt.output, m->files[i]);
				return EXIT_USAGE;
			}
		}
	}
	if (!rc)
		rc = outfile_open(&m->out, m->opt.output);
	if (rc) {
		fprintf(stderr, "imgscan merge: -o %s: %s\n", m->opt.output ? m->opt.output : "-", outfile_strerror(-rc));
		return outfile_is_usage_error(-rc) || rc == -EBADF ? EXIT_USAGE : EXIT_NOT_MERGED;
	}
	return 0;
}

static void print_human(const struct merge_run *m, const struct merge_sums *sums, int status)
{
	fprintf(stderr, "imgscan merge: %zu shard reports, %llu images, %.2f GB hashed in %.2f s of wall time "
		"(%.2f GB/s together); %llu misnamed, %llu finding%s, %llu error%s -> exit %d\n", m->n,
		(unsigned long long)m->t.images, (double)m->t.bytes / 1e9, sums->wall_seconds,
		sums->wall_seconds > 0 ? (double)m->t.bytes / 1e9 / sums->wall_seconds : 0.0,
		(unsigned long long)m->t.misnamed, (unsigned long long)m->t.findings, m->t.findings == 1 ? "" : "s",
		(unsigned long long)(m->t.image_errors + sums->walk_errors),
		m->t.image_errors + sums->walk_errors == 1 ? "" : "s", status);
}

int merge_main(int argc, char **argv)
{
	static struct merge_run m;
	struct merge_sums sums;
	char err[1200] = "";
	bool tree_differs = false;
	int status, exit_now, rc;
	cJSON *run = NULL, *summary = NULL;

	status = parse(argc, argv, &m, &exit_now);
	if (exit_now)
		return status;
	if ((rc = open_output(&m)))
		return rc;
	m.shards = calloc(m.n, sizeof(*m.shards));
	m.skipped = cJSON_CreateArray();
	for (size_t i = 0; m.shards && i < m.n; i++)
		m.shards[i].file = m.files[i];
	if (!m.shards || read_and_check(&m, &tree_differs, err, sizeof(err)) ||
	    merge_index_renumber(m.index, &m.renumbered, err, sizeof(err)) ||
	    merge_index_group(m.index, err, sizeof(err))) {
		term_say("imgscan merge: ", m.shards ? err : "out of memory", "; nothing was written\n");
		outfile_abort(&m.out);
		status = EXIT_NOT_MERGED;
		goto out;
	}
	if (tree_differs && !m.opt.quiet)
		fprintf(stderr, "imgscan merge: the shards did not all walk the same tree (the archive changed "
			"between their walks: run.merge.same_tree is false); a path is in one shard at most, but a file renamed "
			"between two walks may be in no shard or in two, under its two names%s\n",
			m.renumbered ? ", and every image is numbered again (index), as two shards gave the same number" : "");
	merge_sums(m.shards, m.n, &sums);
	uncount_repeated(&m, &sums);
	status = exit_status(&m, &sums);
	run = merge_run_json(m.shards, m.n, m.opt.output, format_names[m.opt.format], argc, argv, tree_differs,
			     m.renumbered);
	summary = summary_json(&m, &sums, status);
	status = write_merged(&m, run, summary, status, err, sizeof(err));
	if (!m.opt.quiet && status < EXIT_USAGE)
		print_human(&m, &sums, status);
out:
	cJSON_Delete(run);
	cJSON_Delete(summary);
	cJSON_Delete(m.skipped);
	merge_index_close(m.index);
	for (size_t i = 0; m.shards && i < m.n; i++)
		report_head_free(&m.shards[i].head);
	free(m.shards);
	return status;
}
