/*
 * probe_vdi.c - VirtualBox VDI: signature 0xBEDA107F (little-endian) at
 * 0x40, image type at 0x4C, disk size at 0x170.
 */
#include "probe.h"

#include <stdio.h>

static int probe_vdi_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 0x180);
	uint32_t type;

	(void)id;
	if (!s || le32(s + 0x40) != 0xBEDA107Fu)
		return 1;
	type = le32(s + 0x4C);
	snprintf(hit->detail, sizeof(hit->detail), "%s, disk size %llu bytes",
		 type == 1 ? "dynamic" : type == 2 ? "fixed" : "other type", (unsigned long long)le64(s + 0x170));
	return 0;
}

const struct probe_desc probe_vdi = {
	.name = "vdi",
	.cls = HIT_CONTAINER,
	.magic = "\x7F\x10\xDA\xBE",
	.magic_len = 4,
	.magic_off = 0x40,
	.probe = probe_vdi_fn,
};
