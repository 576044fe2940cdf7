/*
 * probe_mbr.c - DOS/MBR partition table: 55 AA at 510 and four 16-byte
 * entries from 446.  A FAT/NTFS/exFAT boot sector also ends in 55 AA: it is
 * checked for first and is not a partition table.  Type 0xEE is a protective
 * MBR: the GPT probe then owns the partition list.
 */
#include "probe.h"

#include <stdio.h>

static bool is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0F || type == 0x85;
}

static void add_part(struct ident *id, const uint8_t *e, uint32_t number)
{
	struct part_entry *p;

	if (id->nparts >= IDENT_MAX_PARTS)
		return;
	p = &id->parts[id->nparts++];
	memset(p, 0, sizeof(*p));
	p->number = number;
	p->start = (uint64_t)le32(e + 8) * 512;
	p->length = (uint64_t)le32(e + 12) * 512;
	p->bootable = e[0] == 0x80;
	snprintf(p->type, sizeof(p->type), "0x%02x", e[4]);
	if (is_extended(e[4]))
		snprintf(p->name, sizeof(p->name), "extended");
}

static int probe_dos(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 512);
	int used = 0, protective = 0, extended = 0;

	if (!s || s[510] != 0x55 || s[511] != 0xAA || probe_is_volume_boot_record(s) || probe_is_bitlocker(s))
		return 1;
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = s + 446 + 16 * i;
		if (e[0] != 0 && e[0] != 0x80)
			return 1;
		if (e[4] == 0)
			continue;
		if (le32(e + 12) == 0)
			return 1;
		used++;
		protective += e[4] == 0xEE;
		extended += is_extended(e[4]);
	}
	if (!used)
		return 1;
	hit->block_size = 512;
	if (protective) {
		snprintf(hit->detail, sizeof(hit->detail), "protective MBR (GPT disk)");
		return 0;
	}
	if (!id->scheme[0]) {
		snprintf(id->scheme, sizeof(id->scheme), "mbr");
		for (int i = 0; i < 4; i++)
			if (s[446 + 16 * i + 4])
				add_part(id, s + 446 + 16 * i, (uint32_t)i + 1);
	}
	snprintf(hit->detail, sizeof(hit->detail), "%d primary partition%s%s", used, used == 1 ? "" : "s",
		 extended ? ", and an extended partition" : "");
	return 0;
}

const struct probe_desc probe_mbr = {
	.name = "mbr",
	.cls = HIT_PTABLE,
	.magic = "\x55\xAA",
	.magic_len = 2,
	.magic_off = 510,
	.probe = probe_dos,
};
