/*
 * load_rows.c - a report's objects as rows (see load_rows.h).
 *
 * Values are taken with want_*(): absent or null gives NULL where the
 * column allows it; a value of another type is an error that names the
 * field.  Sizes are integers below 2^63; the report's 2^64 ("more than any
 * disk", report/SCHEMA.md) is stored as NULL.
 */
#include "load_rows.h"
#include "../report/image_json.h"
#include "../report/pathenc.h"
#include "../report/run_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct row {
	enum db_table t;
	struct dv v[DB_MAX_COLS];
	char *owned[4];            /* printed JSON this row holds */
	int nowned;
};

static void row_start(struct row *r, enum db_table t, int64_t run_key)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	r->v[0] = (struct dv){.t = DV_INT, .i = run_key}; /* every table's first column */
}

static struct dv *col(struct row *r, const char *name)
{
	const struct db_table_def *def = &db_tables[r->t];

	for (size_t i = 0; i < def->ncols; i++)
		if (!strcmp(def->cols[i], name))
			return &r->v[i];
	fprintf(stderr, "imgscan: internal error: no column %s.%s\n", def->name, name);
	abort(); /* a name missing from db_tables.c: a bug, caught by any load */
}

static void set_int(struct row *r, const char *name, int64_t v)
{
	*col(r, name) = (struct dv){.t = DV_INT, .i = v};
}

static void set_bool(struct row *r, const char *name, bool v)
{
	*col(r, name) = (struct dv){.t = DV_BOOL, .i = v};
}

static void set_text(struct row *r, const char *name, const char *s)
{
	*col(r, name) = s ? (struct dv){.t = DV_TEXT, .s = s} : (struct dv){.t = DV_NULL};
}

/* JSON printed into the row (freed by row_write). */
static int set_json(struct row *r, const char *name, const cJSON *v, char *err, size_t errlen)
{
	char *text;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!(text = cJSON_PrintUnformatted(v)) || r->nowned == (int)(sizeof(r->owned) / sizeof(r->owned[0]))) {
		free(text);
		return snprintf(err, errlen, "out of memory"), -1;
	}
	/* a string anywhere in it (a field this schema does not break out) */
	if (!utf8_valid(text, strlen(text))) {
		free(text);
		return snprintf(err, errlen, "a string in the %s object is not valid UTF-8", name), -1;
	}
	r->owned[r->nowned++] = text;
	*col(r, name) = (struct dv){.t = DV_JSON, .s = text};
	return 0;
}

static int row_write(struct load_run *lr, struct row *r, char *err, size_t errlen)
{
	int rc = lr->db->ops->row(lr->db, r->t, r->v, err, errlen);

	for (int i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	r->nowned = 0;
	lr->rows++;
	return rc;
}

/* ---- fields, checked ---- */

static int bad(char *err, size_t errlen, const char *where, const char *key, const char *what)
{
	snprintf(err, errlen, "%s%s\"%s\" %s", where, where[0] ? " " : "", key, what);
	return -1;
}

static const cJSON *member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return v && !cJSON_IsNull(v) ? v : NULL;
}

/* A string member into column name (NULL when absent, unless required). */
static int want_text(struct row *r, const char *name, const cJSON *o, const char *key, bool required,
		     const char *where, char *err, size_t errlen)
{
	const cJSON *v = member(o, key);

	if (!v)
		return required ? bad(err, errlen, where, key, "is missing") : 0;
	if (!cJSON_IsString(v))
		return bad(err, errlen, where, key, "is not a string");
	if (!utf8_valid(v->valuestring, strlen(v->valuestring)))
		return bad(err, errlen, where, key, "is not valid UTF-8");
	set_text(r, name, v->valuestring);
	return 0;
}

/* A whole number of bytes (or a count): 0 <= v < 2^53, where JSON
 * numbers (doubles) tell every integer apart, or 2^64 read as NULL (the
 * report's "more than any disk"). */
static int want_int(struct row *r, const char *name, const cJSON *o, const char *key, bool required,
		    const char *where, char *err, size_t errlen)
{
	const cJSON *v = member(o, key);
	double d;

	if (!v)
		return required ? bad(err, errlen, where, key, "is missing") : 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (d < 0 || d != floor(d) || (d >= 0x1p53 && d != 0x1p64))
		return bad(err, errlen, where, key, "is not a whole number below 2^53 (or 2^64: more than any disk)");
	if (d < 0x1p53)
		set_int(r, name, (int64_t)d);
	return 0;
}

static int want_bool(struct row *r, const char *name, const cJSON *o, const char *key, bool required,
		     const char *where, char *err, size_t errlen)
{
	const cJSON *v = member(o, key);

	if (!v)
		return required ? bad(err, errlen, where, key, "is missing") : 0;
	if (!cJSON_IsBool(v))
		return bad(err, errlen, where, key, "is not true or false");
	set_bool(r, name, cJSON_IsTrue(v));
	return 0;
}

/* An object or array member, or NULL when absent or null. */
static int want_kind(const cJSON *o, const char *key, bool array, const cJSON **out, const char *where, char *err,
		     size_t errlen)
{
	const cJSON *v = member(o, key);

	*out = NULL;
	if (!v)
		return 0;
	if (array ? !cJSON_IsArray(v) : !cJSON_IsObject(v))
		return bad(err, errlen, where, key, array ? "is not an array" : "is not an object");
	*out = v;
	return 0;
}

/* Every element of an array must be an object. */
static int element(const cJSON *e, const char *key, int i, char *where, size_t wlen, char *err, size_t errlen)
{
	snprintf(where, wlen, "%s[%d]", key, i);
	if (!cJSON_IsObject(e))
		return snprintf(err, errlen, "%s is not an object", where), -1;
	return 0;
}

/* ---- one image ---- */

struct image_rows {
	struct load_run *lr;
	int64_t idx;
	int64_t part_seq, fs_seq;  /* partitions and file systems of this image, counted */
};

static void child_start(struct image_rows *ir, struct row *r, enum db_table t)
{
	row_start(r, t, ir->lr->run_key);
	set_int(r, "idx", ir->idx);
}

/* The last component of a path, for queries by file name. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* The image object as stored: a JSON line's "type" is not part of it. */
static int set_object(struct row *r, const cJSON *img, char *err, size_t errlen)
{
	cJSON *o = (cJSON *)img; /* the reader's, for this call: restored below */
	cJSON *type = cJSON_DetachItemFromObjectCaseSensitive(o, "type");
	int rc = set_json(r, "object", o, err, errlen);

	if (type)
		cJSON_AddItemToObject(o, "type", type);
	return rc;
}

static int image_sections(struct row *r, const cJSON *img, char *err, size_t errlen)
{
	const cJSON *sectors, *read, *inside, *ident, *tsk;

	if (want_kind(img, "sectors", false, &sectors, "", err, errlen) ||
	    want_kind(img, "read", false, &read, "", err, errlen) ||
	    want_kind(img, "inside", false, &inside, "", err, errlen) ||
	    want_kind(img, "identification", false, &ident, "", err, errlen) ||
	    want_kind(ident, "tsk", false, &tsk, "identification", err, errlen))
		return -1;
	return want_int(r, "sector_size", sectors, "size", false, "sectors", err, errlen) ||
	       want_int(r, "sector_count", sectors, "count", false, "sectors", err, errlen) ||
	       want_int(r, "sector_zero", sectors, "zero", false, "sectors", err, errlen) ||
	       want_text(r, "sector_list_xxh128", sectors, "list_xxh128", false, "sectors", err, errlen) ||
	       want_int(r, "read_bytes", read, "bytes", false, "read", err, errlen) ||
	       want_bool(r, "read_complete", read, "complete", false, "read", err, errlen) ||
	       want_text(r, "inside_layer", inside, "layer", false, "inside", err, errlen) ||
	       want_text(r, "inside_status", inside, "status", false, "inside", err, errlen) ||
	       want_text(r, "inside_content", inside, "content", false, "inside", err, errlen) ||
	       want_text(r, "tsk_status", tsk, "status", false, "identification.tsk", err, errlen)
		       ? -1 : 0;
}

static int image_row(struct image_rows *ir, const cJSON *img, char *err, size_t errlen)
{
	struct row r;
	int rc;

	row_start(&r, TB_IMAGES, ir->lr->run_key);
	rc = want_int(&r, "idx", img, "index", true, "", err, errlen) ||
	     want_text(&r, "path", img, "path", true, "", err, errlen) ||
	     want_text(&r, "path_b64", img, "path_b64", false, "", err, errlen) ||
	     want_text(&r, "extension", img, "extension", true, "", err, errlen) ||
	     want_text(&r, "file_type", img, "file_type", true, "", err, errlen) ||
	     want_int(&r, "size", img, "size", true, "", err, errlen) ||
	     want_text(&r, "mtime", img, "mtime", false, "", err, errlen) ||
	     want_text(&r, "status", img, "status", true, "", err, errlen) ||
	     want_text(&r, "kind", img, "kind", true, "", err, errlen) ||
	     want_text(&r, "kind_key", img, "kind_key", false, "", err, errlen) ||
	     want_text(&r, "detail", img, "detail", false, "", err, errlen) ||
	     want_bool(&r, "misnamed", img, "misnamed", true, "", err, errlen) ||
	     want_text(&r, "suggested_name", img, "suggested_name", false, "", err, errlen) ||
	     want_int(&r, "content_bytes", img, "content_bytes", false, "", err, errlen) ||
	     want_bool(&r, "reused", img, "reused", false, "", err, errlen) ||
	     want_text(&r, "measured_at", img, "measured_at", false, "", err, errlen) ||
	     want_text(&r, "catalog_state", img, "catalog", false, "", err, errlen) ||
	     image_sections(&r, img, err, errlen);
	if (rc)
		return -1;
	if (col(&r, "idx")->t != DV_INT || col(&r, "size")->t != DV_INT)
		return snprintf(err, errlen, "\"index\" or \"size\" is 2^64"), -1;
	ir->idx = col(&r, "idx")->i;
	set_text(&r, "name", base_name(col(&r, "path")->s));
	if (set_object(&r, img, err, errlen))
		return -1;
	return row_write(ir->lr, &r, err, errlen);
}

static bool lower_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int digest_row(struct image_rows *ir, const char *algorithm, const cJSON *v, const char *where, char *err,
		      size_t errlen)
{
	struct row r;

	if (!cJSON_IsString(v) || !lower_hex(v->valuestring))
		return snprintf(err, errlen, "%s is not a lowercase hex digest", where), -1;
	child_start(ir, &r, TB_DIGESTS);
	set_text(&r, "algorithm", algorithm);
	set_text(&r, "value", v->valuestring);
	return row_write(ir->lr, &r, err, errlen);
}

/* hashes.* and, with --inside full, inside.xxh128 (the decompressed
 * image's, stored as "inside_xxh128"). */
static int digest_rows(struct image_rows *ir, const cJSON *img, char *err, size_t errlen)
{
	const cJSON *hashes, *inside, *h, *inner;
	char where[80];

	if (want_kind(img, "hashes", false, &hashes, "", err, errlen) ||
	    want_kind(img, "inside", false, &inside, "", err, errlen))
		return -1;
	cJSON_ArrayForEach(h, hashes) {
		if (!utf8_valid(h->string, strlen(h->string)))
			return snprintf(err, errlen, "a name in \"hashes\" is not UTF-8"), -1;
		snprintf(where, sizeof(where), "hashes.%.40s", h->string);
		if (digest_row(ir, h->string, h, where, err, errlen))
			return -1;
	}
	inner = member(inside, "xxh128");
	return inner ? digest_row(ir, "inside_xxh128", inner, "inside.xxh128", err, errlen) : 0;
}

static int finding_rows(struct image_rows *ir, const cJSON *img, char *err, size_t errlen)
{
	const cJSON *list, *f;
	char where[48];
	int i = 0;

	if (want_kind(img, "findings", true, &list, "", err, errlen))
		return -1;
	cJSON_ArrayForEach(f, list) {
		struct row r;

		if (element(f, "findings", i, where, sizeof(where), err, errlen))
			return -1;
		child_start(ir, &r, TB_FINDINGS);
		set_int(&r, "seq", i++);
		if (want_text(&r, "code", f, "code", true, where, err, errlen) ||
		    want_text(&r, "severity", f, "severity", true, where, err, errlen) ||
		    want_text(&r, "message", f, "message", true, where, err, errlen) ||
		    want_text(&r, "suggested_name", f, "suggested_name", false, where, err, errlen) ||
		    row_write(ir->lr, &r, err, errlen))
			return -1;
	}
	return 0;
}

static int error_rows(struct image_rows *ir, const cJSON *img, char *err, size_t errlen)
{
	const cJSON *list, *e;
	char where[48];
	int i = 0;

	if (want_kind(img, "errors", true, &list, "", err, errlen))
		return -1;
	cJSON_ArrayForEach(e, list) {
		struct row r;

		if (element(e, "errors", i, where, sizeof(where), err, errlen))
			return -1;
		child_start(ir, &r, TB_ERRORS);
		set_int(&r, "seq", i++);
		if (want_text(&r, "stage", e, "stage", true, where, err, errlen) ||
		    want_text(&r, "errno", e, "errno", false, where, err, errlen) ||
		    want_int(&r, "byte_offset", e, "offset", false, where, err, errlen) ||
		    want_text(&r, "message", e, "message", true, where, err, errlen) ||
		    row_write(ir->lr, &r, err, errlen))
			return -1;
	}
	return 0;
}

/* ---- partitions and file systems: ours and The Sleuth Kit's ---- */

/* partition_table (ours: identification's, or inside's for the inner
 * disk) as partitions rows. */
static int our_partitions(struct image_rows *ir, const cJSON *owner, bool inner, const char *at, char *err,
			  size_t errlen)
{
	const cJSON *table, *list, *p;
	char where[96];
	int i = 0;

	if (want_kind(owner, "partition_table", false, &table, at, err, errlen) ||
	    want_kind(table, "partitions", true, &list, at, err, errlen))
		return -1;
	cJSON_ArrayForEach(p, list) {
		struct row r;

		if (element(p, "partition_table.partitions", i++, where, sizeof(where), err, errlen))
			return -1;
		child_start(ir, &r, TB_PARTITIONS);
		set_int(&r, "seq", ir->part_seq++);
		set_text(&r, "source", "imgscan");
		set_bool(&r, "inner_disk", inner);
		if (want_text(&r, "scheme", table, "scheme", true, "partition_table", err, errlen) ||
		    want_int(&r, "number", p, "number", false, where, err, errlen) ||
		    want_int(&r, "start", p, "start", false, where, err, errlen) ||
		    want_int(&r, "length", p, "length", false, where, err, errlen) ||
		    want_text(&r, "type", p, "type", false, where, err, errlen) ||
		    want_text(&r, "name", p, "name", false, where, err, errlen) ||
		    want_bool(&r, "bootable", p, "bootable", false, where, err, errlen) ||
		    row_write(ir->lr, &r, err, errlen))
			return -1;
	}
	return 0;
}

static int tsk_partitions(struct image_rows *ir, const cJSON *tsk, bool inner, char *err, size_t errlen)
{
	const cJSON *vs, *list, *p;
	char where[96];
	int i = 0;

	if (want_kind(tsk, "volume_system", false, &vs, "identification.tsk", err, errlen) ||
	    want_kind(vs, "partitions", true, &list, "volume_system", err, errlen))
		return -1;
	cJSON_ArrayForEach(p, list) {
		struct row r;

		if (element(p, "volume_system.partitions", i++, where, sizeof(where), err, errlen))
			return -1;
		child_start(ir, &r, TB_PARTITIONS);
		set_int(&r, "seq", ir->part_seq++);
		set_text(&r, "source", "tsk");
		set_bool(&r, "inner_disk", inner);
		if (want_text(&r, "scheme", vs, "type", true, "volume_system", err, errlen) ||
		    want_int(&r, "number", p, "address", false, where, err, errlen) ||
		    want_int(&r, "start", p, "start", false, where, err, errlen) ||
		    want_int(&r, "length", p, "length", false, where, err, errlen) ||
		    want_text(&r, "name", p, "description", false, where, err, errlen) ||
		    want_bool(&r, "allocated", p, "allocated", false, where, err, errlen) ||
		    row_write(ir->lr, &r, err, errlen))
			return -1;
	}
	return 0;
}

/* Our probes that found a file system (or an optical volume: ISO 9660,
 * UDF) as filesystems rows; partition tables, containers and the like
 * stay in the image's object. */
static int our_filesystems(struct image_rows *ir, const cJSON *owner, bool inner, const char *at, char *err,
			   size_t errlen)
{
	const cJSON *list, *p, *cls;
	char where[64];
	int i = 0;

	if (want_kind(owner, "probes", true, &list, at, err, errlen))
		return -1;
	cJSON_ArrayForEach(p, list) {
		struct row r;

		if (element(p, "probes", i++, where, sizeof(where), err, errlen))
			return -1;
		cls = member(p, "class");
		if (!cJSON_IsString(cls))
			return bad(err, errlen, where, "class", "is not a string");
		if (strcmp(cls->valuestring, "filesystem") && strcmp(cls->valuestring, "optical"))
			continue;
		child_start(ir, &r, TB_FILESYSTEMS);
		set_int(&r, "seq", ir->fs_seq++);
		set_text(&r, "source", "imgscan");
		set_bool(&r, "inner_disk", inner);
		if (want_text(&r, "type", p, "name", true, where, err, errlen) ||
		    want_text(&r, "class", p, "class", true, where, err, errlen) ||
		    want_int(&r, "byte_offset", p, "offset", false, where, err, errlen) ||
		    want_int(&r, "size", p, "size", false, where, err, errlen) ||
		    want_int(&r, "block_size", p, "block_size", false, where, err, errlen) ||
		    want_text(&r, "label", p, "label", false, where, err, errlen) ||
		    want_text(&r, "uuid", p, "uuid", false, where, err, errlen) ||
		    want_text(&r, "detail", p, "detail", false, where, err, errlen) ||
		    row_write(ir->lr, &r, err, errlen))
			return -1;
	}
	return 0;
}

static int tsk_filesystems(struct image_rows *ir, const cJSON *tsk, bool inner, char *err, size_t errlen)
{
	const cJSON *list, *f;
	char where[64];
	int i = 0;

	if (want_kind(tsk, "filesystems", true, &list, "identification.tsk", err, errlen))
		return -1;
	cJSON_ArrayForEach(f, list) {
		struct row r;

		if (element(f, "tsk.filesystems", i++, where, sizeof(where), err, errlen))
			return -1;
		child_start(ir, &r, TB_FILESYSTEMS);
		set_int(&r, "seq", ir->fs_seq++);
		set_text(&r, "source", "tsk");
		set_bool(&r, "inner_disk", inner);
		if (want_text(&r, "type", f, "type", true, where, err, errlen) ||
		    want_int(&r, "byte_offset", f, "offset", false, where, err, errlen) ||
		    want_int(&r, "size", f, "size", false, where, err, errlen) ||
		    want_int(&r, "block_size", f, "block_size", false, where, err, errlen) ||
		    want_int(&r, "block_count", f, "block_count", false, where, err, errlen) ||
		    want_text(&r, "opened_by", f, "opened_by", false, where, err, errlen) ||
		    row_write(ir->lr, &r, err, errlen))
			return -1;
	}
	return 0;
}

/* Ours of the file and of what is inside it; TSK's, which is of the
 * container's virtual disk when inside.tsk_is_inner says so. */
static int structure_rows(struct image_rows *ir, const cJSON *img, char *err, size_t errlen)
{
	const cJSON *ident, *inside, *tsk;
	bool tsk_inner;

	if (want_kind(img, "identification", false, &ident, "", err, errlen) ||
	    want_kind(img, "inside", false, &inside, "", err, errlen) ||
	    want_kind(ident, "tsk", false, &tsk, "identification", err, errlen))
		return -1;
	tsk_inner = cJSON_IsTrue(member(inside, "tsk_is_inner"));
	return our_partitions(ir, ident, false, "identification", err, errlen) ||
	       our_partitions(ir, inside, true, "inside", err, errlen) ||
	       tsk_partitions(ir, tsk, tsk_inner, err, errlen) ||
	       our_filesystems(ir, ident, false, "identification", err, errlen) ||
	       our_filesystems(ir, inside, true, "inside", err, errlen) ||
	       tsk_filesystems(ir, tsk, tsk_inner, err, errlen)
		       ? -1 : 0;
}

int load_image(struct load_run *lr, const cJSON *img, char *err, size_t errlen)
{
	struct image_rows ir = {.lr = lr};

	if (image_row(&ir, img, err, errlen) || digest_rows(&ir, img, err, errlen) ||
	    finding_rows(&ir, img, err, errlen) || error_rows(&ir, img, err, errlen) ||
	    structure_rows(&ir, img, err, errlen))
		return -1;
	return 0;
}

/* ---- skipped entries and the run ---- */

int load_skipped(struct load_run *lr, const cJSON *s, size_t seq, char *err, size_t errlen)
{
	struct row r;

	row_start(&r, TB_SKIPPED, lr->run_key);
	set_int(&r, "seq", (int64_t)seq);
	if (want_text(&r, "path", s, "path", true, "", err, errlen) ||
	    want_text(&r, "path_b64", s, "path_b64", false, "", err, errlen) ||
	    want_text(&r, "reason", s, "reason", true, "", err, errlen) ||
	    want_text(&r, "file_type", s, "file_type", false, "", err, errlen) ||
	    want_text(&r, "link_target", s, "link_target", false, "", err, errlen) ||
	    want_text(&r, "errno", s, "errno", false, "", err, errlen) ||
	    want_text(&r, "error", s, "error", false, "", err, errlen))
		return -1;
	return row_write(lr, &r, err, errlen);
}

static bool is_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return s[36] == '\0';
}

int load_check_head(const cJSON *tool, const cJSON *run, const char **run_id, char *err, size_t errlen)
{
	const cJSON *name = member(tool, "name"), *ver = member(tool, "schema_version"), *id = member(run, "id");

	*run_id = NULL;
	if (tool && (!cJSON_IsString(name) || strcmp(name->valuestring, "imgscan")))
		return snprintf(err, errlen, "not an imgscan scan report (tool.name is not \"imgscan\")"), -1;
	if (ver && (!cJSON_IsNumber(ver) || ver->valuedouble > REPORT_SCHEMA_VERSION || ver->valuedouble < 1))
		return snprintf(err, errlen, "a report of schema version %g: this imgscan reads version %d and older",
				cJSON_IsNumber(ver) ? ver->valuedouble : -1.0, REPORT_SCHEMA_VERSION), -1;
	if (run && (!cJSON_IsString(id) || !is_uuid(id->valuestring)))
		return snprintf(err, errlen, "run.id is not a UUID"), -1;
	if (run)
		*run_id = id->valuestring;
	return 0;
}

static int run_counts(struct row *r, const cJSON *summary, char *err, size_t errlen)
{
	const char *at = "summary";

	return want_int(r, "images", summary, "images", true, at, err, errlen) ||
	       want_int(r, "findings", summary, "findings", false, at, err, errlen) ||
	       want_int(r, "misnamed", summary, "misnamed", false, at, err, errlen) ||
	       want_int(r, "images_with_errors", summary, "images_with_errors", false, at, err, errlen) ||
	       want_int(r, "exit_status", summary, "exit_status", false, at, err, errlen) ||
	       want_bool(r, "partial", summary, "partial", true, at, err, errlen)
		       ? -1 : 0;
}

int load_run_row(struct load_run *lr, const char *format, const cJSON *tool, const cJSON *run, const cJSON *summary,
		 char *err, size_t errlen)
{
	const cJSON *ver = member(tool, "schema_version"), *argv = member(run, "argv");
	char now[48];
	struct timespec ts;
	struct row r;

	if (!tool || !run || !summary)
		return snprintf(err, errlen, "the report has no %s object", !tool ? "tool" : !run ? "run" : "summary"), -1;
	if (!cJSON_IsArray(argv))
		return snprintf(err, errlen, "run.argv is not an array"), -1;
	row_start(&r, TB_RUNS, lr->run_key);
	clock_gettime(CLOCK_REALTIME, &ts);
	format_utc(now, sizeof(now), ts.tv_sec, ts.tv_nsec);
	set_int(&r, "schema_version", ver ? (int64_t)ver->valuedouble : 1); /* reports before it was written: 1 */
	set_text(&r, "report_format", format);
	set_text(&r, "loaded_at", now);
	set_text(&r, "loaded_from", lr->source);
	if (want_text(&r, "run_id", run, "id", true, "run", err, errlen) ||
	    want_text(&r, "tool_name", tool, "name", true, "tool", err, errlen) ||
	    want_text(&r, "tool_version", tool, "version", true, "tool", err, errlen) ||
	    want_text(&r, "host", run, "host", false, "run", err, errlen) ||
	    want_text(&r, "started", run, "start", true, "run", err, errlen) ||
	    want_text(&r, "output", run, "output", false, "run", err, errlen) ||
	    run_counts(&r, summary, err, errlen))
		return -1;
	/* a JSON document's run has its end; JSON lines put it in the summary */
	if (want_text(&r, "ended", member(run, "end") ? run : summary, "end", false, "run", err, errlen) ||
	    set_json(&r, "argv", argv, err, errlen) || set_json(&r, "options", member(run, "options"), err, errlen) ||
	    set_json(&r, "tool", tool, err, errlen) || set_json(&r, "summary", summary, err, errlen))
		return -1;
	return row_write(lr, &r, err, errlen);
}
