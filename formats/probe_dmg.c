/*
 * probe_dmg.c - Apple UDIF disk image (.dmg): the "koly" trailer in the last
 * 512 bytes, version 4, header size 512.
 */
#include "probe.h"

#include <stdio.h>

static int probe_dmg_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *k = v->size >= 512 ? pv_bytes(v, v->size - 512, 512) : NULL;

	(void)id;
	if (!k || memcmp(k, "koly", 4) || be32(k + 8) != 512)
		return 1;
	snprintf(hit->detail, sizeof(hit->detail), "UDIF version %u, %llu sectors", be32(k + 4),
		 (unsigned long long)be64(k + 0x1EC));
	return 0;
}

const struct probe_desc probe_dmg = {
	.name = "dmg",
	.cls = HIT_CONTAINER,
	.magic = "koly",
	.magic_len = 4,
	.magic_off = 512,
	.magic_from_end = true,
	.probe = probe_dmg_fn,
};
