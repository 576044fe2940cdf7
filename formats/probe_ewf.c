/*
 * probe_ewf.c - Expert Witness Format (EnCase E01, and EWF2 Ex01): a
 * signature at 0 and the segment number.  The media inside is read by The
 * Sleuth Kit through libewf.
 */
#include "probe.h"

#include <stdio.h>

static int probe_ewf_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 13);

	(void)id;
	if (!s)
		return 1;
	if (!memcmp(s, "EVF\x09\x0d\x0a\xff\x00", 8) || !memcmp(s, "LVF\x09\x0d\x0a\xff\x00", 8)) {
		snprintf(hit->detail, sizeof(hit->detail), "EWF1 %s, segment %u",
			 s[0] == 'L' ? "logical (L01)" : "(E01)", le16(s + 9));
		return 0;
	}
	if (!memcmp(s, "EVF2\x0d\x0a\x81\x00", 8) || !memcmp(s, "LEF2\x0d\x0a\x81\x00", 8)) {
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
