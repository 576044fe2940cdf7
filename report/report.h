/*
 * report.h - the run's report: a JSON document (or JSON lines) streamed as
 * images finish, so memory does not grow with the number of images, and a
 * short human summary on stderr.  report/ never reads images and never
 * decides a verdict; it only writes what it is given.
 */
#ifndef IMGSCAN_REPORT_H
#define IMGSCAN_REPORT_H

#include "../scanner/pipeline.h"
#include "../scanner/result.h"
#include "run_json.h"

#include <cjson/cJSON.h>
#include <stdio.h>

struct scan_options;
struct imgscan_config;

struct report;

int report_open(const struct scan_options *opt, const struct imgscan_config *cfg,
		const struct report_run_info *info, struct report **out);
/* Thread-safe. */
void report_image(void *report, const struct image_result *r);
/* An image object already made (image_json.h), for instance one taken from
 * the catalog; the caller keeps it. */
void report_image_json(struct report *r, cJSON *obj);
void report_skipped(void *report, const struct skipped_entry *s);
/* A progress line on stderr when it is a terminal (and not --quiet). */
void report_progress(void *report, uint64_t bytes_hashed);
/* The run object (id, start, host, argv, options), for the catalog. */
const cJSON *report_run(const struct report *r);
/* summary.catalog (the report takes it); failed: it could not be used as
 * asked, which makes the exit status 2. */
void report_set_catalog(struct report *r, cJSON *catalog, bool failed);
/* summary.shard (scanner/shard.h; the report takes it). */
void report_set_shard(struct report *r, cJSON *shard);
/* Finish the document, commit it, print the human summary to stderr (unless
 * quiet).  Returns the exit status (0, 1 or 2); frees the report.
 * *written (may be NULL): the report was committed. */
int report_close(struct report *r, const struct run_stats *stats, unsigned tsk_restarts, int pipeline_rc,
		 bool *written);

#endif
