/*
 * incremental.h - a scan with --state: between the pipeline and the report,
 * it answers the pipeline's admit hook from the catalog (a file whose
 * device, inode, size, mtime and ctime are unchanged, measured with the same
 * hashing options, is not read again: its earlier result goes into the
 * report with "reused": true), and records every result it is handed.
 */
#ifndef IMGSCAN_INCREMENTAL_H
#define IMGSCAN_INCREMENTAL_H

#include "../report/report.h"
#include "../scanner/pipeline.h"

struct incremental;
struct imgscan_config;

/* Open the catalog at path and record the run.  Never fails the run: when
 * the catalog cannot be used (or lock_error says its lock could not be
 * taken), *out still works, reading everything, and incremental_error()
 * says why.  Returns 0, or -ENOMEM. */
int incremental_open(const char *path, const char *lock_error, const struct scan_options *opt,
		     const struct imgscan_config *cfg, struct report *report, struct incremental **out);
/* NULL, or why the catalog cannot be used (or stopped being usable). */
const char *incremental_error(const struct incremental *inc);

/* The sink and admit hook to give the pipeline. */
struct result_sink incremental_sink(struct incremental *inc);
struct admit_hook incremental_admit_hook(struct incremental *inc);

/* --shard: catalog rows another shard takes, or under a directory any
 * shard's walk could not list, are not marked gone. */
struct shard_plan;
void incremental_set_shard(struct incremental *inc, const struct shard_plan *shard);

/* After the pipeline: mark gone what a whole run did not find (not after a
 * partial run), and give the report its summary.catalog. */
void incremental_finish(struct incremental *inc, bool partial);

/* After the report: mark gone what the report counted as gone (only if it
 * was written), record the run's end, commit, close, free.  Returns 0, or
 * -1 when the catalog failed (message in err). */
int incremental_close(struct incremental *inc, int exit_status, bool partial, bool report_written, char *err,
		      size_t errlen);

#endif
