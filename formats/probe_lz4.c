/*
 * probe_lz4.c - lz4 (lz4 frame format spec; lz4 -l): the frame format,
 * magic 0x184D2204 little-endian, whose descriptor says the version (01),
 * the largest block and, when present, the content size; and the legacy
 * format, magic 0x184C2102, that the Linux kernel decompresses for its
 * image and initramfs: 8 MiB blocks, each a 32-bit compressed size and data.
 * The frame's header checksum (xxHash32) is not checked: the version bits,
 * the reserved bits that must be zero and the block-size code are enough.
 */
#include "probe.h"

#include <stdio.h>

#define LEGACY_BLOCK (8u << 20)
/* LZ4_compressBound(8 MiB): the most one legacy block can take. */
#define LEGACY_BLOCK_BOUND (LEGACY_BLOCK + LEGACY_BLOCK / 255 + 16)

static int probe_lz4_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, 7);
	uint8_t flg, bd;

	(void)id;
	if (!h)
		return 1;
	if (!memcmp(h, "\x02\x21\x4C\x18", 4)) {
		const uint8_t *b = pv_bytes(v, 4, 4);
		uint32_t first = b ? le32(b) : 0;
		if (!b || !first || first > LEGACY_BLOCK_BOUND)
			return 1;
		snprintf(hit->detail, sizeof(hit->detail),
			 "legacy format (lz4 -l, as the Linux kernel reads it), first block %u bytes", first);
		return 0;
	}
	if (memcmp(h, "\x04\x22\x4D\x18", 4))
		return 1;
	flg = h[4], bd = h[5];
	if ((flg >> 6) != 1 || (flg & 0x02) || (bd & 0x8F) || ((bd >> 4) & 7) < 4)
		return 1;
	snprintf(hit->detail, sizeof(hit->detail), "frame format, %u KiB blocks%s", 64u << (2 * (((bd >> 4) & 7) - 4)),
		 flg & 0x20 ? "" : " (linked)");
	if (flg & 0x08) {
		const uint8_t *cs = pv_bytes(v, 6, 8);
		if (cs)
			probe_appendf(hit->detail, sizeof(hit->detail), ", content size %llu",
				      (unsigned long long)le64(cs));
	}
	if (flg & 0x04)
		probe_appendf(hit->detail, sizeof(hit->detail), ", content checksum");
	return 0;
}

/* Two magics, one probe: no magic for the driver, the probe checks both. */
const struct probe_desc probe_lz4 = {
	.name = "lz4", .cls = HIT_COMPRESSED, .probe = probe_lz4_fn,
};
