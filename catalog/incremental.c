/*
 * incremental.c - a scan with --state (see incremental.h).
 */
#include "incremental.h"
#include "../scanner/shard.h"
#include "catalog.h"
#include "../config/config.h"
#include "../config/options.h"
#include "../config/version.h"
#include "../report/image_json.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

/* A result whose file changed this close to its measurement may hide a
 * later write with the same timestamps (timestamps tick coarsely): it is
 * kept, but read again next time. */
#define RACY_NS 2000000000LL

struct incremental {
	const struct scan_options *opt;
	struct report *report;
	struct catalog *cat;       /* NULL when it could not be opened */
	char *fingerprint;         /* hashing options, JSON text */
	pthread_mutex_t lock;      /* the counters and the walk errors */
	uint64_t new_images, changed, reread, reused, other_reused, gone;
	struct walk_unlisted unlisted; /* walk errors: what is under them was not seen */
	char error[512];           /* why the catalog cannot be used */
	const struct shard_plan *shard; /* --shard: what is another shard's is not gone */
};

static bool same_stamp(const struct catalog_stamp *a, const struct catalog_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
	       a->ctime_ns == b->ctime_ns;
}

/* The effective configuration (extensions, naming rules, limits), as a
 * digest: the struct is zeroed before it is filled, so equal settings give
 * equal bytes; where it came from and the catalog's own path do not count. */
static uint64_t config_digest(const struct imgscan_config *cfg)
{
	struct imgscan_config copy = *cfg;

	memset(copy.source, 0, sizeof(copy.source));
	memset(copy.state, 0, sizeof(copy.state));
	return XXH3_64bits(&copy, sizeof(copy));
}

/* What a result depends on besides the file's bytes: a result made
 * otherwise (another version, configuration or option) is not reused. */
static char *make_fingerprint(const struct scan_options *opt, const struct imgscan_config *cfg)
{
	cJSON *o = cJSON_CreateObject(), *hashes;
	char *text, digest[20];

	cJSON_AddStringToObject(o, "imgscan", IMGSCAN_VERSION);
	snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)config_digest(cfg));
	cJSON_AddStringToObject(o, "config", digest);
	cJSON_AddBoolToObject(o, "all_files", opt->all_files);
	hashes = cJSON_AddArrayToObject(o, "hashes");

	cJSON_AddNumberToObject(o, "sector_size", opt->sector_size);
	cJSON_AddItemToArray(hashes, cJSON_CreateString("xxh128"));
	for (int i = 0; i < HASH_COUNT; i++)
		if (opt->crypto_mask & (1u << i))
			cJSON_AddItemToArray(hashes, cJSON_CreateString(crypto_hash_names[i]));
	cJSON_AddBoolToObject(o, "tsk", !opt->no_tsk);
	cJSON_AddStringToObject(o, "inside", inside_mode_names[opt->inside]);
	if (opt->sector_hash_dir)
		json_add_path(o, "sector_hashes_dir", opt->sector_hash_dir);
	else
		cJSON_AddNullToObject(o, "sector_hashes_dir");
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* Called from any thread after a catalog call failed. */
static void fail_catalog(struct incremental *inc)
{
	char why[512];

	if (!catalog_error(inc->cat, why, sizeof(why)))
		return;
	pthread_mutex_lock(&inc->lock);
	if (!inc->error[0])
		snprintf(inc->error, sizeof(inc->error), "%s", why);
	pthread_mutex_unlock(&inc->lock);
}

static void begin_run(struct incremental *inc)
{
	const cJSON *run = report_run(inc->report);
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(run, "id"));
	const char *start = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(run, "start"));
	const char *host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(run, "host"));
	char *argv = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(run, "argv"));

	if (catalog_begin_run(inc->cat, id ? id : "", start ? start : "", host, IMGSCAN_VERSION, argv,
			      inc->fingerprint))
		fail_catalog(inc);
	free(argv);
}

int incremental_open(const char *path, const char *lock_error, const struct scan_options *opt,
		     const struct imgscan_config *cfg, struct report *report, struct incremental **out)
{
	struct incremental *inc = calloc(1, sizeof(*inc));

	if (!inc)
		return -ENOMEM;
	inc->opt = opt;
	inc->report = report;
	inc->fingerprint = make_fingerprint(opt, cfg);
	pthread_mutex_init(&inc->lock, NULL);
	if (lock_error)
		snprintf(inc->error, sizeof(inc->error), "%s", lock_error);
	else if (!inc->fingerprint)
		snprintf(inc->error, sizeof(inc->error), "%s", strerror(ENOMEM));
	else if (catalog_open(path, &inc->cat, inc->error, sizeof(inc->error)))
		inc->cat = NULL;
	else
		begin_run(inc);
	*out = inc;
	return 0;
}

/* Only after the pipeline (no thread writes error then). */
const char *incremental_error(const struct incremental *inc)
{
	return inc->error[0] ? inc->error : NULL;
}

/* With --sector-hashes, a result is reused only if its list is still there. */
static bool list_file_present(const cJSON *img)
{
	const cJSON *sectors = cJSON_GetObjectItemCaseSensitive(img, "sectors");
	const char *list = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sectors, "list_file"));
	struct stat st;

	if (!list || cJSON_GetObjectItemCaseSensitive(sectors, "list_file_lossy"))
		return false; /* a lossy name is not the file's name */
	return lstat(list, &st) == 0 && S_ISREG(st.st_mode);
}

static void set_item(cJSON *o, const char *key, cJSON *item)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, item);
}

/* The earlier result, as this run's entry: true when it was reported. */
static bool report_reused(struct incremental *inc, const struct catalog_row *row, const struct walk_entry *e,
			  uint64_t index)
{
	cJSON *img = row->result ? cJSON_Parse(row->result) : NULL;
	bool ok = img && cJSON_IsObject(img) && (!inc->opt->sector_hash_dir || list_file_present(img));

	if (ok) {
		set_item(img, "index", cJSON_CreateNumber((double)index));
		set_item(img, "reused", cJSON_CreateTrue());
		set_item(img, "catalog", cJSON_CreateString("reused"));
		image_json_set_identity(img, &e->st); /* the stamps matched: the same file */
		report_image_json(inc->report, img);
		if (catalog_mark_seen(inc->cat, e->path))
			fail_catalog(inc);
	}
	cJSON_Delete(img);
	return ok;
}

/* The admit hook: is there an earlier result that stands for this file? */
static enum admit_verdict decide(void *ctx, const struct walk_entry *e, uint64_t index, bool would_probe)
{
	struct incremental *inc = ctx;
	enum admit_verdict v = ADMIT_READ;
	struct catalog_stamp now;
	struct catalog_row row;

	if (!inc->cat || inc->opt->rehash || e->type != WALK_FILE)
		return ADMIT_READ;
	if (catalog_lookup(inc->cat, e->path, &row) != 1) {
		fail_catalog(inc);
		return ADMIT_READ;
	}
	catalog_stamp_from_stat(&e->st, &now);
	if (!same_stamp(&row.stamp, &now) || !row.reusable || !row.options || strcmp(row.options, inc->fingerprint))
		v = ADMIT_READ;
	else if (!row.is_image)
		v = would_probe ? ADMIT_DONE_OTHER : ADMIT_READ;
	else if (report_reused(inc, &row, e, index))
		v = ADMIT_DONE_IMAGE;
	if (v == ADMIT_DONE_OTHER && catalog_mark_seen(inc->cat, e->path))
		fail_catalog(inc);
	pthread_mutex_lock(&inc->lock);
	inc->reused += v == ADMIT_DONE_IMAGE;
	inc->other_reused += v == ADMIT_DONE_OTHER;
	pthread_mutex_unlock(&inc->lock);
	catalog_row_free(&row);
	return v;
}

/* Read again although nothing about the file changed, and the digest is
 * not the reference one: the storage changed the bytes, or someone set the
 * timestamps back.  Said again on every read until the file is rewritten
 * (its stamps move) or restored. */
static void add_content_changed(cJSON *img, const struct catalog_row *old)
{
	cJSON *findings = cJSON_GetObjectItemCaseSensitive(img, "findings"), *f = cJSON_CreateObject();
	char msg[400];

	snprintf(msg, sizeof(msg), "the content changed since it was first measured with these timestamps "
		 "(XXH128 then: %s) although its size, mtime and ctime did not: a storage fault (bit rot) or tampering",
		 old->reference_xxh128);
	cJSON_AddStringToObject(f, "code", "CONTENT_CHANGED");
	cJSON_AddStringToObject(f, "severity", "high");
	cJSON_AddStringToObject(f, "message", msg);
	cJSON_AddItemToArray(findings, f);
}

/* new, changed or reread, against what the catalog held (NULL when the
 * catalog cannot tell); *reference: the digest the file's present stamps
 * were first measured with, kept across rereads. */
static const char *classify(struct incremental *inc, const struct image_result *res, const struct catalog_stamp *stamp,
			    bool reusable, cJSON *img, char reference[33])
{
	struct catalog_row old;
	const char *how;
	int found = catalog_lookup(inc->cat, res->path, &old);

	/* Only a trustworthy read may become the reference: whole, without
	 * error, and not racy (a racy digest may be of bytes since rewritten
	 * under the same stamps, and would raise a false CONTENT_CHANGED). */
	snprintf(reference, 33, "%s", reusable ? res->xxh128 : "");
	if (found < 0) {
		fail_catalog(inc);
		return NULL;
	}
	if (found == 0)
		return "new";
	how = same_stamp(&old.stamp, stamp) ? "reread" : "changed";
	if (!strcmp(how, "reread") && old.is_image && old.reference_xxh128[0]) {
		if (res->complete && strcmp(old.reference_xxh128, res->xxh128))
			add_content_changed(img, &old);
		snprintf(reference, 33, "%s", old.reference_xxh128);
	}
	catalog_row_free(&old);
	return how;
}

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static void store(struct incremental *inc, const struct image_result *res, cJSON *img)
{
	struct catalog_stamp stamp;
	char reference[33];
	const char *how;
	bool reusable;
	char *text;

	catalog_stamp_from_stat(&res->st, &stamp);
	/* Racy: changed within RACY_NS before it was opened, a second write in
	 * the same timestamp tick would leave the stamps as they are. */
	reusable = res->complete && res->nerrors == 0 && stamp.ctime_ns < ns_of(&res->opened_at) - RACY_NS;
	how = classify(inc, res, &stamp, reusable, img, reference);
	if (!how)
		return; /* the catalog failed: the image is reported without it */
	set_item(img, "catalog", cJSON_CreateString(how));
	pthread_mutex_lock(&inc->lock);
	inc->new_images += !strcmp(how, "new");
	inc->changed += !strcmp(how, "changed");
	inc->reread += !strcmp(how, "reread");
	pthread_mutex_unlock(&inc->lock);
	text = cJSON_PrintUnformatted(img);
	struct catalog_put p = {
		.path = res->path, .stamp = stamp, .is_image = true, .reusable = text && reusable,
		.options = inc->fingerprint, .result = text, .xxh128 = res->complete ? res->xxh128 : NULL,
		.reference_xxh128 = reference,
		.measured_at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(img, "measured_at")),
	};
	if (catalog_put(inc->cat, &p))
		fail_catalog(inc);
	free(text);
}

static void on_image(void *ctx, const struct image_result *res)
{
	struct incremental *inc = ctx;
	cJSON *img = image_to_json(res);

	/* Media is read again each run: a row keyed by its first segment's
	 * name and stamps would stand for files it does not describe. */
	if (inc->cat && !res->is_blockdev && !res->media)
		store(inc, res, img);
	report_image_json(inc->report, img);
	cJSON_Delete(img);
}

static void on_other(void *ctx, const char *path, const struct stat *st, const struct timespec *opened_at)
{
	struct incremental *inc = ctx;
	struct catalog_put p = {.path = path, .is_image = false, .options = inc->fingerprint};

	if (!inc->cat)
		return;
	catalog_stamp_from_stat(st, &p.stamp);
	p.reusable = p.stamp.ctime_ns < ns_of(opened_at) - RACY_NS;
	if (catalog_put(inc->cat, &p))
		fail_catalog(inc);
}

static void on_skipped(void *ctx, const struct skipped_entry *s)
{
	struct incremental *inc = ctx;

	if (s->reason == SKIP_WALK_ERROR) {
		pthread_mutex_lock(&inc->lock);
		walk_unlisted_add(&inc->unlisted, s->path);
		pthread_mutex_unlock(&inc->lock);
	}
	report_skipped(inc->report, s);
}

/* From the reader thread, several times a second. */
static void on_progress(void *ctx, uint64_t bytes)
{
	struct incremental *inc = ctx;

	if (inc->cat && catalog_commit_if_due(inc->cat))
		fail_catalog(inc);
	report_progress(inc->report, bytes);
}

struct result_sink incremental_sink(struct incremental *inc)
{
	return (struct result_sink){inc, on_image, on_skipped, on_progress, on_other};
}

void incremental_set_shard(struct incremental *inc, const struct shard_plan *shard)
{
	inc->shard = shard;
}

struct admit_hook incremental_admit_hook(struct incremental *inc)
{
	return (struct admit_hook){inc, decide};
}

/* A catalog row the run would have met: under a PATH it walked, and not
 * under a place the walk could not look into. */
static bool covered(void *ctx, const char *path, size_t len)
{
	struct incremental *inc = ctx;
	bool in_root = false;

	for (int i = 0; i < inc->opt->npaths && !in_root; i++)
		in_root = walk_path_within(path, len, inc->opt->paths[i]);
	return in_root && !walk_unlisted_covers(&inc->unlisted, path, len) &&
	       !(inc->shard && shard_plan_foreign(inc->shard, path, len));
}

static cJSON *summary_json(struct incremental *inc)
{
	cJSON *o = cJSON_CreateObject();

	json_add_path(o, "file", inc->opt->state_path);
	cJSON_AddNumberToObject(o, "new", (double)inc->new_images);
	cJSON_AddNumberToObject(o, "changed", (double)inc->changed);
	cJSON_AddNumberToObject(o, "reread", (double)inc->reread);
	cJSON_AddNumberToObject(o, "reused", (double)inc->reused);
	cJSON_AddNumberToObject(o, "gone", (double)inc->gone);
	cJSON_AddNumberToObject(o, "other_files_reused", (double)inc->other_reused);
	cJSON_AddBoolToObject(o, "rehash", inc->opt->rehash);
	if (inc->error[0])
		cJSON_AddStringToObject(o, "error", inc->error);
	else
		cJSON_AddNullToObject(o, "error");
	return o;
}

/* Counted now for the report; marked only once the report is written
 * (incremental_close), so that no disappearance goes unreported. */
void incremental_finish(struct incremental *inc, bool partial)
{
	if (inc->cat && !partial && !inc->unlisted.overflow &&
	    catalog_mark_gone(inc->cat, covered, inc, false, &inc->gone))
		fail_catalog(inc);
	report_set_catalog(inc->report, summary_json(inc), inc->error[0] != '\0');
}

int incremental_close(struct incremental *inc, int exit_status, bool partial, bool report_written, char *err,
		      size_t errlen)
{
	char when[48];
	struct timespec t;
	uint64_t gone = 0;
	int rc;

	if (inc->cat && !inc->error[0] && inc->gone && report_written &&
	    catalog_mark_gone(inc->cat, covered, inc, true, &gone))
		fail_catalog(inc);
	clock_gettime(CLOCK_REALTIME, &t);
	format_utc(when, sizeof(when), t.tv_sec, t.tv_nsec);
	struct catalog_run_end end = {
		.ended = when,
		.report = report_written && inc->opt->output && strcmp(inc->opt->output, "-") ? inc->opt->output : NULL,
		.partial = partial, .exit_status = exit_status, .new_images = inc->new_images,
		.changed = inc->changed, .reread = inc->reread, .reused = inc->reused, .gone = gone,
		.other_files = inc->other_reused,
	};
	if (inc->cat && !inc->error[0] && catalog_end_run(inc->cat, &end))
		fail_catalog(inc);
	if (inc->cat && catalog_close(inc->cat) && !inc->error[0])
		snprintf(inc->error, sizeof(inc->error), "cannot close the catalog");
	rc = inc->error[0] ? -1 : 0;
	snprintf(err, errlen, "%s", inc->error);
	walk_unlisted_free(&inc->unlisted);
	free(inc->fingerprint);
	pthread_mutex_destroy(&inc->lock);
	free(inc);
	return rc;
}
