/*
 * main.c - imgscan's entry point: parse the options, set up the run (config,
 * I/O engine, Sleuth Kit workers, report), run the pipeline, exit with the
 * status the report decided.  `imgscan verify` is verify/verify.c's.
 * The Sleuth Kit workers are another program, imgscan-worker
 * (scanner/worker_main.c), built beside this one.
 */
#include "act/act.h"
#include "catalog/incremental.h"
#include "catalog/run_lock.h"
#include "config/config.h"
#include "config/options.h"
#include "html/html.h"
#include "merge/merge.h"
#include "report/outfile.h"
#include "report/provenance.h"
#include "report/report.h"
#include "scanner/engine.h"
#include "scanner/engine_choice.h"
#include "scanner/pipeline.h"
#include "scanner/stuck_fds.h"
#include "scanner/shard.h"
#include "scanner/sibling.h"
#include "scanner/stop.h"
#include "scanner/tsk_pool.h"
#include "scanner/tsk_worker.h"
#include "scanner/walk.h"
#include "verify/verify.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct run_resources {
	struct imgscan_config cfg;
	struct engine *engine;
	struct tsk_pool *tsk;
	struct walker *walk;
	struct report *report;
	struct report_run_info info;
	struct engine_choice ec;    /* the engine and why it was chosen (info points into it) */
	struct run_lock lock;       /* held for the whole run when there is a catalog */
	char lock_error[300];       /* the lock file could not be used: no catalog this run */
	struct incremental *inc;    /* NULL without --state */
	struct shard_plan *shard;   /* NULL without --shard */
};

/* io_uring when the kernel allows it, else pread, said once on stderr. */
static int make_engine(const struct scan_options *opt, struct run_resources *rr)
{
	int rc = engine_choose(opt->io, opt->queue_depth, &rr->ec);

	rr->engine = rr->ec.engine;
	rr->info.engine = rr->ec.name;
	rr->info.engine_note = rr->ec.note;
	return rc;
}

static int check_dir(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		fprintf(stderr, "imgscan: %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "imgscan: %s %s: not a directory\n", what, path);
		return -1;
	}
	return 0;
}

/* One run per catalog.  Returns 0 (held, or unusable: lock_error says
 * why and the run goes on without the catalog) or EXIT_LOCKED. */
static int take_lock(const struct scan_options *opt, struct run_resources *rr)
{
	char holder[512] = "";
	int rc = run_lock_take(opt->state_path, false, &rr->lock, holder, sizeof(holder));

	if (rc == -EWOULDBLOCK && opt->wait_lock) {
		if (!opt->quiet)
			fprintf(stderr, "imgscan: waiting for the run that holds %s: %s\n", rr->lock.path, holder);
		rc = run_lock_take(opt->state_path, true, &rr->lock, holder, sizeof(holder));
	}
	if (rc == -EWOULDBLOCK) {
		fprintf(stderr, "imgscan: the catalog %s is in use by another run: %s (lock file %s); "
			"nothing was scanned (exit %d; --wait waits for it)\n", opt->state_path, holder, rr->lock.path,
			EXIT_LOCKED);
		return EXIT_LOCKED;
	}
	if (rc)
		snprintf(rr->lock_error, sizeof(rr->lock_error), "cannot use its lock file (FILE.lock): %s",
			 rc == -EINVAL ? "not a regular file with a single name"
			 : rc == -ENOSYS ? "cannot reopen it through /proc (is /proc mounted?)" : strerror(-rc));
	return 0;
}

/* The catalog, when asked for: a problem with it is said and the scan goes
 * on reading everything (exit status 2). */
static int open_catalog(const struct scan_options *opt, struct run_resources *rr)
{
	if (!opt->state_path)
		return 0;
	if (incremental_open(opt->state_path, rr->lock_error[0] ? rr->lock_error : NULL, opt, &rr->cfg, rr->report,
			     &rr->inc))
		return EXIT_ERRORS;
	if (incremental_error(rr->inc))
		fprintf(stderr, "imgscan: catalog %s: %s; scanning without it (every file is read; exit status 2)\n",
			opt->state_path, incremental_error(rr->inc));
	return 0;
}

/* Everything before the first image: any failure here ends the run. */
static int setup(struct scan_options *opt, struct run_resources *rr)
{
	char err[256];
	int rc;

	if (config_load(opt->config_path, &rr->cfg, err, sizeof(err))) {
		fprintf(stderr, "imgscan: config %s: %s\n", opt->config_path ? opt->config_path : "(built-in)", err);
		return EXIT_USAGE;
	}
	if (!opt->tsk_timeout_s)
		opt->tsk_timeout_s = rr->cfg.tsk_timeout_s ? rr->cfg.tsk_timeout_s : 20;
	if (!opt->read_timeout_set)
		opt->read_timeout_s = rr->cfg.read_timeout_s;
	if (!opt->tsk_memory_mib)
		opt->tsk_memory_mib = rr->cfg.tsk_memory_mib ? rr->cfg.tsk_memory_mib : 1024;
	if (!opt->tsk_workers)
		opt->tsk_workers = rr->cfg.tsk_workers ? rr->cfg.tsk_workers : opt->jobs;
	if (opt->sector_hash_dir && check_dir("--sector-hashes", opt->sector_hash_dir))
		return EXIT_USAGE;
	if (!opt->state_path && rr->cfg.state[0])
		opt->state_path = rr->cfg.state;
	if ((opt->rehash || opt->wait_lock) && !opt->state_path) {
		fprintf(stderr, "imgscan: --rehash and --wait need a catalog (--state FILE)\n");
		return EXIT_USAGE;
	}
	rr->lock.fd = -1;
	if (opt->state_path && (rc = take_lock(opt, rr)))
		return rc;
	if (make_engine(opt, rr))
		return EXIT_ERRORS;
	/* The workers run The Sleuth Kit and look inside compressed files and
	 * containers: started as images are opened (tsk_pool_prestart()) or at
	 * first use, so a run that reads no image starts none. */
	if ((!opt->no_tsk || opt->inside != INSIDE_NONE) &&
	    (rc = tsk_pool_create(opt->tsk_workers, opt->tsk_timeout_s, opt->tsk_memory_mib, &rr->tsk))) {
		fprintf(stderr, "imgscan: cannot set up the Sleuth Kit workers (the program imgscan-worker, "
			"beside imgscan): %s\n", strerror(-rc));
		return EXIT_ERRORS;
	}
	rr->info.tsk_workers = opt->no_tsk && opt->inside == INSIDE_NONE ? 0 : opt->tsk_workers;
	rr->info.tsk_timeout_s = opt->tsk_timeout_s;
	rr->info.tsk_memory_mib = opt->tsk_memory_mib;
	int a, b;
	if (opt->shard_count && shard_paths_overlap(opt, &a, &b)) {
		fprintf(stderr, "imgscan: --shard: the PATH %s is %s %s: its files would be in two shards; give "
			"PATHs that do not overlap\n", opt->paths[a],
			strcmp(opt->paths[a], opt->paths[b]) ? "inside" : "the same as", opt->paths[b]);
		return EXIT_USAGE;
	}
	if (shard_plan_create(opt, &rr->shard, err, sizeof(err))) {
		fprintf(stderr, "imgscan: --shard: %s\n", err);
		return EXIT_ERRORS;
	}
	if (walk_open(opt->paths, opt->npaths, opt->follow_symlinks, true, &rr->walk))
		return EXIT_ERRORS;
	rc = report_open(opt, &rr->cfg, &rr->info, &rr->report);
	if (rc) {
		fprintf(stderr, "imgscan: -o %s: %s\n", opt->output, outfile_strerror(-rc));
		return outfile_is_usage_error(-rc) ? EXIT_USAGE : EXIT_ERRORS;
	}
	return open_catalog(opt, rr);
}

static void teardown(struct run_resources *rr)
{
	/* Detached first (the engine goes), kept until last: a signal while
	 * we tear down finds no scan and takes its default action. */
	stop_signals_attach(NULL);
	walk_close(rr->walk);
	shard_plan_free(rr->shard);
	tsk_pool_destroy(rr->tsk);
	if (rr->engine)
		rr->engine->ops->destroy(rr->engine);
	run_lock_release(&rr->lock);
	stop_signals_end();
}

static int run_scan(struct scan_options *opt)
{
	static struct run_resources rr;
	struct run_stats stats = {0};
	char err[512];
	bool written = false;
	int status, rc;

	/* Before imgscan opens anything: -o /dev/fd/N must be the caller's. */
	rc = outfile_check_fd_path(opt->output);
	if (rc) {
		fprintf(stderr, "imgscan: -o %s: %s\n", opt->output, outfile_strerror(-rc));
		return EXIT_USAGE;
	}
	/* Before any thread exists: every thread inherits the blocked signals. */
	rc = stop_signals_start();
	if (rc) {
		fprintf(stderr, "imgscan: cannot set up signal handling: %s\n", strerror(-rc));
		return EXIT_ERRORS;
	}
	status = setup(opt, &rr);
	if (status) {
		teardown(&rr);
		return status;
	}
	struct pipeline_env env = {
		.opt = opt, .cfg = &rr.cfg, .engine = rr.engine, .tsk = rr.tsk,
		.sink = {rr.report, report_image, report_skipped, report_progress, NULL},
		.shard = rr.shard,
	};
	if (rr.inc) {
		incremental_set_shard(rr.inc, rr.shard);
		env.sink = incremental_sink(rr.inc);
		env.admit = incremental_admit_hook(rr.inc);
	}
	stop_signals_attach(rr.engine);
	rc = pipeline_run(&env, rr.walk, &stats);
	stop_signals_attach(NULL); /* from here a signal ends the process at once */
	stats.stop_signal = rc == -EINTR ? stop_requested() : 0;
	if (rc == -EINTR)
		fprintf(stderr, "imgscan: stopped by SIG%s: the report covers what was done (partial)\n",
			sigabbrev_np(stats.stop_signal) ? sigabbrev_np(stats.stop_signal) : "?");
	else if (rc == -ETIMEDOUT)
		fprintf(stderr, "imgscan: the scan stopped early: no read buffer is left, every one is held by a "
			"read that did not return within --read-timeout\n");
	else if (rc)
		fprintf(stderr, "imgscan: the scan stopped early: %s\n", strerror(-rc));
	if (rr.shard)
		report_set_shard(rr.report, shard_plan_summary_json(rr.shard));
	if (rr.inc)
		incremental_finish(rr.inc, rc != 0);
	status = report_close(rr.report, &stats, rr.tsk ? tsk_pool_restarts(rr.tsk) : 0, rc, &written);
	if (rr.inc) {
		bool failed_before = incremental_error(rr.inc) != NULL; /* already in the report */
		if (incremental_close(rr.inc, status, rc != 0, written, err, sizeof(err)) && !failed_before) {
			fprintf(stderr, "imgscan: catalog %s: %s (after the report was written)\n", opt->state_path, err);
			status = status > EXIT_ERRORS ? status : EXIT_ERRORS;
		}
	}
	teardown(&rr);
	return status;
}

/* imgscan load is the program imgscan-load beside this one: scans do not
 * load libpq and the twenty libraries it brings. */
static int run_load(char **argv)
{
	char path[4096];
	int rc = sibling_path("imgscan-load", path, sizeof(path));

	if (!rc) {
		execv(path, argv);
		rc = -errno;
	}
	fprintf(stderr, "imgscan: cannot run imgscan-load (the program beside imgscan that loads reports): %s\n",
		strerror(-rc));
	return EXIT_ERRORS;
}

int main(int argc, char **argv)
{
	struct scan_options opt;
	int exit_now, status;

	signal(SIGPIPE, SIG_IGN); /* a dead worker or a closed pipe is an error, not a kill */
	signal(SIGCHLD, SIG_DFL); /* inherited ignored, workers would be reaped behind the pool's back */
	if (argc >= 2 && !strcmp(argv[1], "verify")) {
		status = verify_main(argc, argv);
		stuck_fds_hand_off();
		return status;
	}
	if (argc >= 2 && !strcmp(argv[1], "load"))
		return run_load(argv);
	if (argc >= 2 && !strcmp(argv[1], "merge"))
		return merge_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "rename"))
		return rename_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "convert"))
		return convert_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "html"))
		return html_main(argc, argv);
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		provenance_print(stdout, engine_uring_probe());
		return fflush(stdout) ? EXIT_ERRORS : EXIT_CLEAN;
	}
	status = options_parse(argc, argv, &opt, &exit_now);
	if (exit_now)
		return status;
	status = run_scan(&opt);
	stuck_fds_hand_off(); /* files whose reads never returned: our exit must not wait for them */
	return status;
}
