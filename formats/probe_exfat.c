/*
 * probe_exfat.c - exFAT: "EXFAT   " at 3, sizes as powers of two, and the
 * volume label entry (type 0x83) of the root directory when it is in view.
 */
#include "probe.h"

#include <stdio.h>

#define ROOT_ENTRIES_MAX 256

/* Sector and cluster shifts from the boot sector; false when out of the
 * ranges exFAT allows (512-byte to 4 KiB sectors, clusters up to 32 MiB).
 * The refine hook re-reads the sector, so it checks again. */
static bool geometry_ok(const uint8_t *s)
{
	return s[108] >= 9 && s[108] <= 12 && s[109] <= 25 - s[108];
}

/* Byte offset of the root directory, from the boot sector; 0 if invalid or
 * past 64 bits (cluster heap offset + (root cluster - 2) clusters). */
static uint64_t root_dir_offset(const uint8_t *s)
{
	uint64_t heap = le32(s + 88), root = le32(s + 96), sectors, off;

	if (root < 2 || !geometry_ok(s) || !checked_shl(root - 2, s[109], &sectors) ||
	    !checked_add(heap, sectors, &sectors) || !checked_shl(sectors, s[108], &off))
		return 0;
	return off;
}

/* The volume label entry (type 0x83) among the root directory's entries. */
static void label_from_dir(const uint8_t *dir, size_t len, struct probe_hit *hit)
{
	for (size_t i = 0; i < ROOT_ENTRIES_MAX && (i + 1) * 32 <= len; i++) {
		const uint8_t *e = dir + 32 * i;
		if (e[0] == 0)
			return;
		if (e[0] == 0x83) {
			probe_copy_utf16(hit->label, sizeof(hit->label), e + 2, 2u * (e[1] > 11 ? 11 : e[1]), false);
			return;
		}
	}
}

static void read_label(const struct probe_view *v, const uint8_t *s, struct probe_hit *hit)
{
	uint64_t off = root_dir_offset(s);
	const uint8_t *dir = off ? pv_bytes(v, off, 32 * ROOT_ENTRIES_MAX) : NULL;

	if (dir)
		label_from_dir(dir, 32 * ROOT_ENTRIES_MAX, hit);
}

/* The root directory beyond the captured head: read its first entries. */
static void exfat_refine(const uint8_t *s, size_t slen, uint64_t base,
			 long (*read)(void *, uint64_t, void *, size_t), void *ctx, uint8_t *buf, size_t buflen,
			 struct probe_hit *hit)
{
	uint64_t off;
	size_t want = 32 * ROOT_ENTRIES_MAX < buflen ? 32 * ROOT_ENTRIES_MAX : buflen;
	long got;

	if (slen < 512 || !(off = root_dir_offset(s)) || !checked_add(base, off, &off))
		return;
	got = read(ctx, off, buf, want);
	if (got > 0)
		label_from_dir(buf, (size_t)got, hit);
}

static int probe_exfat_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 512);

	(void)id;
	if (!s || memcmp(s + 3, "EXFAT   ", 8) || !geometry_ok(s))
		return 1;
	hit->block_size = pow2_u32((unsigned)s[108] + s[109]);
	hit->claimed_size = size_shl(le64(s + 72), s[108]); /* VolumeLength is in sectors */
	snprintf(hit->uuid, sizeof(hit->uuid), "%04X-%04X", le16(s + 102), le16(s + 100));
	snprintf(hit->detail, sizeof(hit->detail), "revision %u.%u", s[105], s[104]);
	read_label(v, s, hit);
	snprintf(hit->tsk_hint, sizeof(hit->tsk_hint), "exfat");
	return 0;
}

const struct probe_desc probe_exfat = {
	.name = "exfat",
	.cls = HIT_FS,
	.magic = "EXFAT   ",
	.magic_len = 8,
	.magic_off = 3,
	.probe = probe_exfat_fn,
	.refine = exfat_refine,
};
