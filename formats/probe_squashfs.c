/*
 * probe_squashfs.c - squashfs: "hsqs" at 0 (little-endian superblock).
 */
#include "probe.h"

#include <stdio.h>

static int probe_squashfs_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 96);
	uint32_t bs;

	(void)id;
	if (!s || memcmp(s, "hsqs", 4))
		return 1;
	bs = le32(s + 12);
	if (bs < 4096 || bs > (1u << 20) || (bs & (bs - 1)))
		return 1;
	hit->block_size = bs;
	hit->claimed_size = le64(s + 40);
	snprintf(hit->detail, sizeof(hit->detail), "version %u.%u, %u inodes", le16(s + 28), le16(s + 30),
		 le32(s + 4));
	return 0;
}

const struct probe_desc probe_squashfs = {
	.name = "squashfs",
	.cls = HIT_FS,
	.magic = "hsqs",
	.magic_len = 4,
	.magic_off = 0,
	.probe = probe_squashfs_fn,
};
