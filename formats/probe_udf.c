/*
 * probe_udf.c - UDF (ECMA-167): the volume recognition sequence (BEA01,
 * NSR02/NSR03, TEA01) from byte 32768, then an anchor volume descriptor
 * pointer, then the logical volume identifier from the volume descriptor
 * sequence it points to.
 *
 * ECMA-167 3/8.4.2.1 puts anchors at two or more of sector 256, N - 256 and
 * N (the last sector), so a volume whose first anchor is damaged is still
 * found by its others; the block size is the medium's sector size (2048 on
 * optical discs, 512 or 4096 on hard disks), which only an anchor whose tag
 * names its own location tells.  The probe looks where the captured head
 * and tail reach; the refine hook reads the rest.  Every walk is capped
 * ("cap iteration to avoid DoS from crafted anchor length", libblkid).
 */
#include "probe.h"

#include <stdio.h>

#define VRS_OFF 32768u
#define VRS_MAX 64
#define VDS_MAX 64          /* descriptors walked in one sequence */
#define END_SEARCH_MAX 64   /* reads to find where the image ends (refine) */

/* The NSR revision (2 or 3) of a sequence whose descriptors are step bytes
 * apart (2048, or the sector size when larger), 0 when it has none. */
static int vrs_nsr_step(const struct probe_view *v, uint32_t step)
{
	bool bea = false;

	for (int i = 0; i < VRS_MAX; i++) {
		const uint8_t *d = pv_bytes(v, VRS_OFF + (uint64_t)i * step, 6);
		if (!d)
			break;
		if (!memcmp(d + 1, "CD001", 5)) /* bridge disc: ISO 9660 first */
			continue;
		if (!memcmp(d + 1, "BEA01", 5))
			bea = true;
		else if (bea && !memcmp(d + 1, "NSR02", 5))
			return 2;
		else if (bea && !memcmp(d + 1, "NSR03", 5))
			return 3;
		else
			break; /* TEA01 or anything else ends the sequence */
	}
	return 0;
}

/* The NSR revision; *step says how the sequence was laid out (4096: one
 * descriptor per 4 KiB sector, as on a 4Kn disk). */
static int vrs_nsr(const struct probe_view *v, uint32_t *step)
{
	int nsr;

	*step = 2048;
	if ((nsr = vrs_nsr_step(v, 2048)))
		return nsr;
	*step = 4096;
	return vrs_nsr_step(v, 4096);
}

/* A descriptor tag: identifier, checksum, and its own location must match. */
static bool tag_ok(const uint8_t *t, uint16_t ident, uint32_t loc)
{
	uint8_t sum = 0;

	for (int i = 0; i < 16; i++)
		if (i != 4)
			sum = (uint8_t)(sum + t[i]);
	return le16(t) == ident && sum == t[4] && le32(t + 12) == loc;
}

/* A dstring (ECMA-167 1/7.2.12): compression ID, characters, and the used
 * length in the last byte.  OSTA CS0: ID 8 is 8-bit (Latin-1), ID 16 is
 * UTF-16BE; UDF 2.50's 254 and 255 are the same encodings. */
static void copy_dstring(char *dst, size_t dstlen, const uint8_t *s, size_t len)
{
	size_t used = s[len - 1];

	if (used > len - 1)
		used = len - 1;
	dst[0] = '\0';
	if (used < 2)
		return;
	if (s[0] == 8 || s[0] == 254)
		probe_copy_latin1(dst, dstlen, s + 1, used - 1);
	else if (s[0] == 16 || s[0] == 255)
		probe_copy_utf16(dst, dstlen, s + 1, used - 1, true);
}

/* Walk a volume descriptor sequence (len bytes at block loc) for the
 * logical volume descriptor (tag 6), whose identifier is the label the
 * systems show; the primary volume descriptor's (tag 1) stands in for it.
 * False when the sequence could not be read at all. */
static bool read_label(struct probe_src *src, uint32_t loc, uint32_t len, uint32_t bs, struct probe_hit *hit)
{
	uint32_t count = len / bs;
	char pvd_label[sizeof(hit->label)] = "";

	if (count > VDS_MAX)
		count = VDS_MAX;
	/* Sector numbers are 32-bit: a sequence running past 2^32 - 1 ends
	 * there rather than wrapping to sector 0. */
	for (uint64_t sec = loc; sec < (uint64_t)loc + count && sec <= UINT32_MAX; sec++) {
		const uint8_t *d = probe_src_get(src, sec * bs, 512);
		if (!d)
			return sec != loc;
		if (tag_ok(d, 6, (uint32_t)sec)) {
			copy_dstring(hit->label, sizeof(hit->label), d + 84, 128);
			break;
		}
		if (tag_ok(d, 1, (uint32_t)sec) && !pvd_label[0])
			copy_dstring(pvd_label, sizeof(pvd_label), d + 24, 32);
		if (tag_ok(d, 8, (uint32_t)sec)) /* terminating descriptor */
			break;
	}
	if (!hit->label[0])
		memcpy(hit->label, pvd_label, sizeof(pvd_label));
	return true;
}

enum anchor { ANCHOR_FOUND, ANCHOR_ABSENT, ANCHOR_UNSEEN };

/* An anchor at block pos for block size bs: its main and reserve sequences'
 * extents (length, location).  ANCHOR_UNSEEN when the block could not be
 * read (beyond the captured bytes), ANCHOR_ABSENT when it holds no anchor. */
static enum anchor anchor_at(struct probe_src *src, uint64_t pos, uint32_t bs, uint32_t ext[4])
{
	const uint8_t *a;

	if (pos > UINT32_MAX || !(a = probe_src_get(src, pos * bs, 512)))
		return ANCHOR_UNSEEN;
	if (!tag_ok(a, 2, (uint32_t)pos))
		return ANCHOR_ABSENT;
	for (int i = 0; i < 4; i++)
		ext[i] = le32(a + 16 + 4 * i);
	return ANCHOR_FOUND;
}

/* The detail line; when the anchor used is not the one at block 256 and
 * block 256 was read, say that the first anchor is missing (a damaged or
 * partly overwritten volume). */
static void describe(struct probe_hit *hit, int nsr, uint64_t pos, bool first_absent)
{
	int n = snprintf(hit->detail, sizeof(hit->detail), "NSR0%d (UDF %s)", nsr,
			 nsr == 2 ? "1.50 or older" : "2.00 or newer");

	if (pos != 256 && first_absent && n > 0 && (size_t)n < sizeof(hit->detail))
		snprintf(hit->detail + n, sizeof(hit->detail) - n, ", no anchor at block 256: used the one at block %llu",
			 (unsigned long long)pos);
}

/* Look for an anchor at every place ECMA-167 allows (blocks 256, N - 256
 * and N, N the last block of a volume of size bytes) for each block size;
 * on the first one, set the block size and read the label from the main
 * sequence, or the reserve one.  Returns the anchor's block, 0 when none
 * was found; *first_absent says block 256 was read and held none. */
static uint64_t find_volume(struct probe_src *src, uint64_t size, uint32_t step, struct probe_hit *hit,
			    bool *first_absent)
{
	/* A 4 KiB recognition sequence means 4 KiB sectors: try that first. */
	static const uint32_t usual[] = {2048, 512, 4096, 1024}, wide[] = {4096, 2048, 512, 1024};
	const uint32_t *sizes = step == 4096 ? wide : usual;

	for (size_t k = 0; k < 4; k++) {
		uint32_t bs = sizes[k], ext[4];
		uint64_t n = size / bs;
		uint64_t pos[3] = {256, n > 513 ? n - 257 : 0, n > 257 ? n - 1 : 0};
		bool absent = false;
		for (int i = 0; i < 3; i++) {
			enum anchor a = pos[i] ? anchor_at(src, pos[i], bs, ext) : ANCHOR_UNSEEN;
			absent |= i == 0 && a == ANCHOR_ABSENT;
			if (a != ANCHOR_FOUND)
				continue;
			hit->block_size = bs;
			hit->label[0] = '\0';
			if (!read_label(src, ext[1], ext[0], bs, hit) || !hit->label[0])
				read_label(src, ext[3], ext[2], bs, hit);
			*first_absent = absent;
			return pos[i];
		}
	}
	return 0;
}

static int probe_udf_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	struct probe_src src = {.v = v};
	uint32_t step;
	int nsr = vrs_nsr(v, &step);
	uint64_t anchor;
	bool first_absent;

	(void)id;
	if (!nsr)
		return 1;
	if ((anchor = find_volume(&src, v->size, step, hit, &first_absent))) {
		describe(hit, nsr, anchor, first_absent);
		return 0;
	}
	/* A recognition sequence without an anchor in the captured bytes: say
	 * so; the refine hook (called while the label is empty) reads on. */
	snprintf(hit->detail, sizeof(hit->detail), "NSR0%d, no anchor found (blocks 256, N - 256, N)", nsr);
	return 0;
}

/* The refine hook is not told the image's size: the end is where the read
 * callback stops returning bytes, found by doubling from 1 MiB, then by
 * halving (each loop ends within 64 reads).  0 when nothing is readable. */
static uint64_t readable_size(struct probe_src *s)
{
	uint64_t good = 0, bad = 0; /* byte good reads; byte bad (when set) does not */

	if (!probe_src_get(s, 0, 1))
		return 0;
	for (unsigned k = 20; k < 63 && !bad; k++) {
		uint64_t at = (1ull << k) - 1;
		if (probe_src_get(s, at, 1))
			good = at;
		else
			bad = at;
	}
	if (!bad)
		return good + 1;
	for (int i = 0; i < 64 && bad - good > 1; i++) {
		uint64_t mid = good + (bad - good) / 2;
		if (probe_src_get(s, mid, 1))
			good = mid;
		else
			bad = mid;
	}
	return good + 1;
}

/* The anchor beyond the captured bytes (4 KiB blocks put sector 256 at
 * 1 MiB; N - 256 lies before the captured tail; a partition has no tail):
 * check the recognition sequence again, then look for the anchors with
 * reads. */
static void udf_refine(const uint8_t *start, size_t start_len, uint64_t base,
		       long (*read)(void *, uint64_t, void *, size_t), void *ctx, uint8_t *buf, size_t buflen,
		       struct probe_hit *hit)
{
	struct probe_src src = {.read = read, .ctx = ctx, .base = base, .buf = buf, .buflen = buflen};
	size_t want = VRS_OFF + VRS_MAX * 4096u;
	struct probe_view vrs = {0};
	uint32_t step;
	uint64_t anchor;
	bool first_absent;
	long got;
	int nsr;

	(void)start, (void)start_len;
	if (buflen < 4096)
		return;
	got = read(ctx, base, buf, want < buflen ? want : buflen);
	if (got <= 0)
		return;
	vrs.head = buf;
	vrs.head_len = vrs.size = (size_t)got;
	if (!(nsr = vrs_nsr(&vrs, &step)))
		return;
	if ((anchor = find_volume(&src, readable_size(&src), step, hit, &first_absent)))
		describe(hit, nsr, anchor, first_absent);
}

const struct probe_desc probe_udf = {
	.name = "udf",
	.cls = HIT_OPTICAL,
	.probe = probe_udf_fn,
	.refine = udf_refine,
};
