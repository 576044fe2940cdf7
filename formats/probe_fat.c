/*
 * probe_fat.c - FAT12/16/32 by the BIOS parameter block, not by the
 * informational "FAT12   " string: the type follows from the cluster count
 * (Microsoft's rule: under 4085 FAT12, under 65525 FAT16, else FAT32).
 */
#include "probe.h"

#include <stdio.h>

struct bpb {
	uint32_t bytes_per_sector, sectors_per_cluster, reserved, fats, root_entries;
	uint64_t total_sectors, fat_sectors;
};

static bool power_of_two(uint32_t v) { return v && !(v & (v - 1)); }

/* Read and sanity-check the BPB; false when it is not a FAT boot sector. */
static bool read_bpb(const uint8_t *s, struct bpb *b)
{
	if (!(s[0] == 0xEB && s[2] == 0x90) && s[0] != 0xE9)
		return false;
	b->bytes_per_sector = le16(s + 11);
	b->sectors_per_cluster = s[13];
	b->reserved = le16(s + 14);
	b->fats = s[16];
	b->root_entries = le16(s + 17);
	b->total_sectors = le16(s + 19) ? le16(s + 19) : le32(s + 32);
	b->fat_sectors = le16(s + 22) ? le16(s + 22) : le32(s + 36);
	if (b->bytes_per_sector < 512 || b->bytes_per_sector > 4096 || !power_of_two(b->bytes_per_sector))
		return false;
	if (!power_of_two(b->sectors_per_cluster) || !b->reserved || b->fats < 1 || b->fats > 2)
		return false;
	if (s[21] != 0xF0 && s[21] < 0xF8)
		return false;
	return b->total_sectors && b->fat_sectors;
}

bool probe_is_volume_boot_record(const uint8_t *s)
{
	struct bpb b;

	return !memcmp(s + 3, "NTFS    ", 8) || !memcmp(s + 3, "EXFAT   ", 8) || read_bpb(s, &b);
}

static int probe_fat_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 512);
	struct bpb b;
	uint64_t root_sectors, meta, clusters;
	bool fat32;

	(void)id;
	if (!s || s[510] != 0x55 || s[511] != 0xAA || !read_bpb(s, &b))
		return 1;
	root_sectors = ((uint64_t)b.root_entries * 32 + b.bytes_per_sector - 1) / b.bytes_per_sector;
	meta = b.reserved + b.fats * b.fat_sectors + root_sectors;
	if (meta >= b.total_sectors)
		return 1;
	clusters = (b.total_sectors - meta) / b.sectors_per_cluster;
	fat32 = clusters >= 65525;
	snprintf(hit->name, sizeof(hit->name), "%s", clusters < 4085 ? "fat12" : fat32 ? "fat32" : "fat16");
	hit->block_size = b.bytes_per_sector * b.sectors_per_cluster;
	hit->claimed_size = b.total_sectors * b.bytes_per_sector;
	/* Extended boot signature 0x29 says the label and serial are there. */
	if (s[fat32 ? 66 : 38] == 0x29) {
		const uint8_t *ser = s + (fat32 ? 67 : 39);
		probe_copy_label(hit->label, sizeof(hit->label), s + (fat32 ? 71 : 43), 11);
		if (!strcmp(hit->label, "NO NAME"))
			hit->label[0] = '\0';
		snprintf(hit->uuid, sizeof(hit->uuid), "%04X-%04X", le16(ser + 2), le16(ser));
	}
	snprintf(hit->detail, sizeof(hit->detail), "%llu clusters of %u bytes",
		 (unsigned long long)clusters, hit->block_size);
	snprintf(hit->tsk_hint, sizeof(hit->tsk_hint), "fat");
	return 0;
}

const struct probe_desc probe_fat = {
	.name = "fat",
	.cls = HIT_FS,
	.magic = "\x55\xAA",
	.magic_len = 2,
	.magic_off = 510,
	.probe = probe_fat_fn,
};
