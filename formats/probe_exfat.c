/*
 * probe_exfat.c - exFAT: "EXFAT   " at 3, sizes as powers of two, and the
 * volume label entry (type 0x83) of the root directory when it is in view.
 */
#include "probe.h"

#include <stdio.h>

#define ROOT_ENTRIES_MAX 256

static void read_label(const struct probe_view *v, const uint8_t *s, struct probe_hit *hit)
{
	uint32_t bps = 1u << s[108], spc = 1u << s[109];
	uint64_t heap = le32(s + 88), root = le32(s + 96);
	uint64_t off;

	if (root < 2)
		return;
	off = (heap + (root - 2) * spc) * bps;
	for (int i = 0; i < ROOT_ENTRIES_MAX; i++) {
		const uint8_t *e = pv_bytes(v, off + 32ull * i, 32);
		if (!e || e[0] == 0)
			return;
		if (e[0] == 0x83) {
			probe_copy_utf16(hit->label, sizeof(hit->label), e + 2, 2u * (e[1] > 11 ? 11 : e[1]), false);
			return;
		}
	}
}

static int probe_exfat_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 512);

	(void)id;
	if (!s || memcmp(s + 3, "EXFAT   ", 8) || s[108] < 9 || s[108] > 12 || s[109] > 25 - s[108])
		return 1;
	hit->block_size = 1u << (s[108] + s[109]);
	hit->claimed_size = le64(s + 72) << s[108];
	snprintf(hit->uuid, sizeof(hit->uuid), "%04X-%04X", le16(s + 102), le16(s + 100));
	snprintf(hit->detail, sizeof(hit->detail), "revision %u.%u", s[105], s[104]);
	read_label(v, s, hit);
	hit->tsk_hint = "exfat";
	return 0;
}

const struct probe_desc probe_exfat = {
	.name = "exfat",
	.cls = HIT_FS,
	.magic = "EXFAT   ",
	.magic_len = 8,
	.magic_off = 3,
	.probe = probe_exfat_fn,
};
