/*
 * items.c - verify's items and their statuses (see items.h).
 */
#include "items.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const item_status_names[ITEM_STATUS_COUNT] = {
	[ITEM_PENDING] = "pending", [ITEM_UNCHANGED] = "unchanged", [ITEM_CHANGED] = "changed",
	[ITEM_MISSING] = "missing", [ITEM_MOVED] = "moved", [ITEM_NEW] = "new", [ITEM_ERROR] = "error",
	[ITEM_UNVERIFIABLE] = "unverifiable", [ITEM_NOT_REACHED] = "not-reached", [ITEM_CLAIMED] = "claimed",
};

const char *item_path(const struct item *it)
{
	return it->listed ? it->listed->path : it->found_path;
}

static const char *listed_path_of(const void *ctx, size_t i)
{
	const struct item_table *t = ctx;

	return t->v[i].listed->path;
}

/* Grow v for one more item.  Returns 0 or -ENOMEM. */
static int reserve(struct item_table *t)
{
	size_t want;
	struct item *grown;

	if (t->n < t->cap)
		return 0;
	want = t->cap ? 2 * t->cap : 64;
	if (want > SIZE_MAX / sizeof(*grown) || !(grown = realloc(t->v, want * sizeof(*grown))))
		return -ENOMEM;
	t->v = grown;
	t->cap = want;
	return 0;
}

int items_init(struct item_table *t, const struct listed_report *rep)
{
	memset(t, 0, sizeof(*t));
	if (strindex_init(&t->by_path, rep->n, listed_path_of, t))
		return -ENOMEM;
	for (size_t i = 0; i < rep->n; i++) {
		struct item *it;
		size_t first;

		if (reserve(t))
			return -ENOMEM;
		it = &t->v[t->n];
		memset(it, 0, sizeof(*it));
		it->listed = &rep->images[i];
		it->next = NO_ITEM;
		first = strindex_add(&t->by_path, t->n);
		if (first != NO_ITEM) { /* listed twice (scan given the same PATH twice): chained */
			it->next = t->v[first].next;
			t->v[first].next = t->n;
		}
		t->n++;
	}
	t->nlisted = t->n;
	return 0;
}

void items_free(struct item_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].found_path);
		free(t->v[i].errors);
	}
	free(t->v);
	strindex_free(&t->by_path);
	memset(t, 0, sizeof(*t));
}

struct item *items_find(struct item_table *t, const char *path)
{
	size_t i = strindex_find(&t->by_path, path);

	return i == NO_ITEM ? NULL : &t->v[i];
}

struct item *items_add_new(struct item_table *t, const char *path, uint64_t walk_index)
{
	struct item *it;
	char *copy = strdup(path);

	if (!copy || reserve(t)) {
		free(copy);
		return NULL;
	}
	it = &t->v[t->n++];
	memset(it, 0, sizeof(*it));
	it->found_path = copy;
	it->walk_index = walk_index;
	it->next = NO_ITEM;
	it->seen = true;
	return it;
}

/* Room for one more error.  NULL when there is none (ENOMEM, or the
 * RESULT_MAX_ERRORS kept already). */
static struct item_error *new_error(struct item *it)
{
	struct item_error *grown;

	if (it->nerrors >= RESULT_MAX_ERRORS)
		return NULL;
	if (!(grown = realloc(it->errors, (it->nerrors + 1) * sizeof(*grown))))
		return NULL;
	it->errors = grown;
	memset(&grown[it->nerrors], 0, sizeof(*grown));
	return &grown[it->nerrors++];
}

void item_fail(struct item *it, const char *stage, int err, const char *fmt, ...)
{
	struct item_error *e = new_error(it);
	va_list ap;

	it->status = ITEM_ERROR;
	it->seen = true;
	if (!e)
		return;
	e->stage = stage;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

static void take_errors(struct item *it, const struct image_result *r)
{
	for (int i = 0; i < r->nerrors; i++) {
		struct item_error *e = new_error(it);
		if (!e)
			return;
		e->stage = r->errors[i].stage;
		e->err = r->errors[i].err;
		e->has_offset = !strcmp(r->errors[i].stage, "read");
		e->offset = r->errors[i].offset;
		snprintf(e->message, sizeof(e->message), "%s", r->errors[i].message);
	}
}

/* What differs between the report and a complete read. */
static unsigned compare(const struct listed_image *li, const struct measured *m)
{
	unsigned d = 0;

	if (strcmp(li->xxh128, m->xxh128))
		d |= DIFF_XXH128;
	for (int i = 0; i < HASH_COUNT; i++)
		if (li->crypto[i][0] && strcmp(li->crypto[i], m->crypto[i]))
			d |= DIFF_CRYPTO(i);
	/* Only a list made with the same sector size can be compared. */
	if (li->sector_list_xxh128[0] && li->sector_size == m->sector_size &&
	    strcmp(li->sector_list_xxh128, m->sector_list_xxh128))
		d |= DIFF_SECTORS;
	if (li->size != m->size)
		d |= DIFF_SIZE;
	return d;
}

static void take_measured(struct measured *m, const struct image_result *r)
{
	m->size = r->size;
	memcpy(m->xxh128, r->xxh128, sizeof(m->xxh128));
	memcpy(m->crypto, r->crypto, sizeof(m->crypto));
	m->sector_size = r->sector_size;
	memcpy(m->sector_list_xxh128, r->sector_list_xxh128, sizeof(m->sector_list_xxh128));
}

void item_record(struct item *it, const struct image_result *r)
{
	const struct scan_error *first = r->nerrors ? &r->errors[0] : NULL;

	it->seen = true;
	if (first && !strcmp(first->stage, "open") && (first->err == ENOENT || first->err == ENOTDIR)) {
		it->status = ITEM_MISSING; /* gone between the walk and the open */
		return;
	}
	if (!r->complete || r->nerrors) {
		take_errors(it, r);
		if (!it->nerrors)
			item_fail(it, "read", 0, "not read completely");
		it->status = ITEM_ERROR;
		return;
	}
	take_measured(&it->actual, r);
	it->have_actual = true;
	if (!it->listed)
		it->status = ITEM_NEW;
	else if (!it->listed->has_hashes)
		it->status = ITEM_UNVERIFIABLE;
	else
		it->status = (it->differs = compare(it->listed, &it->actual)) ? ITEM_CHANGED : ITEM_UNCHANGED;
}

/* dir is path's parent, grandparent...: path starts with dir and a '/'. */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return !strncmp(path, dir, n) && (path[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* A listed image the walk never met, in a whole run. */
static void classify_unseen(struct item *it, const struct walk_failure *failures, size_t nfailures)
{
	const char *path = it->listed->path;
	struct stat st;

	for (size_t i = 0; i < nfailures; i++) {
		const struct walk_failure *f = &failures[i];
		if (f->err != ENOENT && f->err != ENOTDIR && below(path, f->path)) {
			item_fail(it, "walk", f->err, "not reached: the directory %s could not be listed (%s: %s)", f->path,
				  f->what, strerror(f->err));
			return;
		}
	}
	if (!lstat(path, &st)) {
		item_fail(it, "walk", 0, "there, but not met by the walk as a file (%s)",
			  S_ISDIR(st.st_mode) ? "it is a directory now" : "give the PATHs the scan was given");
	} else if (errno == ENOENT || errno == ENOTDIR) {
		it->status = ITEM_MISSING;
	} else {
		item_fail(it, "walk", errno, "cannot be examined: lstat: %s", strerror(errno));
	}
}

static const char *actual_xxh_of(const void *ctx, size_t i)
{
	const struct item_table *t = ctx;

	return t->v[i].actual.xxh128;
}

/* A missing listed image found elsewhere: the first new image (complete)
 * with its XXH128 and size, not yet claimed by another. */
static int find_moved(struct item_table *t)
{
	struct strindex by_xxh;
	size_t nnew = t->n - t->nlisted;

	if (strindex_init(&by_xxh, nnew, actual_xxh_of, t))
		return -ENOMEM;
	for (size_t i = t->nlisted; i < t->n; i++) {
		struct item *it = &t->v[i];
		size_t first;
		if (it->status != ITEM_NEW)
			continue;
		it->next = NO_ITEM;
		if ((first = strindex_add(&by_xxh, i)) != NO_ITEM) {
			it->next = t->v[first].next;
			t->v[first].next = i;
		}
	}
	for (size_t i = 0; i < t->nlisted; i++) {
		struct item *it = &t->v[i];
		if (it->status != ITEM_MISSING || !it->listed->has_hashes)
			continue;
		for (size_t j = strindex_find(&by_xxh, it->listed->xxh128); j != NO_ITEM; j = t->v[j].next) {
			struct item *found = &t->v[j];
			/* Every digest the report holds must match, not only XXH128
			 * (which is not collision-resistant): else missing + new. */
			if (found->status != ITEM_NEW || compare(it->listed, &found->actual))
				continue;
			it->status = ITEM_MOVED;
			it->found_path = found->found_path;
			found->found_path = NULL;
			it->actual = found->actual;
			it->have_actual = true;
			found->status = ITEM_CLAIMED;
			break;
		}
	}
	strindex_free(&by_xxh);
	return 0;
}

int items_finish(struct item_table *t, bool partial, const struct walk_failure *failures, size_t nfailures)
{
	for (size_t i = 0; i < t->nlisted; i++) {
		struct item *it = &t->v[i];
		if (it->status != ITEM_PENDING)
			continue;
		if (partial) /* met maybe, but the stop came before it was opened */
			it->status = ITEM_NOT_REACHED;
		else if (it->seen)
			item_fail(it, "read", 0, "met by the walk, but no result came for it");
		else
			classify_unseen(it, failures, nfailures);
	}
	return find_moved(t);
}
