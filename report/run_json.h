/*
 * run_json.h - the "tool" and "run" objects that open every document imgscan
 * writes (a scan report, a verify result): the same fields, made the same
 * way (report/SCHEMA.md, "tool" and "run").
 */
#ifndef IMGSCAN_RUN_JSON_H
#define IMGSCAN_RUN_JSON_H

#include <cjson/cJSON.h>
#include <time.h>

struct scan_options;
struct imgscan_config;
struct run_stats;

/* What the run chose at set-up, for run.options. */
struct report_run_info {
	const char *engine;       /* "uring" or "pread" */
	const char *engine_note;  /* why the fallback was taken, or NULL */
	unsigned tsk_workers;     /* 0: Sleuth Kit step off */
	unsigned tsk_timeout_s;
	unsigned tsk_memory_mib;
};

/* The version of report/SCHEMA.md and report/report.schema.json that the
 * reports follow: raised when a field changes meaning or goes away (new
 * fields do not raise it). */
#define REPORT_SCHEMA_VERSION 1

/* {"name": "imgscan", "version", "schema", "schema_version", "libraries",
 * "kernel"} (report/provenance.h). */
cJSON *run_tool_json(void);
/* run.options: the effective options. */
cJSON *run_options_json(const struct scan_options *opt, const struct imgscan_config *cfg,
			const struct report_run_info *info);
/* The run object: a fresh random id, start, host, output (as expanded, or
 * null for stdout), argv (and argv_b64 when an argument is not UTF-8),
 * options (taken: the run object owns it) and io_uring (info->engine is
 * "uring").  No "end": the caller adds it. */
cJSON *run_object_json(const struct scan_options *opt, const struct timespec *start,
		       const struct report_run_info *info, cJSON *options);
/* A random (version 4) UUID, as run.id. */
void run_new_id(char *out, size_t len);
/* Add "end" (now, UTC) to run; when is filled with it too. */
void run_add_end(cJSON *run, char *when, size_t len);
/* summary.partial and summary.stopped_by (and lost_buffers after a failed
 * engine): whether the run covered everything, and if not, why. */
void run_add_stop_json(cJSON *summary, const struct run_stats *st, int pipeline_rc);
/* An array of strings under key (argv, PATHs), each repaired to UTF-8
 * where it is not, and then also key_b64 with every string's exact bytes. */
void json_add_path_array(cJSON *obj, const char *key, int n, char **strs);
struct outfile;
/* obj as one line (after prefix, when not NULL): a JSON line, or an element
 * of the open images array.  A failure is the outfile's sticky error. */
void json_write_line(struct outfile *out, const cJSON *obj, const char *prefix);
/* Open a report document: {"tool": tool, "images": [ */
void json_open_document(struct outfile *out, const cJSON *tool);
/* End a JSON document whose array of entries is still open: "],", then
 * tail's members (skipped/walk_errors, run, summary), then "}".  tail is
 * not freed. */
void json_close_document(struct outfile *out, const cJSON *tail);

/* A value too long to hold (merge's summary.duplicates) is written in its
 * place as the object around it is: json_hole() stands for it in the
 * object (one hole in all), and the _filled writers call fill where it is,
 * which writes the value to out.  fill returns 0, or -1 with its own error
 * (out then holds a part: the caller aborts it).  Without a fill the hole
 * would be written as it is, a byte that is not JSON. */
typedef int (*json_fill_fn)(void *ctx, struct outfile *out);
cJSON *json_hole(void);
/* json_write_line and json_close_document with the hole filled.  Return
 * 0 (a write failure is the outfile's sticky error), or fill's -1. */
int json_write_line_filled(struct outfile *out, const cJSON *obj, const char *prefix, json_fill_fn fill, void *ctx);
int json_close_document_filled(struct outfile *out, const cJSON *tail, json_fill_fn fill, void *ctx);

#endif
