/*
 * verify_out.c - verify's result as JSON or JSON lines, and its human
 * summary (see verify_out.h; the fields are in report/SCHEMA.md, "verify").
 */
#include "verify_out.h"
#include "../report/image_json.h"
#include "../report/pathenc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES_SHOWN 50 /* lines of the stderr summary */

/* The report's run id, start and host: strings only, copied. */
static cJSON *report_run_json(const cJSON *run)
{
	static const char *const keys[] = {"id", "start", "host", "host_b64"};
	cJSON *o;

	if (!cJSON_IsObject(run))
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(run, keys[i]);
		if (cJSON_IsString(v) && utf8_valid(v->valuestring, strlen(v->valuestring))) {
			cJSON_AddStringToObject(o, keys[i], v->valuestring);
		} else if (cJSON_IsString(v)) { /* a hostile report: keep the result valid UTF-8 */
			char *fixed = utf8_lossy(v->valuestring, strlen(v->valuestring));
			cJSON_AddStringToObject(o, keys[i], fixed ? fixed : "");
			free(fixed);
		} else if (i < 3)
			cJSON_AddNullToObject(o, keys[i]);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "host_lossy")))
		cJSON_AddTrueToObject(o, "host_lossy");
	return o;
}

static cJSON *verify_json(const struct verify_run *vr)
{
	cJSON *o = cJSON_CreateObject();

	json_add_path(o, "report", vr->vo->report);
	cJSON_AddStringToObject(o, "report_format", vr->report.head.format == REPORT_JSONL ? "jsonl" : "json");
	cJSON_AddItemToObject(o, "report_run", report_run_json(vr->report.head.run));
	json_add_path_array(o, "paths", vr->vo->npaths, vr->vo->paths);
	return o;
}

int verify_out_open(struct verify_out *o, struct verify_run *vr, const struct imgscan_config *cfg,
		    const struct report_run_info *info)
{
	const struct scan_options *opt = &vr->vo->scan;
	cJSON *tool, *verify;
	int rc = outfile_open(&o->out, opt->output);

	if (rc)
		return rc;
	o->run = run_object_json(opt, &vr->t0_wall, info, run_options_json(opt, cfg, info));
	tool = run_tool_json();
	verify = verify_json(vr);
	if (opt->format == FMT_JSONL) {
		cJSON *line = cJSON_CreateObject();
		cJSON_AddStringToObject(line, "type", "run");
		cJSON_AddItemToObject(line, "tool", tool);
		cJSON_AddItemToObject(line, "verify", verify);
		cJSON_AddItemReferenceToObject(line, "run", o->run);
		json_write_line(&o->out, line, NULL);
		cJSON_Delete(line);
	} else {
		cJSON *head = cJSON_CreateObject();
		char *text;
		cJSON_AddItemToObject(head, "tool", tool);
		cJSON_AddItemToObject(head, "verify", verify);
		text = cJSON_PrintUnformatted(head);
		/* The head object's members, then the items array opens. */
		if (text) {
			outfile_write(&o->out, text, strlen(text) - 1);
			free(text);
		} else {
			o->out.err = ENOMEM;
		}
		outfile_write(&o->out, ",\n\"items\":[\n", strlen(",\n\"items\":[\n"));
		cJSON_Delete(head);
	}
	return 0;
}

void verify_out_abort(struct verify_out *o)
{
	outfile_abort(&o->out);
	cJSON_Delete(o->run);
	o->run = NULL;
}

/* ---- one item ---- */

static void add_sectors(cJSON *o, uint32_t size, const char *list)
{
	cJSON *s = cJSON_AddObjectToObject(o, "sectors");

	cJSON_AddNumberToObject(s, "size", size);
	cJSON_AddStringToObject(s, "list_xxh128", list);
}

/* The report's digests for a listed image; null when it has none. */
static cJSON *expected_json(const struct listed_image *li)
{
	cJSON *o;

	if (!li || !li->has_hashes)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "xxh128", li->xxh128);
	for (int i = 0; i < HASH_COUNT; i++)
		if (li->crypto[i][0])
			cJSON_AddStringToObject(o, crypto_hash_names[i], li->crypto[i]);
	if (li->sector_list_xxh128[0])
		add_sectors(o, li->sector_size, li->sector_list_xxh128);
	return o;
}

/* What this run read; null when it did not read it completely. */
static cJSON *actual_json(const struct item *it)
{
	const struct measured *m = &it->actual;
	cJSON *o;

	if (!it->have_actual)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "size", (double)m->size);
	cJSON_AddStringToObject(o, "xxh128", m->xxh128);
	for (int i = 0; i < HASH_COUNT; i++)
		if (m->crypto[i][0])
			cJSON_AddStringToObject(o, crypto_hash_names[i], m->crypto[i]);
	add_sectors(o, m->sector_size, m->sector_list_xxh128);
	return o;
}

/* The names of what differs, in a fixed order. */
static void differs_names(unsigned d, const char **names, int *n)
{
	*n = 0;
	if (d & DIFF_XXH128)
		names[(*n)++] = "xxh128";
	for (int i = 0; i < HASH_COUNT; i++)
		if (d & DIFF_CRYPTO(i))
			names[(*n)++] = crypto_hash_names[i];
	if (d & DIFF_SECTORS)
		names[(*n)++] = "sectors";
	if (d & DIFF_SIZE)
		names[(*n)++] = "size";
}

/* A message may quote a path: only valid UTF-8 goes out, as in scan's errors. */
static void add_text(cJSON *o, const char *key, const char *text)
{
	bool valid = utf8_valid(text, strlen(text));
	char *fixed = valid ? NULL : utf8_lossy(text, strlen(text));

	cJSON_AddStringToObject(o, key, valid ? text : fixed ? fixed : "");
	free(fixed);
}

static cJSON *errors_json(const struct item *it)
{
	cJSON *arr = cJSON_CreateArray();

	for (unsigned i = 0; i < it->nerrors; i++) {
		const struct item_error *e = &it->errors[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "stage", e->stage);
		json_add_errno(o, e->err);
		if (e->has_offset)
			cJSON_AddNumberToObject(o, "offset", (double)e->offset);
		add_text(o, "message", e->message);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *item_json(const struct item *it, bool jsonl)
{
	cJSON *o = cJSON_CreateObject();
	const char *names[HASH_COUNT + 3];
	int n;

	if (jsonl)
		cJSON_AddStringToObject(o, "type", "item");
	cJSON_AddStringToObject(o, "status", item_status_names[it->status]);
	cJSON_AddBoolToObject(o, "listed", it->listed != NULL);
	json_add_path(o, "path", item_path(it));
	if (it->status == ITEM_MOVED)
		json_add_path(o, "moved_to", it->found_path);
	cJSON_AddNumberToObject(o, "size", (double)(it->listed ? it->listed->size : it->actual.size));
	if (it->status == ITEM_CHANGED) {
		cJSON *d = cJSON_AddArrayToObject(o, "differs");
		differs_names(it->differs, names, &n);
		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(d, cJSON_CreateString(names[i]));
	}
	cJSON_AddItemToObject(o, "expected", expected_json(it->listed));
	cJSON_AddItemToObject(o, "actual", actual_json(it));
	if (it->status == ITEM_ERROR)
		cJSON_AddItemToObject(o, "errors", errors_json(it));
	return o;
}

/* Items that are written: not those a partial run never reached, nor new
 * images that are another item's moved_to. */
static bool shown(const struct item *it)
{
	return it->status != ITEM_NOT_REACHED && it->status != ITEM_CLAIMED && it->status != ITEM_PENDING;
}

/* ---- the end ---- */

static cJSON *summary_json(const struct verify_run *vr, const struct verify_counts *c, const struct run_stats *st,
			   int status)
{
	static const struct { const char *key; enum item_status st; } counted[] = {
		{"unchanged", ITEM_UNCHANGED}, {"changed", ITEM_CHANGED}, {"missing", ITEM_MISSING},
		{"moved", ITEM_MOVED}, {"new", ITEM_NEW}, {"error", ITEM_ERROR},
		{"unverifiable", ITEM_UNVERIFIABLE}, {"not_reached", ITEM_NOT_REACHED},
	};
	cJSON *s = cJSON_CreateObject();

	cJSON_AddNumberToObject(s, "listed", (double)c->listed);
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		cJSON_AddNumberToObject(s, counted[i].key, (double)c->by_status[counted[i].st]);
	cJSON_AddNumberToObject(s, "walk_errors", (double)c->walk_errors);
	cJSON_AddNumberToObject(s, "bytes_hashed", (double)st->bytes_hashed);
	cJSON_AddNumberToObject(s, "wall_seconds", vr->wall_seconds);
	cJSON_AddNumberToObject(s, "exit_status", status);
	return s;
}

static void write_items(struct verify_out *o, const struct verify_run *vr, bool jsonl)
{
	bool first = true;

	for (size_t i = 0; i < vr->items.n; i++) {
		const struct item *it = &vr->items.v[i];
		cJSON *obj;
		if (!shown(it))
			continue;
		obj = item_json(it, jsonl);
		json_write_line(&o->out, obj, jsonl || first ? NULL : ",");
		cJSON_Delete(obj);
		first = false;
	}
}

int verify_out_close(struct verify_out *o, struct verify_run *vr, const struct verify_counts *c,
		     const struct run_stats *st, int pipeline_rc, int status)
{
	bool jsonl = vr->vo->scan.format == FMT_JSONL;
	cJSON *summary = summary_json(vr, c, st, status), *we;
	char when[48];
	int rc;

	run_add_stop_json(summary, st, pipeline_rc);
	run_add_end(o->run, when, sizeof(when));
	write_items(o, vr, jsonl);
	if (jsonl) {
		cJSON_ArrayForEach(we, vr->walk_errors) {
			cJSON_AddStringToObject(we, "type", "walk_error");
			json_write_line(&o->out, we, NULL);
		}
		cJSON_AddStringToObject(summary, "type", "summary");
		cJSON_AddStringToObject(summary, "end", when);
		json_write_line(&o->out, summary, NULL);
	} else {
		cJSON *tail = cJSON_CreateObject();
		cJSON_AddItemReferenceToObject(tail, "walk_errors", vr->walk_errors);
		cJSON_AddItemReferenceToObject(tail, "run", o->run);
		cJSON_AddItemReferenceToObject(tail, "summary", summary);
		json_close_document(&o->out, tail);
		cJSON_Delete(tail);
	}
	rc = outfile_commit(&o->out);
	if (rc) {
		fprintf(stderr, "imgscan: cannot write the verify result%s%s: %s\n", o->out.final[0] ? " to " : "",
			o->out.final, outfile_strerror(-rc));
		status = EXIT_ERRORS;
	}
	cJSON_Delete(summary);
	cJSON_Delete(o->run);
	o->run = NULL;
	return status;
}

/* ---- stderr ---- */

/* A path as bytes, escaped for the terminal (pathenc.h), so one line
 * stays one line and nothing in a name acts on the terminal. */
static void print_item(const struct item *it)
{
	const char *names[HASH_COUNT + 3];
	int n;

	fprintf(stderr, "  %-13s ", item_status_names[it->status]);
	term_fputs(item_path(it), stderr);
	if (it->status == ITEM_MOVED) {
		fputs(" -> ", stderr);
		term_fputs(it->found_path, stderr);
	} else if (it->status == ITEM_CHANGED) {
		differs_names(it->differs, names, &n);
		fputs("  (differs:", stderr);
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %s", names[i]);
		fputc(')', stderr);
	} else if (it->status == ITEM_ERROR && it->nerrors) {
		fprintf(stderr, "  (%s: ", it->errors[0].stage);
		term_fputs(it->errors[0].message, stderr);
		fputc(')', stderr);
	} else if (it->status == ITEM_UNVERIFIABLE) {
		fputs("  (the report holds no digest for it)", stderr);
	}
	fputc('\n', stderr);
}

void verify_print_human(const struct verify_run *vr, const struct verify_counts *c, const struct run_stats *st,
			int pipeline_rc, int status)
{
	const uint64_t *n = c->by_status;
	uint64_t lines = 0, more = 0;
	const cJSON *we;

	if (vr->progress_shown)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "imgscan verify: %llu listed: %llu unchanged, %llu changed, %llu missing, %llu moved, "
		"%llu unverifiable, %llu error%s; %llu new; %llu walk error%s; %.2f GB hashed in %.2f s -> exit %d\n",
		(unsigned long long)c->listed, (unsigned long long)n[ITEM_UNCHANGED], (unsigned long long)n[ITEM_CHANGED],
		(unsigned long long)n[ITEM_MISSING], (unsigned long long)n[ITEM_MOVED],
		(unsigned long long)n[ITEM_UNVERIFIABLE], (unsigned long long)n[ITEM_ERROR], n[ITEM_ERROR] == 1 ? "" : "s",
		(unsigned long long)n[ITEM_NEW], (unsigned long long)c->walk_errors, c->walk_errors == 1 ? "" : "s",
		(double)st->bytes_hashed / 1e9, vr->wall_seconds, status);
	if (pipeline_rc)
		fprintf(stderr, "imgscan verify: partial: %llu listed image%s not reached\n",
			(unsigned long long)n[ITEM_NOT_REACHED], n[ITEM_NOT_REACHED] == 1 ? "" : "s");
	for (size_t i = 0; i < vr->items.n; i++) {
		const struct item *it = &vr->items.v[i];
		if (!shown(it) || it->status == ITEM_UNCHANGED)
			continue;
		if (lines++ < MAX_LINES_SHOWN)
			print_item(it);
		else
			more++;
	}
	cJSON_ArrayForEach(we, vr->walk_errors) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(we, "path");
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(we, "error");
		if (lines++ >= MAX_LINES_SHOWN) {
			more++;
			continue;
		}
		fprintf(stderr, "  %-13s ", "walk error");
		term_fputs(cJSON_IsString(path) ? path->valuestring : "?", stderr);
		fputs("  (", stderr);
		term_fputs(cJSON_IsString(err) ? err->valuestring : "?", stderr);
		fputs(")\n", stderr);
	}
	more += c->walk_errors - (uint64_t)cJSON_GetArraySize(vr->walk_errors);
	if (more)
		fprintf(stderr, "  ... and %llu more (see the result)\n", (unsigned long long)more);
}
