/*
 * probe_iso9660.c - ISO 9660 (ECMA-119): the volume descriptor set from
 * sector 16, the primary volume descriptor, Joliet and Rock Ridge.
 * The walk over descriptors is capped (ISO_VD_MAX, as libblkid does).
 */
#include "probe.h"

#include <stdio.h>

#define ISO_VD_OFF 32768u
#define ISO_VD_SIZE 2048u
#define ISO_VD_MAX 16

static bool is_joliet(const uint8_t *svd)
{
	const uint8_t *esc = svd + 88;

	return esc[0] == '%' && esc[1] == '/' && (esc[2] == '@' || esc[2] == 'C' || esc[2] == 'E');
}

/* Rock Ridge: the root directory's "." entry carries an "SP" system-use
 * entry (SUSP) with check bytes BE EF.  Only looked at when in the view. */
static bool has_rock_ridge(const struct probe_view *v, uint32_t root_lba, uint32_t block)
{
	const uint8_t *dot = pv_bytes(v, (uint64_t)root_lba * block, 34 + 7);

	if (!dot || dot[0] < 34 + 7 || dot[32] != 1)
		return false;
	return dot[34] == 'S' && dot[35] == 'P' && dot[38] == 0xBE && dot[39] == 0xEF;
}

/* libblkid's guard against a bare CD001 inside some other data: the root
 * directory's first record is "." and points at its own extent. */
static bool root_dot_ok(const struct probe_view *v, uint32_t root_lba, uint32_t block)
{
	const uint8_t *dot = pv_bytes(v, (uint64_t)root_lba * block, 34);

	if (!dot)
		return true; /* beyond what we hold: cannot check, do not reject */
	return dot[0] >= 34 && dot[32] == 1 && dot[33] == 0 && le32(dot + 2) == root_lba;
}

int iso9660_parse_pvd(const uint8_t *pvd, struct probe_hit *hit)
{
	uint32_t blocks, block;
	const uint8_t *d;

	if (pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) || pvd[6] != 1)
		return 1;
	blocks = le32(pvd + 80);
	block = le16(pvd + 128);
	if (block < 512 || block > 8192 || (block & (block - 1)) || blocks == 0)
		return 1;
	probe_copy_label(hit->label, sizeof(hit->label), pvd + 40, 32);
	hit->block_size = block;
	hit->claimed_size = (uint64_t)blocks * block;
	d = pvd + 813; /* creation date: 16 digits and a time-zone byte */
	if (d[0] >= '0' && d[0] <= '9')
		snprintf(hit->detail, sizeof(hit->detail), "created %.4s-%.2s-%.2sT%.2s:%.2s:%.2s",
			 d, d + 4, d + 6, d + 8, d + 10, d + 12);
	return 0;
}

static void append_detail(struct probe_hit *hit, const char *what)
{
	size_t n = strlen(hit->detail);

	snprintf(hit->detail + n, sizeof(hit->detail) - n, "%s%s", n ? ", " : "", what);
}

static int probe_iso(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *pvd = NULL, *d;
	bool joliet = false;

	(void)id;
	for (int i = 0; i < ISO_VD_MAX; i++) {
		d = pv_bytes(v, ISO_VD_OFF + (uint64_t)i * ISO_VD_SIZE, ISO_VD_SIZE);
		if (!d || memcmp(d + 1, "CD001", 5))
			break;
		if (d[0] == 255)
			break;
		if (d[0] == 1 && !pvd)
			pvd = d;
		if (d[0] == 2 && is_joliet(d))
			joliet = true;
	}
	if (!pvd || iso9660_parse_pvd(pvd, hit))
		return 1;
	uint32_t root_lba = le32(pvd + 156 + 2);
	if (!root_dot_ok(v, root_lba, hit->block_size))
		return 1;
	if (joliet)
		append_detail(hit, "Joliet");
	if (has_rock_ridge(v, root_lba, hit->block_size))
		append_detail(hit, "Rock Ridge");
	snprintf(hit->tsk_hint, sizeof(hit->tsk_hint), "iso9660");
	return 0;
}

const struct probe_desc probe_iso9660 = {
	.name = "iso9660",
	.cls = HIT_OPTICAL,
	.magic = "CD001",
	.magic_len = 5,
	.magic_off = ISO_VD_OFF + 1,
	.probe = probe_iso,
};
