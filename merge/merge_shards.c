/*
 * merge_shards.c - the shard reports' heads, checked against each other
 * (see merge_shards.h).
 */
#include "merge_shards.h"
#include "../report/image_json.h"
#include "../report/pathenc.h"
#include "../report/run_json.h"
#include "../report/tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* run.options that decide what a scan finds: equal in every shard.  The
 * others (io, read_mode, jobs, queue_depth, read_size, images_in_flight,
 * tsk_workers, format, sector_hashes_dir) are each machine's own. */
static const char *const result_options[] = {
	"hashes", "sector_size", "all_files", "inside", "follow_symlinks", "tsk", "tsk_timeout_seconds",
	"tsk_memory_mib", "config", "config_b64", "config_xxh128", "evidence",
};

static bool as_uint(const cJSON *v, unsigned *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4294967295.0 ||
	    v->valuedouble != (double)(unsigned)v->valuedouble)
		return false;
	*out = (unsigned)v->valuedouble;
	return true;
}

int merge_shard_take(struct merge_shard *s, char *err, size_t errlen)
{
	const cJSON *shard = json_at(s->head.run, "shard", NULL);
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(shard, "by");

	if (!s->head.tool || !s->head.run)
		return report_fail(err, errlen, "not a scan report (it has no tool or run object)");
	if (!s->head.summary)
		return report_fail(err, errlen, "not a whole report: it has no summary (its scan did not "
				   "finish writing it); run that shard again");
	if (!cJSON_IsObject(shard))
		return report_fail(err, errlen, "not a shard report (its run has no \"shard\": it was not "
				   "made with scan --shard K/N)");
	if (!as_uint(cJSON_GetObjectItemCaseSensitive(shard, "index"), &s->index) ||
	    !as_uint(cJSON_GetObjectItemCaseSensitive(shard, "count"), &s->count) || !s->count ||
	    s->count > 65536 || s->index >= s->count || !cJSON_IsString(by) ||
	    (strcmp(by->valuestring, "path") && strcmp(by->valuestring, "size")) ||
	    !cJSON_IsArray(json_at(shard, "roots", NULL)))
		return report_fail(err, errlen, "run.shard is not a shard K/N with 0 <= K < N <= 65536, a "
				   "rule (path or size) and its roots");
	s->by = by->valuestring;
	return 0;
}

/* The first member of a and b (under key) that differs, or NULL. */
static const char *differing_option(const cJSON *a, const cJSON *b)
{
	for (size_t i = 0; i < sizeof(result_options) / sizeof(result_options[0]); i++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, result_options[i]);
		const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, result_options[i]);
		if ((x || y) && (!x || !y || !cJSON_Compare(x, y, true)))
			return result_options[i];
	}
	return NULL;
}

/* The first library whose version differs, or NULL. */
static const char *differing_library(const cJSON *a, const cJSON *b)
{
	const cJSON *la = cJSON_GetObjectItemCaseSensitive(a, "libraries");
	const cJSON *lb = cJSON_GetObjectItemCaseSensitive(b, "libraries"), *l;

	cJSON_ArrayForEach(l, la) {
		const cJSON *other = cJSON_GetObjectItemCaseSensitive(lb, l->string);
		if (!other || !cJSON_Compare(json_at(l, "version", NULL), json_at(other, "version", NULL), true))
			return l->string;
	}
	cJSON_ArrayForEach(l, lb)
		if (!cJSON_GetObjectItemCaseSensitive(la, l->string))
			return l->string;
	return NULL;
}

static bool same_member(const cJSON *a, const cJSON *b, const char *k1, const char *k2)
{
	const cJSON *x = json_at(a, k1, k2), *y = json_at(b, k1, k2);

	return (!x && !y) || (x && y && cJSON_Compare(x, y, true));
}

/* s is a part of the same scan as first.  0, or -1 with err set. */
static int check_same_scan(const struct merge_shard *first, const struct merge_shard *s, char *err, size_t errlen)
{
	const cJSON *fr = first->head.run, *r = s->head.run;
	const char *what;

	if (s->count != first->count)
		return report_fail(err, errlen, "%s is shard %u of %u, %s shard %u of %u: not parts of one scan",
				   s->file, s->index, s->count, first->file, first->index, first->count);
	if (strcmp(s->by, first->by))
		return report_fail(err, errlen, "%s was sharded by %s, %s by %s", s->file, s->by, first->file,
				   first->by);
	if (!same_member(fr, r, "shard", "roots") || !same_member(fr, r, "shard", "roots_b64"))
		return report_fail(err, errlen, "%s scanned other roots (PATHs) than %s (run.shard.roots)",
				   s->file, first->file);
	if (!same_member(first->head.tool, s->head.tool, "version", NULL) ||
	    !same_member(first->head.tool, s->head.tool, "schema_version", NULL))
		return report_fail(err, errlen, "%s was made by imgscan %s, %s by imgscan %s", s->file,
				   json_str(s->head.tool, "version"), first->file, json_str(first->head.tool, "version"));
	if ((what = differing_library(first->head.tool, s->head.tool)))
		return report_fail(err, errlen, "%s and %s were made with other versions of %s "
				   "(tool.libraries): their results may differ", s->file, first->file, what);
	if ((what = differing_option(json_at(fr, "options", NULL), json_at(r, "options", NULL))))
		return report_fail(err, errlen, "%s and %s were scanned with another %s (run.options.%s)",
				   s->file, first->file, what, what);
	return 0;
}

/* Every index once: duplicated and missing ones named. */
static int check_indexes(const struct merge_shard *s, size_t n, char *err, size_t errlen)
{
	unsigned count = s[0].count;
	size_t *owner = malloc(count * sizeof(*owner)), len = 0, missing = 0;
	int rc = 0;

	if (!owner)
		return report_fail(err, errlen, "out of memory");
	for (unsigned k = 0; k < count; k++)
		owner[k] = n;
	for (size_t i = 0; i < n && !rc; i++) {
		if (owner[s[i].index] != n)
			rc = report_fail(err, errlen, "shard %u/%u is given twice: %s and %s", s[i].index, count,
				  s[owner[s[i].index]].file, s[i].file);
		owner[s[i].index] = i;
	}
	for (unsigned k = 0; k < count && !rc; k++)
		missing += owner[k] == n;
	if (missing && !rc) {
		len = (size_t)snprintf(err, errlen, "%zu of the %u shards %s missing:", missing, count,
				       missing == 1 ? "is" : "are");
		for (unsigned k = 0, said = 0; k < count && len < errlen; k++) {
			if (owner[k] != n)
				continue;
			len += (size_t)snprintf(err + len, errlen - len, said++ < 20 ? " %u/%u" : " ...", k, count);
			if (said > 20)
				break;
		}
		rc = -1;
	}
	free(owner);
	return rc;
}

static bool partial(const struct merge_shard *s)
{
	return cJSON_IsTrue(json_at(s->head.summary, "partial", NULL));
}

/* A partial shard (its scan stopped early) is refused unless allowed: its
 * images past the stop are in no report, and a scheduler's job that ran
 * it counts as done (it exits 2 with its report).  0, or -1 with err. */
static int check_whole(const struct merge_shard *s, size_t n, bool allow_partial, char *err, size_t errlen)
{
	for (size_t i = 0; i < n && !allow_partial; i++)
		if (partial(&s[i]))
			return report_fail(err, errlen, "%s (shard %u/%u) stopped early (summary.stopped_by: %s): its "
					   "images past the stop are in no report; scan that shard again, or merge "
					   "with --allow-partial", s[i].file, s[i].index, s[i].count,
					   json_str(s[i].head.summary, "stopped_by"));
	return 0;
}

/* Every shard walks the whole tree: one that met no entry where another
 * met some did not see the archive (not mounted on its machine, say), and
 * the images the others left to it are in no report. */
static int check_walked(const struct merge_shard *s, size_t n, char *err, size_t errlen)
{
	const struct merge_shard *empty = NULL, *full = NULL;

	for (size_t i = 0; i < n; i++) {
		uint64_t walked = json_u64(json_at(s[i].head.summary, "shard", NULL), "walked");
		if (!walked && !partial(&s[i]) && !empty)
			empty = &s[i];
		else if (walked && !full)
			full = &s[i];
	}
	if (empty && full)
		return report_fail(err, errlen, "%s (shard %u/%u) walked no entry under the PATHs where %s walked "
				   "%llu: was the archive there on its machine? Scan that shard again",
				   empty->file, empty->index, empty->count, full->file,
				   (unsigned long long)json_u64(json_at(full->head.summary, "shard", NULL), "walked"));
	return 0;
}

int merge_shards_check(const struct merge_shard *s, size_t n, bool allow_partial, bool *tree_differs, char *err,
		       size_t errlen)
{
	const struct merge_shard *ref = NULL;

	*tree_differs = false;
	for (size_t i = 1; i < n; i++)
		if (check_same_scan(&s[0], &s[i], err, errlen))
			return -1;
	if (check_indexes(s, n, err, errlen) || check_whole(s, n, allow_partial, err, errlen) ||
	    check_walked(s, n, err, errlen))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (partial(&s[i]) && strcmp(s[0].by, "size"))
			continue; /* its walk stopped early: its tree is not whole (size: the plan's walk is) */
		if (!ref)
			ref = &s[i];
		else if (!same_member(ref->head.summary, s[i].head.summary, "shard", "tree_xxh128"))
			*tree_differs = true;
		if (*tree_differs && !strcmp(s[0].by, "size"))
			return report_fail(err, errlen, "%s and %s saw different trees (summary.shard.tree_xxh128): "
					   "with --shard-by size an image may then be in no shard or in two; scan all "
					   "shards again, or shard by path", ref->file, s[i].file);
	}
	return 0;
}

/* "2026-11-23T21:34:26.123456789Z" as seconds since the epoch; 0 if not. */
static double utc_seconds(const char *text)
{
	struct timespec t;

	return parse_utc(text, &t) ? 0 : (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The earliest value of run.key (first) or the latest (!first). */
static const char *extreme_time(const struct merge_shard *s, size_t n, const char *key, bool first)
{
	const char *best = NULL;
	double best_t = 0;

	for (size_t i = 0; i < n; i++) {
		const char *t = json_str(s[i].head.run, key);
		double v = utc_seconds(t);
		if (!t[0] && !strcmp(key, "end")) /* JSON lines: the summary holds the end */
			t = json_str(s[i].head.summary, "end"), v = utc_seconds(t);
		if (t[0] && (!best || (first ? v < best_t : v > best_t)))
			best = t, best_t = v;
	}
	return best ? best : "";
}

static cJSON *shard_entry_json(const struct merge_shard *s)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *sum = s->head.summary;
	const char *end = json_str(s->head.run, "end");

	cJSON_AddNumberToObject(o, "index", s->index);
	json_add_path(o, "report", s->file);
	cJSON_AddStringToObject(o, "run_id", json_str(s->head.run, "id"));
	cJSON_AddStringToObject(o, "host", json_str(s->head.run, "host"));
	cJSON_AddStringToObject(o, "kernel", json_str(s->head.tool, "kernel"));
	cJSON_AddStringToObject(o, "start", json_str(s->head.run, "start"));
	cJSON_AddStringToObject(o, "end", end[0] ? end : json_str(sum, "end"));
	cJSON_AddNumberToObject(o, "exit_status", (double)json_u64(sum, "exit_status"));
	cJSON_AddBoolToObject(o, "partial", partial(s));
	cJSON_AddNumberToObject(o, "images", (double)json_u64(sum, "images"));
	cJSON_AddNumberToObject(o, "bytes_hashed", (double)json_u64(sum, "bytes_hashed"));
	cJSON_AddNumberToObject(o, "wall_seconds", cJSON_GetNumberValue(json_at(sum, "wall_seconds", NULL)) > 0
				? cJSON_GetNumberValue(json_at(sum, "wall_seconds", NULL)) : 0);
	cJSON_AddItemToObject(o, "shard", cJSON_Duplicate(json_at(sum, "shard", NULL), true));
	cJSON_AddItemToObject(o, "catalog", cJSON_Duplicate(json_at(sum, "catalog", NULL), true));
	cJSON_AddItemToObject(o, "pipeline", cJSON_Duplicate(json_at(sum, "pipeline", NULL), true));
	/* A null member is one that shard's report did not have. */
	for (const char *const *k = (const char *const[]){"shard", "catalog", "pipeline", NULL}; *k; k++)
		if (!cJSON_GetObjectItemCaseSensitive(o, *k))
			cJSON_AddNullToObject(o, *k);
	return o;
}

/* run.cwd and run.roots (where `imgscan rename` may act) stand for the
 * merged report only when every shard has the same: shards scanned from
 * other directories or mounts leave them out, and rename refuses. */
static void copy_same_places(cJSON *run, const struct merge_shard *s, size_t n)
{
	static const char *const keys[] = {"cwd", "cwd_b64", "cwd_lossy", "roots", "roots_b64"};

	for (size_t i = 1; i < n; i++)
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!cJSON_Compare(json_at(s[0].head.run, keys[k], NULL), json_at(s[i].head.run, keys[k], NULL),
					   true))
				return;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const cJSON *v = json_at(s[0].head.run, keys[k], NULL);
		if (v)
			cJSON_AddItemToObject(run, keys[k], cJSON_Duplicate(v, true));
	}
}

cJSON *merge_run_json(const struct merge_shard *s, size_t n, const char *output, const char *format, int argc,
		      char **argv, bool tree_differs, bool renumbered)
{
	cJSON *run = cJSON_CreateObject(), *options, *merge, *shards;
	const cJSON *roots_b64 = json_at(s[0].head.run, "shard", "roots_b64");
	char buf[64], host[256] = "";
	bool uring = true;

	run_new_id(buf, sizeof(buf));
	cJSON_AddStringToObject(run, "id", buf);
	cJSON_AddStringToObject(run, "start", extreme_time(s, n, "start", true));
	cJSON_AddStringToObject(run, "end", extreme_time(s, n, "end", false));
	gethostname(host, sizeof(host) - 1);
	json_add_path(run, "host", host);
	if (output && strcmp(output, "-"))
		json_add_path(run, "output", output);
	else
		cJSON_AddNullToObject(run, "output");
	json_add_path_array(run, "argv", argc, argv);
	copy_same_places(run, s, n);
	options = cJSON_Duplicate(json_at(s[0].head.run, "options", NULL), true);
	if (!cJSON_IsObject(options)) {
		cJSON_Delete(options);
		options = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObjectCaseSensitive(options, "format");
	cJSON_AddStringToObject(options, "format", format);
	cJSON_AddItemToObject(run, "options", options);
	for (size_t i = 0; i < n; i++)
		uring &= cJSON_IsTrue(json_at(s[i].head.run, "io_uring", NULL));
	cJSON_AddBoolToObject(run, "io_uring", uring);
	merge = cJSON_AddObjectToObject(run, "merge");
	cJSON_AddNumberToObject(merge, "count", s[0].count);
	cJSON_AddStringToObject(merge, "by", s[0].by);
	cJSON_AddItemToObject(merge, "roots", cJSON_Duplicate(json_at(s[0].head.run, "shard", "roots"), true));
	if (roots_b64)
		cJSON_AddItemToObject(merge, "roots_b64", cJSON_Duplicate(roots_b64, true));
	cJSON_AddBoolToObject(merge, "same_tree", !tree_differs);
	cJSON_AddBoolToObject(merge, "renumbered", renumbered);
	shards = cJSON_AddArrayToObject(merge, "shards");
	/* By shard number: merge_shards_check() found each index once. */
	const struct merge_shard **by_index = calloc(s[0].count, sizeof(*by_index));
	for (size_t i = 0; by_index && i < n; i++)
		by_index[s[i].index] = &s[i];
	for (unsigned k = 0; k < s[0].count; k++)
		if (by_index ? by_index[k] != NULL : k < n)
			cJSON_AddItemToArray(shards, shard_entry_json(by_index ? by_index[k] : &s[k]));
	free(by_index);
	return run;
}

void merge_sums(const struct merge_shard *s, size_t n, struct merge_sums *out)
{
	double first = 0, last = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const cJSON *sum = s[i].head.summary;
		unsigned status = (unsigned)json_u64(sum, "exit_status");

		out->entries += json_u64(sum, "entries");
		out->other_files += json_u64(sum, "other_files");
		out->other_bytes += json_u64(sum, "other_bytes");
		out->symlinks += json_u64(sum, "symlinks");
		out->specials += json_u64(sum, "special_files");
		out->walk_errors += json_u64(sum, "walk_errors");
		out->not_listed += json_u64(sum, "skipped_not_listed");
		out->direct_fallbacks += json_u64(sum, "direct_fallbacks");
		out->tsk_restarts += json_u64(sum, "tsk_worker_restarts");
		out->any_lost_buffers |= cJSON_GetObjectItemCaseSensitive(sum, "lost_buffers") != NULL;
		out->lost_buffers += json_u64(sum, "lost_buffers");
		out->fixed_buffers |= cJSON_IsTrue(json_at(sum, "fixed_buffers", NULL)); /* some machine did */
		if (status <= 2 && (int)status > out->worst_exit)
			out->worst_exit = (int)status;
		if (!out->stopped && partial(&s[i]))
			out->stopped = &s[i];
	}
	first = utc_seconds(extreme_time(s, n, "start", true));
	last = utc_seconds(extreme_time(s, n, "end", false));
	out->wall_seconds = first > 0 && last > first ? last - first : 0;
}
