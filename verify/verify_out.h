/*
 * verify_out.h - verify's result: a JSON document or JSON lines, in the
 * scan report's conventions (report/SCHEMA.md, "verify"), written through
 * report/outfile.h like every file imgscan writes; and the human summary
 * on stderr.
 */
#ifndef IMGSCAN_VERIFY_OUT_H
#define IMGSCAN_VERIFY_OUT_H

#include "verify_run.h"
#include "../report/outfile.h"
#include "../report/run_json.h"

struct verify_out {
	struct outfile out;
	cJSON *run;                /* the run object (no "end" until the close) */
};

/* Open -o and write what comes first (a document's "tool" and "verify";
 * the run line of JSON lines).  Returns 0 or -errno / -OUTFILE_E*. */
int verify_out_open(struct verify_out *vo_out, struct verify_run *vr, const struct imgscan_config *cfg,
		    const struct report_run_info *info);
/* Give up: nothing is put in place. */
void verify_out_abort(struct verify_out *o);
/* Write the items, the walk errors, the run's end and the summary, and
 * commit.  Returns the exit status: status, or EXIT_ERRORS when the result
 * could not be written (said on stderr). */
int verify_out_close(struct verify_out *o, struct verify_run *vr, const struct verify_counts *c,
		     const struct run_stats *st, int pipeline_rc, int status);
/* The stderr summary: one line of counts, then one line per item that is
 * not unchanged (at most 50). */
void verify_print_human(const struct verify_run *vr, const struct verify_counts *c, const struct run_stats *st,
			int pipeline_rc, int status);

#endif
