/*
 * run_json.c - the "tool" and "run" objects (see run_json.h and SCHEMA.md).
 */
#include "run_json.h"
#include "image_json.h"
#include "outfile.h"
#include "pathenc.h"
#include "provenance.h"
#include "../config/config.h"
#include "../config/options.h"
#include "../config/version.h"
#include "../scanner/pipeline.h"
#include "../scanner/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

cJSON *run_options_json(const struct scan_options *opt, const struct imgscan_config *cfg,
			const struct report_run_info *info)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "io", info->engine);
	if (info->engine_note)
		cJSON_AddStringToObject(o, "io_note", info->engine_note);
	cJSON_AddStringToObject(o, "read_mode", read_mode_names[opt->read_mode]);
	cJSON_AddNumberToObject(o, "jobs", opt->jobs);
	cJSON_AddNumberToObject(o, "queue_depth", opt->queue_depth);
	cJSON_AddNumberToObject(o, "read_size", (double)opt->read_size);
	cJSON_AddNumberToObject(o, "images_in_flight", opt->max_images);
	cJSON_AddNumberToObject(o, "sector_size", opt->sector_size);
	cJSON *hashes = cJSON_AddArrayToObject(o, "hashes");
	cJSON_AddItemToArray(hashes, cJSON_CreateString("xxh128"));
	for (int i = 0; i < HASH_COUNT; i++)
		if (opt->crypto_mask & (1u << i))
			cJSON_AddItemToArray(hashes, cJSON_CreateString(crypto_hash_names[i]));
	cJSON_AddBoolToObject(o, "all_files", opt->all_files);
	cJSON_AddStringToObject(o, "inside", inside_mode_names[opt->inside]);
	cJSON_AddBoolToObject(o, "follow_symlinks", opt->follow_symlinks);
	if (opt->sector_hash_dir)
		json_add_path(o, "sector_hashes_dir", opt->sector_hash_dir);
	else
		cJSON_AddNullToObject(o, "sector_hashes_dir");
	cJSON_AddStringToObject(o, "format", format_names[opt->format]);
	json_add_path(o, "config", cfg->source);
	cJSON_AddStringToObject(o, "config_xxh128", cfg->text_xxh128);
	cJSON_AddBoolToObject(o, "tsk", info->tsk_workers > 0 && !opt->no_tsk); /* workers may run for --inside alone */
	cJSON_AddNumberToObject(o, "tsk_workers", info->tsk_workers);
	cJSON_AddNumberToObject(o, "tsk_timeout_seconds", info->tsk_timeout_s);
	cJSON_AddNumberToObject(o, "tsk_memory_mib", info->tsk_memory_mib);
	cJSON_AddNumberToObject(o, "read_timeout_seconds", opt->read_timeout_s);
	cJSON_AddBoolToObject(o, "evidence", opt->evidence || cfg->evidence);
	return o;
}

void run_new_id(char *out, size_t len)
{
	unsigned char b[16] = {0};
	FILE *f = fopen("/dev/urandom", "rb");

	if (!f || fread(b, 1, sizeof(b), f) != sizeof(b)) {
		unsigned long long t = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
		memcpy(b, &t, sizeof(t));
	}
	if (f)
		fclose(f);
	b[6] = (b[6] & 0x0F) | 0x40; /* a version-4 UUID */
	b[8] = (b[8] & 0x3F) | 0x80;
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void json_add_path_array(cJSON *obj, const char *key, int argc, char **args)
{
	cJSON *argv = cJSON_AddArrayToObject(obj, key);
	char keybuf[64];
	bool lossy = false;

	for (int i = 0; i < argc; i++) {
		bool ok = utf8_valid(args[i], strlen(args[i]));
		char *fixed = ok ? NULL : utf8_lossy(args[i], strlen(args[i]));
		cJSON_AddItemToArray(argv, cJSON_CreateString(ok ? args[i] : fixed ? fixed : ""));
		free(fixed);
		lossy |= !ok;
	}
	if (!lossy)
		return;
	snprintf(keybuf, sizeof(keybuf), "%s_b64", key);
	cJSON *b64s = cJSON_AddArrayToObject(obj, keybuf);
	for (int i = 0; i < argc; i++) {
		char *b = base64_encode((const unsigned char *)args[i], strlen(args[i]));
		cJSON_AddItemToArray(b64s, cJSON_CreateString(b ? b : ""));
		free(b);
	}
}

cJSON *run_tool_json(void)
{
	cJSON *tool = cJSON_CreateObject();
	char kernel[128];

	cJSON_AddStringToObject(tool, "name", "imgscan");
	cJSON_AddStringToObject(tool, "version", IMGSCAN_VERSION);
	cJSON_AddStringToObject(tool, "schema", "https://imgscan.invalid/schema/1/report.schema.json (report/SCHEMA.md)");
	cJSON_AddNumberToObject(tool, "schema_version", REPORT_SCHEMA_VERSION);
	cJSON_AddItemToObject(tool, "libraries", provenance_libraries_json());
	cJSON_AddStringToObject(tool, "kernel", provenance_kernel(kernel, sizeof(kernel)));
	return tool;
}

/* cwd and roots: where the run's relative paths start, and each PATH
 * resolved (realpath) at the start of the run: what `imgscan rename` keeps
 * its renames under.  A PATH that cannot be resolved is left out. */
static void add_cwd_and_roots(cJSON *run, const struct scan_options *opt)
{
	char cwd[PATH_MAX], **roots = calloc((size_t)opt->npaths + 1, sizeof(*roots));
	int n = 0;

	if (getcwd(cwd, sizeof(cwd)))
		json_add_path(run, "cwd", cwd);
	for (int i = 0; roots && i < opt->npaths; i++)
		if ((roots[n] = realpath(opt->paths[i], NULL)))
			n++;
	if (roots)
		json_add_path_array(run, "roots", n, roots);
	for (int i = 0; roots && i < n; i++)
		free(roots[i]);
	free(roots);
}

cJSON *run_object_json(const struct scan_options *opt, const struct timespec *start,
			const struct report_run_info *info, cJSON *options)
{
	cJSON *run = cJSON_CreateObject();
	char buf[64], host[256] = "";

	run_new_id(buf, sizeof(buf));
	cJSON_AddStringToObject(run, "id", buf);
	format_utc(buf, sizeof(buf), start->tv_sec, start->tv_nsec);
	cJSON_AddStringToObject(run, "start", buf);
	gethostname(host, sizeof(host) - 1);
	json_add_path(run, "host", host);
	if (opt->output && strcmp(opt->output, "-"))
		json_add_path(run, "output", opt->output); /* as expanded */
	else
		cJSON_AddNullToObject(run, "output");
	json_add_path_array(run, "argv", opt->argc, opt->argv);
	add_cwd_and_roots(run, opt);
	cJSON_AddItemToObject(run, "options", options);
	if (opt->shard_count)
		cJSON_AddItemToObject(run, "shard", shard_run_json(opt));
	/* The engine the run chose, not the one asked for: auto may have
	 * fallen back to pread (options.io_note says why). */
	cJSON_AddBoolToObject(run, "io_uring", !strcmp(info->engine, "uring"));
	return run;
}

void run_add_end(cJSON *run, char *when, size_t len)
{
	struct timespec end;

	clock_gettime(CLOCK_REALTIME, &end);
	format_utc(when, len, end.tv_sec, end.tv_nsec);
	cJSON_AddStringToObject(run, "end", when);
}

void run_add_stop_json(cJSON *s, const struct run_stats *st, int pipeline_rc)
{
	const char *sig = st->stop_signal ? sigabbrev_np(st->stop_signal) : NULL;
	char why[160];

	cJSON_AddBoolToObject(s, "partial", pipeline_rc != 0);
	if (!pipeline_rc) {
		cJSON_AddNullToObject(s, "stopped_by");
		return;
	}
	if (st->stop_signal)
		snprintf(why, sizeof(why), "SIG%s", sig ? sig : "?");
	else
		snprintf(why, sizeof(why), "error: %s", pipeline_rc == -ETIMEDOUT ?
			 "every read buffer is held by a read that did not return within --read-timeout" :
			 strerror(-pipeline_rc));
	cJSON_AddStringToObject(s, "stopped_by", why);
	if (st->lost_buffers)
		cJSON_AddNumberToObject(s, "lost_buffers", st->lost_buffers);
}

/* The hole: one control byte as a raw value.  cJSON prints a raw value as
 * it is, and escapes every byte below 0x20 inside strings and names, so
 * this byte in printed text is the hole and nothing else. */
#define HOLE '\x01'

cJSON *json_hole(void)
{
	return cJSON_CreateRaw((const char[]){HOLE, '\0'});
}

/* len bytes of printed text to out, fill called at the hole (when fill is
 * given).  Returns 0, or fill's -1. */
static int write_filled(struct outfile *out, const char *text, size_t len, json_fill_fn fill, void *ctx)
{
	const char *hole = fill ? memchr(text, HOLE, len) : NULL;

	if (!hole) {
		outfile_write(out, text, len);
		return 0;
	}
	outfile_write(out, text, (size_t)(hole - text));
	if (fill(ctx, out))
		return -1;
	outfile_write(out, hole + 1, len - (size_t)(hole + 1 - text));
	return 0;
}

int json_write_line_filled(struct outfile *out, const cJSON *obj, const char *prefix, json_fill_fn fill, void *ctx)
{
	char *text = cJSON_PrintUnformatted(obj);
	int rc;

	if (!text) {
		out->err = out->err ? out->err : ENOMEM;
		return 0;
	}
	if (prefix)
		outfile_write(out, prefix, strlen(prefix));
	rc = write_filled(out, text, strlen(text), fill, ctx);
	if (!rc)
		outfile_write(out, "\n", 1);
	free(text);
	return rc;
}

void json_write_line(struct outfile *out, const cJSON *obj, const char *prefix)
{
	json_write_line_filled(out, obj, prefix, NULL, NULL);
}

void json_open_document(struct outfile *out, const cJSON *tool)
{
	char *text = cJSON_PrintUnformatted(tool);

	if (!text) /* never a document with a hole where the tool goes */
		out->err = out->err ? out->err : ENOMEM;
	outfile_write(out, "{\"tool\":", 8);
	outfile_write(out, text, text ? strlen(text) : 0);
	outfile_write(out, ",\n\"images\":[\n", 13);
	free(text);
}

int json_close_document_filled(struct outfile *out, const cJSON *tail, json_fill_fn fill, void *ctx)
{
	char *text = cJSON_PrintUnformatted(tail);
	int rc = 0;

	/* Splice the tail object's members after the open array. */
	outfile_write(out, "],\n", 3);
	if (text)
		rc = write_filled(out, text + 1, strlen(text) - 1, fill, ctx);
	else
		out->err = out->err ? out->err : ENOMEM;
	if (!rc)
		outfile_write(out, "\n", 1);
	free(text);
	return rc;
}

void json_close_document(struct outfile *out, const cJSON *tail)
{
	json_close_document_filled(out, tail, NULL, NULL);
}
