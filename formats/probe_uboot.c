/*
 * probe_uboot.c - U-Boot's images and device trees (u-boot include/image.h,
 * the devicetree specification):
 *   u-boot   a legacy uImage: a 64-byte big-endian header (magic 0x27051956,
 *            header CRC32, data size, OS, architecture, type, compression,
 *            a 32-byte name) and its data; boot.scr is one, of type script
 *   fit      a Flattened Image Tree: a device tree (magic 0xd00dfeed) whose
 *            root has an "images" node; its "description" is its label
 *   dtb      any other device tree blob
 * The device-tree walk reads the structure block while it is in view; a FIT
 * that embeds a large kernel is still known by its "images" node, which
 * comes before the data.  A FIT made with external data (mkimage -E) keeps
 * it after the tree: its claimed size includes it.
 */
#include "probe.h"

#include <stdio.h>

#define UIMAGE_HEADER 64
#define FDT_HEADER 40
#define FDT_TOKENS_MAX (1u << 16)
#define FDT_DEPTH_MAX 64
#define FDT_NAME_MAX 256

#define ENTRY(x) (sizeof(x) / sizeof((x)[0]))

static const char *const uboot_os[] = {
	"invalid", "openbsd", "netbsd", "freebsd", "4_4bsd", "linux", "svr4", "esix", "solaris", "irix", "sco",
	"dell", "ncr", "lynxos", "vxworks", "psos", "qnx", "u-boot", "rtems", "artos", "unity", "integrity", "ose",
	"plan9", "openrtos", "arm-trusted-firmware", "tee", "opensbi", "efi",
};
static const char *const uboot_arch[] = {
	"invalid", "alpha", "arm", "x86", "ia64", "mips", "mips64", "powerpc", "s390", "sh", "sparc", "sparc64",
	"m68k", "nios", "microblaze", "nios2", "blackfin", "avr32", "st200", "sandbox", "nds32", "or1k", "arm64",
	"arc", "x86_64", "xtensa", "riscv",
};
static const char *const uboot_type[] = {
	"invalid", "standalone", "kernel", "ramdisk", "multi", "firmware", "script", "filesystem", "flat_dt",
	"kwbimage", "imximage", "ublimage", "omapimage", "aisimage", "kernel_noload", "pblimage", "mxsimage",
	"gpimage", "atmelimage", "socfpgaimage", "x86_setup", "lpc32xximage", "loadable", "rkimage", "rksd",
	"rkspi", "zynqimage", "zynqmpimage", "zynqmpbif", "fpga", "vybridimage", "tee", "firmware_ivt", "pmmc",
	"stm32image", "socfpgaimage_v1", "mtk_image", "imx8mimage", "imx8image", "copro", "sunxi_egon",
};
static const char *const uboot_comp[] = {"none", "gzip", "bzip2", "lzma", "lzo", "lz4", "zstd"};

static void add_table_name(struct probe_hit *hit, const char *sep, const char *const *names, size_t n, uint8_t v,
			   const char *what)
{
	if (v < n)
		probe_appendf(hit->detail, sizeof(hit->detail), "%s%s", sep, names[v]);
	else
		probe_appendf(hit->detail, sizeof(hit->detail), "%s%s %u", sep, what, v);
}

/* The header CRC is computed with its own field zeroed. */
static bool uimage_header_ok(const uint8_t *h)
{
	uint8_t copy[UIMAGE_HEADER];

	memcpy(copy, h, sizeof(copy));
	memset(copy + 4, 0, 4);
	return probe_crc32(copy, sizeof(copy)) == be32(h + 4);
}

static int probe_uboot_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, UIMAGE_HEADER);

	(void)id;
	if (!h || !uimage_header_ok(h))
		return 1;
	probe_copy_label(hit->label, sizeof(hit->label), h + 32, 32);
	hit->claimed_size = UIMAGE_HEADER + (uint64_t)be32(h + 12);
	snprintf(hit->detail, sizeof(hit->detail), "\"%s\", ", hit->label);
	add_table_name(hit, "", uboot_os, ENTRY(uboot_os), h[28], "os");
	add_table_name(hit, " ", uboot_arch, ENTRY(uboot_arch), h[29], "arch");
	add_table_name(hit, " ", uboot_type, ENTRY(uboot_type), h[30], "type");
	add_table_name(hit, ", compression ", uboot_comp, ENTRY(uboot_comp), h[31], "method");
	probe_appendf(hit->detail, sizeof(hit->detail), ", %u bytes of data, load 0x%08x, entry 0x%08x", be32(h + 12),
		      be32(h + 16), be32(h + 20));
	return 0;
}

/* ---- flattened device trees ------------------------------------------ */

enum { FDT_BEGIN_NODE = 1, FDT_END_NODE = 2, FDT_PROP = 3, FDT_NOP = 4, FDT_END = 9 };

struct fdt {
	const struct probe_view *v;
	uint64_t strings, strings_len; /* the strings block */
	uint64_t data_base;            /* where external FIT data starts: totalsize rounded to 4 */
	bool fit;
	uint32_t images;               /* subnodes of /images seen */
	char types[64];                /* their "type" values, comma-separated */
	char model[64], compatible[64];
	uint64_t end;                  /* the furthest byte external data claims */
	/* the image node being walked: its external data */
	bool has_pos, has_off, has_size;
	uint64_t pos, off, size;
};

/* A property's name: the NUL-terminated string at nameoff in the strings
 * block, copied into out; "" when it is not in view. */
static void fdt_prop_name(const struct fdt *t, uint32_t nameoff, char *out, size_t cap)
{
	uint64_t at = t->strings + nameoff, left = nameoff < t->strings_len ? t->strings_len - nameoff : 0;
	size_t avail = left < cap ? (size_t)left : cap;
	const uint8_t *p = avail ? pv_bytes(t->v, at, avail) : NULL;

	out[0] = '\0';
	if (p && memchr(p, 0, avail))
		memcpy(out, p, strlen((const char *)p) + 1);
}

static uint32_t prop_u32(const uint8_t *val, uint32_t len)
{
	return len == 4 ? be32(val) : len == 8 ? be32(val + 4) : 0;
}

/* One property at depth (1: the root's).  val is NULL when its value is not
 * in view. */
static void fdt_prop(struct fdt *t, int depth, bool in_images, const char *name, const uint8_t *val, uint32_t len,
		     struct probe_hit *hit)
{
	if (!val)
		return;
	if (depth == 1 && !strcmp(name, "description"))
		probe_copy_label(hit->label, sizeof(hit->label), val, len);
	else if (depth == 1 && !strcmp(name, "model"))
		probe_copy_text(t->model, sizeof(t->model), val, len);
	else if (depth == 1 && !strcmp(name, "compatible"))
		probe_copy_text(t->compatible, sizeof(t->compatible), val, len);
	else if (in_images && depth == 3 && !strcmp(name, "type")) {
		char type[24];
		probe_copy_text(type, sizeof(type), val, len);
		probe_appendf(t->types, sizeof(t->types), "%s%s", t->types[0] ? ", " : "", type);
	} else if (in_images && depth == 3 && !strcmp(name, "data-size")) {
		t->has_size = true, t->size = prop_u32(val, len);
	} else if (in_images && depth == 3 && !strcmp(name, "data-offset")) {
		t->has_off = true, t->off = prop_u32(val, len);
	} else if (in_images && depth == 3 && !strcmp(name, "data-position")) {
		t->has_pos = true, t->pos = prop_u32(val, len);
	}
}

/* An image node ends: the external data it names extends the file. */
static void fdt_image_done(struct fdt *t)
{
	uint64_t start;

	if (t->has_size && (t->has_pos || t->has_off)) {
		start = t->has_pos ? t->pos : size_add(t->data_base, t->off);
		if (size_add(start, t->size) > t->end)
			t->end = size_add(start, t->size);
	}
	t->has_pos = t->has_off = t->has_size = false;
}

/* Walk the structure block from off, token by token, while it is in view. */
static void fdt_walk(struct fdt *t, uint64_t off, uint64_t limit, struct probe_hit *hit)
{
	int depth = 0;
	bool in_images = false;

	for (uint32_t n = 0; n < FDT_TOKENS_MAX && off + 4 <= limit; n++) {
		const uint8_t *tok = pv_bytes(t->v, off, 4), *p;
		if (!tok)
			return;
		switch (be32(tok)) {
		case FDT_BEGIN_NODE: {
			size_t avail = limit - off - 4 < FDT_NAME_MAX ? (size_t)(limit - off - 4) : FDT_NAME_MAX;
			const uint8_t *nul;
			p = pv_bytes(t->v, off + 4, avail);
			if (!p || !(nul = memchr(p, 0, avail)) || ++depth > FDT_DEPTH_MAX)
				return;
			if (depth == 2)
				in_images = !strcmp((const char *)p, "images");
			if (depth == 2 && in_images)
				t->fit = true;
			if (depth == 3 && in_images)
				t->images++;
			off += 4 + (((uint64_t)(nul - p) + 1 + 3) & ~(uint64_t)3);
			break;
		}
		case FDT_END_NODE:
			if (depth == 3 && in_images)
				fdt_image_done(t);
			if (depth == 2)
				in_images = false;
			if (depth-- <= 0)
				return;
			off += 4;
			break;
		case FDT_PROP: {
			uint32_t len, nameoff;
			char name[32];
			if (off + 12 > limit || !(p = pv_bytes(t->v, off + 4, 8)))
				return;
			len = be32(p), nameoff = be32(p + 4);
			if (len > limit - off - 12)
				return;
			fdt_prop_name(t, nameoff, name, sizeof(name));
			fdt_prop(t, depth, in_images, name, pv_bytes(t->v, off + 12, len), len, hit);
			off += 12 + (((uint64_t)len + 3) & ~(uint64_t)3);
			break;
		}
		case FDT_NOP:
			off += 4;
			break;
		default: /* FDT_END, or no token at all */
			return;
		}
	}
}

static int probe_fdt_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, FDT_HEADER);
	uint32_t total, off_struct, off_strings, version;
	uint64_t limit;
	struct fdt t = {0};

	(void)id;
	if (!h)
		return 1;
	total = be32(h + 4), off_struct = be32(h + 8), off_strings = be32(h + 12), version = be32(h + 20);
	if (total < FDT_HEADER || version < 16 || version > 17 || be32(h + 24) > 17 || off_struct < FDT_HEADER ||
	    off_struct >= total || off_strings > total)
		return 1;
	t.v = v;
	t.strings = off_strings;
	t.strings_len = total - off_strings;
	if (be32(h + 32) < t.strings_len)
		t.strings_len = be32(h + 32);
	t.data_base = ((uint64_t)total + 3) & ~(uint64_t)3;
	/* The structure block's own size (v17) when it is sane, else to the end. */
	limit = (uint64_t)off_struct + be32(h + 36);
	if (version < 17 || limit > total)
		limit = total;
	fdt_walk(&t, off_struct, limit, hit);
	hit->claimed_size = t.end > total ? t.end : total;
	if (t.fit) {
		snprintf(hit->name, sizeof(hit->name), "fit");
		snprintf(hit->detail, sizeof(hit->detail), "FIT image, %u image%s", t.images, t.images == 1 ? "" : "s");
		if (t.types[0])
			probe_appendf(hit->detail, sizeof(hit->detail), " (%s)", t.types);
		if (t.end > total)
			probe_appendf(hit->detail, sizeof(hit->detail), ", external data");
	} else {
		snprintf(hit->name, sizeof(hit->name), "dtb");
		hit->label[0] = '\0'; /* a plain tree's "description" is no label */
		snprintf(hit->detail, sizeof(hit->detail), "device tree v%u", version);
		if (t.model[0])
			probe_appendf(hit->detail, sizeof(hit->detail), ", model \"%s\"", t.model);
		if (t.compatible[0])
			probe_appendf(hit->detail, sizeof(hit->detail), ", compatible \"%s\"", t.compatible);
	}
	return 0;
}

const struct probe_desc probe_uboot = {
	.name = "u-boot", .cls = HIT_BOOT,
	.magic = "\x27\x05\x19\x56", .magic_len = 4, .magic_off = 0, .probe = probe_uboot_fn,
};
/* Named "fit" or "dtb" by what the walk finds. */
const struct probe_desc probe_fdt = {
	.name = "fit", .cls = HIT_BOOT,
	.magic = "\xd0\x0d\xfe\xed", .magic_len = 4, .magic_off = 0, .probe = probe_fdt_fn,
};
