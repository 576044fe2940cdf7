/*
 * probe_udf.c - UDF (ECMA-167): the volume recognition sequence (BEA01,
 * NSR02/NSR03, TEA01) from byte 32768, then the anchor volume descriptor
 * pointer at sector 256 for the usual block sizes, then the logical volume
 * identifier from the main volume descriptor sequence.  Every walk is capped
 * ("cap iteration to avoid DoS from crafted anchor length", libblkid).
 */
#include "probe.h"

#include <stdio.h>

#define VRS_OFF 32768u
#define VRS_MAX 64
#define VDS_MAX 64

/* The NSR revision (2 or 3), or 0 when the sequence has no NSR descriptor. */
static int vrs_nsr(const struct probe_view *v)
{
	bool bea = false;

	for (int i = 0; i < VRS_MAX; i++) {
		const uint8_t *d = pv_bytes(v, VRS_OFF + (uint64_t)i * 2048, 6);
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

/* A descriptor tag: identifier, and its own location must match. */
static bool tag_ok(const uint8_t *t, uint16_t ident, uint32_t loc)
{
	uint8_t sum = 0;

	for (int i = 0; i < 16; i++)
		if (i != 4)
			sum = (uint8_t)(sum + t[i]);
	return le16(t) == ident && sum == t[4] && le32(t + 12) == loc;
}

static void copy_dstring(char *dst, size_t dstlen, const uint8_t *s, size_t len)
{
	size_t used = s[len - 1];

	if (used > len - 1)
		used = len - 1;
	if (s[0] == 8 && used)
		probe_copy_label(dst, dstlen, s + 1, used - 1);
	else if (s[0] == 16 && used)
		probe_copy_utf16(dst, dstlen, s + 1, used - 1, true);
	else
		dst[0] = '\0';
}

/* Walk the main VDS for the logical volume descriptor (tag 6). */
static void read_label(const struct probe_view *v, const uint8_t *avdp, uint32_t bs, struct probe_hit *hit)
{
	uint32_t len = le32(avdp + 16), loc = le32(avdp + 20);
	uint32_t count = len / bs;

	if (count > VDS_MAX)
		count = VDS_MAX;
	/* Sector numbers are 32-bit: a sequence running past 2^32 - 1 ends
	 * there rather than wrapping to sector 0. */
	for (uint64_t sec = loc; sec < (uint64_t)loc + count && sec <= UINT32_MAX; sec++) {
		const uint8_t *d = pv_bytes(v, sec * bs, 512);
		if (!d)
			return;
		if (tag_ok(d, 6, (uint32_t)sec)) {
			copy_dstring(hit->label, sizeof(hit->label), d + 84, 128);
			return;
		}
		if (tag_ok(d, 1, (uint32_t)sec) && !hit->label[0])
			copy_dstring(hit->label, sizeof(hit->label), d + 24, 32);
		if (tag_ok(d, 8, (uint32_t)sec)) /* terminating descriptor */
			return;
	}
}

static int probe_udf_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	static const uint32_t sizes[] = {2048, 512, 4096, 1024};
	int nsr = vrs_nsr(v);

	(void)id;
	if (!nsr)
		return 1;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const uint8_t *avdp = pv_bytes(v, 256ull * sizes[i], 512);
		if (avdp && tag_ok(avdp, 2, 256)) {
			hit->block_size = sizes[i];
			read_label(v, avdp, sizes[i], hit);
			snprintf(hit->detail, sizeof(hit->detail), "NSR0%d (UDF %s)", nsr,
				 nsr == 2 ? "1.50 or older" : "2.00 or newer");
			return 0;
		}
	}
	/* A recognition sequence without an anchor we can see: say so. */
	snprintf(hit->detail, sizeof(hit->detail), "NSR0%d, anchor not found at sector 256", nsr);
	return 0;
}

const struct probe_desc probe_udf = {
	.name = "udf",
	.cls = HIT_OPTICAL,
	.probe = probe_udf_fn,
};
