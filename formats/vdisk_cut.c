/*
 * vdisk_cut.c - is a VMDK or VHDX a cut copy?  libvmdk and libvhdi only
 * say "unable to read grain data" when a block lies past the end of the
 * file, and only if something reads it: so their tables of allocated
 * blocks are walked once here, against the file's size (qcow2's are, in
 * vdisk_qcow.c).
 *
 * VMDK (hosted sparse extent, "KDMV"): the grain directory lists the grain
 * tables, which list the grains (sector numbers, little-endian 32-bit).
 * VHDX: the region table at 192 KiB locates the block allocation table,
 * whose 64-bit entries hold a state (bits 0-2; 6 and 7: the block is in the
 * file) and the block's file offset in MiB (bits 20-63); a data block is
 * the block size the metadata region gives, and after every "chunk ratio"
 * of them comes a 1 MiB sector bitmap block.
 *
 * Bounded: a walk stops once it has examined CUT_BUDGET bytes of table
 * entries, each entry counted every time it is looked at (grain tables
 * that all point at the same bytes cost as much as distinct ones), or has
 * read CUT_BUDGET bytes of the file; counts from disk are capped before any
 * loop.  Each grain table is read whole, apart from the window that holds
 * the directory (one window for both made them evict each other: 128 KiB
 * read per 2 KiB table).  Only a file that ends early says "cut short": an
 * I/O error stops the walk, and the reads say it.
 */
#include "vdisk.h"
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUT_BUDGET (16u << 20)
#define VMDK_SECTOR 512u
#define VMDK_GD_AT_END UINT64_MAX     /* stream-optimized: the directory is in the footer */
#define VMDK_COMPRESSED (1u << 16)    /* flags: grains are compressed, of varying length */
#define VMDK_GRAIN_MAX (1u << 16)     /* sectors (32 MiB); libvmdk's own limit is lower */
#define VMDK_GT_MAX 4096u             /* entries in a grain table (VMware's are 512) */
#define VHDX_REGIONS (192u << 10)
#define VHDX_REGION_MAX 2047u
#define VHDX_BLOCK_MIN (1u << 20)

/* A walk's budget: table entries examined, and bytes the file gave. */
struct walk {
	struct vdisk_file *f;
	uint64_t start;          /* f->bytes_read when it began */
	uint64_t examined;       /* bytes of entries looked at, each time */
};

static bool walk_on(const struct walk *w)
{
	return w->examined < CUT_BUDGET && w->f->bytes_read - w->start < CUT_BUDGET;
}

/* The end of a block at off of len bytes lies within the file. */
static bool in_file(const struct vdisk_file *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

/* One grain table (entries sectors, grains of grain bytes, covering
 * virtual bytes from base), read whole into gt (room for VMDK_GT_MAX
 * entries) through the counted reader, past the window that keeps the
 * grain directory: a grain past the end says so; true then, and true too
 * when the table does not read (the walk stops). */
static bool vmdk_table_cut(struct walk *w, uint64_t gt_off, uint32_t entries, uint64_t grain, uint64_t base,
			   bool compressed, uint8_t *gt, struct vdisk_error *err)
{
	long got = vdisk_file_read(w->f, gt_off, gt, 4ull * entries);

	w->examined += 4ull * entries;
	if (got < 0)
		return true; /* an I/O error: the reads will say it */
	if ((uint64_t)got < 4ull * entries) {
		err->truncated = true;
		vdisk_fail(err, 0, "vmdk", "the file ends inside a grain table (cut short)");
		return true;
	}
	for (uint32_t j = 0; j < entries; j++) {
		uint64_t sector = le32(gt + 4ull * j);
		if (sector > 1 && !in_file(w->f, sector * VMDK_SECTOR, compressed ? 1 : grain)) {
			err->truncated = true;
			vdisk_fail(err, 0, "vmdk", "the file ends before the grain of virtual offset %llu (cut short)",
				   (unsigned long long)(base + j * grain));
			return true;
		}
	}
	return false;
}

void vdisk_vmdk_find_cut(struct vdisk_file *f, struct vdisk_error *err)
{
	struct walk w = {f, f->bytes_read, 0};
	uint8_t h[80], e[4], gt[4 * VMDK_GT_MAX];
	uint64_t grain, span, tables, gd;
	uint32_t entries;
	int rc;

	if (vdisk_file_small(f, 0, h, sizeof(h)) || memcmp(h, "KDMV", 4) || le64(h + 56) == VMDK_GD_AT_END)
		return;
	grain = le64(h + 20);
	entries = le32(h + 44);
	if (!grain || grain > VMDK_GRAIN_MAX || !entries || entries > VMDK_GT_MAX)
		return; /* libvmdk refuses such a header itself */
	grain *= VMDK_SECTOR;
	span = grain * entries;
	tables = le64(h + 12) / (span / VMDK_SECTOR) + (le64(h + 12) % (span / VMDK_SECTOR) != 0);
	gd = le64(h + 56);
	if (gd > f->size / VMDK_SECTOR)
		return; /* not where libvmdk found it: its reads say what is wrong */
	for (uint64_t i = 0; i < tables && walk_on(&w); i++) {
		w.examined += 4;
		if ((rc = vdisk_file_small(f, gd * VMDK_SECTOR + 4 * i, e, 4))) {
			if (rc != -ENODATA)
				return;
			err->truncated = true;
			vdisk_fail(err, 0, "vmdk", "the file ends inside its grain directory (cut short)");
			return;
		}
		if (le32(e) && vmdk_table_cut(&w, (uint64_t)le32(e) * VMDK_SECTOR, entries, grain, i * span,
					      le32(h + 8) & VMDK_COMPRESSED, gt, err))
			return;
	}
}

static const uint8_t vhdx_bat_guid[16] = {0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6, 0x00, 0x42,
					  0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08};
static const uint8_t vhdx_metadata_guid[16] = {0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B,
					       0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E};
static const uint8_t vhdx_file_parameters_guid[16] = {0x37, 0x67, 0xA1, 0xCA, 0x36, 0xFA, 0x43, 0x4D,
						      0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B};
static const uint8_t vhdx_sector_size_guid[16] = {0x1D, 0xBF, 0x41, 0x81, 0x6F, 0xA9, 0x09, 0x47,
						  0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F};

/* A table of 32-byte entries keyed by a GUID (the region table, the
 * metadata table): the entry's two fields after the GUID.  0, or 1 when
 * it is not there. */
static int vhdx_lookup(struct vdisk_file *f, uint64_t first, uint32_t n, const uint8_t *guid, uint64_t *a,
		       uint32_t *b, bool wide_a)
{
	uint8_t e[32];

	for (uint32_t i = 0; i < n && i < VHDX_REGION_MAX; i++) {
		if (vdisk_file_small(f, first + 32ull * i, e, sizeof(e)))
			return 1;
		if (!memcmp(e, guid, 16)) {
			*a = wide_a ? le64(e + 16) : le32(e + 16);
			*b = wide_a ? le32(e + 24) : le32(e + 20);
			return 0;
		}
	}
	return 1;
}

/* A region's place, from the region table at 192 KiB: 0, or 1. */
static int vhdx_region(struct vdisk_file *f, const uint8_t *guid, uint64_t *off, uint32_t *len)
{
	uint8_t h[16];

	if (vdisk_file_small(f, VHDX_REGIONS, h, sizeof(h)) || memcmp(h, "regi", 4))
		return 1;
	return vhdx_lookup(f, VHDX_REGIONS + 16, le32(h + 8), guid, off, len, true);
}

/* A 32-bit metadata item (block size, logical sector size): 0, or 1. */
static int vhdx_item(struct vdisk_file *f, uint64_t meta, const uint8_t *guid, uint32_t *value)
{
	uint8_t h[16], v[4];
	uint64_t at;
	uint32_t len;

	if (vdisk_file_small(f, meta, h, sizeof(h)) || memcmp(h, "metadata", 8) ||
	    vhdx_lookup(f, meta + 32, le16(h + 10), guid, &at, &len, false) || len < 4 ||
	    vdisk_file_small(f, meta + at, v, 4))
		return 1;
	*value = le32(v);
	return 0;
}

/* The bytes the block of BAT entry i takes: payload blocks are the block
 * size; after every chunk_ratio of them comes a 1 MiB sector bitmap. */
static uint64_t vhdx_block_bytes(uint32_t i, uint32_t block, uint32_t chunk_ratio)
{
	return chunk_ratio && i % (chunk_ratio + 1) == chunk_ratio ? VHDX_BLOCK_MIN : block;
}

/* Block size and chunk ratio from the metadata; 1 MiB and none (every
 * block checked for its smallest size) when they do not read. */
static void vhdx_geometry(struct vdisk_file *f, uint32_t *block, uint32_t *chunk_ratio)
{
	uint64_t meta;
	uint32_t len, sector;

	*block = VHDX_BLOCK_MIN;
	*chunk_ratio = 0;
	if (vhdx_region(f, vhdx_metadata_guid, &meta, &len) ||
	    vhdx_item(f, meta, vhdx_file_parameters_guid, block) ||
	    vhdx_item(f, meta, vhdx_sector_size_guid, &sector) || *block < VHDX_BLOCK_MIN ||
	    *block > (256u << 20) || (*block & (*block - 1)) || (sector != 512 && sector != 4096)) {
		*block = VHDX_BLOCK_MIN;
		return;
	}
	*chunk_ratio = (uint32_t)(((uint64_t)sector << 23) / *block);
}

void vdisk_vhdx_find_cut(struct vdisk_file *f, struct vdisk_error *err)
{
	struct walk w = {f, f->bytes_read, 0};
	uint64_t off, entry;
	uint32_t len, block, chunk_ratio;
	uint8_t e[8];

	if (vhdx_region(f, vhdx_bat_guid, &off, &len))
		return;
	if (!in_file(f, off, len)) {
		err->truncated = true;
		vdisk_fail(err, 0, "vhdx", "the file ends inside its block allocation table (cut short)");
		return;
	}
	vhdx_geometry(f, &block, &chunk_ratio);
	for (uint32_t i = 0; i < len / 8 && walk_on(&w); i++) {
		w.examined += 8;
		if (vdisk_file_small(f, off + 8ull * i, e, 8))
			return; /* the table was checked against the file: an I/O error, or it shrank */
		entry = le64(e);
		if ((entry & 7) >= 6 && !in_file(f, entry >> 20 << 20, vhdx_block_bytes(i, block, chunk_ratio))) {
			err->truncated = true;
			vdisk_fail(err, 0, "vhdx", "the file ends before the block of allocation table entry %u (cut short)",
				   i);
			return;
		}
	}
}
