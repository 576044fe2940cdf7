/*
 * probe_hfs.c - HFS+ / HFSX ("H+" / "HX" at 1024) and classic HFS ("BD"),
 * including an HFS wrapper around an embedded HFS+ volume (one level only:
 * a chain of wrappers is exactly what overflows TSK's stack).
 */
#include "probe.h"

#include <stdio.h>

#define VH 1024u

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

const struct probe_desc probe_hfs = {
	.name = "hfs",
	.cls = HIT_FS,
	.probe = probe_hfs_fn,
};
