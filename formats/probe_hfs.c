/*
 * probe_hfs.c - HFS+ / HFSX ("H+" / "HX" at 1024) and classic HFS ("BD"),
 * including an HFS wrapper around an embedded HFS+ volume (one level only:
 * a chain of wrappers is exactly what overflows TSK's stack).
 *
 * Classic HFS keeps its name in the master directory block; HFS+ keeps it
 * only as the name of the root folder in the catalog B-tree (UTF-16BE, up to
 * 255 units), read by the refine hook: the catalog's header node gives the
 * first leaf node, whose first record is the root folder's (parent ID 1
 * sorts first), as libblkid reads it.
 */
#include "probe.h"

#include <stdio.h>

#define VH 1024u
#define HFSPLUS_EXTENTS 8       /* extents in a fork's record */
#define HFSPLUS_ROOT_PARENT 1   /* the root folder's parent ID */

static int hfsplus_header(const uint8_t *h, uint64_t base, struct probe_hit *hit)
{
	uint32_t bs = be32(h + 40);

	if (bs < 512 || bs > (1u << 20) || (bs & (bs - 1)))
		return 1;
	snprintf(hit->name, sizeof(hit->name), "%s", h[1] == 'X' ? "hfsx" : "hfsplus");
	hit->block_size = bs;
	hit->claimed_size = base + (uint64_t)be32(h + 44) * bs;
	snprintf(hit->detail, sizeof(hit->detail), "version %u, %u blocks of %u bytes", be16(h + 2),
		 be32(h + 44), bs);
	return 0;
}

static int probe_hfs_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, VH, 512), *emb;
	uint32_t alblk;
	uint64_t start;

	(void)id;
	if (!h)
		return 1;
	snprintf(hit->tsk_hint, sizeof(hit->tsk_hint), "hfs");
	if ((h[0] == 'H' && (h[1] == '+' || h[1] == 'X')))
		return hfsplus_header(h, 0, hit);
	if (h[0] != 'B' || h[1] != 'D')
		return 1;
	alblk = be32(h + 0x14);
	if (alblk < 512 || alblk % 512)
		return 1;
	probe_copy_label(hit->label, sizeof(hit->label), h + 0x25, h[0x24] < 27 ? h[0x24] : 27);
	if (h[0x7C] == 'H' && h[0x7D] == '+') {
		/* Wrapper: the HFS+ volume starts drAlBlSt*512 + drEmbedExtent.start*alblk in. */
		start = (uint64_t)be16(h + 0x1C) * 512 + (uint64_t)be16(h + 0x7E) * alblk;
		emb = pv_bytes(v, start + VH, 512);
		if (emb && emb[0] == 'H' && emb[1] == '+' && hfsplus_header(emb, start, hit) == 0) {
			snprintf(hit->detail + strlen(hit->detail), sizeof(hit->detail) - strlen(hit->detail),
				 ", inside an HFS wrapper");
			return 0;
		}
	}
	snprintf(hit->name, sizeof(hit->name), "%s", "hfs");
	hit->block_size = alblk;
	hit->claimed_size = (uint64_t)be16(h + 0x1C) * 512 + (uint64_t)be16(h + 0x12) * alblk;
	snprintf(hit->detail, sizeof(hit->detail), "%u allocation blocks of %u bytes", be16(h + 0x12), alblk);
	return 0;
}

/* Where the HFS+ volume of a hit starts, from its first bytes: at 0, or
 * inside an HFS wrapper.  False when neither. */
static bool hfsplus_start(const uint8_t *s, size_t slen, uint64_t *start)
{
	const uint8_t *h = s + VH;
	uint32_t alblk;

	if (slen < VH + 512)
		return false;
	if (h[0] == 'H' && (h[1] == '+' || h[1] == 'X')) {
		*start = 0;
		return true;
	}
	alblk = be32(h + 0x14);
	if (h[0] != 'B' || h[1] != 'D' || h[0x7C] != 'H' || h[0x7D] != '+' || alblk < 512 || alblk % 512)
		return false;
	*start = (uint64_t)be16(h + 0x1C) * 512 + (uint64_t)be16(h + 0x7E) * alblk;
	return true;
}

/* Read len bytes at off (from the hit's base) into buf; false when short. */
static bool read_at(long (*read)(void *, uint64_t, void *, size_t), void *ctx, uint64_t base, uint64_t off,
		    uint8_t *buf, size_t len)
{
	uint64_t at;

	return checked_add(base, off, &at) && read(ctx, at, buf, len) == (long)len;
}

/* The byte offset (from the volume's start) of byte pos of the catalog
 * file, through its first eight extents (ext: the fork's extent records);
 * false when pos lies beyond them (in the extents-overflow file). */
static bool catalog_offset(const uint8_t *ext, uint32_t bs, uint64_t pos, uint64_t *off)
{
	uint64_t block = pos / bs;

	for (int i = 0; i < HFSPLUS_EXTENTS; i++) {
		uint32_t first = be32(ext + 8 * i), count = be32(ext + 8 * i + 4);
		if (!count)
			return false;
		if (block < count) {
			*off = ((uint64_t)first + block) * bs + pos % bs;
			return true;
		}
		block -= count;
	}
	return false;
}

/* The root folder's name from the first record of a leaf node (its record
 * offsets are at the node's end, the first one last). */
static void label_from_leaf(const uint8_t *node, uint32_t node_size, struct probe_hit *hit)
{
	uint32_t rec = be16(node + node_size - 2), klen, nlen;

	if ((int8_t)node[8] != -1 || !be16(node + 10) || rec < 14 || rec + 8 > node_size - 2)
		return; /* not a leaf, no records, or the offset points outside */
	klen = be16(node + rec);
	nlen = be16(node + rec + 6);
	if (klen < 6 || be32(node + rec + 2) != HFSPLUS_ROOT_PARENT || nlen > 255 ||
	    rec + 8 + 2 * nlen > node_size - 2 || 6 + 2 * nlen > klen)
		return;
	probe_copy_utf16(hit->label, sizeof(hit->label), node + rec + 8, 2 * nlen, true);
}

/* The volume name: volume header -> catalog header node -> first leaf. */
static void hfs_refine(const uint8_t *s, size_t slen, uint64_t base, long (*read)(void *, uint64_t, void *, size_t),
		       void *ctx, uint8_t *buf, size_t buflen, struct probe_hit *hit)
{
	uint8_t vh[512], ext[8 * HFSPLUS_EXTENTS];
	uint64_t start, off, pos;
	uint32_t bs, node_size;

	if (!hfsplus_start(s, slen, &start) || buflen < 32768 || !read_at(read, ctx, base, start + VH, vh, sizeof(vh)))
		return;
	bs = be32(vh + 40);
	if (vh[0] != 'H' || (vh[1] != '+' && vh[1] != 'X') || bs < 512 || bs > (1u << 20) || (bs & (bs - 1)))
		return;
	memcpy(ext, vh + 0x110 + 16, sizeof(ext)); /* the catalog file's fork: size fields, then extents */
	/* The header node is the catalog file's first node. */
	if (!catalog_offset(ext, bs, 0, &off) || !read_at(read, ctx, base, start + off, buf, 512) || buf[8] != 1)
		return;
	node_size = be16(buf + 32);
	if (node_size < 512 || node_size > 32768 || (node_size & (node_size - 1)))
		return;
	pos = (uint64_t)be32(buf + 24) * node_size; /* the first leaf node */
	if (!pos || !catalog_offset(ext, bs, pos, &off) || !checked_add(start, off, &off) ||
	    !read_at(read, ctx, base, off, buf, node_size))
		return;
	label_from_leaf(buf, node_size, hit);
}

const struct probe_desc probe_hfs = {
	.name = "hfs",
	.cls = HIT_FS,
	.probe = probe_hfs_fn,
	.refine = hfs_refine,
};
