/*
 * probe_android_sparse.c - Android's sparse image (libsparse, img2simg): a
 * 28-byte little-endian header (magic 0xed26ff3a, version 1.x, block size,
 * block and chunk counts), then chunks, each a 12-byte header (raw, fill,
 * don't care, CRC32) and its data.  A container: what it expands to
 * (blk_sz x total_blks) is the virtual disk's size, given in the detail;
 * claimed_size is the sparse file's own size, known when the chunk headers
 * can be followed to the end (they can while the raw chunks are small, or
 * when the last one lands in the tail we hold).
 */
#include "probe.h"

#include <stdio.h>

#define SPARSE_HEADER 28
#define CHUNK_HEADER 12
#define CHUNK_WALK_MAX (1u << 17)

enum { CHUNK_RAW = 0xCAC1, CHUNK_FILL = 0xCAC2, CHUNK_DONT_CARE = 0xCAC3, CHUNK_CRC32 = 0xCAC4 };

/* The bytes a chunk of this type and block count takes, header included;
 * 0 when the type is unknown. */
static uint64_t chunk_bytes(uint16_t type, uint32_t blocks, uint32_t blk_sz)
{
	switch (type) {
	case CHUNK_RAW: return size_add(CHUNK_HEADER, size_mul(blocks, blk_sz));
	case CHUNK_FILL: return CHUNK_HEADER + 4;
	case CHUNK_DONT_CARE: return CHUNK_HEADER;
	case CHUNK_CRC32: return CHUNK_HEADER + 4;
	default: return 0;
	}
}

struct chunk_walk {
	uint32_t walked;
	uint64_t blocks;   /* output blocks the walked chunks cover */
	uint64_t end;      /* where the walked chunks end */
	bool bad;          /* a chunk header that is no chunk's */
};

/* Follow the chunk headers from the first while they are in view. */
static void walk_chunks(const struct probe_view *v, uint32_t blk_sz, uint32_t total_chunks, struct chunk_walk *w)
{
	uint64_t off = SPARSE_HEADER;

	while (w->walked < total_chunks && w->walked < CHUNK_WALK_MAX) {
		const uint8_t *c = pv_bytes(v, off, CHUNK_HEADER);
		uint64_t want;
		if (!c)
			break;
		want = chunk_bytes(le16(c), le32(c + 4), blk_sz);
		if (!want || want != le32(c + 8)) {
			w->bad = true;
			break;
		}
		off = size_add(off, want);
		w->blocks = size_add(w->blocks, le32(c + 4));
		w->walked++;
	}
	w->end = off;
}

static int probe_android_sparse_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, SPARSE_HEADER);
	uint32_t blk_sz, total_blks, total_chunks;
	struct chunk_walk w = {0};

	(void)id;
	if (!h || le16(h + 4) != 1 || le16(h + 8) != SPARSE_HEADER || le16(h + 10) != CHUNK_HEADER)
		return 1;
	blk_sz = le32(h + 12), total_blks = le32(h + 16), total_chunks = le32(h + 20);
	if (!blk_sz || blk_sz % 4 || blk_sz > (64u << 20))
		return 1;
	walk_chunks(v, blk_sz, total_chunks, &w);
	if (w.bad && w.walked == 0)
		return 1; /* not even the first chunk is one */
	hit->block_size = blk_sz;
	snprintf(hit->detail, sizeof(hit->detail), "version 1.%u, %u-byte blocks, %u blocks (%llu bytes expanded)",
		 le16(h + 6), blk_sz, total_blks, (unsigned long long)size_mul(blk_sz, total_blks));
	probe_appendf(hit->detail, sizeof(hit->detail), ", %u chunk%s", total_chunks, total_chunks == 1 ? "" : "s");
	if (w.bad)
		probe_appendf(hit->detail, sizeof(hit->detail), ", chunk %u is damaged", w.walked + 1);
	else if (w.walked == total_chunks) {
		hit->claimed_size = w.end;
		if (w.blocks != total_blks)
			probe_appendf(hit->detail, sizeof(hit->detail), ", chunks cover %llu blocks",
				      (unsigned long long)w.blocks);
	} else if (w.end > v->size) {
		hit->claimed_size = w.end; /* a chunk runs past the end of the file */
	}
	return 0;
}

const struct probe_desc probe_android_sparse = {
	.name = "android-sparse", .cls = HIT_CONTAINER,
	.magic = "\x3a\xff\x26\xed", .magic_len = 4, .magic_off = 0, .probe = probe_android_sparse_fn,
};
