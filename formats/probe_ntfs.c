/*
 * probe_ntfs.c - NTFS: "NTFS    " at 3 and a sane geometry.  The volume
 * size counts the sectors of the boot record; the backup boot sector sits
 * just after them.
 */
#include "probe.h"

#include <stdio.h>

#define NTFS_MAX_CLUSTER (2u << 20) /* 2 MiB, the largest cluster Windows makes */

/* Sectors per cluster from boot-sector byte 13: 1..0x80 as it is; 0x81..0xFF
 * is a negative exponent, 2^(256 - v) (0xF8 = 256 sectors, 0xF4 = 4096).
 * Returns 0 when invalid: zero, not a power of two, or an exponent past 31,
 * which fits no cluster (0x81 would ask for 2^127 and make 1u << 127 UB). */
static uint32_t ntfs_sectors_per_cluster(uint8_t v)
{
	uint32_t spc = v <= 0x80 ? v : pow2_u32(256u - v);

	return spc && !(spc & (spc - 1)) ? spc : 0;
}

/* Bytes per sector and sectors per cluster from the boot sector; false when
 * the geometry is not one NTFS has.  The refine hook re-reads the sector, so
 * it checks again rather than trust what the probe saw. */
static bool ntfs_geometry(const uint8_t *s, uint32_t *bps, uint32_t *spc)
{
	*bps = le16(s + 11);
	*spc = ntfs_sectors_per_cluster(s[13]);
	if (*bps < 256 || *bps > 4096 || (*bps & (*bps - 1)) || !*spc)
		return false;
	return (uint64_t)*bps * *spc <= NTFS_MAX_CLUSTER;
}

static int probe_ntfs_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 512);
	uint32_t bps, spc;

	(void)id;
	if (!s || memcmp(s + 3, "NTFS    ", 8) || !ntfs_geometry(s, &bps, &spc))
		return 1;
	hit->block_size = bps * spc;
	hit->claimed_size = size_mul(le64(s + 40), bps);
	snprintf(hit->uuid, sizeof(hit->uuid), "%016llX", (unsigned long long)le64(s + 72));
	snprintf(hit->detail, sizeof(hit->detail), "%u-byte sectors, %u-byte clusters", bps, bps * spc);
	snprintf(hit->tsk_hint, sizeof(hit->tsk_hint), "ntfs");
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

/* Bytes in one MFT record: byte 0x40 is clusters per record when positive,
 * else 2^-v bytes.  0 when out of the range a record has (512..64 KiB). */
static uint32_t mft_record_size(const uint8_t *s, uint32_t cluster)
{
	int8_t cpr = (int8_t)s[0x40];
	uint64_t rec = cpr > 0 ? (uint64_t)cpr * cluster : pow2_u32((unsigned)-cpr);

	return rec >= 512 && rec <= 65536 ? (uint32_t)rec : 0;
}

/* The label: a resident $VOLUME_NAME attribute in the fixed-up record. */
static void label_from_record(const uint8_t *buf, uint32_t rec, struct probe_hit *hit)
{
	size_t off = le16(buf + 0x14);

	for (int i = 0; i < ATTR_MAX && off + 24 <= rec; i++) {
		uint32_t type = le32(buf + off), alen = le32(buf + off + 4);
		if (type == 0xFFFFFFFFu || alen < 24 || alen > rec - off)
			return;
		if (type == ATTR_VOLUME_NAME && buf[off + 8] == 0) { /* resident */
			uint32_t vlen = le32(buf + off + 0x10);
			uint16_t voff = le16(buf + off + 0x14);
			if (vlen <= alen && voff <= alen - vlen) /* no wrap of voff + vlen */
				probe_copy_utf16(hit->label, sizeof(hit->label), buf + off + voff, vlen, false);
			return;
		}
		off += alen;
	}
}

/* The volume label lives in $Volume (MFT record 3), attribute 0x60. */
static void ntfs_refine(const uint8_t *s, size_t slen, uint64_t base,
			long (*read)(void *, uint64_t, void *, size_t), void *ctx, uint8_t *buf, size_t buflen,
			struct probe_hit *hit)
{
	uint32_t bps, spc, rec;
	uint64_t mft, at;

	if (slen < 512 || !ntfs_geometry(s, &bps, &spc))
		return;
	rec = mft_record_size(s, bps * spc);
	if (!rec || rec > buflen)
		return;
	/* base + MFT cluster x cluster size + 3 records: an offset past 64 bits
	 * is no place to read. */
	if (!checked_mul(le64(s + 0x30), (uint64_t)bps * spc, &mft) || !checked_add(base, mft, &at) ||
	    !checked_add(at, (uint64_t)MFT_VOLUME * rec, &at))
		return;
	if (read(ctx, at, buf, rec) != (long)rec || memcmp(buf, "FILE", 4) || apply_fixups(buf, rec))
		return;
	label_from_record(buf, rec, hit);
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
