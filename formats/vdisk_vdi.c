/*
 * vdisk_vdi.c - VirtualBox VDI (version 1.1, as VirtualBox and qemu-img
 * write it): the header at 0x40 gives the block size, the number of
 * blocks, the disk size and where the block map and the data begin; the
 * map holds one 32-bit entry per block: the index of its data block, or
 * 0xFFFFFFFF (not allocated: zeros, or the parent's in a differencing
 * image) or 0xFFFFFFFE (zeros).
 *
 * Bounded: the map is read once, whole, only when it has at most
 * VDI_MAP_MAX entries (16 MiB), and every entry is checked against the
 * blocks the header says are allocated before the first read.
 */
#include "vdisk.h"
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VDI_SIGNATURE 0xBEDA107Fu
#define VDI_HEADER_END 0x1C8u          /* the version 1.1 fields we read end here */
#define VDI_MAP_MAX (1u << 22)         /* 4 TiB of 1 MiB blocks */
#define VDI_BLOCK_MAX (256u << 20)
#define VDI_EXTRA_MAX (1u << 20)
#define VDI_FREE 0xFFFFFFFFu
#define VDI_ZERO 0xFFFFFFFEu
#define VDI_TYPE_UNDO 3u
#define VDI_TYPE_DIFF 4u

struct vdi {
	struct vdisk base;
	struct vdisk_file *file;
	uint64_t disk_size;
	uint64_t data_off;
	uint32_t block_size, extra, nblocks, allocated;
	bool differencing;       /* free blocks are the parent's */
	char parent[40];         /* the parent's UUID (a VDI names no file) */
	uint32_t *map;           /* nblocks entries (owned) */
};

/* The header's facts, checked; 0 or -errno with err filled. */
static int parse_header(struct vdi *v, const uint8_t *h, struct vdisk_error *err)
{
	uint32_t version = le32(h + 0x44), type = le32(h + 0x4C);

	if (le32(h + 0x40) != VDI_SIGNATURE)
		return vdisk_fail(err, EINVAL, "vdi", "no VDI signature at 0x40");
	if (version >> 16 != 1)
		return vdisk_fail(err, ENOTSUP, "vdi", "header version %u.%u is not read (only 1.x)", version >> 16,
				  version & 0xffff);
	if (le32(h + 0x48) < VDI_HEADER_END - 0x48)
		return vdisk_fail(err, EINVAL, "vdi", "header of %u bytes is too short", le32(h + 0x48));
	v->data_off = le32(h + 0x158);
	v->disk_size = le64(h + 0x170);
	v->block_size = le32(h + 0x178);
	v->extra = le32(h + 0x17C);
	v->nblocks = le32(h + 0x180);
	v->allocated = le32(h + 0x184);
	v->differencing = type == VDI_TYPE_DIFF || type == VDI_TYPE_UNDO;
	if (v->differencing)
		probe_format_uuid(v->parent, sizeof(v->parent), h + 0x1A8, true);
	if (!v->block_size || v->block_size % 512 || v->block_size > VDI_BLOCK_MAX || v->extra > VDI_EXTRA_MAX)
		return vdisk_fail(err, EINVAL, "vdi", "block size %u (extra data %u) is not a usable block size",
				  v->block_size, v->extra);
	if (v->nblocks > VDI_MAP_MAX)
		return vdisk_fail(err, EFBIG, "vdi", "%u blocks: more than the %u this reader maps", v->nblocks,
				  VDI_MAP_MAX);
	if (v->allocated > v->nblocks)
		return vdisk_fail(err, EINVAL, "vdi", "%u blocks allocated of %u", v->allocated, v->nblocks);
	if (v->disk_size > (uint64_t)v->nblocks * v->block_size)
		return vdisk_fail(err, EINVAL, "vdi", "disk size %llu bytes is more than its %u blocks of %u hold",
				  (unsigned long long)v->disk_size, v->nblocks, v->block_size);
	return 0;
}

/* Where data block idx starts in the file (past its extra data). */
static uint64_t data_at(const struct vdi *v, uint32_t idx)
{
	return v->data_off + (uint64_t)idx * ((uint64_t)v->block_size + v->extra) + v->extra;
}

/* Read the map (4 bytes per block, at the offset the header gives) and
 * check every entry; 0 or -errno with err filled. */
static int load_map(struct vdi *v, uint64_t map_off, struct vdisk_error *err)
{
	size_t bytes = (size_t)v->nblocks * 4;
	long got;

	if (map_off > v->file->size || bytes > v->file->size - map_off) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "vdi", "the file ends inside its block map (cut short)");
	}
	v->map = malloc(bytes ? bytes : 1);
	if (!v->map)
		return vdisk_fail(err, ENOMEM, "vdi", "no memory for a block map of %u entries", v->nblocks);
	got = vdisk_file_read(v->file, map_off, v->map, bytes);
	if (got < 0)
		return vdisk_fail(err, (int)-got, "vdi", "block map: %s", strerror((int)-got));
	if ((size_t)got < bytes) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "vdi", "the file ends inside its block map (cut short)");
	}
	for (uint32_t i = 0; i < v->nblocks; i++) {
		uint32_t e = v->map[i] = le32((const uint8_t *)&v->map[i]);

		if (e == VDI_FREE || e == VDI_ZERO || e < v->allocated)
			continue;
		return vdisk_fail(err, EINVAL, "vdi", "block map entry %u points past the %s (data block %u of %u)",
				  i, data_at(v, e) >= v->file->size ? "end of the file" : "allocated blocks", e,
				  v->allocated);
	}
	return 0;
}

static int vdi_open(struct vdisk_file *f, struct vdisk_error *err, struct vdisk **out)
{
	uint8_t h[VDI_HEADER_END];
	struct vdi *v;
	int rc = vdisk_file_small(f, 0, h, sizeof(h));

	if (rc == -ENODATA) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "vdi", "the file ends inside its header (cut short)");
	}
	if (rc)
		return vdisk_fail(err, -rc, "vdi", "header: %s", strerror(-rc));
	v = calloc(1, sizeof(*v));
	if (!v)
		return vdisk_fail(err, ENOMEM, "vdi", "no memory");
	v->base.ops = &vdisk_vdi_ops;
	v->base.err = err;
	v->file = f;
	rc = parse_header(v, h, err);
	if (!rc)
		rc = load_map(v, le32(h + 0x154), err);
	if (rc) {
		free(v->map);
		free(v);
		return rc;
	}
	/* Blocks the header counts as allocated that the file no longer holds. */
	if (v->allocated && data_at(v, v->allocated - 1) + v->block_size > f->size) {
		err->truncated = true;
		vdisk_fail(err, 0, "vdi", "the file ends before the last of its %u data blocks (cut short)", v->allocated);
	}
	*out = &v->base;
	return 0;
}

/* Read within one block: bytes, or -errno. */
static long read_in_block(struct vdi *v, uint64_t off, uint8_t *buf, size_t len)
{
	uint32_t block = (uint32_t)(off / v->block_size), e = v->map[block];
	uint64_t within = off % v->block_size;
	long got;

	if (len > v->block_size - within)
		len = (size_t)(v->block_size - within);
	if (e == VDI_ZERO || (e == VDI_FREE && !v->differencing)) {
		memset(buf, 0, len);
		return (long)len;
	}
	if (e == VDI_FREE) {
		v->base.err->needs_parent = true;
		return vdisk_fail(v->base.err, ENODATA, "vdi",
				  "block %u is in the parent image {%s}, which is never opened", block, v->parent);
	}
	got = vdisk_file_read(v->file, data_at(v, e) + within, buf, len);
	if (got >= 0 && (size_t)got < len) {
		v->base.err->truncated = true;
		return vdisk_fail(v->base.err, ENODATA, "vdi", "the file ends inside data block %u (cut short)", e);
	}
	if (got < 0)
		return vdisk_fail(v->base.err, (int)-got, "vdi", "read of data block %u: %s", e, strerror((int)-got));
	return got;
}

static long vdi_read(struct vdisk *d, uint64_t off, void *buf, size_t len)
{
	struct vdi *v = (struct vdi *)d;
	size_t done = 0;

	if (off >= v->disk_size)
		return 0;
	if (len > v->disk_size - off)
		len = (size_t)(v->disk_size - off);
	while (done < len) {
		long n = read_in_block(v, off + done, (uint8_t *)buf + done, len - done);
		if (n < 0)
			return n;
		done += (size_t)n;
	}
	return (long)done;
}

static uint64_t vdi_size(const struct vdisk *d)
{
	return ((const struct vdi *)d)->disk_size;
}

static const char *vdi_backing(const struct vdisk *d)
{
	return ((const struct vdi *)d)->parent;
}

static void vdi_close(struct vdisk *d)
{
	struct vdi *v = (struct vdi *)d;

	free(v->map);
	free(v);
}

const struct vdisk_ops vdisk_vdi_ops = {
	.layer = "vdi",
	.open = vdi_open,
	.read = vdi_read,
	.size = vdi_size,
	.backing = vdi_backing,
	.close = vdi_close,
};
