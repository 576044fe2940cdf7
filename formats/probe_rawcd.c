/*
 * probe_rawcd.c - raw CD images with 2352-byte sectors (.bin/.img from a
 * CD reader): every sector starts with the 12-byte sync pattern, then a BCD
 * address and the mode byte.  The ISO 9660 volume inside is found through a
 * 2048-byte view of sector 16's user data.  Such a file is not an ISO: it
 * needs conversion, not a rename.
 */
#include "probe.h"

#include <stdio.h>

#define RAW_SECTOR 2352u

static const uint8_t cd_sync[12] = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};

/* Offset of the user data in a sector of this mode, or 0 when unknown. */
static unsigned user_data_offset(uint8_t mode)
{
	return mode == 1 ? 16 : mode == 2 ? 24 : 0;
}

static int probe_raw(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s0 = pv_bytes(v, 0, 16), *s1 = pv_bytes(v, RAW_SECTOR, 16), *pvd;
	unsigned data;

	if (!s0 || !s1 || memcmp(s1, cd_sync, sizeof(cd_sync)))
		return 1;
	data = user_data_offset(s0[15]);
	hit->block_size = RAW_SECTOR;
	if (!data) {
		snprintf(hit->detail, sizeof(hit->detail), "mode %u/2352 (audio or unknown)", s0[15]);
		return 0;
	}
	pvd = pv_bytes(v, 16ull * RAW_SECTOR + data, 2048);
	if (pvd && iso9660_parse_pvd(pvd, hit) == 0) {
		uint64_t iso_bytes = hit->claimed_size;
		/* The volume spans as many raw sectors as it has 2048-byte blocks. */
		hit->claimed_size = iso_bytes / 2048 * RAW_SECTOR;
		hit->block_size = RAW_SECTOR;
		id->rawcd_iso_bytes = iso_bytes;
		snprintf(hit->detail, sizeof(hit->detail), "MODE%u/2352 with an ISO 9660 volume of %llu bytes",
			 s0[15], (unsigned long long)iso_bytes);
		hit->tsk_hint[0] = '\0'; /* TSK cannot read 2352-byte sectors */
		return 0;
	}
	snprintf(hit->detail, sizeof(hit->detail), "MODE%u/2352, no ISO 9660 volume at sector 16", s0[15]);
	return 0;
}

const struct probe_desc probe_rawcd = {
	.name = "rawcd",
	.cls = HIT_RAWCD,
	.magic = "\x00\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x00",
	.magic_len = 12,
	.magic_off = 0,
	.probe = probe_raw,
};
