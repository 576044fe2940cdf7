/*
 * vdisk_sparse.c - Android sparse images (libsparse, img2simg): a 28-byte
 * header (magic 0xED26FF3A, version 1, header sizes, block size, total
 * blocks, total chunks), then chunks of a 12-byte header each (type, blocks
 * it covers, bytes it takes in the file): RAW (the blocks follow), FILL (a
 * 4-byte pattern), DONT_CARE (nothing: zeros here), CRC32 (a checksum,
 * covering no blocks).
 *
 * Bounded: at most SPARSE_CHUNKS_MAX chunks are walked and indexed (the
 * index no larger than the file has room for), every chunk's size is
 * checked against its type, the blocks the header declares and the file,
 * and the walk only moves forward, so a crafted file can make it neither
 * allocate without end nor loop.
 */
#include "vdisk.h"
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPARSE_MAGIC 0xED26FF3Au
#define SPARSE_HEADER 28u
#define SPARSE_CHUNK_HEADER 12u
#define SPARSE_HEADER_MAX 4096u          /* a header larger than ours is allowed (extra bytes skipped) */
#define SPARSE_CHUNKS_MAX (1u << 20)     /* 16 MiB of index; img2simg writes a few per extent */
#define SPARSE_BLOCK_MAX (64u << 20)
#define CHUNK_RAW 0xCAC1u
#define CHUNK_FILL 0xCAC2u
#define CHUNK_DONT_CARE 0xCAC3u
#define CHUNK_CRC32 0xCAC4u

/* One RAW or FILL chunk: out blocks [start, start + count). */
struct chunk {
	uint32_t start, count;
	uint64_t data;           /* RAW: its bytes' offset in the file; FILL: the pattern */
	bool fill;
};

struct sparse {
	struct vdisk base;
	struct vdisk_file *file;
	uint32_t block_size, total_blocks;
	uint32_t covered;        /* blocks the chunks in the file cover (fewer when cut short) */
	uint32_t file_header, chunk_header, total_chunks;
	struct chunk *chunks;    /* in order of start (owned) */
	uint32_t nchunks;
};

static int parse_header(struct sparse *s, const uint8_t *h, struct vdisk_error *err)
{
	if (le32(h) != SPARSE_MAGIC)
		return vdisk_fail(err, EINVAL, "android-sparse", "no sparse magic");
	if (le16(h + 4) != 1)
		return vdisk_fail(err, ENOTSUP, "android-sparse", "version %u.%u is not read (only 1.x)", le16(h + 4),
				  le16(h + 6));
	s->file_header = le16(h + 8);
	s->chunk_header = le16(h + 10);
	s->block_size = le32(h + 12);
	s->total_blocks = le32(h + 16);
	s->total_chunks = le32(h + 20);
	if (s->file_header < SPARSE_HEADER || s->file_header > SPARSE_HEADER_MAX ||
	    s->chunk_header < SPARSE_CHUNK_HEADER || s->chunk_header > SPARSE_HEADER_MAX)
		return vdisk_fail(err, EINVAL, "android-sparse", "header sizes %u and %u", s->file_header,
				  s->chunk_header);
	if (!s->block_size || s->block_size % 4 || s->block_size > SPARSE_BLOCK_MAX)
		return vdisk_fail(err, EINVAL, "android-sparse", "block size %u", s->block_size);
	if (s->total_chunks > SPARSE_CHUNKS_MAX)
		return vdisk_fail(err, EFBIG, "android-sparse", "%u chunks: more than the %u this reader indexes",
				  s->total_chunks, SPARSE_CHUNKS_MAX);
	return 0;
}

/* The bytes a chunk of this type and block count must take; 0: unknown type. */
static uint64_t chunk_bytes(const struct sparse *s, uint16_t type, uint32_t blocks)
{
	switch (type) {
	case CHUNK_RAW:
		return s->chunk_header + (uint64_t)blocks * s->block_size;
	case CHUNK_FILL:
	case CHUNK_CRC32:
		return s->chunk_header + 4u;
	case CHUNK_DONT_CARE:
		return s->chunk_header;
	default:
		return 0;
	}
}

/* Index count blocks from start (none: nothing to index); *block moves
 * past them.  The index has room: one entry per chunk whose header is in
 * the file (index_room()). */
static void index_chunk(struct sparse *s, uint32_t start, uint32_t count, bool fill, uint64_t data, uint32_t *block)
{
	struct chunk *c = &s->chunks[s->nchunks];

	if (!count)
		return;
	c->start = start;
	c->count = count;
	c->fill = fill;
	c->data = data;
	s->nchunks++;
	*block += count;
}

/* One chunk at *pos (chunk number i, out blocks from *block): checked,
 * indexed, *pos and *block moved past it.  0, 1 when the file ends inside
 * it (cut short), or -errno with err filled. */
static int walk_chunk(struct sparse *s, uint32_t i, uint64_t *pos, uint32_t *block, struct vdisk_error *err)
{
	uint8_t h[SPARSE_CHUNK_HEADER], fill[4];
	uint16_t type;
	uint32_t blocks, bytes;
	int rc = vdisk_file_small(s->file, *pos, h, sizeof(h));

	if (rc == -ENODATA)
		return 1;
	if (rc)
		return vdisk_fail(err, -rc, "android-sparse", "chunk %u: %s", i, strerror(-rc));
	type = le16(h);
	blocks = le32(h + 4);
	bytes = le32(h + 8);
	if (!chunk_bytes(s, type, blocks))
		return vdisk_fail(err, EINVAL, "android-sparse", "chunk %u has unknown type 0x%04x", i, type);
	if (bytes != chunk_bytes(s, type, blocks))
		return vdisk_fail(err, EINVAL, "android-sparse", "chunk %u of type 0x%04x and %u blocks says %u bytes",
				  i, type, blocks, bytes);
	if (type != CHUNK_CRC32 && blocks > s->total_blocks - *block)
		return vdisk_fail(err, EINVAL, "android-sparse", "chunk %u runs past the %u blocks the header declares",
				  i, s->total_blocks);
	if (bytes > s->file->size - *pos) { /* cut short: a RAW chunk's whole blocks still read */
		if (type == CHUNK_RAW && s->chunk_header <= s->file->size - *pos)
			index_chunk(s, *block, (uint32_t)((s->file->size - *pos - s->chunk_header) / s->block_size),
				    false, *pos + s->chunk_header, block);
		return 1;
	}
	if (type == CHUNK_FILL && (rc = vdisk_file_small(s->file, *pos + s->chunk_header, fill, 4)))
		return rc == -ENODATA ? 1 : vdisk_fail(err, -rc, "android-sparse", "chunk %u: %s", i, strerror(-rc));
	if (type == CHUNK_RAW || type == CHUNK_FILL)
		index_chunk(s, *block, blocks, type == CHUNK_FILL,
			    type == CHUNK_FILL ? le32(fill) : *pos + s->chunk_header, block);
	else if (type == CHUNK_DONT_CARE)
		*block += blocks;
	*pos += bytes;
	return 0;
}

/* The chunks the index may need: those the header declares, but no more
 * than the file has room for (each takes a chunk header in it, or is not
 * indexed), so a short file with a large count allocates little. */
static uint32_t index_room(const struct sparse *s)
{
	uint64_t fit = s->file->size > s->file_header ? (s->file->size - s->file_header) / s->chunk_header : 0;

	return fit < s->total_chunks ? (uint32_t)fit : s->total_chunks;
}

/* Walk every chunk the header declares.  0 or -errno with err filled. */
static int walk_chunks(struct sparse *s, struct vdisk_error *err)
{
	uint64_t pos = s->file_header;
	uint32_t block = 0, room = index_room(s);

	s->chunks = malloc((room ? room : 1) * sizeof(*s->chunks));
	if (!s->chunks)
		return vdisk_fail(err, ENOMEM, "android-sparse", "no memory for %u chunks", room);
	for (uint32_t i = 0; i < s->total_chunks; i++) {
		int rc = walk_chunk(s, i, &pos, &block, err);
		if (rc < 0)
			return rc;
		if (rc > 0) { /* what was indexed stays readable; the rest is not there */
			err->truncated = true;
			vdisk_fail(err, 0, "android-sparse", "the file ends inside chunk %u of %u (cut short)", i,
				   s->total_chunks);
			s->covered = block;
			return 0;
		}
	}
	if (block != s->total_blocks)
		return vdisk_fail(err, EINVAL, "android-sparse",
				  "its %u chunks cover %u of the %u blocks the header declares", s->total_chunks, block,
				  s->total_blocks);
	s->covered = block;
	return 0;
}

static int sparse_open(struct vdisk_file *f, struct vdisk_error *err, struct vdisk **out)
{
	uint8_t h[SPARSE_HEADER];
	struct sparse *s;
	int rc = vdisk_file_small(f, 0, h, sizeof(h));

	if (rc == -ENODATA) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "android-sparse", "the file ends inside its header (cut short)");
	}
	if (rc)
		return vdisk_fail(err, -rc, "android-sparse", "header: %s", strerror(-rc));
	s = calloc(1, sizeof(*s));
	if (!s)
		return vdisk_fail(err, ENOMEM, "android-sparse", "no memory");
	s->base.ops = &vdisk_sparse_ops;
	s->base.err = err;
	s->file = f;
	rc = parse_header(s, h, err);
	if (!rc)
		rc = walk_chunks(s, err);
	if (rc) {
		free(s->chunks);
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

/* The first indexed chunk that ends after block, or NULL. */
static const struct chunk *chunk_after(const struct sparse *s, uint32_t block)
{
	uint32_t lo = 0, hi = s->nchunks;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->chunks[mid].start + (uint64_t)s->chunks[mid].count <= block)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nchunks ? &s->chunks[lo] : NULL;
}

/* Read from off up to len bytes, within one chunk or one gap between
 * chunks: the count, or -errno. */
static long read_piece(struct sparse *s, uint64_t off, uint8_t *buf, size_t len)
{
	uint32_t block = (uint32_t)(off / s->block_size);
	const struct chunk *c = chunk_after(s, block);
	uint64_t begin = c ? (uint64_t)c->start * s->block_size : (uint64_t)s->covered * s->block_size;
	uint64_t end = c ? (uint64_t)(c->start + (uint64_t)c->count) * s->block_size : begin;
	long got;

	if (!c && block >= s->covered) {
		s->base.err->truncated = true;
		return vdisk_fail(s->base.err, ENODATA, "android-sparse",
				  "block %u lies in the chunks the file no longer holds (cut short)", block);
	}
	if (off < begin) { /* a DONT_CARE gap before the next chunk */
		len = len < begin - off ? len : (size_t)(begin - off);
		memset(buf, 0, len);
		return (long)len;
	}
	len = len < end - off ? len : (size_t)(end - off);
	if (c->fill) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(c->data >> (8 * ((off + i) % 4)));
		return (long)len;
	}
	got = vdisk_file_read(s->file, c->data + (off - begin), buf, len);
	if (got < 0)
		return vdisk_fail(s->base.err, (int)-got, "android-sparse", "read at %llu: %s",
				  (unsigned long long)(c->data + (off - begin)), strerror((int)-got));
	if ((size_t)got < len) {
		s->base.err->truncated = true;
		return vdisk_fail(s->base.err, ENODATA, "android-sparse", "the file ends inside a RAW chunk (cut short)");
	}
	return got;
}

static uint64_t sparse_size(const struct vdisk *d)
{
	const struct sparse *s = (const struct sparse *)d;

	return (uint64_t)s->total_blocks * s->block_size;
}

static long sparse_read(struct vdisk *d, uint64_t off, void *buf, size_t len)
{
	struct sparse *s = (struct sparse *)d;
	uint64_t size = sparse_size(d);
	size_t done = 0;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	while (done < len) {
		long n = read_piece(s, off + done, (uint8_t *)buf + done, len - done);
		if (n < 0)
			return n;
		done += (size_t)n;
	}
	return (long)done;
}

static const char *sparse_backing(const struct vdisk *d)
{
	(void)d;
	return "";
}

static void sparse_close(struct vdisk *d)
{
	struct sparse *s = (struct sparse *)d;

	free(s->chunks);
	free(s);
}

const struct vdisk_ops vdisk_sparse_ops = {
	.layer = "android-sparse",
	.open = sparse_open,
	.read = sparse_read,
	.size = sparse_size,
	.backing = sparse_backing,
	.close = sparse_close,
};
