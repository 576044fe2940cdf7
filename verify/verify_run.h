/*
 * verify_run.h - the state of one `imgscan verify` run, shared by its
 * parts: the options (verify_options.c), the pipeline's hooks that match
 * walked files and results to the report's images (match.c), the output
 * (verify_out.c) and the command that ties them (verify.c).
 */
#ifndef IMGSCAN_VERIFY_RUN_H
#define IMGSCAN_VERIFY_RUN_H

#include "items.h"
#include "report_read.h"
#include "../config/options.h"
#include "../scanner/pipeline.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct verify_options {
	struct scan_options scan;  /* the pipeline's options (paths/npaths unused: the walk gets roots) */
	const char *report;        /* REPORT ("-": stdin) */
	char **paths;              /* PATH... (argv storage) */
	int npaths;
};

#define VERIFY_MAX_WALK_ERRORS_KEPT 10000 /* walk_errors listed in a JSON document */

/* Counts by status, for the summary and the exit status. */
struct verify_counts {
	uint64_t listed, by_status[ITEM_STATUS_COUNT], walk_errors;
};

struct verify_run {
	struct verify_options *vo;  /* frozen once the report's options are applied */
	struct listed_report report;
	struct timespec t0_wall, t0_mono;

	/* The walk: the PATHs (as given; those inside another dropped), then
	 * the listed paths outside every PATH.  Pointers into argv and into
	 * the report's images. */
	char **roots;
	int nroots;
	char **under;               /* the PATHs without trailing slashes: "under a PATH" */
	int nunder;
	/* A shard's report (run.shard): an unlisted file another shard takes is
	 * not new.  With the size rule that cannot be told: none is new. */
	const cJSON *shard_roots;   /* run.shard.roots, or NULL: not a shard report */
	unsigned shard_index, shard_count;
	bool shard_by_size;

	/* Everything below is touched by the pipeline's callbacks (the reader
	 * thread and the hashing threads), under lock, until pipeline_run
	 * returns; then by the caller's thread alone. */
	pthread_mutex_t lock;
	struct item_table items;
	struct walk_failure *failures; /* walk errors not about a listed path itself */
	size_t nfailures, failures_cap;
	cJSON *walk_errors;         /* their JSON (skipped entries with reason "error"), capped */
	uint64_t nwalk_errors;
	uint64_t listed_done;       /* listed images with a result, for the progress line */
	bool out_of_memory;         /* a new image could not be kept: the run is an error */
	bool progress_shown;        /* a progress line is on the terminal */
	double wall_seconds;        /* set at the end */
};

/* match.c: the walk's roots from the PATHs and the report.  Returns 0 or
 * -ENOMEM. */
int match_prepare(struct verify_run *vr);
void match_free(struct verify_run *vr);
/* The hooks to give the pipeline. */
struct admit_hook match_admit_hook(struct verify_run *vr);
struct result_sink match_sink(struct verify_run *vr);

#endif
