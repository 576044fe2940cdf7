/*
 * report_read.c - a scan report read back (see report_read.h).
 *
 * Both forms start with an object.  A JSON document's top-level object has
 * "tool", "images", "skipped", "run", "summary" (in any order); a JSON
 * lines report's first object is its run line, {"type": "run", ...}.  So
 * the first object is read member by member: "images" is streamed element
 * by element, the small members are kept, the rest skipped; then a "type"
 * of "run" says JSON lines, and the following lines are read one by one.
 */
#include "report_read.h"
#include "json_stream.h"
#include "../report/pathenc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A list of the report the caller is handed element by element. */
struct list {
	const char *name;          /* "images", "skipped" */
	const char *array, *element; /* in messages: "the \"images\" array", "image object" */
	report_image_fn fn;
	size_t *n;                 /* elements handed so far */
	bool *seen;                /* the document had this member already */
};

struct reader {
	struct jstream js;
	struct report_head *head;
	void *ctx;
	size_t nimages, nskipped;
	char type[16];             /* the first object's "type" ("run" for JSON lines) */
	bool has_images;           /* the first object has an "images" member */
	bool has_skipped;          /* ...and a "skipped" member (read when asked for) */
	bool is_verify;            /* ... or "verify" and "items": a verify result */
	bool skip_duplicates;      /* the visitor's: summary.duplicates passed over */
	struct list images, skipped;
};

const cJSON *json_at(const cJSON *obj, const char *key1, const char *key2)
{
	const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key1) : NULL;

	if (v && key2)
		v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, key2) : NULL;
	return v;
}

/* One element (taken: freed here), handed to the caller. */
static int hand(struct reader *r, const struct list *l, cJSON *o)
{
	char msg[320] = "";
	int rc;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return js_fail(&r->js, "%s[%zu] is not an object", l->name, *l->n);
	}
	rc = l->fn(r->ctx, o, *l->n, msg, sizeof(msg));
	cJSON_Delete(o);
	if (rc)
		return js_fail(&r->js, "%s[%zu]: %s", l->name, *l->n, msg[0] ? msg : "refused");
	(*l->n)++;
	return 0;
}

/* "images": [ {...}, ... ] (or "skipped") of a JSON document, one element
 * at a time. */
static int read_list(struct reader *r, const struct list *l)
{
	int c;

	if (*l->seen) /* which list would be the report's? */
		return js_fail(&r->js, "a second \"%s\" member: two reports joined together?", l->name);
	*l->seen = true;
	if (js_expect(&r->js, '[', l->array))
		return -1;
	if (js_skip_ws(&r->js) == ']')
		return js_next(&r->js), 0;
	for (;;) {
		cJSON *o;

		if (js_value(&r->js, true) || !(o = js_parse(&r->js, l->element)) || hand(r, l, o))
			return -1;
		c = js_skip_ws(&r->js);
		js_next(&r->js);
		if (c == ']')
			return 0;
		if (c != ',')
			return js_fail(&r->js, "expected ',' or ']' after %s[%zu]", l->name, *l->n - 1);
	}
}

/* A small member kept whole (tool, run, summary): an object. */
static int keep_object(struct reader *r, cJSON **slot, const char *what)
{
	cJSON *v;

	/* A second one would silently replace the first: a run id checked
	 * (by load, for one) that is not the report's. */
	if (*slot)
		return js_fail(&r->js, "a second \"%s\" member: two reports joined together?", what);
	if (js_value(&r->js, true) || !(v = js_parse(&r->js, what)))
		return -1;
	if (!cJSON_IsObject(v)) {
		cJSON_Delete(v);
		return js_fail(&r->js, "\"%s\" is not an object", what);
	}
	*slot = v;
	return 0;
}

/* An object read member by member into *out, each member's value kept
 * (and capped at JS_MAX_VALUE) on its own, so the object may be larger
 * than the cap; a member named skip is passed over unkept, and *skipped
 * says there was one.  The members keep their order (and a name given twice
 * stays twice), as cJSON would have parsed the object whole.  Returns 0, or
 * -1 with the error set. */
static int read_object_without(struct reader *r, const char *what, const char *skip, cJSON **out, bool *skipped)
{
	cJSON *o = cJSON_CreateObject(), *name = NULL, *v;
	int c;

	*out = NULL;
	if (!o)
		return js_fail(&r->js, "out of memory");
	if (js_expect(&r->js, '{', what))
		goto bad;
	if (js_skip_ws(&r->js) == '}') {
		js_next(&r->js);
		*out = o;
		return 0;
	}
	for (;;) {
		if (js_value(&r->js, true))
			goto bad;
		if (r->js.buf[0] != '"') {
			js_fail(&r->js, "expected the name of a member of the %s", what);
			goto bad;
		}
		if (!(name = js_parse(&r->js, "member name")) || js_expect(&r->js, ':', "':' after a member name"))
			goto bad;
		if (!strcmp(name->valuestring, skip)) {
			if (js_value(&r->js, false))
				goto bad;
			*skipped = true;
		} else {
			if (js_value(&r->js, true) || !(v = js_parse(&r->js, what)))
				goto bad;
			if (!cJSON_AddItemToObject(o, name->valuestring, v)) {
				cJSON_Delete(v);
				js_fail(&r->js, "out of memory");
				goto bad;
			}
		}
		cJSON_Delete(name);
		name = NULL;
		c = js_skip_ws(&r->js);
		js_next(&r->js);
		if (c == '}')
			break;
		if (c != ',') {
			js_fail(&r->js, c == EOF ? "the report ends inside the %s (cut short?)"
				: "expected ',' or '}' after a member of the %s", what);
			goto bad;
		}
	}
	*out = o;
	return 0;
bad:
	cJSON_Delete(name);
	cJSON_Delete(o);
	return -1;
}

/* The summary of a JSON document without its duplicates (the visitor's
 * skip_duplicates). */
static int keep_summary_without_duplicates(struct reader *r)
{
	bool skipped = false;

	if (r->head->summary)
		return js_fail(&r->js, "a second \"summary\" member: two reports joined together?");
	if (js_skip_ws(&r->js) != '{') /* as keep_object says it */
		return js_value(&r->js, false) ? -1 : js_fail(&r->js, "\"summary\" is not an object");
	return read_object_without(r, "summary", "duplicates", &r->head->summary, &skipped);
}

static int keep_type(struct reader *r)
{
	cJSON *v;

	if (js_value(&r->js, true) || !(v = js_parse(&r->js, "type")))
		return -1;
	snprintf(r->type, sizeof(r->type), "%s", cJSON_IsString(v) ? v->valuestring : "?");
	cJSON_Delete(v);
	return 0;
}

/* One member of the first object: its name, then its value. */
static int read_member(struct reader *r)
{
	char key[24];

	if (js_value(&r->js, true))
		return -1;
	if (r->js.buf[0] != '"')
		return js_fail(&r->js, "expected the name of a member of the report object");
	snprintf(key, sizeof(key), "%s", r->js.buf); /* quotes included; longer names are no name we know */
	if (js_expect(&r->js, ':', "':' after a member name"))
		return -1;
	if (!strcmp(key, "\"images\""))
		return read_list(r, &r->images);
	if (!strcmp(key, "\"tool\""))
		return keep_object(r, &r->head->tool, "tool");
	if (!strcmp(key, "\"run\""))
		return keep_object(r, &r->head->run, "run");
	if (!strcmp(key, "\"summary\""))
		return r->skip_duplicates ? keep_summary_without_duplicates(r)
					  : keep_object(r, &r->head->summary, "summary");
	if (!strcmp(key, "\"type\""))
		return keep_type(r);
	if (!strcmp(key, "\"skipped\"") && r->skipped.fn)
		return read_list(r, &r->skipped);
	if (!strcmp(key, "\"verify\"") || !strcmp(key, "\"items\""))
		r->is_verify = true;
	return js_value(&r->js, false);
}

static int read_first_object(struct reader *r)
{
	int c;

	if (js_expect(&r->js, '{', "'{' (a report is a JSON object, or JSON lines)"))
		return -1;
	if (js_skip_ws(&r->js) == '}')
		return js_next(&r->js), 0;
	for (;;) {
		if (read_member(r))
			return -1;
		c = js_skip_ws(&r->js);
		js_next(&r->js);
		if (c == '}')
			return 0;
		if (c != ',')
			return c == EOF ? js_fail(&r->js, "the report ends inside its first object (cut short?)")
					: js_fail(&r->js, "expected ',' or '}' after a member of the report object");
	}
}

/* One JSON line (taken): an image, the summary, or one we pass over.
 * dropped: its "duplicates" member was passed over (skip_duplicates),
 * which only the summary line may have. */
static int one_line(struct reader *r, cJSON *o, bool dropped, bool *summary)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");

	if (!cJSON_IsString(type)) {
		cJSON_Delete(o);
		return js_fail(&r->js, "a line without a \"type\"");
	}
	if (dropped && (!strcmp(type->valuestring, "image") || !strcmp(type->valuestring, "skipped"))) {
		/* never handed on without a member it had */
		js_fail(&r->js, "a \"duplicates\" member in a line of type %s: not an imgscan report",
			type->valuestring);
		cJSON_Delete(o);
		return -1;
	}
	if (!strcmp(type->valuestring, "image"))
		return hand(r, &r->images, o);
	if (!strcmp(type->valuestring, "run")) {
		cJSON_Delete(o);
		return js_fail(&r->js, "a second run line: two reports joined together?");
	}
	if (!strcmp(type->valuestring, "summary")) {
		if (r->head->summary) {
			cJSON_Delete(o);
			return js_fail(&r->js, "a second summary line: two reports joined together?");
		}
		r->head->summary = o;
		*summary = true;
		return 0;
	}
	if (!strcmp(type->valuestring, "skipped") && r->skipped.fn)
		return hand(r, &r->skipped, o);
	cJSON_Delete(o); /* types a later imgscan may add */
	return 0;
}

/* JSON lines after the run line, to the end: there must be a summary. */
static int read_lines(struct reader *r)
{
	bool summary = false;
	cJSON *o;
	int c;

	while ((c = js_skip_ws(&r->js)) != EOF) {
		bool dropped = false;

		if (c != '{')
			return js_fail(&r->js, "a JSON lines report holds one object per line");
		/* Which line is the summary is known only from its "type", which
		 * comes last: with skip_duplicates, every line is read member by
		 * member. */
		if (r->skip_duplicates ? read_object_without(r, "line", "duplicates", &o, &dropped)
				       : js_value(&r->js, true) || !(o = js_parse(&r->js, "line")))
			return -1;
		if (one_line(r, o, dropped, &summary))
			return -1;
	}
	if (!summary)
		return js_fail(&r->js, "the report ends before its summary line: cut short (was the scan killed?)");
	return 0;
}

static int read_report(struct reader *r)
{
	int c;

	if (js_skip_ws(&r->js) == EOF)
		return js_fail(&r->js, "the report is empty");
	if (read_first_object(r))
		return -1;
	c = js_skip_ws(&r->js);
	if (!strcmp(r->type, "run")) {
		r->head->format = REPORT_JSONL;
		return read_lines(r);
	}
	r->head->format = REPORT_JSON;
	if (r->type[0])
		return js_fail(&r->js, "the first line has type \"%s\": a JSON lines report starts with its run line",
			       r->type);
	if (c != EOF)
		return js_fail(&r->js, "more after the end of the JSON document (two reports in one file?)");
	if (!r->has_images)
		return js_fail(&r->js, r->is_verify ? "this is the result of imgscan verify, not a scan report"
				       : "not an imgscan report: no \"images\" array");
	return 0;
}

FILE *report_open_stream(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd;

	if (!strcmp(path, "-"))
		return stdin;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "a directory, not a report");
		close(fd);
		return NULL;
	}
	if (!(f = fdopen(fd, "r"))) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
	}
	return f;
}

/* Every image the run reported is here: the summary counts them. */
static int check_count(const struct reader *r, char *err, size_t errlen)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(r->head->summary, "images");

	if (!cJSON_IsNumber(n)) {
		snprintf(err, errlen, "it has no summary counting its images (cut short, or not a scan report)");
		return -1;
	}
	if (n->valuedouble != (double)r->nimages) {
		snprintf(err, errlen, "its summary counts %.0f images but it lists %zu: images were removed or added",
			 n->valuedouble, r->nimages);
		return -1;
	}
	return 0;
}

int report_read(const char *path, struct report_head *head, report_image_fn image, void *ctx, char *err,
		size_t errlen)
{
	struct report_visitor v = {.image = image, .ctx = ctx};

	return report_visit(path, head, &v, err, errlen);
}

int report_visit_stream(FILE *f, struct report_head *head, const struct report_visitor *v, char *err,
			size_t errlen)
{
	struct reader r = {.head = head, .ctx = v->ctx, .skip_duplicates = v->skip_duplicates};
	int rc, rerr;

	r.images = (struct list){"images", "the \"images\" array", "image object", v->image, &r.nimages, &r.has_images};
	r.skipped = (struct list){"skipped", "the \"skipped\" array", "skipped entry", v->skipped, &r.nskipped,
				  &r.has_skipped};

	memset(head, 0, sizeof(*head));
	js_init(&r.js, f, err, errlen);
	rc = read_report(&r);
	if (!rc)
		rc = check_count(&r, err, errlen);
	rerr = js_read_error(&r.js);
	if (rerr) { /* a failed read looks like the end: say what it was */
		snprintf(err, errlen, "cannot read it: %s", strerror(rerr));
		rc = -1;
	}
	js_free(&r.js);
	if (rc)
		report_head_free(head);
	return rc;
}

int report_visit(const char *path, struct report_head *head, const struct report_visitor *v, char *err,
		 size_t errlen)
{
	FILE *f;
	int rc;

	memset(head, 0, sizeof(*head));
	if (!(f = report_open_stream(path, err, errlen)))
		return -1;
	rc = report_visit_stream(f, head, v, err, errlen);
	if (f != stdin)
		fclose(f);
	return rc;
}

void report_head_free(struct report_head *head)
{
	cJSON_Delete(head->tool);
	cJSON_Delete(head->run);
	cJSON_Delete(head->summary);
	head->tool = head->run = head->summary = NULL;
}

/* ---- one image object as a listed_image ---- */

int report_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A digest of len hex digits into out (lowercased).  Returns 0, or -1. */
static int take_hex(const cJSON *v, size_t len, char *out)
{
	const char *s;

	if (!cJSON_IsString(v) || strlen(v->valuestring) != len)
		return -1;
	s = v->valuestring;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[len] = '\0';
	return 0;
}

/* A non-negative integer below 2^64 (exact up to 2^53).  Returns 0, or -1. */
static int take_size(const cJSON *v, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!(d >= 0) || d >= 18446744073709551616.0 || d != floor(d))
		return -1;
	*out = (uint64_t)d;
	return 0;
}

/* The exact path bytes: path, or path_b64 decoded when path_lossy. */
static int take_path(const cJSON *img, struct listed_image *out, char *err, size_t errlen)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(img, "path");
	const cJSON *lossy = cJSON_GetObjectItemCaseSensitive(img, "path_lossy");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(img, "path_b64");
	unsigned char *bytes;
	size_t n;

	if (!cJSON_IsString(p) || !p->valuestring[0])
		return report_fail(err, errlen, "no \"path\" (a non-empty string)");
	if (lossy && !cJSON_IsBool(lossy))
		return report_fail(err, errlen, "\"path_lossy\" is not true or false");
	if (!cJSON_IsTrue(lossy)) {
		if (!(out->path = strdup(p->valuestring)))
			return report_fail(err, errlen, "out of memory");
		return 0;
	}
	if (!cJSON_IsString(b64))
		return report_fail(err, errlen, "\"path_lossy\" is true but there is no \"path_b64\" string");
	bytes = base64_decode(b64->valuestring, strlen(b64->valuestring), &n);
	if (!bytes)
		return report_fail(err, errlen, errno == ENOMEM ? "out of memory" : "\"path_b64\" is not base64");
	if (n == 0 || memchr(bytes, 0, n)) {
		free(bytes);
		return report_fail(err, errlen, "\"path_b64\" holds no path (empty, or a NUL byte)");
	}
	out->path = (char *)bytes;
	return 0;
}

static int take_hashes(const cJSON *img, struct listed_image *out, char *err, size_t errlen)
{
	static const size_t hex_len[HASH_COUNT] = {32, 40, 64}; /* md5, sha1, sha256 */
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(img, "hashes"), *v;

	if (!h || cJSON_IsNull(h))
		return 0;
	if (!cJSON_IsObject(h))
		return report_fail(err, errlen, "\"hashes\" is neither an object nor null");
	if (take_hex(cJSON_GetObjectItemCaseSensitive(h, "xxh128"), 32, out->xxh128))
		return report_fail(err, errlen, "\"hashes.xxh128\" is not 32 hex digits");
	cJSON_ArrayForEach(v, h) { /* a digest we cannot recompute cannot be verified */
		bool known = !strcmp(v->string, "xxh128");
		for (int i = 0; i < HASH_COUNT; i++)
			known |= !strcmp(v->string, crypto_hash_names[i]);
		if (!known)
			return report_fail(err, errlen, "\"hashes.%.40s\": a digest this imgscan cannot compute", v->string);
	}
	for (int i = 0; i < HASH_COUNT; i++) {
		v = cJSON_GetObjectItemCaseSensitive(h, crypto_hash_names[i]);
		if (v && take_hex(v, hex_len[i], out->crypto[i]))
			return report_fail(err, errlen, "\"hashes.%s\" is not %zu hex digits", crypto_hash_names[i],
					   hex_len[i]);
	}
	out->has_hashes = true;
	return 0;
}

static int take_sectors(const cJSON *img, struct listed_image *out, char *err, size_t errlen)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(img, "sectors"), *list;
	uint64_t size;

	if (!s || cJSON_IsNull(s))
		return 0;
	if (!cJSON_IsObject(s))
		return report_fail(err, errlen, "\"sectors\" is neither an object nor null");
	if (take_size(cJSON_GetObjectItemCaseSensitive(s, "size"), &size) || size == 0 || size > (1u << 30))
		return report_fail(err, errlen, "\"sectors.size\" is not a sector size");
	list = cJSON_GetObjectItemCaseSensitive(s, "list_xxh128");
	if (list && !(cJSON_IsString(list) && !list->valuestring[0]) && take_hex(list, 32, out->sector_list_xxh128))
		return report_fail(err, errlen, "\"sectors.list_xxh128\" is not 32 hex digits");
	out->sector_size = (uint32_t)size;
	return 0;
}

int listed_from_json(const cJSON *img, struct listed_image *out, char *err, size_t errlen)
{
	const cJSON *ft;

	memset(out, 0, sizeof(*out));
	if (take_path(img, out, err, errlen))
		return -1;
	if (take_size(cJSON_GetObjectItemCaseSensitive(img, "size"), &out->size)) {
		report_fail(err, errlen, "\"size\" is not a size in bytes");
		goto bad;
	}
	ft = cJSON_GetObjectItemCaseSensitive(img, "file_type");
	if (ft && !cJSON_IsString(ft)) {
		report_fail(err, errlen, "\"file_type\" is not a string");
		goto bad;
	}
	out->is_blockdev = ft && !strcmp(ft->valuestring, "block-device");
	out->is_media = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(img, "media"));
	if (take_hashes(img, out, err, errlen) || take_sectors(img, out, err, errlen))
		goto bad;
	return 0;
bad:
	listed_free(out);
	return -1;
}

void listed_free(struct listed_image *li)
{
	free(li->path);
	li->path = NULL;
}

/* ---- a whole report's images ---- */

static int collect(void *ctx, const cJSON *img, size_t n, char *err, size_t errlen)
{
	struct listed_report *r = ctx;

	(void)n;
	if (r->n == r->cap) {
		size_t want = r->cap ? 2 * r->cap : 256;
		struct listed_image *grown = want > SIZE_MAX / sizeof(*grown) ? NULL
					     : realloc(r->images, want * sizeof(*grown));
		if (!grown)
			return report_fail(err, errlen, "out of memory after %zu images", r->n);
		r->images = grown;
		r->cap = want;
	}
	if (listed_from_json(img, &r->images[r->n], err, errlen))
		return -1;
	r->n++;
	return 0;
}

int report_load(const char *path, struct listed_report *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (report_read(path, &r->head, collect, r, err, errlen)) {
		listed_report_free(r);
		return -1;
	}
	return 0;
}

void listed_report_free(struct listed_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		listed_free(&r->images[i]);
	free(r->images);
	report_head_free(&r->head);
	r->images = NULL;
	r->n = r->cap = 0;
}
