/*
 * probe_eltorito.c - El Torito boot record (a bootable CD/DVD): the boot
 * record volume descriptor at sector 17 and, when it lies in the view, the
 * boot catalog's validation entry (header 01, key 55 AA, words sum to 0).
 */
#include "probe.h"

#include <stdio.h>

static const char *platform_name(uint8_t id)
{
	switch (id) {
	case 0: return "x86";
	case 1: return "PowerPC";
	case 2: return "Mac";
	case 0xEF: return "EFI";
	default: return "other";
	}
}

static int probe_boot(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *br = pv_bytes(v, 17 * 2048, 2048), *cat;
	uint32_t cat_lba;
	uint16_t sum = 0;

	(void)id;
	if (!br || br[0] != 0 || memcmp(br + 7, "EL TORITO SPECIFICATION", 23))
		return 1;
	cat_lba = le32(br + 71);
	cat = pv_bytes(v, (uint64_t)cat_lba * 2048, 32);
	if (!cat) {
		snprintf(hit->detail, sizeof(hit->detail), "boot catalog at sector %u (not checked)", cat_lba);
		return 0;
	}
	for (int i = 0; i < 32; i += 2)
		sum = (uint16_t)(sum + le16(cat + i));
	if (cat[0] != 1 || cat[30] != 0x55 || cat[31] != 0xAA || sum != 0) {
		snprintf(hit->detail, sizeof(hit->detail), "boot catalog at sector %u is invalid", cat_lba);
		return 0;
	}
	snprintf(hit->detail, sizeof(hit->detail), "boot catalog at sector %u, platform %s", cat_lba,
		 platform_name(cat[1]));
	return 0;
}

const struct probe_desc probe_eltorito = {
	.name = "el-torito",
	.cls = HIT_OPTICAL,
	.magic = "CD001",
	.magic_len = 5,
	.magic_off = 17 * 2048 + 1,
	.probe = probe_boot,
};
