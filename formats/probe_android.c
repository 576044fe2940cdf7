/*
 * probe_android.c - the Android images that are named .img but are not
 * disks (AOSP system/tools/mkbootimg, libavb, fs_mgr/liblp):
 *   android-boot          "ANDROID!" boot, recovery and init_boot images,
 *                         header versions 0-4 (and the old Qualcomm/Samsung
 *                         header that kept a device-tree size at 40)
 *   android-vendor-boot   "VNDRBOOT", versions 3 and 4
 *   android-dtbo          a device-tree overlay table, 0xd7b7ab1e (BE) at 0
 *   android-vbmeta        "AVB0": an Android Verified Boot metadata image
 *   android-super         dynamic partitions: liblp geometry at 4096
 * Each says the size its header accounts for (claimed_size), so a cut copy
 * is reported as truncated; a longer file (padded to its partition's size)
 * is normal.
 */
#include "probe.h"

#include <stdio.h>

#define BOOT_V3_PAGE 4096
#define DTBO_MAX_ENTRIES 4096
#define LP_GEOMETRY_OFF 4096
#define LP_METADATA_OFF 12288   /* reserved 4096 + geometry + its backup */
#define LP_PARTS_LISTED 64

static bool pow2_between(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && !(v & (v - 1));
}

/* Pages of page bytes that bytes fill. */
static uint64_t pages(uint64_t bytes, uint32_t page)
{
	return bytes / page + (bytes % page != 0);
}

/* ", Android 11.0.0, patch 2021-05" from the packed os_version field. */
static void add_os_version(struct probe_hit *hit, uint32_t ov)
{
	uint32_t os = ov >> 11, patch = ov & 0x7ff;

	if (os)
		probe_appendf(hit->detail, sizeof(hit->detail), ", Android %u.%u.%u", os >> 14, (os >> 7) & 0x7f,
			      os & 0x7f);
	if (patch)
		probe_appendf(hit->detail, sizeof(hit->detail), ", patch %u-%02u", 2000 + (patch >> 4), patch & 0xf);
}

static void add_cmdline(struct probe_hit *hit, const uint8_t *p, size_t len)
{
	char start[48];

	probe_copy_text(start, sizeof(start), p, len);
	if (start[0])
		probe_appendf(hit->detail, sizeof(hit->detail), ", cmdline \"%s\"", start);
}

static void add_size(struct probe_hit *hit, const char *what, uint32_t bytes)
{
	if (bytes)
		probe_appendf(hit->detail, sizeof(hit->detail), ", %s %u", what, bytes);
}

/* Versions 3 and 4: 4096-byte pages; kernel, ramdisk (and v4's boot
 * signature) each padded to a page.  An init_boot image has no kernel. */
static int boot_v3(const uint8_t *h, uint32_t hv, struct probe_hit *hit)
{
	uint32_t kernel = le32(h + 8), ramdisk = le32(h + 12), sig = hv == 4 ? le32(h + 1580) : 0;
	uint64_t n = 1 + pages(kernel, BOOT_V3_PAGE) + pages(ramdisk, BOOT_V3_PAGE) + pages(sig, BOOT_V3_PAGE);

	hit->claimed_size = size_mul(n, BOOT_V3_PAGE);
	hit->block_size = BOOT_V3_PAGE;
	snprintf(hit->detail, sizeof(hit->detail), "header v%u, 4096-byte pages", hv);
	if (kernel)
		add_size(hit, "kernel", kernel);
	else
		probe_appendf(hit->detail, sizeof(hit->detail), ", no kernel (init_boot)");
	add_size(hit, "ramdisk", ramdisk);
	add_size(hit, "signature", sig);
	add_os_version(hit, le32(h + 16));
	add_cmdline(hit, h + 44, 1536);
	return 0;
}

/* Versions 0-2: page size in the header; kernel, ramdisk, second stage,
 * then (v1) a recovery DTBO/ACPIO and (v2) a DTB, each padded to a page.
 * A value above 4 at 40 is the old Qualcomm/Samsung dt_size: a device-tree
 * table after the second stage. */
static int boot_v0(const struct probe_view *v, const uint8_t *h, uint32_t hv, struct probe_hit *hit)
{
	uint32_t page = le32(h + 36), kernel = le32(h + 8), ramdisk = le32(h + 16), second = le32(h + 24);
	uint32_t dtbo = 0, dtb = 0, qcom_dt = hv > 4 ? hv : 0;
	uint64_t n;

	if (!pow2_between(page, 512, 1u << 17) || !kernel)
		return 1;
	if (hv == 1 || hv == 2) {
		const uint8_t *x = pv_bytes(v, 0, hv == 1 ? 1648 : 1660);
		if (!x)
			return 1;
		dtbo = le32(x + 1632);
		dtb = hv == 2 ? le32(x + 1648) : 0;
	}
	n = 1 + pages(kernel, page) + pages(ramdisk, page) + pages(second, page) + pages(dtbo, page) +
	    pages(dtb, page) + pages(qcom_dt, page);
	hit->claimed_size = size_mul(n, page);
	hit->block_size = page;
	probe_copy_label(hit->label, sizeof(hit->label), h + 48, 16); /* the board (product) name */
	snprintf(hit->detail, sizeof(hit->detail), "header v%u, %u-byte pages", qcom_dt ? 0 : hv, page);
	add_size(hit, "kernel", kernel);
	add_size(hit, "ramdisk", ramdisk);
	add_size(hit, "second", second);
	add_size(hit, "recovery dtbo", dtbo);
	add_size(hit, "dtb", dtb);
	add_size(hit, "vendor device tree", qcom_dt);
	add_os_version(hit, qcom_dt ? 0 : le32(h + 44));
	add_cmdline(hit, h + 64, 512);
	return 0;
}

static int probe_android_boot_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, 1632);
	uint32_t hv;

	(void)id;
	if (!h)
		return 1;
	hv = le32(h + 40);
	if (hv == 3 || hv == 4)
		return boot_v3(h, hv, hit);
	return boot_v0(v, h, hv, hit);
}

/* "VNDRBOOT": header, vendor ramdisk(s), DTB, and in v4 the vendor ramdisk
 * table and the bootconfig, each padded to the header's page size. */
static int probe_android_vendor_boot_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, 2112);
	uint32_t hv, page, ramdisk, hsize, dtb, table = 0, nramdisks = 0, bootconfig = 0;
	uint64_t n;

	(void)id;
	if (!h)
		return 1;
	hv = le32(h + 8), page = le32(h + 12), ramdisk = le32(h + 24), hsize = le32(h + 2096), dtb = le32(h + 2100);
	if ((hv != 3 && hv != 4) || !pow2_between(page, 512, 1u << 17) || hsize > 65536)
		return 1;
	if (hv == 4) {
		const uint8_t *x = pv_bytes(v, 0, 2128);
		if (!x)
			return 1;
		table = le32(x + 2112), nramdisks = le32(x + 2116), bootconfig = le32(x + 2124);
	}
	/* Early mkbootimg wrote 2108 for v3's 2112-byte header. */
	if (hsize < (hv == 3 ? 2112u : 2128u))
		hsize = hv == 3 ? 2112u : 2128u;
	n = pages(hsize, page) + pages(ramdisk, page) + pages(dtb, page) + pages(table, page) + pages(bootconfig, page);
	hit->claimed_size = size_mul(n, page);
	hit->block_size = page;
	probe_copy_label(hit->label, sizeof(hit->label), h + 2080, 16);
	snprintf(hit->detail, sizeof(hit->detail), "header v%u, %u-byte pages", hv, page);
	add_size(hit, "vendor ramdisk", ramdisk);
	if (nramdisks > 1)
		probe_appendf(hit->detail, sizeof(hit->detail), " (%u ramdisks)", nramdisks);
	add_size(hit, "dtb", dtb);
	add_size(hit, "bootconfig", bootconfig);
	add_cmdline(hit, h + 28, 2048);
	return 0;
}

/* The DT table (mkdtboimg): a 32-byte big-endian header, then 32-byte
 * entries, each naming a device tree inside total_size. */
static int probe_android_dtbo_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, 32), *e;
	uint32_t total, count, eoff, page;

	(void)id;
	if (!h || be32(h + 8) != 32 || be32(h + 12) != 32)
		return 1;
	total = be32(h + 4), count = be32(h + 16), eoff = be32(h + 20), page = be32(h + 24);
	if (count > DTBO_MAX_ENTRIES || eoff < 32 || (uint64_t)eoff + (uint64_t)count * 32 > total ||
	    (page && !pow2_between(page, 512, 1u << 17)))
		return 1;
	if (count && (e = pv_bytes(v, eoff, 32)) && (uint64_t)be32(e) + be32(e + 4) > total)
		return 1; /* the first device tree lies outside the table */
	hit->claimed_size = total;
	hit->block_size = page;
	snprintf(hit->detail, sizeof(hit->detail), "%u device-tree overlay%s, version %u, %u-byte pages", count,
		 count == 1 ? "" : "s", be32(h + 28), page);
	return 0;
}

static const char *avb_algorithm(uint32_t a)
{
	static const char *const names[] = {"no signature", "SHA256_RSA2048", "SHA256_RSA4096", "SHA256_RSA8192",
					    "SHA512_RSA2048", "SHA512_RSA4096", "SHA512_RSA8192"};

	return a < sizeof(names) / sizeof(names[0]) ? names[a] : "unknown algorithm";
}

/* AvbVBMetaImageHeader: 256 bytes, big-endian; then the authentication and
 * auxiliary blocks, each a multiple of 64 bytes. */
static int probe_android_vbmeta_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, 256);
	uint64_t auth, aux;
	uint32_t flags;
	char release[49];

	(void)id;
	if (!h || be32(h + 4) != 1)
		return 1; /* libavb's major version is 1 */
	auth = be64(h + 12), aux = be64(h + 20), flags = be32(h + 120);
	if (auth % 64 || aux % 64)
		return 1;
	hit->claimed_size = size_add(256, size_add(auth, aux));
	probe_copy_text(release, sizeof(release), h + 128, 48);
	snprintf(hit->detail, sizeof(hit->detail), "libavb %u.%u, %s, rollback index %llu", be32(h + 4), be32(h + 8),
		 avb_algorithm(be32(h + 28)), (unsigned long long)be64(h + 112));
	if (flags & 1)
		probe_appendf(hit->detail, sizeof(hit->detail), ", hashtree disabled");
	if (flags & 2)
		probe_appendf(hit->detail, sizeof(hit->detail), ", verification disabled");
	if (release[0])
		probe_appendf(hit->detail, sizeof(hit->detail), ", \"%s\"", release);
	return 0;
}

/* The partitions table of liblp metadata (slot 0) as ", partitions: a, b".
 * tables is where the tables start; each access is checked. */
static void lp_list_partitions(const struct probe_view *v, const uint8_t *m, uint64_t tables, struct probe_hit *hit)
{
	uint32_t off = le32(m + 80), num = le32(m + 84), esz = le32(m + 88);

	if (esz < 52 || !num)
		return;
	probe_appendf(hit->detail, sizeof(hit->detail), ", %u partition%s:", num, num == 1 ? "" : "s");
	for (uint32_t i = 0; i < num && i < LP_PARTS_LISTED; i++) {
		const uint8_t *p = pv_bytes(v, tables + off + (uint64_t)i * esz, 36);
		char name[37];
		if (!p)
			return;
		probe_copy_text(name, sizeof(name), p, 36);
		probe_appendf(hit->detail, sizeof(hit->detail), "%s %s", i ? "," : "", name);
	}
}

/* LpMetadataGeometry (52 bytes) at geo, then the metadata of slot 0 at
 * meta: a header (128 bytes, 256 from 10.2 on) and its tables.  On a super
 * partition (geometry at 4096, metadata at 12288) the first block device's
 * size is the partition's; lpmake's super_empty.img (liblp's
 * WriteToImageFile: geometry at 0, metadata at 4096) is only the header
 * and its tables. */
static int probe_super_at(const struct probe_view *v, uint64_t geo, uint64_t meta, struct probe_hit *hit)
{
	const uint8_t *g = pv_bytes(v, geo, 52), *m, *bd;
	uint32_t maxsize, slots, lbs, hsize;
	uint64_t tables;

	if (!g || le32(g + 4) != 52)
		return 1;
	maxsize = le32(g + 40), slots = le32(g + 44), lbs = le32(g + 48);
	if (!maxsize || maxsize % 512 || maxsize > (64u << 20) || !slots || slots > 16 || !lbs || lbs % 512 ||
	    lbs > (1u << 20))
		return 1;
	hit->block_size = lbs;
	snprintf(hit->detail, sizeof(hit->detail), "%u slot%s, %u-byte metadata", slots, slots == 1 ? "" : "s",
		 maxsize);
	m = pv_bytes(v, meta, 128);
	if (!m || memcmp(m, "0PLA", 4) || le16(m + 4) != 10 || ((hsize = le32(m + 8)) != 128 && hsize != 256)) {
		probe_appendf(hit->detail, sizeof(hit->detail), ", no metadata header in view");
		return 0;
	}
	probe_appendf(hit->detail, sizeof(hit->detail), ", metadata %u.%u", le16(m + 4), le16(m + 6));
	if (hsize == 256 && (m = pv_bytes(v, meta, 256)) && (le32(m + 128) & 1))
		probe_appendf(hit->detail, sizeof(hit->detail), ", virtual A/B");
	if (!m)
		return 0;
	tables = meta + (uint64_t)hsize;
	/* Block device 0: size at 16 (its descriptor is at 116: offset, count, entry size). */
	if (geo == 0)
		hit->claimed_size = size_add(tables, le32(m + 44)); /* the tables' size */
	else if (le32(m + 120) && le32(m + 124) >= 64 && (bd = pv_bytes(v, tables + le32(m + 116), 64)))
		hit->claimed_size = le64(bd + 16);
	lp_list_partitions(v, m, tables, hit);
	return 0;
}

static int probe_android_super_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	(void)id;
	return probe_super_at(v, LP_GEOMETRY_OFF, LP_METADATA_OFF, hit);
}

static int probe_android_super_empty_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	(void)id;
	if (probe_super_at(v, 0, LP_GEOMETRY_OFF, hit))
		return 1;
	probe_appendf(hit->detail, sizeof(hit->detail), ", metadata only (super_empty)");
	return 0;
}

const struct probe_desc probe_android_boot = {
	.name = "android-boot", .cls = HIT_BOOT,
	.magic = "ANDROID!", .magic_len = 8, .magic_off = 0, .probe = probe_android_boot_fn,
};
const struct probe_desc probe_android_vendor_boot = {
	.name = "android-vendor-boot", .cls = HIT_BOOT,
	.magic = "VNDRBOOT", .magic_len = 8, .magic_off = 0, .probe = probe_android_vendor_boot_fn,
};
const struct probe_desc probe_android_dtbo = {
	.name = "android-dtbo", .cls = HIT_BOOT,
	.magic = "\xd7\xb7\xab\x1e", .magic_len = 4, .magic_off = 0, .probe = probe_android_dtbo_fn,
};
const struct probe_desc probe_android_vbmeta = {
	.name = "android-vbmeta", .cls = HIT_BOOT,
	.magic = "AVB0", .magic_len = 4, .magic_off = 0, .probe = probe_android_vbmeta_fn,
};
/* LP_METADATA_GEOMETRY_MAGIC 0x616c4467, little-endian. */
const struct probe_desc probe_android_super = {
	.name = "android-super", .cls = HIT_BOOT,
	.magic = "gDla", .magic_len = 4, .magic_off = LP_GEOMETRY_OFF, .probe = probe_android_super_fn,
};
const struct probe_desc probe_android_super_empty = {
	.name = "android-super", .cls = HIT_BOOT,
	.magic = "gDla", .magic_len = 4, .magic_off = 0, .probe = probe_android_super_empty_fn,
};
