/*
 * probe_vhdx.c - Microsoft VHDX: file type identifier "vhdxfile" at 0.
 */
#include "probe.h"

#include <stdio.h>

static int probe_vhdx_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 8, 512);

	(void)id;
	if (s)
		probe_copy_utf16(hit->detail, sizeof(hit->detail), s, 512, false);
	return 0;
}

const struct probe_desc probe_vhdx = {
	.name = "vhdx",
	.cls = HIT_CONTAINER,
	.magic = "vhdxfile",
	.magic_len = 8,
	.magic_off = 0,
	.probe = probe_vhdx_fn,
};
