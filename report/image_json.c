/*
 * image_json.c - image results as JSON (see SCHEMA.md).
 */
#include "image_json.h"
#include "media_json.h"
#include "../formats/probe.h"
#include "pathenc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static const char *const class_names[] = {
	[HIT_OPTICAL] = "optical", [HIT_RAWCD] = "raw-cd", [HIT_PTABLE] = "partition-table",
	[HIT_FS] = "filesystem", [HIT_CONTAINER] = "container", [HIT_COMPRESSED] = "compressed",
	[HIT_ARCHIVE] = "archive", [HIT_BOOT] = "boot", [HIT_ENCRYPTED] = "encrypted",
};

static const char *const tsk_status_names[] = {
	[TSK_NOT_RUN] = "not-run", [TSK_DONE] = "ok", [TSK_CRASHED] = "crashed",
	[TSK_TIMED_OUT] = "timed-out", [TSK_OUT_OF_MEMORY] = "out-of-memory",
	[TSK_WORKER_ERROR] = "worker-error", [TSK_STOPPED] = "stopped",
};

void format_utc(char *out, size_t len, time_t sec, long nsec)
{
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%09ldZ", base, nsec);
}

int parse_utc(const char *text, struct timespec *out)
{
	struct tm tm = {0};
	const char *p = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	long ns = 0;
	int digits = 0;

	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
			ns = ns * 10 + (*p - '0');
	for (; digits && digits < 9; digits++)
		ns *= 10;
	if (strcmp(p, "Z"))
		return -1;
	out->tv_sec = timegm(&tm);
	out->tv_nsec = ns;
	return 0;
}

bool severity_counts(const char *severity)
{
	return strcmp(severity, "info") != 0;
}

void json_add_path(cJSON *obj, const char *key, const char *path)
{
	size_t n = strlen(path);
	char keybuf[64];

	if (utf8_valid(path, n)) {
		cJSON_AddStringToObject(obj, key, path);
		return;
	}
	char *lossy = utf8_lossy(path, n), *b64 = base64_encode((const unsigned char *)path, n);
	cJSON_AddStringToObject(obj, key, lossy ? lossy : "");
	snprintf(keybuf, sizeof(keybuf), "%s_b64", key);
	cJSON_AddStringToObject(obj, keybuf, b64 ? b64 : "");
	snprintf(keybuf, sizeof(keybuf), "%s_lossy", key);
	cJSON_AddTrueToObject(obj, keybuf);
	free(lossy);
	free(b64);
}

/* Strings from disk (details, messages) may hold anything: only valid UTF-8
 * goes out, each byte that is not UTF-8 one U+FFFD. */
void json_add_text(cJSON *obj, const char *key, const char *text)
{
	char *safe;

	if (utf8_valid(text, strlen(text))) {
		cJSON_AddStringToObject(obj, key, text);
		return;
	}
	safe = utf8_lossy(text, strlen(text));
	cJSON_AddStringToObject(obj, key, safe ? safe : "");
	free(safe);
}

static cJSON *safe_string(const char *text)
{
	char *safe;
	cJSON *item;

	if (utf8_valid(text, strlen(text)))
		return cJSON_CreateString(text);
	safe = utf8_lossy(text, strlen(text));
	item = cJSON_CreateString(safe ? safe : "");
	free(safe);
	return item;
}

static cJSON *hit_json(const struct probe_hit *h)
{
	cJSON *o = cJSON_CreateObject();

	json_add_text(o, "name", h->name);
	cJSON_AddStringToObject(o, "class", class_names[h->cls]);
	cJSON_AddNumberToObject(o, "offset", (double)h->offset);
	if (h->claimed_size)
		cJSON_AddNumberToObject(o, "size", (double)h->claimed_size);
	if (h->block_size)
		cJSON_AddNumberToObject(o, "block_size", h->block_size);
	/* Labels are data, kept exactly as paths are: X, and X_b64 with
	 * X_lossy when the bytes are not UTF-8 (SCHEMA.md). */
	if (h->label[0])
		json_add_path(o, "label", h->label);
	/* The key is one of two known ones: a worker's answer names no key. */
	if (h->label2[0] && (!strcmp(h->label2_key, "label_boot_sector") || !strcmp(h->label2_key, "label_joliet")))
		json_add_path(o, h->label2_key, h->label2);
	if (h->label_codepage[0] && h->label[0])
		json_add_text(o, "label_codepage", h->label_codepage);
	if (h->uuid[0])
		json_add_text(o, "uuid", h->uuid);
	if (h->detail[0])
		json_add_text(o, "detail", h->detail);
	return o;
}

static cJSON *ptable_json(const struct ident *id)
{
	cJSON *o, *parts;

	if (!id->scheme[0])
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	json_add_text(o, "scheme", id->scheme);
	parts = cJSON_AddArrayToObject(o, "partitions");
	for (int i = 0; i < id->nparts; i++) {
		const struct part_entry *p = &id->parts[i];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "number", p->number);
		cJSON_AddNumberToObject(e, "start", (double)p->start);
		cJSON_AddNumberToObject(e, "length", (double)p->length);
		json_add_text(e, "type", p->type);
		if (p->name[0])
			json_add_text(e, "name", p->name);
		cJSON_AddBoolToObject(e, "bootable", p->bootable);
		cJSON_AddItemToArray(parts, e);
	}
	return o;
}

static cJSON *tsk_vs_json(const struct tsk_result *t)
{
	cJSON *o, *parts;

	if (!t->vs_type[0])
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", t->vs_type);
	cJSON_AddNumberToObject(o, "block_size", t->vs_block_size);
	parts = cJSON_AddArrayToObject(o, "partitions");
	for (uint32_t i = 0; i < t->nparts && i < TSK_MAX_PARTS; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "address", t->parts[i].addr);
		cJSON_AddNumberToObject(e, "start", (double)t->parts[i].start);
		cJSON_AddNumberToObject(e, "length", (double)t->parts[i].length);
		json_add_text(e, "description", t->parts[i].desc);
		cJSON_AddBoolToObject(e, "allocated", t->parts[i].allocated);
		cJSON_AddItemToArray(parts, e);
	}
	return o;
}

static cJSON *tsk_json(const struct tsk_result *t)
{
	cJSON *o = cJSON_CreateObject(), *fss, *errs;
	int n = (int)(sizeof(tsk_status_names) / sizeof(tsk_status_names[0]));
	int st = t->status >= 0 && (int)t->status < n ? (int)t->status : TSK_WORKER_ERROR;

	cJSON_AddStringToObject(o, "status", tsk_status_names[st]);
	if (t->failure[0])
		cJSON_AddStringToObject(o, "failure", t->failure);
	if (t->status != TSK_DONE)
		return o;
	cJSON_AddStringToObject(o, "image_type", t->img_type);
	cJSON_AddNumberToObject(o, "media_size", (double)t->img_size);
	cJSON_AddItemToObject(o, "volume_system", tsk_vs_json(t));
	fss = cJSON_AddArrayToObject(o, "filesystems");
	for (uint32_t i = 0; i < t->nfs && i < TSK_MAX_FS; i++) {
		const struct tsk_fs *f = &t->fs[i];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "offset", (double)f->offset);
		cJSON_AddStringToObject(e, "type", f->type);
		cJSON_AddStringToObject(e, "opened_by", f->how);
		cJSON_AddNumberToObject(e, "block_size", f->block_size);
		cJSON_AddNumberToObject(e, "block_count", (double)f->block_count);
		/* TSK's numbers come from the disk: a product that overflows is
		 * shown as SIZE_OVERFLOW (2^64), as our probes show theirs. */
		cJSON_AddNumberToObject(e, "size", (double)size_mul(size_add(f->last_block, 1), f->block_size));
		cJSON_AddItemToArray(fss, e);
	}
	errs = cJSON_AddArrayToObject(o, "errors");
	for (uint32_t i = 0; i < t->nerrors && i < TSK_MAX_ERRORS; i++)
		cJSON_AddItemToArray(errs, safe_string(t->errors[i]));
	return o;
}

static cJSON *ident_json(const struct ident *id, const struct tsk_result *t)
{
	cJSON *o = cJSON_CreateObject(), *hits = cJSON_AddArrayToObject(o, "probes");

	for (int i = 0; i < id->nhits; i++)
		cJSON_AddItemToArray(hits, hit_json(&id->hits[i]));
	if (id->hits_truncated)
		cJSON_AddTrueToObject(o, "probes_truncated");
	cJSON_AddItemToObject(o, "partition_table", ptable_json(id));
	cJSON_AddItemToObject(o, "tsk", tsk_json(t));
	return o;
}

static cJSON *members_json(const struct inside_result *in)
{
	cJSON *list = cJSON_CreateArray();

	for (uint32_t i = 0; i < in->nmembers && i < INSIDE_MAX_MEMBERS; i++) {
		const struct inside_member *m = &in->members[i];
		cJSON *e = cJSON_CreateObject();
		json_add_path(e, "name", m->name);
		cJSON_AddNumberToObject(e, "size", (double)m->size);
		if (m->what[0])
			json_add_text(e, "image", m->what);
		else
			cJSON_AddNullToObject(e, "image");
		cJSON_AddItemToArray(list, e);
	}
	return list;
}

/* What a worker found inside a compressed file or a container; NULL when
 * nobody looked. */
static cJSON *inside_json(const struct inside_result *in)
{
	cJSON *o, *hits;

	if (in->status == INSIDE_NOT_RUN)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	json_add_text(o, "layer", in->layer);
	cJSON_AddStringToObject(o, "status", in->status == INSIDE_DONE ? "ok" : "failed");
	if (in->failure[0])
		json_add_text(o, "failure", in->failure);
	cJSON_AddNumberToObject(o, "examined", (double)in->examined);
	if (in->inner_size_known || in->inner_size)
		cJSON_AddNumberToObject(o, "inner_size", (double)in->inner_size);
	else
		cJSON_AddNullToObject(o, "inner_size");
	cJSON_AddBoolToObject(o, "truncated", in->truncated);
	if (in->content[0])
		json_add_text(o, "content", in->content);
	if (in->magic[0])
		json_add_text(o, "magic", in->magic);
	if (in->mime[0])
		json_add_text(o, "mime", in->mime);
	hits = cJSON_AddArrayToObject(o, "probes");
	for (int i = 0; i < in->id.nhits && i < IDENT_MAX_HITS; i++)
		cJSON_AddItemToArray(hits, hit_json(&in->id.hits[i]));
	cJSON_AddItemToObject(o, "partition_table", ptable_json(&in->id));
	cJSON_AddBoolToObject(o, "tsk_is_inner", in->tsk_ran);
	if (in->backing[0])
		json_add_path(o, "backing_file", in->backing);
	if (in->nmembers || in->members_total) {
		cJSON_AddItemToObject(o, "members", members_json(in));
		cJSON_AddNumberToObject(o, "members_total", in->members_total);
		cJSON_AddBoolToObject(o, "members_cut", in->members_cut);
	}
	if (in->xxh128[0])
		json_add_text(o, "xxh128", in->xxh128);
	return o;
}

static cJSON *findings_json(const struct verdict *v)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < v->nfindings; i++) {
		const struct finding *f = &v->findings[i];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "code", f->code);
		cJSON_AddStringToObject(e, "severity", f->severity);
		cJSON_AddItemToObject(e, "message", safe_string(f->message));
		if (f->suggested_name[0])
			json_add_path(e, "suggested_name", f->suggested_name);
		cJSON_AddItemToArray(arr, e);
	}
	return arr;
}

void json_add_errno(cJSON *o, int err)
{
	const char *name = err ? strerrorname_np(err) : NULL;

	if (err)
		cJSON_AddStringToObject(o, "errno", name ? name : "?");
}

static cJSON *errors_json(const struct image_result *r)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < r->nerrors; i++) {
		const struct scan_error *e = &r->errors[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "stage", e->stage);
		json_add_errno(o, e->err);
		if (!strcmp(e->stage, "read"))
			cJSON_AddNumberToObject(o, "offset", (double)e->offset);
		cJSON_AddItemToObject(o, "message", safe_string(e->message));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *hashes_json(const struct image_result *r)
{
	cJSON *o;

	if (!r->complete || !r->xxh128[0]) /* EWF media libewf could not read: no digest */
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "xxh128", r->xxh128);
	for (int i = 0; i < HASH_COUNT; i++)
		if (r->crypto[i][0])
			cJSON_AddStringToObject(o, crypto_hash_names[i], r->crypto[i]);
	return o;
}

static cJSON *sectors_json(const struct image_result *r)
{
	cJSON *o;

	if (!r->complete || !r->sector_size) /* EWF media: the files hold compressed data */
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "size", r->sector_size);
	cJSON_AddNumberToObject(o, "count", (double)r->sector_count);
	cJSON_AddNumberToObject(o, "zero", (double)r->zero_sectors);
	cJSON_AddStringToObject(o, "list_xxh128", r->xxh128[0] ? r->sector_list_xxh128 : "");
	if (r->sector_file[0])
		json_add_path(o, "list_file", r->sector_file);
	return o;
}

static const char *first_suggestion(const struct verdict *v)
{
	for (int i = 0; i < v->nfindings; i++)
		if (v->findings[i].suggested_name[0])
			return v->findings[i].suggested_name;
	return NULL;
}

/* device and inode: with size and mtime (to the nanosecond), what
 * `imgscan rename` checks the file against before it touches it.  st_dev is
 * the kernel's number as stat gives it; device_major_minor is the same as
 * /proc/self/mountinfo and ls show it. */
void image_json_set_identity(cJSON *o, const struct stat *st)
{
	char mm[32];

	cJSON_DeleteItemFromObjectCaseSensitive(o, "device");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "device_major_minor");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "inode");
	cJSON_AddNumberToObject(o, "device", (double)st->st_dev);
	snprintf(mm, sizeof(mm), "%u:%u", major(st->st_dev), minor(st->st_dev));
	cJSON_AddStringToObject(o, "device_major_minor", mm);
	cJSON_AddNumberToObject(o, "inode", (double)st->st_ino);
}

cJSON *image_to_json(const struct image_result *r)
{
	cJSON *o = cJSON_CreateObject(), *rd;
	const char *suggest = first_suggestion(&r->verdict);
	struct timespec now;
	char when[48];

	cJSON_AddNumberToObject(o, "index", (double)r->index);
	json_add_path(o, "path", r->path);
	json_add_path(o, "extension", r->ext);
	cJSON_AddStringToObject(o, "file_type", r->is_blockdev ? "block-device" : "file");
	cJSON_AddNumberToObject(o, "size", (double)r->size);
	format_utc(when, sizeof(when), r->st.st_mtim.tv_sec, r->st.st_mtim.tv_nsec);
	cJSON_AddStringToObject(o, "mtime", when);
	image_json_set_identity(o, &r->st);
	cJSON_AddStringToObject(o, "status", r->nerrors ? "error" : "ok");
	cJSON_AddStringToObject(o, "kind", image_kind_name(r->verdict.kind_id));
	cJSON_AddStringToObject(o, "kind_key", r->verdict.kind_key);
	cJSON_AddItemToObject(o, "detail", safe_string(r->verdict.detail));
	cJSON_AddBoolToObject(o, "misnamed", suggest != NULL);
	if (suggest)
		json_add_path(o, "suggested_name", suggest);
	else
		cJSON_AddNullToObject(o, "suggested_name");
	cJSON_AddItemToObject(o, "hashes", hashes_json(r));
	cJSON_AddItemToObject(o, "sectors", sectors_json(r));
	cJSON_AddItemToObject(o, "identification", ident_json(&r->ident, &r->tsk));
	cJSON_AddItemToObject(o, "inside", inside_json(&r->tsk.inside));
	if (r->media)
		cJSON_AddItemToObject(o, "media", media_to_json(r));
	if (r->tsk.acq.status)
		cJSON_AddItemToObject(o, "acquisition", acquisition_to_json(&r->tsk.acq));
	if (r->verdict.content_bytes)
		cJSON_AddNumberToObject(o, "content_bytes", (double)r->verdict.content_bytes);
	cJSON_AddItemToObject(o, "findings", findings_json(&r->verdict));
	cJSON_AddItemToObject(o, "errors", errors_json(r));
	rd = cJSON_AddObjectToObject(o, "read");
	cJSON_AddNumberToObject(rd, "bytes", (double)r->bytes_read);
	cJSON_AddBoolToObject(rd, "complete", r->complete);
	cJSON_AddBoolToObject(rd, "noatime", r->noatime);
	cJSON_AddBoolToObject(rd, "direct", r->direct);
	cJSON_AddNumberToObject(rd, "seconds", r->seconds);
	cJSON_AddNumberToObject(rd, "buffer_wait_seconds", r->buffer_wait);
	cJSON_AddFalseToObject(o, "reused");
	clock_gettime(CLOCK_REALTIME, &now);
	format_utc(when, sizeof(when), now.tv_sec, now.tv_nsec);
	cJSON_AddStringToObject(o, "measured_at", when);
	return o;
}

static const char *mode_name(mode_t m)
{
	return S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "fifo" : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "char-device"
		: S_ISBLK(m) ? "block-device" : S_ISDIR(m) ? "directory" : S_ISREG(m) ? "file" : "other";
}

cJSON *skipped_to_json(const struct skipped_entry *s)
{
	static const char *const reasons[] = {
		[SKIP_NOT_IMAGE] = "not-an-image", [SKIP_SYMLINK] = "symlink-not-followed",
		[SKIP_SPECIAL] = "special-file", [SKIP_WALK_ERROR] = "error",
	};
	cJSON *o = cJSON_CreateObject();
	char target[4096];
	ssize_t n;

	json_add_path(o, "path", s->path);
	cJSON_AddStringToObject(o, "reason", reasons[s->reason]);
	if (s->reason != SKIP_WALK_ERROR)
		cJSON_AddStringToObject(o, "file_type", mode_name(s->mode));
	if (s->reason == SKIP_SYMLINK && (n = readlink(s->path, target, sizeof(target) - 1)) >= 0) {
		target[n] = '\0';
		json_add_path(o, "link_target", target);
	}
	if (s->reason == SKIP_WALK_ERROR) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s: %s", s->message ? s->message : "walk", strerror(s->err));
		cJSON_AddStringToObject(o, "error", msg);
		json_add_errno(o, s->err); /* as image errors have it, for loaders */
	}
	return o;
}
