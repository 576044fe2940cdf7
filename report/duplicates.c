/*
 * duplicates.c - groups the images of a run by their XXH128 (see
 * duplicates.h).  Entries are noted as images finish, in any order; at the
 * end they are sorted by (digest, size, index) and each run of two or more
 * equal (digest, size) is a group.  Paths live in one growing arena, not one
 * allocation each: a million images cost one array and one buffer.
 */
#include "duplicates.h"
#include "image_json.h"
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

static cJSON *group_json(const struct dup_index *d, const struct dup_group *g)
{
	cJSON *o = cJSON_CreateObject(), *images;
	char hex[33];

	xxh128_hex(g->xxh, hex);
	cJSON_AddStringToObject(o, "xxh128", hex);
	cJSON_AddNumberToObject(o, "size", (double)g->size);
	images = cJSON_AddArrayToObject(o, "images");
	for (size_t i = g->first; i < g->first + g->count; i++) {
		cJSON *img = cJSON_CreateObject();
		cJSON_AddNumberToObject(img, "index", (double)d->e[i].index);
		json_add_path(img, "path", d->paths + d->e[i].path_off);
		cJSON_AddItemToArray(images, img);
	}
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
