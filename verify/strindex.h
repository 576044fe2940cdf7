/*
 * strindex.h - a fixed-size hash index from a string key to the first of
 * the caller's items with that key (open addressing, FNV-1a).  The caller
 * keeps the keys (key_of gives item i's) and chains items that share a key
 * itself.  Sized once for the number of keys it will hold.
 */
#ifndef IMGSCAN_STRINDEX_H
#define IMGSCAN_STRINDEX_H

#include <stddef.h>
#include <stdint.h>

#define NO_ITEM SIZE_MAX

typedef const char *(*strindex_key_fn)(const void *ctx, size_t i);

struct strindex {
	size_t *slots;             /* item + 1, 0: empty */
	size_t mask;
	strindex_key_fn key_of;
	const void *ctx;
};

/* Room for n keys.  Returns 0 or -ENOMEM. */
int strindex_init(struct strindex *ix, size_t n, strindex_key_fn key_of, const void *ctx);
void strindex_free(struct strindex *ix);
/* The item stored under key, or NO_ITEM. */
size_t strindex_find(const struct strindex *ix, const char *key);
/* Store item i under its key; when an item is stored under that key
 * already, nothing is stored and that item is returned, else NO_ITEM.
 * Never more than the n keys of strindex_init. */
size_t strindex_add(struct strindex *ix, size_t i);

#endif
