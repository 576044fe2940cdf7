/*
 * probe_sparseimage.c - macOS sparse disk image (.sparseimage; libyal
 * libmodi's "Mac OS sparse image format"): a 4096-byte big-endian header,
 * "sprs", version 3, sectors per band, the virtual size in sectors, and an
 * array of band numbers (0: not allocated); the bands follow in the order
 * they were allocated.  A container: the virtual disk's size is in the
 * detail.  No claimed_size: whether the last band is always whole is not
 * documented, and a wrong one would report a sound file as truncated.
 */
#include "probe.h"

#include <stdio.h>

#define SPRS_HEADER 4096
#define SPRS_BANDS ((SPRS_HEADER - 64) / 4)

static int probe_sparseimage_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, SPRS_HEADER);
	uint32_t per_band, bands = 0;
	uint64_t sectors;

	(void)id;
	if (!h || be32(h + 4) != 3)
		return 1;
	per_band = be32(h + 8);
	if (!per_band || (per_band & (per_band - 1)) || per_band > (1u << 22))
		return 1;
	sectors = be64(h + 28) ? be64(h + 28) : be32(h + 16);
	for (int i = 0; i < SPRS_BANDS; i++)
		bands += be32(h + 64 + 4 * i) != 0;
	hit->block_size = 512;
	snprintf(hit->detail, sizeof(hit->detail), "virtual size %llu bytes, %u-byte bands, %u band%s allocated%s",
		 (unsigned long long)size_mul(sectors, 512), per_band * 512, bands, bands == 1 ? "" : "s",
		 be64(h + 20) ? " (and more in index nodes)" : "");
	return 0;
}

const struct probe_desc probe_sparseimage = {
	.name = "sparseimage", .cls = HIT_CONTAINER,
	.magic = "sprs", .magic_len = 4, .magic_off = 0, .probe = probe_sparseimage_fn,
};
