/*
 * verify.c - `imgscan verify REPORT [PATH...]`: load the report, take from
 * it what the images were measured with (sector size, digests, --all-files),
 * walk the PATHs and the listed paths outside them through the scan's own
 * pipeline (The Sleuth Kit off), match results to the report's images
 * (match.c), decide the statuses (items.c) and write the result
 * (verify_out.c).  The exit status says whether anything differs.
 */
#include "verify.h"
#include "verify_out.h"
#include "verify_run.h"
#include "../config/config.h"
#include "../report/pathenc.h"
#include "../scanner/tsk_pool.h"
#include "../scanner/engine_choice.h"
#include "../scanner/stop.h"
#include "../scanner/walk.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct verify_resources {
	struct imgscan_config cfg;
	struct engine_choice ec;
	struct walker *walk;
	struct tsk_pool *workers; /* they look inside compressed files, as the scan did */
	struct verify_out out;
	bool out_open;
	bool lock_made;
};

/* What the report's scan measured with: its sector size (so the sector
 * lists compare), which files it took for images (--all-files), whether it
 * followed links, and every digest any of its images holds.  Returns 0, or
 * EXIT_ERRORS when the report's options make no sense (said on stderr). */
static int apply_report_options(struct verify_run *vr)
{
	struct scan_options *opt = &vr->vo->scan;
	const cJSON *run = vr->report.head.run;
	const cJSON *ss = json_at(run, "options", "sector_size");
	double d;

	if (ss) {
		d = cJSON_IsNumber(ss) ? ss->valuedouble : 0;
		if (!(d >= 512 && d <= (1 << 20)) || d != (double)(unsigned)d || ((unsigned)d & ((unsigned)d - 1))) {
			fprintf(stderr, "imgscan: verify: the report %s: run.options.sector_size is not a sector size "
				"(a power of two from 512 to 1M)\n", vr->vo->report);
			return EXIT_ERRORS;
		}
		opt->sector_size = (unsigned)d;
	}
	opt->all_files = cJSON_IsTrue(json_at(run, "options", "all_files"));
	/* Which compressed files of unknown extension are images was decided by
	 * looking inside (the scan's default): decide them the same way. */
	if (cJSON_IsString(json_at(run, "options", "inside")) &&
	    strcmp(json_at(run, "options", "inside")->valuestring, "none"))
		opt->inside = INSIDE_HEAD;
	opt->follow_symlinks |= cJSON_IsTrue(json_at(run, "options", "follow_symlinks"));
	for (size_t i = 0; i < vr->report.n; i++)
		for (int h = 0; h < HASH_COUNT; h++)
			if (vr->report.images[i].crypto[h][0])
				opt->crypto_mask |= 1u << h;
	return 0;
}

/* -o names the report itself (also when it comes on stdin) or one of the
 * images it lists: replacing the evidence of what was scanned, or the
 * evidence itself, with the check of it is never what someone meant. */
static bool output_is_evidence(const struct verify_run *vr)
{
	const struct verify_options *vo = vr->vo;
	struct stat a, b;

	if (!vo->scan.output || !strcmp(vo->scan.output, "-") || stat(vo->scan.output, &a) || !S_ISREG(a.st_mode))
		return false;
	if (!strcmp(vo->report, "-") ? !fstat(STDIN_FILENO, &b) : !stat(vo->report, &b))
		if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return true;
	for (size_t i = 0; i < vr->report.n; i++)
		if (!stat(vr->report.images[i].path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return true;
	return false;
}

/* Segment sets are read as media only when the report has them so: one
 * from before (or a set that had one file then) lists each file. */
static bool lists_media(const struct listed_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->images[i].is_media)
			return true;
	return false;
}

/* Everything before the first image: any failure here ends the run. */
static int setup(struct verify_run *vr, struct verify_resources *res)
{
	struct scan_options *opt = &vr->vo->scan;
	struct report_run_info info = {0};
	char err[256];
	int rc;

	if (config_load(opt->config_path, &res->cfg, err, sizeof(err))) {
		fprintf(stderr, "imgscan: config %s: %s\n", opt->config_path ? opt->config_path : "(built-in)", err);
		return EXIT_USAGE;
	}
	if (!opt->read_timeout_set)
		opt->read_timeout_s = res->cfg.read_timeout_s;
	pthread_mutex_init(&vr->lock, NULL);
	res->lock_made = true;
	if (items_init(&vr->items, &vr->report) || match_prepare(vr) || !(vr->walk_errors = cJSON_CreateArray())) {
		fprintf(stderr, "imgscan: verify: out of memory\n");
		return EXIT_ERRORS;
	}
	if (engine_choose(opt->io, opt->queue_depth, &res->ec))
		return EXIT_ERRORS;
	if (opt->inside != INSIDE_NONE &&
	    (rc = tsk_pool_create(res->cfg.tsk_workers ? res->cfg.tsk_workers : opt->jobs,
				  res->cfg.tsk_timeout_s ? res->cfg.tsk_timeout_s : 20,
				  res->cfg.tsk_memory_mib ? res->cfg.tsk_memory_mib : 1024, &res->workers))) {
		fprintf(stderr, "imgscan: verify: cannot set up the worker processes (the program imgscan-worker, "
			"beside imgscan): %s\n", strerror(-rc));
		return EXIT_ERRORS;
	}
	info.engine = res->ec.name;
	info.engine_note = res->ec.note;
	if (walk_open(vr->roots, vr->nroots, opt->follow_symlinks, lists_media(&vr->report), &res->walk))
		return EXIT_ERRORS;
	rc = verify_out_open(&res->out, vr, &res->cfg, &info);
	if (rc) {
		fprintf(stderr, "imgscan: -o %s: %s\n", opt->output, outfile_strerror(-rc));
		return outfile_is_usage_error(-rc) ? EXIT_USAGE : EXIT_ERRORS;
	}
	res->out_open = true;
	return 0;
}

static void teardown(struct verify_run *vr, struct verify_resources *res)
{
	/* Detached first (the engine goes): a signal now takes its default action. */
	stop_signals_attach(NULL);
	if (res->out_open)
		verify_out_abort(&res->out);
	walk_close(res->walk);
	tsk_pool_destroy(res->workers);
	if (res->ec.engine)
		res->ec.engine->ops->destroy(res->ec.engine);
	stop_signals_end();
	match_free(vr);
	items_free(&vr->items);
	listed_report_free(&vr->report);
	if (res->lock_made)
		pthread_mutex_destroy(&vr->lock);
}

static int by_walk_index(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->walk_index < y->walk_index ? -1 : x->walk_index > y->walk_index;
}

static void count(const struct verify_run *vr, struct verify_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->listed = vr->items.nlisted;
	for (size_t i = 0; i < vr->items.n; i++)
		c->by_status[vr->items.v[i].status]++;
	c->walk_errors = vr->nwalk_errors;
}

/* 128 + the signal that stopped the run; 2 for an error (an item that
 * could not be read, a walk error, a failed engine); 1 when anything
 * differs; else 0. */
static int exit_status(const struct verify_run *vr, const struct verify_counts *c, const struct run_stats *st,
		       int pipeline_rc)
{
	const uint64_t *n = c->by_status;

	if (st->stop_signal)
		return 128 + st->stop_signal;
	if (pipeline_rc || n[ITEM_ERROR] || c->walk_errors || vr->out_of_memory)
		return EXIT_ERRORS;
	if (n[ITEM_CHANGED] || n[ITEM_MISSING] || n[ITEM_MOVED] || n[ITEM_NEW] || n[ITEM_UNVERIFIABLE])
		return EXIT_FINDINGS;
	return EXIT_CLEAN;
}

static int run_pipeline(struct verify_run *vr, struct verify_resources *res, struct run_stats *stats)
{
	struct pipeline_env env = {
		.opt = &vr->vo->scan, .cfg = &res->cfg, .engine = res->ec.engine, .tsk = res->workers,
		.sink = match_sink(vr), .admit = match_admit_hook(vr),
	};
	int rc;

	stop_signals_attach(res->ec.engine);
	rc = pipeline_run(&env, res->walk, stats);
	stop_signals_attach(NULL); /* from here a signal ends the process at once */
	stats->stop_signal = rc == -EINTR ? stop_requested() : 0;
	if (rc == -EINTR)
		fprintf(stderr, "imgscan: stopped by SIG%s: the result covers what was done (partial)\n",
			sigabbrev_np(stats->stop_signal) ? sigabbrev_np(stats->stop_signal) : "?");
	else if (rc)
		fprintf(stderr, "imgscan: verify stopped early: %s\n", strerror(-rc));
	return rc;
}

/* After the pipeline: statuses, the result, the summary. */
static int finish(struct verify_run *vr, struct verify_resources *res, const struct run_stats *stats, int rc)
{
	struct verify_counts c;
	struct timespec now;
	int status;

	if (items_finish(&vr->items, rc != 0, vr->failures, vr->nfailures))
		vr->out_of_memory = true;
	if (vr->out_of_memory)
		fprintf(stderr, "imgscan: verify: out of memory: the result is incomplete\n");
	if (vr->items.n > vr->items.nlisted) /* qsort(NULL, 0) is undefined */
		qsort(vr->items.v + vr->items.nlisted, vr->items.n - vr->items.nlisted, sizeof(struct item), by_walk_index);
	count(vr, &c);
	status = exit_status(vr, &c, stats, rc);
	clock_gettime(CLOCK_MONOTONIC, &now);
	vr->wall_seconds = (double)(now.tv_sec - vr->t0_mono.tv_sec) + (now.tv_nsec - vr->t0_mono.tv_nsec) / 1e9;
	status = verify_out_close(&res->out, vr, &c, stats, rc, status);
	res->out_open = false;
	if (!vr->vo->scan.quiet)
		verify_print_human(vr, &c, stats, rc, status);
	return status;
}

static int run_verify(struct verify_options *vo)
{
	static struct verify_run vr;
	static struct verify_resources res;
	struct run_stats stats = {0};
	char err[600];
	int status, rc;

	vr.vo = vo;
	clock_gettime(CLOCK_REALTIME, &vr.t0_wall);
	clock_gettime(CLOCK_MONOTONIC, &vr.t0_mono);
	/* Before imgscan opens anything: -o /dev/fd/N must be the caller's. */
	rc = outfile_check_fd_path(vo->scan.output);
	if (rc) {
		fprintf(stderr, "imgscan: -o %s: %s\n", vo->scan.output, outfile_strerror(-rc));
		return EXIT_USAGE;
	}
	if (report_load(vo->report, &vr.report, err, sizeof(err))) {
		fprintf(stderr, "imgscan: verify: cannot use the report %s: ", vo->report);
		term_say("", err, "\n"); /* err may quote the report's strings */
		return EXIT_ERRORS;
	}
	if (output_is_evidence(&vr)) {
		fprintf(stderr, "imgscan: -o %s is the report being verified or an image it lists: write the result "
			"elsewhere\n", vo->scan.output);
		listed_report_free(&vr.report);
		return EXIT_USAGE;
	}
	if ((status = apply_report_options(&vr))) {
		listed_report_free(&vr.report);
		return status;
	}
	/* Before any thread exists: every thread inherits the blocked signals. */
	if ((rc = stop_signals_start())) {
		fprintf(stderr, "imgscan: cannot set up signal handling: %s\n", strerror(-rc));
		listed_report_free(&vr.report);
		return EXIT_ERRORS;
	}
	status = setup(&vr, &res);
	if (!status) {
		rc = run_pipeline(&vr, &res, &stats);
		status = finish(&vr, &res, &stats, rc);
	}
	teardown(&vr, &res);
	return status;
}

int verify_main(int argc, char **argv)
{
	static struct verify_options vo;
	int exit_now, status = verify_options_parse(argc, argv, &vo, &exit_now);

	return exit_now ? status : run_verify(&vo);
}
