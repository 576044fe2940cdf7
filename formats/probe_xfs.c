/*
 * probe_xfs.c - XFS: "XFSB" at 0, big-endian superblock.  Not in TSK 4.11.
 */
#include "probe.h"

#include <stdio.h>

static int probe_xfs_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 512);
	uint32_t bs;

	(void)id;
	if (!s || memcmp(s, "XFSB", 4))
		return 1;
	bs = be32(s + 4);
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		return 1;
	hit->block_size = bs;
	hit->claimed_size = size_mul(be64(s + 8), bs);
	probe_copy_label(hit->label, sizeof(hit->label), s + 108, 12);
	probe_format_uuid(hit->uuid, sizeof(hit->uuid), s + 32, false);
	snprintf(hit->detail, sizeof(hit->detail), "version %u", be16(s + 100) & 0xF);
	return 0;
}

const struct probe_desc probe_xfs = {
	.name = "xfs",
	.cls = HIT_FS,
	.magic = "XFSB",
	.magic_len = 4,
	.magic_off = 0,
	.probe = probe_xfs_fn,
};
