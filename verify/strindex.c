/*
 * strindex.c - string key to item index (see strindex.h).
 */
#include "strindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

int strindex_init(struct strindex *ix, size_t n, strindex_key_fn key_of, const void *ctx)
{
	size_t cap = 16;

	while (cap < 2 * n && cap < SIZE_MAX / 4) /* at most half full: short probes */
		cap *= 2;
	ix->slots = calloc(cap, sizeof(*ix->slots));
	ix->mask = cap - 1;
	ix->key_of = key_of;
	ix->ctx = ctx;
	return ix->slots ? 0 : -ENOMEM;
}

void strindex_free(struct strindex *ix)
{
	free(ix->slots);
	ix->slots = NULL;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const struct strindex *ix, const char *key)
{
	size_t at = (size_t)fnv1a(key) & ix->mask;

	while (ix->slots[at] && strcmp(ix->key_of(ix->ctx, ix->slots[at] - 1), key))
		at = (at + 1) & ix->mask;
	return at;
}

size_t strindex_find(const struct strindex *ix, const char *key)
{
	size_t at = probe(ix, key);

	return ix->slots[at] ? ix->slots[at] - 1 : NO_ITEM;
}

size_t strindex_add(struct strindex *ix, size_t i)
{
	size_t at = probe(ix, ix->key_of(ix->ctx, i));

	if (ix->slots[at])
		return ix->slots[at] - 1;
	ix->slots[at] = i + 1;
	return NO_ITEM;
}
