/*
 * probe_fat.c - FAT12/16/32 by the BIOS parameter block, not by the
 * informational "FAT12   " string: the type follows from the cluster count
 * (Microsoft's rule: under 4085 FAT12, under 65525 FAT16, else FAT32).
 *
 * FAT keeps its label twice: in the boot sector (written by format tools)
 * and as a volume-label entry in the root directory, the one Windows,
 * mlabel and fatlabel change and the one the systems show.  The root entry
 * wins (as in libblkid); a boot-sector copy that differs is reported beside
 * it.  Both are 8-bit strings in the OEM code page, decoded here as cp850
 * (probe_codepage.c).  The root directory is read from the captured head
 * when it lies there, else by the refine hook.
 */
#include "probe.h"

#include <stdio.h>

#define FAT_NO_NAME "NO NAME    "     /* what format tools write for "no label" */
#define FAT_DIR_BYTES_MAX (2u << 20)  /* root directory bytes looked at: 65535 entries */
#define FAT32_CHAIN_MAX 64            /* root directory clusters followed */

struct bpb {
	uint32_t bytes_per_sector, sectors_per_cluster, reserved, fats, root_entries;
	uint64_t total_sectors, fat_sectors;
};

/* The layout that follows from a sane BPB, in sectors (none overflow: each
 * is a product of at most 16-, 8- and 32-bit fields). */
struct fat_layout {
	struct bpb b;
	uint64_t root_sectors;  /* FAT12/16's fixed root directory */
	uint64_t data_start;    /* first sector of cluster 2 */
	uint64_t clusters;
	bool fat32;
};

/* What a search of the root directory found. */
enum root_label { ROOT_MORE, ROOT_NONE, ROOT_FOUND, ROOT_UNKNOWN };

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

/* The BPB and the layout it implies; false when it is no FAT (the metadata
 * would not fit in the volume).  Used by the probe and, on the re-read boot
 * sector, by the refine hook. */
static bool read_layout(const uint8_t *s, struct fat_layout *l)
{
	struct bpb *b = &l->b;

	if (s[510] != 0x55 || s[511] != 0xAA || !read_bpb(s, b))
		return false;
	l->root_sectors = ((uint64_t)b->root_entries * 32 + b->bytes_per_sector - 1) / b->bytes_per_sector;
	l->data_start = b->reserved + b->fats * b->fat_sectors + l->root_sectors;
	if (l->data_start >= b->total_sectors)
		return false;
	l->clusters = (b->total_sectors - l->data_start) / b->sectors_per_cluster;
	l->fat32 = l->clusters >= 65525;
	return true;
}

bool probe_is_volume_boot_record(const uint8_t *s)
{
	struct bpb b;

	return !memcmp(s + 3, "NTFS    ", 8) || !memcmp(s + 3, "EXFAT   ", 8) || read_bpb(s, &b);
}

/* How many bytes to take at once: a sector from the view (the head may end
 * inside the directory), as much as the scratch holds from a read. */
static size_t src_chunk(struct probe_src *s, const struct fat_layout *l, uint64_t left)
{
	size_t cap = s->v ? l->b.bytes_per_sector : (s->buflen / l->b.bytes_per_sector) * l->b.bytes_per_sector;

	return left < cap ? (size_t)left : cap;
}

/* The volume-label entry among n directory entries: attribute 0x08 without
 * the directory bit, not a long-name piece (0x0F) and not deleted (0xE5).
 * ROOT_NONE when the directory ends (a 0 first byte) before one. */
static enum root_label scan_entries(const uint8_t *d, size_t n, uint8_t label[11])
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = d + 32 * i;
		if (e[0] == 0)
			return ROOT_NONE;
		if (e[0] == 0xE5 || (e[11] & 0x3F) == 0x0F || (e[11] & 0x18) != 0x08)
			continue;
		memcpy(label, e, 11);
		if (label[0] == 0x05) /* a name starting with byte 0xE5 is stored so */
			label[0] = 0xE5;
		return ROOT_FOUND;
	}
	return ROOT_MORE;
}

/* Search len bytes of directory at off; ROOT_UNKNOWN when some could not be read. */
static enum root_label scan_region(struct probe_src *s, const struct fat_layout *l, uint64_t off,
				   uint64_t len, uint8_t label[11])
{
	while (len >= 32) {
		size_t n = src_chunk(s, l, len);
		const uint8_t *d = probe_src_get(s, off, n);
		enum root_label r;
		if (!d)
			return ROOT_UNKNOWN;
		if ((r = scan_entries(d, n / 32, label)) != ROOT_MORE)
			return r;
		off += n;
		len -= n;
	}
	return ROOT_MORE;
}

/* The FAT32 entry of cluster c: the next cluster, or 0 at the chain's end
 * (end mark, bad or free cluster, anything outside the volume); UINT32_MAX
 * when it could not be read. */
static uint32_t next_cluster(struct probe_src *s, const struct fat_layout *l, uint32_t c)
{
	const uint8_t *e = probe_src_get(s, (uint64_t)l->b.reserved * l->b.bytes_per_sector + 4ull * c, 4);
	uint32_t next;

	if (!e)
		return UINT32_MAX;
	next = le32(e) & 0x0FFFFFFFu;
	return next >= 2 && next - 2 < l->clusters ? next : 0;
}

/* FAT32: the root directory is a cluster chain from the BPB's root cluster,
 * followed for at most FAT32_CHAIN_MAX clusters and FAT_DIR_BYTES_MAX bytes
 * (a crafted chain may loop). */
static enum root_label scan_fat32_root(struct probe_src *s, const struct fat_layout *l, uint32_t c,
				       uint8_t label[11])
{
	uint64_t cluster_bytes = (uint64_t)l->b.bytes_per_sector * l->b.sectors_per_cluster, seen = 0;

	for (int i = 0; i < FAT32_CHAIN_MAX && seen < FAT_DIR_BYTES_MAX; i++) {
		uint64_t off;
		enum root_label r;
		if (c < 2 || c - 2 >= l->clusters)
			return ROOT_NONE;
		off = (l->data_start + (uint64_t)(c - 2) * l->b.sectors_per_cluster) * l->b.bytes_per_sector;
		if ((r = scan_region(s, l, off, cluster_bytes, label)) != ROOT_MORE)
			return r;
		seen += cluster_bytes;
		if ((c = next_cluster(s, l, c)) == UINT32_MAX)
			return ROOT_UNKNOWN;
		if (!c)
			return ROOT_NONE;
	}
	return ROOT_NONE; /* no label within the bound */
}

/* The root directory's volume-label entry into label (11 raw bytes). */
static enum root_label root_label(struct probe_src *s, const struct fat_layout *l, const uint8_t *boot,
				  uint8_t label[11])
{
	enum root_label r;
	uint64_t len;

	if (l->fat32)
		return scan_fat32_root(s, l, le32(boot + 44), label);
	len = (uint64_t)l->b.root_entries * 32;
	r = scan_region(s, l, (l->data_start - l->root_sectors) * l->b.bytes_per_sector,
			len < FAT_DIR_BYTES_MAX ? len : FAT_DIR_BYTES_MAX, label);
	return r == ROOT_MORE ? ROOT_NONE : r;
}

/* The boot sector's label (11 bytes), or NULL when the extended boot
 * signature (0x29) says there is none there. */
static const uint8_t *boot_label(const uint8_t *s, const struct fat_layout *l)
{
	return s[l->fat32 ? 66 : 38] == 0x29 ? s + (l->fat32 ? 71 : 43) : NULL;
}

static bool is_label(const uint8_t *raw)
{
	return raw && memcmp(raw, FAT_NO_NAME, 11) != 0;
}

static void copy_cp850(char *dst, size_t dstlen, const uint8_t *raw, struct probe_hit *hit)
{
	probe_copy_codepage(dst, dstlen, raw, 11, probe_cp850_high);
	if (probe_has_high_bytes(raw, 11))
		snprintf(hit->label_codepage, sizeof(hit->label_codepage), "cp850");
}

/* The labels from what was found: the root entry when there is one (a root
 * entry "NO NAME" counts as none, as in libblkid), else the boot sector's.
 * The boot sector's copy goes beside it when it differs; while the root
 * directory is unknown (beyond the view, for the refine hook to read) it
 * is all there is, and it goes there too. */
static void set_labels(struct probe_hit *hit, const uint8_t *boot, enum root_label root, const uint8_t *rootlbl)
{
	bool have_root = root == ROOT_FOUND && is_label(rootlbl);
	const uint8_t *main = have_root ? rootlbl : root != ROOT_UNKNOWN && is_label(boot) ? boot : NULL;

	hit->label[0] = hit->label2[0] = hit->label2_key[0] = hit->label_codepage[0] = '\0';
	if (main)
		copy_cp850(hit->label, sizeof(hit->label), main, hit);
	if (is_label(boot) && (root == ROOT_UNKNOWN || (have_root && memcmp(rootlbl, boot, 11)))) {
		copy_cp850(hit->label2, sizeof(hit->label2), boot, hit);
		snprintf(hit->label2_key, sizeof(hit->label2_key), "label_boot_sector");
	}
}

static int probe_fat_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 512);
	struct fat_layout l;
	struct probe_src src = {.v = v};
	uint8_t rootlbl[11];
	enum root_label root;

	(void)id;
	if (!s || !read_layout(s, &l))
		return 1;
	if (probe_is_bitlocker(s)) return 1; /* BitLocker's boot sector (probe_bitlocker.c), not a FAT volume */
	snprintf(hit->name, sizeof(hit->name), "%s", l.clusters < 4085 ? "fat12" : l.fat32 ? "fat32" : "fat16");
	hit->block_size = l.b.bytes_per_sector * l.b.sectors_per_cluster;
	hit->claimed_size = l.b.total_sectors * l.b.bytes_per_sector;
	/* Extended boot signature 0x29 says the label and serial are there. */
	if (boot_label(s, &l)) {
		const uint8_t *ser = s + (l.fat32 ? 67 : 39);
		snprintf(hit->uuid, sizeof(hit->uuid), "%04X-%04X", le16(ser + 2), le16(ser));
	}
	root = root_label(&src, &l, s, rootlbl);
	set_labels(hit, boot_label(s, &l), root, rootlbl);
	snprintf(hit->detail, sizeof(hit->detail), "%llu clusters of %u bytes",
		 (unsigned long long)l.clusters, hit->block_size);
	snprintf(hit->tsk_hint, sizeof(hit->tsk_hint), "fat");
	return 0;
}

/* The root directory beyond the captured head (a FAT32 root cluster behind
 * large FATs): read it.  A read that fails leaves the boot sector's label. */
static void fat_refine(const uint8_t *s, size_t slen, uint64_t base, long (*read)(void *, uint64_t, void *, size_t),
		       void *ctx, uint8_t *buf, size_t buflen, struct probe_hit *hit)
{
	struct fat_layout l;
	struct probe_src src = {.read = read, .ctx = ctx, .base = base, .buf = buf, .buflen = buflen};
	uint8_t rootlbl[11];
	enum root_label root;

	if (slen < 512 || !read_layout(s, &l) || buflen < l.b.bytes_per_sector)
		return;
	root = root_label(&src, &l, s, rootlbl);
	set_labels(hit, boot_label(s, &l), root == ROOT_UNKNOWN ? ROOT_NONE : root, rootlbl);
}

const struct probe_desc probe_fat = {
	.name = "fat",
	.cls = HIT_FS,
	.magic = "\x55\xAA",
	.magic_len = 2,
	.magic_off = 510,
	.probe = probe_fat_fn,
	.refine = fat_refine,
};
