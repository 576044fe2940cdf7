/*
 * shard.c - the shard of each walked entry (see shard.h).
 */
#include "shard.h"
#include "hasher.h"
#include "../config/options.h"
#include "../report/pathenc.h"
#include "../report/run_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* One entry of the first walk (--shard-by size). */
struct plan_entry {
	uint64_t size;
	unsigned root;
	unsigned shard;
	char *rel;
};

struct shard_plan {
	const struct scan_options *opt;
	unsigned index, count;
	enum shard_by by;
	struct plan_entry *e;        /* size: sorted by (root, rel) for lookup */
	size_t n, cap;
	uint64_t walked, taken, bytes_taken, late; /* the scan's walk */
	uint64_t shared_errors;      /* walk errors of other shards' entries taken too */
	uint64_t tree_entries, tree_bytes, planned_bytes; /* the tree the plan was made on (path: the
	                             * scan's own walk; size: the first walk) */
	void *tree;                  /* XXH128 of that tree, in walk order (hasher.h) */
};

const char *shard_relpath(const char *path, const char *root)
{
	size_t n = strlen(root);
	const char *slash;

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(path, root, n) || (path[n] && path[n] != '/' && !(n == 1 && root[0] == '/'))) {
		slash = strrchr(path, '/'); /* not under root: never met in a walk */
		return slash && slash[1] ? slash + 1 : path;
	}
	if (!path[n]) { /* root itself: a file named as PATH */
		while (n > 1 && path[n - 1] == '/')
			n--;
		for (slash = path + n; slash > path && slash[-1] != '/'; slash--)
			;
		return slash;
	}
	path += n;
	while (*path == '/')
		path++;
	return path;
}

unsigned shard_by_path(const char *rel, unsigned count)
{
	return (unsigned)(XXH3_64bits(rel, strlen(rel)) % count);
}

static uint64_t entry_bytes(const struct walk_entry *e)
{
	uint64_t sum = 0;

	if (e->type == WALK_MEDIA) {
		for (size_t i = 0; i < e->media->n; i++)
			sum += (uint64_t)e->media->segs[i].st.st_size;
		return sum;
	}
	return e->type == WALK_FILE ? (uint64_t)e->st.st_size : 0;
}

/* The tree digest: root number, relative path, NUL, size (big-endian). */
static void tree_add(struct shard_plan *p, unsigned root, const char *rel, uint64_t size)
{
	unsigned char b[12];

	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(root >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		b[4 + i] = (unsigned char)(size >> (56 - 8 * i));
	hash_state_update(p->tree, b, 4);
	hash_state_update(p->tree, rel, strlen(rel) + 1);
	hash_state_update(p->tree, b + 4, 8);
	p->tree_entries++;
	p->tree_bytes += size;
}

static int cmp_by_size(const void *a, const void *b)
{
	const struct plan_entry *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

static int cmp_by_name(const void *a, const void *b)
{
	const struct plan_entry *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

/* A min-heap of shards by (bytes given, shard number). */
struct bin { uint64_t bytes; unsigned shard; };

static bool bin_less(const struct bin *a, const struct bin *b)
{
	return a->bytes < b->bytes || (a->bytes == b->bytes && a->shard < b->shard);
}

static void bin_sift_down(struct bin *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && bin_less(&h[l], &h[m]))
			m = l;
		if (r < n && bin_less(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		struct bin t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Largest first, each to the shard with the fewest bytes so far. */
static int assign_by_size(struct shard_plan *p)
{
	struct bin *h = malloc(p->count * sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (unsigned i = 0; i < p->count; i++)
		h[i] = (struct bin){0, i}; /* a valid heap: all equal, numbered in order */
	if (p->n)
		qsort(p->e, p->n, sizeof(*p->e), cmp_by_size);
	for (size_t i = 0; i < p->n; i++) {
		p->e[i].shard = h[0].shard;
		h[0].bytes += p->e[i].size;
		if (h[0].shard == p->index)
			p->planned_bytes += p->e[i].size;
		bin_sift_down(h, p->count, 0);
	}
	free(h);
	if (p->n)
		qsort(p->e, p->n, sizeof(*p->e), cmp_by_name);
	return 0;
}

static int plan_add(struct shard_plan *p, unsigned root, const char *rel, uint64_t size)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;
		struct plan_entry *grown = realloc(p->e, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		p->e = grown;
		p->cap = cap;
	}
	if (!(p->e[p->n].rel = strdup(rel)))
		return -ENOMEM;
	p->e[p->n].size = size;
	p->e[p->n].root = root;
	p->e[p->n++].shard = 0;
	return 0;
}

static void entry_free(struct walk_entry *e)
{
	free(e->path);
	walk_media_free(e->media);
	memset(e, 0, sizeof(*e));
}

/* --shard-by size: the first walk, listing what the plan divides. */
static int plan_walk(struct shard_plan *p, char *err, size_t errlen)
{
	const struct scan_options *opt = p->opt;
	struct walker *w;
	struct walk_entry e;
	int rc = walk_open(opt->paths, opt->npaths, opt->follow_symlinks, true, &w);

	if (rc) {
		snprintf(err, errlen, "cannot start the walk that plans --shard-by size: %s", strerror(-rc));
		return rc;
	}
	while ((rc = walk_next(w, &e)) == 1) {
		const char *rel = shard_relpath(e.path, opt->paths[e.root]);
		uint64_t size = entry_bytes(&e);
		tree_add(p, (unsigned)e.root, rel, size);
		rc = plan_add(p, (unsigned)e.root, rel, size);
		entry_free(&e);
		if (rc)
			break;
	}
	walk_close(w);
	if (!rc)
		rc = assign_by_size(p);
	if (rc)
		snprintf(err, errlen, "not enough memory to plan --shard-by size (%zu entries listed)", p->n);
	return rc;
}

int shard_plan_create(const struct scan_options *opt, struct shard_plan **out, char *err, size_t errlen)
{
	struct shard_plan *p;
	int rc;

	*out = NULL;
	if (!opt->shard_count)
		return 0;
	if (!(p = calloc(1, sizeof(*p))) || !(p->tree = hash_state_new())) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	hash_state_reset(p->tree);
	p->opt = opt;
	p->index = opt->shard_index;
	p->count = opt->shard_count;
	p->by = opt->shard_by;
	if (p->by == SHARD_BY_SIZE && (rc = plan_walk(p, err, errlen))) {
		shard_plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* The plan's entry for (root, rel), or NULL. */
static const struct plan_entry *plan_find(const struct shard_plan *p, unsigned root, const char *rel)
{
	struct plan_entry key = {.root = root, .rel = (char *)rel};

	return p->n ? bsearch(&key, p->e, p->n, sizeof(*p->e), cmp_by_name) : NULL;
}

bool shard_plan_take(struct shard_plan *p, const struct walk_entry *e)
{
	const char *rel = shard_relpath(e->path, p->opt->paths[e->root]);
	const struct plan_entry *pe = NULL;
	unsigned shard;
	uint64_t size = entry_bytes(e);

	p->walked++;
	if (p->by == SHARD_BY_PATH) /* the tree is this walk's */
		tree_add(p, (unsigned)e->root, rel, size);
	if (p->by == SHARD_BY_SIZE && (pe = plan_find(p, (unsigned)e->root, rel)))
		shard = pe->shard;
	else
		shard = shard_by_path(rel, p->count);
	p->late += p->by == SHARD_BY_SIZE && !pe;
	if (shard != p->index && e->type == WALK_ERROR) {
		/* This walk missed what is under it, whoever owns the path:
		 * reported here too (merge lists it once; the catalog calls
		 * nothing under it gone, as for any walk error it is given). */
		p->shared_errors++;
	} else if (shard != p->index) {
		return false;
	}
	p->taken++;
	p->bytes_taken += size;
	return true;
}

static bool foreign_path(const struct shard_plan *p, const struct scan_options *opt, const char *path)
{
	for (int i = 0; i < opt->npaths; i++) {
		if (!walk_path_within(path, strlen(path), opt->paths[i]))
			continue;
		const char *rel = shard_relpath(path, opt->paths[i]);
		if (p->by == SHARD_BY_PATH)
			return shard_by_path(rel, p->count) != p->index;
		const struct plan_entry *pe = plan_find(p, (unsigned)i, rel);
		return pe && pe->shard != p->index;
	}
	return false;
}

bool shard_plan_foreign(const struct shard_plan *p, const char *path_bytes, size_t len)
{
	const struct scan_options *opt = p->opt;
	char *path = strndup(path_bytes, len); /* a catalog row's bytes: not NUL-terminated */
	bool foreign = true;                   /* out of memory: nothing is called gone */

	if (path) {
		foreign = foreign_path(p, opt, path);
		free(path);
	}
	return foreign;
}

bool shard_paths_overlap(const struct scan_options *opt, int *a, int *b)
{
	for (int i = 0; i < opt->npaths; i++)
		for (int j = 0; j < opt->npaths; j++)
			if (i != j && walk_path_within(opt->paths[i], strlen(opt->paths[i]), opt->paths[j])) {
				*a = i;
				*b = j;
				return true;
			}
	return false;
}

cJSON *shard_plan_summary_json(const struct shard_plan *p)
{
	cJSON *o = cJSON_CreateObject();
	char hex[33];

	cJSON_AddNumberToObject(o, "walked", (double)p->walked);
	cJSON_AddNumberToObject(o, "taken", (double)p->taken);
	cJSON_AddNumberToObject(o, "bytes_taken", (double)p->bytes_taken);
	cJSON_AddNumberToObject(o, "planned_bytes",
				(double)(p->by == SHARD_BY_PATH ? p->bytes_taken : p->planned_bytes));
	cJSON_AddNumberToObject(o, "tree_entries", (double)p->tree_entries);
	cJSON_AddNumberToObject(o, "tree_bytes", (double)p->tree_bytes);
	hash_state_hex(p->tree, hex);
	cJSON_AddStringToObject(o, "tree_xxh128", hex);
	cJSON_AddNumberToObject(o, "late_entries", (double)p->late);
	cJSON_AddNumberToObject(o, "shared_walk_errors", (double)p->shared_errors);
	return o;
}

cJSON *shard_run_json(const struct scan_options *opt)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "index", opt->shard_index);
	cJSON_AddNumberToObject(o, "count", opt->shard_count);
	cJSON_AddStringToObject(o, "by", shard_by_names[opt->shard_by]);
	json_add_path_array(o, "roots", opt->npaths, opt->paths);
	return o;
}

void shard_plan_free(struct shard_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->e[i].rel);
	free(p->e);
	hash_state_free(p->tree);
	free(p);
}
