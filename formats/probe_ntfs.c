/*
 * probe_ntfs.c - NTFS: "NTFS    " at 3 and a sane geometry.  The volume
 * size counts the sectors of the boot record; the backup boot sector sits
 * just after them.
 */
#include "probe.h"

#include <stdio.h>

static int probe_ntfs_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 512);
	uint32_t bps, spc;

	(void)id;
	if (!s || memcmp(s + 3, "NTFS    ", 8))
		return 1;
	bps = le16(s + 11);
	spc = s[13] <= 0x80 ? s[13] : 1u << (256 - s[13]); /* F4..FF: 2^-n */
	if (bps < 256 || bps > 4096 || (bps & (bps - 1)) || !spc || spc > 2048)
		return 1;
	hit->block_size = bps * spc;
	hit->claimed_size = le64(s + 40) * bps;
	snprintf(hit->uuid, sizeof(hit->uuid), "%016llX", (unsigned long long)le64(s + 72));
	snprintf(hit->detail, sizeof(hit->detail), "%u-byte sectors, %u-byte clusters", bps, bps * spc);
	hit->tsk_hint = "ntfs";
	return 0;
}

const struct probe_desc probe_ntfs = {
	.name = "ntfs",
	.cls = HIT_FS,
	.magic = "NTFS    ",
	.magic_len = 8,
	.magic_off = 3,
	.probe = probe_ntfs_fn,
};
