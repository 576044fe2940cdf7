/*
 * html_scanned.c - "What was scanned": for each report, where it came from
 * (file, tool and library versions, kernel, host), when (start, end), what
 * (roots, the command line, the effective options) and how it ended.
 * Every value is the report's, written as text.
 */
#include "html_page.h"
#include "html_escape.h"
#include "../report/pathenc.h"
#include "../config/options.h"
#include "../report/tally.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void row_start(struct outfile *o, const char *name)
{
	out_raw(o, "<tr><th scope=\"row\">");
	out_text(o, name);
	out_raw(o, "</th><td>");
}

static void row_text(struct outfile *o, const char *name, const char *value)
{
	row_start(o, name);
	out_text(o, value);
	out_raw(o, "</td></tr>\n");
}

/* One string of a list (argv, roots) as text; when the report's X_b64 list
 * (every item's exact bytes, once one is not UTF-8) gives other bytes for
 * it, a "not UTF-8" marker and those bytes in base64, as for a path. */
static void out_item(struct outfile *o, const char *s, const cJSON *b64)
{
	const char *exact = cJSON_GetStringValue(b64);
	unsigned char *bytes;
	size_t n = 0;
	bool same;

	out_text(o, s);
	if (!exact || !s)
		return;
	bytes = base64_decode(exact, strlen(exact), &n);
	same = bytes && n == strlen(s) && !memcmp(bytes, s, n);
	free(bytes);
	if (same)
		return;
	out_raw(o, " <span class=\"lossy\" title=\"These bytes are not UTF-8: shown with U+FFFD for each bad byte; "
		   "the exact bytes follow in base64\">not UTF-8</span> <code class=\"b64\">base64: ");
	out_text(o, exact);
	out_raw(o, "</code>");
}

/* The PATHs of a scan: run.roots (resolved at the start of the run), else
 * run.shard.roots or run.merge.roots, else (a report of an earlier version)
 * the operands of its command line. */
static void row_roots(struct outfile *o, const cJSON *run)
{
	const cJSON *from = run, *roots = cJSON_GetObjectItemCaseSensitive(run, "roots"), *b64;
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(run, "argv"), *a;
	bool operands = false, after_dashdash = false, skip = false;
	int i = 0;

	if (!roots && (roots = json_at(run, "shard", "roots")))
		from = json_at(run, "shard", NULL);
	if (!roots && (roots = json_at(run, "merge", "roots")))
		from = json_at(run, "merge", NULL);
	b64 = json_at(from, "roots_b64", NULL);
	row_start(o, "Roots");
	if (roots) {
		cJSON_ArrayForEach(a, roots) {
			out_raw(o, "<code class=\"path\">");
			out_item(o, cJSON_GetStringValue(a), cJSON_GetArrayItem(b64, i++));
			out_raw(o, "</code> ");
		}
	} else {
		b64 = cJSON_GetObjectItemCaseSensitive(run, "argv_b64");
		cJSON_ArrayForEach(a, argv) {
			const char *s = cJSON_GetStringValue(a);
			const cJSON *exact = cJSON_GetArrayItem(b64, i);
			if (i++ < 2 || !s || skip) { /* the program and the command */
				skip = false;
				continue;
			}
			if (!after_dashdash && s[0] == '-' && s[1]) {
				after_dashdash = !strcmp(s, "--");
				skip = options_scan_takes_value(s);
				continue;
			}
			out_raw(o, "<code class=\"path\">"), out_item(o, s, exact), out_raw(o, "</code> ");
			operands = true;
		}
		if (!operands)
			out_raw(o, "<span class=\"none\">(none on the command line)</span>");
	}
	out_raw(o, "</td></tr>\n");
}

static void row_argv(struct outfile *o, const cJSON *run)
{
	const cJSON *a, *b64 = cJSON_GetObjectItemCaseSensitive(run, "argv_b64");
	int i = 0;

	row_start(o, "Command line");
	out_raw(o, "<code class=\"argv\">");
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(run, "argv"))
		out_item(o, cJSON_GetStringValue(a), cJSON_GetArrayItem(b64, i++)), out_raw(o, " ");
	out_raw(o, "</code>");
	out_raw(o, "</td></tr>\n");
}

/* An object's members as "name value" pairs, values as compact JSON
 * (strings as they are). */
static void row_members(struct outfile *o, const char *name, const cJSON *obj, bool libraries)
{
	const cJSON *m;

	row_start(o, name);
	out_raw(o, "<ul class=\"pairs\">");
	cJSON_ArrayForEach(m, obj) {
		char *text = NULL;
		out_raw(o, "<li><span class=\"k\">");
		out_text(o, m->string);
		out_raw(o, "</span> ");
		if (libraries) {
			out_text(o, json_str(m, "version"));
			out_raw(o, " <span class=\"from\">"), out_text(o, json_str(m, "from")), out_raw(o, "</span>");
		} else if (cJSON_IsString(m)) {
			out_text(o, m->valuestring);
		} else if ((text = cJSON_PrintUnformatted(m))) {
			out_text(o, text);
		}
		free(text);
		out_raw(o, "</li>");
	}
	out_raw(o, "</ul></td></tr>\n");
}

static void row_outcome(struct outfile *o, const cJSON *summary)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(summary, "exit_status");

	row_start(o, "Outcome");
	if (cJSON_IsNumber(status))
		out_printf(o, "exit status %d", status->valueint);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(summary, "partial"))) {
		out_raw(o, " <span class=\"badge sev-high\">partial</span> stopped by ");
		out_text(o, json_str(summary, "stopped_by"));
	}
	out_printf(o, "; %llu entries met, %llu images, %llu other files, %llu symlinks, %llu special files, "
		   "%llu walk errors, %.2f s",
		   (unsigned long long)json_u64(summary, "entries"), (unsigned long long)json_u64(summary, "images"),
		   (unsigned long long)json_u64(summary, "other_files"), (unsigned long long)json_u64(summary, "symlinks"),
		   (unsigned long long)json_u64(summary, "special_files"),
		   (unsigned long long)json_u64(summary, "walk_errors"),
		   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(summary, "wall_seconds")));
	out_raw(o, "</td></tr>\n");
}

static void one_report(struct outfile *o, const struct page_report *r, size_t i, size_t n)
{
	const cJSON *tool = r->head.tool, *run = r->head.run;
	char title[80];

	snprintf(title, sizeof(title), "Report %zu of %zu", i + 1, n);
	out_raw(o, "<table class=\"kv scanned\"><caption>");
	out_text(o, n > 1 ? title : "The report");
	out_raw(o, "</caption>\n");
	row_start(o, "File");
	out_raw(o, "<code class=\"path\">"), out_text(o, r->file), out_raw(o, "</code> (");
	out_text(o, r->head.format == REPORT_JSONL ? "JSON lines" : "JSON document");
	out_printf(o, ", %llu images)</td></tr>\n", (unsigned long long)r->images);
	row_start(o, "Tool");
	out_text(o, json_str(tool, "name")), out_raw(o, " "), out_text(o, json_str(tool, "version"));
	out_printf(o, ", report schema version %d</td></tr>\n",
		   (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(tool, "schema_version")));
	if (cJSON_GetObjectItemCaseSensitive(tool, "libraries"))
		row_members(o, "Libraries", cJSON_GetObjectItemCaseSensitive(tool, "libraries"), true);
	row_start(o, "Host");
	out_text_lossy(o, run, "host");
	out_raw(o, ", kernel "), out_text(o, json_str(tool, "kernel")), out_raw(o, "</td></tr>\n");
	row_text(o, "Start", json_str(run, "start"));
	/* JSON lines: the end is on the summary line */
	row_text(o, "End", json_str(run, "end")[0] ? json_str(run, "end") : json_str(r->head.summary, "end"));
	row_roots(o, run);
	row_argv(o, run);
	row_members(o, "Options", cJSON_GetObjectItemCaseSensitive(run, "options"), false);
	if (json_at(run, "shard", NULL))
		out_printf(o, "<tr><th scope=\"row\">Shard</th><td>%d of %d</td></tr>\n",
			   (int)cJSON_GetNumberValue(json_at(run, "shard", "index")) + 1,
			   (int)cJSON_GetNumberValue(json_at(run, "shard", "count")));
	if (json_at(run, "merge", NULL))
		out_printf(o, "<tr><th scope=\"row\">Merged</th><td>from %d shard reports</td></tr>\n",
			   cJSON_GetArraySize(json_at(run, "merge", "shards")));
	row_text(o, "Run id", json_str(run, "id"));
	row_outcome(o, r->head.summary);
	out_raw(o, "</table>\n");
}

void page_scanned(struct outfile *o, const struct page_data *d)
{
	out_raw(o, "<section id=\"scanned\"><h2>What was scanned</h2>\n");
	for (size_t i = 0; i < d->nreports; i++)
		one_report(o, &d->reports[i], i, d->nreports);
	out_raw(o, "</section>\n");
}
