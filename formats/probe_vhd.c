/*
 * probe_vhd.c - Microsoft VHD: the 512-byte footer with cookie "conectix"
 * at the end of the file (a dynamic disk also has a copy at 0).  A fixed VHD
 * is a raw disk followed by the footer, so the raw probes still see inside.
 */
#include "probe.h"

#include <stdio.h>

static bool footer_ok(const uint8_t *f)
{
	uint32_t sum = 0;

	if (memcmp(f, "conectix", 8))
		return false;
	for (int i = 0; i < 512; i++)
		if (i < 64 || i > 67)
			sum += f[i];
	return ~sum == be32(f + 64);
}

static const char *disk_type(uint32_t t)
{
	return t == 2 ? "fixed" : t == 3 ? "dynamic" : t == 4 ? "differencing" : "unknown type";
}

static int probe_vhd_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *f = v->size >= 512 ? pv_bytes(v, v->size - 512, 512) : NULL;

	(void)id;
	if (!f || !footer_ok(f)) {
		f = pv_bytes(v, 0, 512); /* a dynamic disk whose end we do not hold */
		if (!f || !footer_ok(f))
			return 1;
	}
	snprintf(hit->detail, sizeof(hit->detail), "%s, disk size %llu bytes", disk_type(be32(f + 60)),
		 (unsigned long long)be64(f + 48));
	return 0;
}

const struct probe_desc probe_vhd = {
	.name = "vhd",
	.cls = HIT_CONTAINER,
	.probe = probe_vhd_fn,
};
