/*
 * probe_ewf.c - Expert Witness Format (EnCase E01, and EWF2 Ex01): a
 * signature at 0 and the segment number.  The media inside is read by The
 * Sleuth Kit through libewf.
 */
#include "probe.h"

#include <stdio.h>

#define EWF1_HEADER 13 /* signature, fields start, segment (le16 at 9), fields end */
#define EWF2_HEADER 16 /* signature, version, compression, segment (le32 at 12) */

static int probe_ewf_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, EWF1_HEADER);

	(void)id;
	if (!s)
		return 1;
	if (!memcmp(s, "EVF\x09\x0d\x0a\xff\x00", 8) || !memcmp(s, "LVF\x09\x0d\x0a\xff\x00", 8)) {
		snprintf(hit->detail, sizeof(hit->detail), "EWF1 %s, segment %u",
			 s[0] == 'L' ? "logical (L01)" : "(E01)", le16(s + 9));
		return 0;
	}
	if (!memcmp(s, "EVF2\x0d\x0a\x81\x00", 8) || !memcmp(s, "LEF2\x0d\x0a\x81\x00", 8)) {
		/* The segment number lies past EWF1's 13 bytes: a 13-byte file
		 * holds the signature only (the fuzzer's first find). */
		if (!(s = pv_bytes(v, 0, EWF2_HEADER)))
			return 1;
		snprintf(hit->detail, sizeof(hit->detail), "EWF2 (Ex01), segment %u", le32(s + 12) & 0xffff);
		return 0;
	}
	return 1;
}

const struct probe_desc probe_ewf = {
	.name = "ewf",
	.cls = HIT_CONTAINER,
	.probe = probe_ewf_fn,
};
