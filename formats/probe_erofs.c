/*
 * probe_erofs.c - EROFS (Linux fs/erofs/erofs_fs.h), the read-only file
 * system of Android's system, vendor and product images since Android 13:
 * a superblock at 1024 with magic 0xE0F5E1E2 (little-endian), the block
 * size as a shift, the block count, a UUID and a volume name.  Without this
 * probe a compressed EROFS image would be taken for high-entropy data.
 */
#include "probe.h"

#include <stdio.h>

#define EROFS_SB 1024

static int probe_erofs_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, EROFS_SB, 128);
	unsigned bits;

	(void)id;
	if (!s)
		return 1;
	bits = s[12];
	if (bits < 9 || bits > 16 || !le32(s + 36))
		return 1;
	hit->block_size = 1u << bits;
	hit->claimed_size = (uint64_t)le32(s + 36) << bits;
	if (!probe_all_zero(s + 48, 16))
		probe_format_uuid(hit->uuid, sizeof(hit->uuid), s + 48, false);
	probe_copy_label(hit->label, sizeof(hit->label), s + 64, 16);
	snprintf(hit->detail, sizeof(hit->detail), "%u-byte blocks, %llu inodes, features 0x%x/0x%x",
		 hit->block_size, (unsigned long long)le64(s + 16), le32(s + 8), le32(s + 80));
	return 0;
}

const struct probe_desc probe_erofs = {
	.name = "erofs", .cls = HIT_FS,
	.magic = "\xe2\xe1\xf5\xe0", .magic_len = 4, .magic_off = EROFS_SB, .probe = probe_erofs_fn,
};
