/*
 * probe_btrfs.c - btrfs: the primary superblock at 64 KiB, magic
 * "_BHRfS_M" at +64.  The Sleuth Kit does not read btrfs.
 */
#include "probe.h"

#include <stdio.h>

#define SB 65536u

static int probe_btrfs_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, SB, 4096);
	uint32_t sectorsize;

	(void)id;
	if (!s || memcmp(s + 64, "_BHRfS_M", 8))
		return 1;
	sectorsize = le32(s + 0x90);
	if (sectorsize < 512 || sectorsize > 65536 || (sectorsize & (sectorsize - 1)))
		return 1;
	hit->block_size = sectorsize;
	hit->claimed_size = le64(s + 0x70);
	probe_copy_label(hit->label, sizeof(hit->label), s + 0x12b, 256);
	probe_format_uuid(hit->uuid, sizeof(hit->uuid), s + 0x20, false);
	snprintf(hit->detail, sizeof(hit->detail), "%llu devices", (unsigned long long)le64(s + 0x88));
	return 0;
}

const struct probe_desc probe_btrfs = {
	.name = "btrfs",
	.cls = HIT_FS,
	.magic = "_BHRfS_M",
	.magic_len = 8,
	.magic_off = SB + 64,
	.probe = probe_btrfs_fn,
};
