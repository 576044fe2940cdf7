/*
 * duplicates.c - groups the images of a run by their XXH128 (see
 * duplicates.h).  Entries are noted as images finish, in any order; at the
 * end they are sorted by (digest, size, index) and each run of two or more
 * equal (digest, size) is a group.  Paths live in one growing arena, not one
 * allocation each: a million images cost one array and one buffer.
 */
#include "duplicates.h"
#include "image_json.h"
#include "outfile.h"
#include "pathenc.h"
#include "tally.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dup_entry {
	unsigned char xxh[16];  /* canonical bytes: memcmp orders them as the hex */
	uint64_t size;
	uint64_t index;
	size_t path_off;        /* into paths: the exact bytes, NUL-terminated */
};

struct dup_index {
	struct dup_entry *e;
	size_t n, cap;
	char *paths;
	size_t paths_len, paths_cap;
	int err;                /* sticky: 0 or -ENOMEM */
};

/* A run of equal (digest, size) in the sorted entries, with its key
 * copied so that groups sort on their own. */
struct dup_group {
	unsigned char xxh[16];
	uint64_t size;
	size_t first, count;
};

int dup_index_create(struct dup_index **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void dup_index_free(struct dup_index *d)
{
	if (!d)
		return;
	free(d->e);
	free(d->paths);
	free(d);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 32 lowercase hex digits into 16 bytes; false for anything else (an image
 * object from the catalog is only as good as the catalog). */
bool parse_xxh128(const char *hex, unsigned char out[16])
{
	if (strlen(hex) != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* The image's path as the exact bytes: path_b64 when the object says the
 * readable path is lossy.  Malloc'd; NULL when missing or on ENOMEM (errno). */
void xxh128_hex(const unsigned char digest[16], char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

char *image_path_bytes(const cJSON *img)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(img, "path");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(img, "path_b64");
	size_t n;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(img, "path_lossy")) && cJSON_IsString(b64)) {
		char *bytes = (char *)base64_decode(b64->valuestring, strlen(b64->valuestring), &n);
		if (bytes && strlen(bytes) != n) { /* a NUL inside: not a path */
			free(bytes);
			errno = EINVAL;
			return NULL;
		}
		return bytes;
	}
	if (!cJSON_IsString(path)) {
		errno = EINVAL;
		return NULL;
	}
	char *copy = strdup(path->valuestring);
	if (!copy)
		errno = ENOMEM;
	return copy;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int add_entry(struct dup_index *d, const struct dup_entry *e, const char *path)
{
	size_t len = strlen(path) + 1;

	if (grow((void **)&d->e, &d->cap, d->n + 1, sizeof(*d->e)) ||
	    grow((void **)&d->paths, &d->paths_cap, d->paths_len + len, 1))
		return -ENOMEM;
	d->e[d->n] = *e;
	d->e[d->n].path_off = d->paths_len;
	memcpy(d->paths + d->paths_len, path, len);
	d->paths_len += len;
	d->n++;
	return 0;
}

int dup_note(struct dup_index *d, const cJSON *img)
{
	const cJSON *hashes = cJSON_GetObjectItemCaseSensitive(img, "hashes");
	const cJSON *xxh = cJSON_GetObjectItemCaseSensitive(hashes, "xxh128");
	struct dup_entry e = {.size = json_u64(img, "size"), .index = json_u64(img, "index")};
	char *path;
	int rc;

	if (d->err)
		return d->err;
	if (!cJSON_IsString(xxh) || !parse_xxh128(xxh->valuestring, e.xxh) || e.size == 0)
		return 0;
	path = image_path_bytes(img);
	if (!path)
		return errno == ENOMEM ? (d->err = -ENOMEM) : 0;
	rc = add_entry(d, &e, path);
	free(path);
	if (rc)
		d->err = rc;
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct dup_entry *x = a, *y = b;
	int c = memcmp(x->xxh, y->xxh, sizeof(x->xxh));

	if (c)
		return c;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_content(const struct dup_entry *x, const struct dup_entry *y)
{
	return !memcmp(x->xxh, y->xxh, sizeof(x->xxh)) && x->size == y->size;
}

/* Largest first (where the space goes), then by digest. */
static int cmp_group(const void *a, const void *b)
{
	const struct dup_group *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return memcmp(x->xxh, y->xxh, sizeof(x->xxh));
}

/* {"xxh128", "size"}: a group without its images yet. */
static cJSON *group_head_json(const unsigned char xxh[16], uint64_t size)
{
	cJSON *o = cJSON_CreateObject();
	char hex[33];

	xxh128_hex(xxh, hex);
	cJSON_AddStringToObject(o, "xxh128", hex);
	cJSON_AddNumberToObject(o, "size", (double)size);
	return o;
}

/* {"index", "path"} (with path_b64 and path_lossy when not UTF-8). */
static cJSON *member_json(uint64_t index, const char *path)
{
	cJSON *img = cJSON_CreateObject();

	cJSON_AddNumberToObject(img, "index", (double)index);
	json_add_path(img, "path", path);
	return img;
}

static cJSON *group_json(const struct dup_index *d, const struct dup_group *g)
{
	cJSON *o = group_head_json(g->xxh, g->size);
	cJSON *images = cJSON_AddArrayToObject(o, "images");

	for (size_t i = g->first; i < g->first + g->count; i++)
		cJSON_AddItemToArray(images, member_json(d->e[i].index, d->paths + d->e[i].path_off));
	return o;
}

/* The runs of two or more equal (digest, size) in the sorted entries, in
 * a malloc'd array (*n of them); NULL with *n 0 when there are none. */
static struct dup_group *find_groups(const struct dup_index *d, size_t *n, int *err)
{
	struct dup_group *g = NULL;
	size_t cap = 0;

	*n = 0;
	for (size_t i = 0, j; i < d->n; i = j) {
		for (j = i + 1; j < d->n && same_content(&d->e[i], &d->e[j]); j++)
			;
		if (j - i < 2)
			continue;
		if (grow((void **)&g, &cap, *n + 1, sizeof(*g))) {
			*err = -ENOMEM;
			break;
		}
		g[*n].size = d->e[i].size;
		memcpy(g[*n].xxh, d->e[i].xxh, sizeof(g[*n].xxh));
		g[*n].first = i;
		g[(*n)++].count = j - i;
	}
	return g;
}

cJSON *dup_groups_json(struct dup_index *d)
{
	struct dup_group *groups;
	cJSON *arr;
	size_t n;

	if (d->err)
		return NULL;
	if (d->n) /* qsort's array may not be NULL, even empty */
		qsort(d->e, d->n, sizeof(*d->e), cmp_entry);
	groups = find_groups(d, &n, &d->err);
	if (d->err) {
		free(groups);
		return NULL;
	}
	if (n)
		qsort(groups, n, sizeof(*groups), cmp_group);
	arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, group_json(d, &groups[i]));
	free(groups);
	return arr;
}

/* ---- summary.duplicates written as it is found ----
 * The same objects as group_json() makes, printed one at a time: what
 * cJSON_PrintUnformatted() prints for an object is "{", its members joined
 * by ",", "}", and so for an array; so a group's head printed without its
 * "}", then ",\"images\":[", its images joined by ",", "]}" is the group's
 * bytes. */

/* cJSON's print of o (freed here) to out, its last byte left out when
 * open.  Out of memory is out's sticky error, as json_write_line() says it. */
static void write_printed(struct outfile *out, cJSON *o, bool open)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (!text) {
		out->err = out->err ? out->err : ENOMEM;
		return;
	}
	outfile_write(out, text, strlen(text) - (open ? 1 : 0));
	free(text);
}

void dup_stream_begin(struct dup_stream *s, struct outfile *out)
{
	s->out = out;
	s->groups = 0;
	s->in_group = false;
	outfile_write(out, "[", 1);
}

void dup_stream_group(struct dup_stream *s, const unsigned char xxh[16], uint64_t size)
{
	if (s->in_group)
		outfile_write(s->out, "]},", 3);
	else if (s->groups)
		outfile_write(s->out, ",", 1);
	write_printed(s->out, group_head_json(xxh, size), true);
	outfile_write(s->out, ",\"images\":[", 11);
	s->in_group = true;
	s->first_image = true;
	s->groups++;
}

void dup_stream_image(struct dup_stream *s, uint64_t index, const char *path)
{
	if (!s->first_image)
		outfile_write(s->out, ",", 1);
	write_printed(s->out, member_json(index, path), false);
	s->first_image = false;
}

void dup_stream_end(struct dup_stream *s)
{
	outfile_write(s->out, s->in_group ? "]}]" : "]", s->in_group ? 3 : 1);
	s->in_group = false;
}
