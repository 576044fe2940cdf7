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

#define MFT_VOLUME 3          /* $Volume's record number */
#define ATTR_VOLUME_NAME 0x60
#define ATTR_MAX 64           /* attributes walked in one record */

/* Undo the update-sequence fixups of a FILE record in place.  0 when sane. */
static int apply_fixups(uint8_t *rec, size_t len)
{
	uint16_t usa = le16(rec + 4), n = le16(rec + 6);

	if (n < 2 || usa + 2u * n > len || (n - 1) * 512u > len)
		return -1;
	for (uint16_t i = 1; i < n; i++) {
		uint8_t *end = rec + i * 512u - 2;
		if (memcmp(end, rec + usa, 2))
			return -1; /* torn record */
		memcpy(end, rec + usa + 2 * i, 2);
	}
	return 0;
}

/* The volume label lives in $Volume (MFT record 3), attribute 0x60. */
static void ntfs_refine(const uint8_t *s, size_t slen, uint64_t base,
			long (*read)(void *, uint64_t, void *, size_t), void *ctx, uint8_t *buf, size_t buflen,
			struct probe_hit *hit)
{
	uint32_t bps, spc, rec;
	int8_t cpr;
	uint64_t cluster, mft;
	size_t off;

	if (slen < 512)
		return;
	bps = le16(s + 11);
	spc = s[13] <= 0x80 ? s[13] : 1u << (256 - s[13]);
	cluster = (uint64_t)bps * spc;
	cpr = (int8_t)s[0x40];
	rec = cpr > 0 ? (uint32_t)(cpr * cluster) : (cpr > -31 ? 1u << -cpr : 0);
	if (!rec || rec > buflen || rec > 65536 || rec < 512)
		return;
	mft = le64(s + 0x30) * cluster;
	if (read(ctx, base + mft + (uint64_t)MFT_VOLUME * rec, buf, rec) != (long)rec || memcmp(buf, "FILE", 4) ||
	    apply_fixups(buf, rec))
		return;
	off = le16(buf + 0x14);
	for (int i = 0; i < ATTR_MAX && off + 24 <= rec; i++) {
		uint32_t type = le32(buf + off), alen = le32(buf + off + 4);
		if (type == 0xFFFFFFFFu || alen < 24 || off + alen > rec)
			return;
		if (type == ATTR_VOLUME_NAME && buf[off + 8] == 0) { /* resident */
			uint32_t vlen = le32(buf + off + 0x10);
			uint16_t voff = le16(buf + off + 0x14);
			if (voff + vlen <= alen)
				probe_copy_utf16(hit->label, sizeof(hit->label), buf + off + voff, vlen, false);
			return;
		}
		off += alen;
	}
}

const struct probe_desc probe_ntfs = {
	.name = "ntfs",
	.cls = HIT_FS,
	.magic = "NTFS    ",
	.magic_len = 8,
	.magic_off = 3,
	.probe = probe_ntfs_fn,
	.refine = ntfs_refine,
};
