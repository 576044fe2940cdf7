/*
 * unit_inside_container.c - the virtual-disk readers (formats/vdisk*.c)
 * and inside_container(), driven directly, without the scanner.
 *
 * Without arguments: the VDI and Android sparse readers on images built
 * here byte by byte, good ones and crafted ones (a map entry past the end,
 * a chunk count of 2^32 - 1, chunks that overrun, cut copies, a
 * differencing VDI without its parent, a sparse header alone that declares
 * a million chunks); exit 0 when every check holds.
 *
 * With arguments, a driver for tests/it_containers.py:
 *   unit_inside_container [--tsk] LAYER FILE
 * opens FILE read-only, answers an "inside" request for it as the worker
 * would (with a private directory of its own for libvmdk's link) and
 * prints the answer as one JSON object, shaped like the report's.
 *   unit_inside_container --dump LAYER FILE OUT
 * reads FILE's whole virtual disk through its reader into OUT (for a
 * comparison with qemu-img convert -O raw) and prints how it went.
 */
#include "formats/inside.h"
#include "formats/tsk_glue.h"
#include "formats/vdisk.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			failures++;                                             \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
		}                                                               \
	} while (0)

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* An anonymous file holding len bytes of buf. */
static int memfile(const uint8_t *buf, size_t len)
{
	int fd = memfd_create("vdisk-test", MFD_CLOEXEC);

	if (fd < 0 || pwrite(fd, buf, len, 0) != (ssize_t)len) {
		perror("memfd");
		exit(2);
	}
	return fd;
}

/* ---- VDI ---- */

#define VDI_BS 4096u
#define VDI_MAP 0x200u
#define VDI_DATA 0x400u

/* 4 blocks: map {0, free, 1, zero}, 2 allocated ('A', 'B'); type 1. */
static size_t make_vdi(uint8_t *img, uint32_t type)
{
	memset(img, 0, VDI_DATA + 2 * VDI_BS);
	memcpy(img, "<<< imgscan test VDI >>>\n", 25);
	put32(img + 0x40, 0xBEDA107Fu);
	put32(img + 0x44, 0x00010001u);
	put32(img + 0x48, 0x190);
	put32(img + 0x4C, type);
	put32(img + 0x154, VDI_MAP);
	put32(img + 0x158, VDI_DATA);
	put64(img + 0x170, 4 * VDI_BS);
	put32(img + 0x178, VDI_BS);
	put32(img + 0x180, 4);
	put32(img + 0x184, 2);
	img[0x1A8] = 0x11; /* parent UUID */
	put32(img + VDI_MAP, 0);
	put32(img + VDI_MAP + 4, 0xFFFFFFFFu);
	put32(img + VDI_MAP + 8, 1);
	put32(img + VDI_MAP + 12, 0xFFFFFFFEu);
	memset(img + VDI_DATA, 'A', VDI_BS);
	memset(img + VDI_DATA + VDI_BS, 'B', VDI_BS);
	return VDI_DATA + 2 * VDI_BS;
}

struct opened {
	struct vdisk_file file;
	struct vdisk_error err;
	struct vdisk *d;
	int fd, rc;
};

static void open_bytes(struct opened *o, const char *layer, const uint8_t *img, size_t len)
{
	memset(o, 0, sizeof(*o));
	o->fd = memfile(img, len);
	if (vdisk_file_init(&o->file, o->fd, len))
		exit(2);
	o->rc = vdisk_ops_for(layer)->open(&o->file, &o->err, &o->d);
}

static void close_opened(struct opened *o)
{
	if (!o->rc)
		o->d->ops->close(o->d);
	vdisk_file_release(&o->file);
	close(o->fd);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void test_vdi_good(void)
{
	static uint8_t img[VDI_DATA + 2 * VDI_BS], buf[4 * VDI_BS];
	struct opened o;
	long n;

	open_bytes(&o, "vdi", img, make_vdi(img, 1));
	CHECK(o.rc == 0, "vdi: open: %d %s", o.rc, o.err.why);
	if (o.rc)
		return close_opened(&o);
	CHECK(o.d->ops->size(o.d) == 4 * VDI_BS, "vdi: size");
	n = o.d->ops->read(o.d, 0, buf, sizeof(buf));
	CHECK(n == (long)sizeof(buf), "vdi: read all: %ld", n);
	CHECK(all_bytes(buf, VDI_BS, 'A') && all_bytes(buf + VDI_BS, VDI_BS, 0) &&
	      all_bytes(buf + 2 * VDI_BS, VDI_BS, 'B') && all_bytes(buf + 3 * VDI_BS, VDI_BS, 0), "vdi: contents");
	n = o.d->ops->read(o.d, 2 * VDI_BS - 10, buf, 20);
	CHECK(n == 20 && all_bytes(buf, 10, 0) && all_bytes(buf + 10, 10, 'B'), "vdi: read across blocks");
	CHECK(o.d->ops->read(o.d, 4 * VDI_BS, buf, 1) == 0, "vdi: read at the end");
	CHECK(!o.err.why[0] && !o.err.truncated, "vdi: no failure: %s", o.err.why);
	close_opened(&o);
}

/* A patched copy of the good VDI must fail to open, saying want. */
static void vdi_refused(uint32_t field, uint32_t value, const char *want)
{
	static uint8_t img[VDI_DATA + 2 * VDI_BS];
	struct opened o;
	size_t len = make_vdi(img, 1);

	put32(img + field, value);
	open_bytes(&o, "vdi", img, len);
	CHECK(o.rc < 0 && strstr(o.err.why, want), "vdi: field 0x%x = 0x%x: rc %d, \"%s\" (want \"%s\")", field,
	      value, o.rc, o.err.why, want);
	close_opened(&o);
}

static void test_vdi_crafted(void)
{
	static uint8_t img[VDI_DATA + 2 * VDI_BS], buf[VDI_BS];
	struct opened o;

	vdi_refused(VDI_MAP + 8, 0x7FFFFFF0u, "block map entry 2 points past the end of the file");
	vdi_refused(VDI_MAP + 8, 2, "block map entry 2 points past the end of the file (data block 2 of 2)");
	vdi_refused(0x184, 1, "block map entry 2 points past the allocated blocks (data block 1 of 1)");
	vdi_refused(0x180, 0xFFFFFFF0u, "more than the");
	vdi_refused(0x184, 5, "5 blocks allocated of 4");
	vdi_refused(0x178, 0, "not a usable block size");
	vdi_refused(0x178, 1u << 31, "not a usable block size");
	vdi_refused(0x44, 0x00000001u, "version 0.1");
	vdi_refused(0x154, 0xFFFFFF00u, "ends inside its block map");
	{ /* disk size beyond what the blocks hold */
		size_t len = make_vdi(img, 1);
		put64(img + 0x170, 5 * VDI_BS);
		open_bytes(&o, "vdi", img, len);
		CHECK(o.rc < 0 && strstr(o.err.why, "more than its 4 blocks"), "vdi: disk size: %s", o.err.why);
		close_opened(&o);
	}
	/* A cut copy: open, truncated, the missing block fails. */
	open_bytes(&o, "vdi", img, make_vdi(img, 1) - VDI_BS / 2);
	CHECK(o.rc == 0 && o.err.truncated, "vdi: cut copy: rc %d truncated %d", o.rc, o.err.truncated);
	if (!o.rc) {
		CHECK(o.d->ops->read(o.d, 0, buf, VDI_BS) == VDI_BS, "vdi: cut copy: first block reads");
		CHECK(o.d->ops->read(o.d, 2 * VDI_BS, buf, VDI_BS) < 0, "vdi: cut copy: cut block fails");
	}
	close_opened(&o);
	/* A differencing image: its free blocks are the parent's. */
	open_bytes(&o, "vdi", img, make_vdi(img, 4));
	CHECK(o.rc == 0 && o.d->ops->backing(o.d)[0], "vdi: differencing: rc %d", o.rc);
	if (!o.rc) {
		CHECK(o.d->ops->read(o.d, 0, buf, VDI_BS) == VDI_BS, "vdi: differencing: own block reads");
		CHECK(o.d->ops->read(o.d, VDI_BS, buf, VDI_BS) == -ENODATA && o.err.needs_parent,
		      "vdi: differencing: parent's block: %s", o.err.why);
	}
	close_opened(&o);
}

/* ---- Android sparse ---- */

#define SP_BS 4096u

static size_t sp_chunk(uint8_t *p, uint16_t type, uint32_t blocks, uint32_t bytes)
{
	put16(p, type);
	put16(p + 2, 0);
	put32(p + 4, blocks);
	put32(p + 8, bytes);
	return 12;
}

/* 7 blocks: RAW 2 ('R'), FILL 1 (de ad be ef), DONT_CARE 2, CRC32, RAW 1 ('S'), DONT_CARE 1. */
static size_t make_sparse(uint8_t *img)
{
	size_t at = 28;

	memset(img, 0, 28 + 6 * 12 + 3 * SP_BS + 8);
	put32(img, 0xED26FF3Au);
	put16(img + 4, 1);
	put16(img + 8, 28);
	put16(img + 10, 12);
	put32(img + 12, SP_BS);
	put32(img + 16, 7);
	put32(img + 20, 6);
	at += sp_chunk(img + at, 0xCAC1, 2, 12 + 2 * SP_BS);
	memset(img + at, 'R', 2 * SP_BS);
	at += 2 * SP_BS;
	at += sp_chunk(img + at, 0xCAC2, 1, 16);
	memcpy(img + at, "\xde\xad\xbe\xef", 4);
	at += 4;
	at += sp_chunk(img + at, 0xCAC3, 2, 12);
	at += sp_chunk(img + at, 0xCAC4, 0, 16);
	at += 4;
	at += sp_chunk(img + at, 0xCAC1, 1, 12 + SP_BS);
	memset(img + at, 'S', SP_BS);
	at += SP_BS;
	at += sp_chunk(img + at, 0xCAC3, 1, 12);
	return at;
}

static void test_sparse_good(void)
{
	static uint8_t img[28 + 6 * 12 + 3 * SP_BS + 8], buf[7 * SP_BS];
	struct opened o;
	long n;
	bool fill_ok = true;

	open_bytes(&o, "android-sparse", img, make_sparse(img));
	CHECK(o.rc == 0, "sparse: open: %d %s", o.rc, o.err.why);
	if (o.rc)
		return close_opened(&o);
	CHECK(o.d->ops->size(o.d) == 7 * SP_BS, "sparse: size");
	n = o.d->ops->read(o.d, 0, buf, sizeof(buf));
	CHECK(n == (long)sizeof(buf), "sparse: read all: %ld", n);
	for (size_t i = 0; i < SP_BS; i++)
		fill_ok &= buf[2 * SP_BS + i] == (uint8_t)"\xde\xad\xbe\xef"[i % 4];
	CHECK(all_bytes(buf, 2 * SP_BS, 'R') && fill_ok && all_bytes(buf + 3 * SP_BS, 2 * SP_BS, 0) &&
	      all_bytes(buf + 5 * SP_BS, SP_BS, 'S') && all_bytes(buf + 6 * SP_BS, SP_BS, 0), "sparse: contents");
	n = o.d->ops->read(o.d, 2 * SP_BS + 1, buf, 3);
	CHECK(n == 3 && !memcmp(buf, "\xad\xbe\xef", 3), "sparse: fill at an odd offset");
	close_opened(&o);
}

static void sparse_refused(size_t field, uint32_t value, int width, const char *want)
{
	static uint8_t img[28 + 6 * 12 + 3 * SP_BS + 8];
	struct opened o;
	size_t len = make_sparse(img);

	if (width == 2)
		put16(img + field, (uint16_t)value);
	else
		put32(img + field, value);
	open_bytes(&o, "android-sparse", img, len);
	CHECK(o.rc < 0 && strstr(o.err.why, want), "sparse: field %zu = 0x%x: rc %d, \"%s\" (want \"%s\")", field,
	      value, o.rc, o.err.why, want);
	close_opened(&o);
}

static void test_sparse_crafted(void)
{
	static uint8_t img[28 + 6 * 12 + 3 * SP_BS + 8];
	size_t first = 28, fill = 28 + 12 + 2 * SP_BS;
	struct opened o;
	uint8_t buf[16];

	sparse_refused(20, 0xFFFFFFFFu, 4, "more than the");
	sparse_refused(12, 0, 4, "block size 0");
	sparse_refused(12, 4098, 4, "block size 4098");
	sparse_refused(8, 0xFFFF, 2, "header sizes");
	sparse_refused(first, 0x1234, 2, "chunk 0 has unknown type 0x1234");
	sparse_refused(first + 8, 12, 4, "chunk 0 of type 0xcac1 and 2 blocks says 12 bytes");
	sparse_refused(first + 4, 0x80000000u, 4, "chunk 0 of type 0xcac1"); /* 2^31 blocks: bytes cannot match */
	sparse_refused(fill + 4, 100, 4, "chunk 1 runs past the 7 blocks");
	sparse_refused(16, 9, 4, "cover 7 of the 9 blocks");
	sparse_refused(16, 6, 4, "runs past the 6 blocks");
	/* A cut copy, inside the last RAW chunk: what precedes it reads. */
	open_bytes(&o, "android-sparse", img, make_sparse(img) - 12 - SP_BS / 2);
	CHECK(o.rc == 0 && o.err.truncated, "sparse: cut copy: rc %d truncated %d %s", o.rc, o.err.truncated, o.err.why);
	if (!o.rc) {
		CHECK(o.d->ops->size(o.d) == 7 * SP_BS, "sparse: cut copy keeps the declared size");
		CHECK(o.d->ops->read(o.d, 0, buf, sizeof(buf)) == sizeof(buf), "sparse: cut copy: start reads");
		CHECK(o.d->ops->read(o.d, 5 * SP_BS, buf, sizeof(buf)) < 0, "sparse: cut copy: cut block fails");
	}
	close_opened(&o);
	/* Cut inside the first RAW chunk: its whole blocks still read. */
	make_sparse(img);
	open_bytes(&o, "android-sparse", img, 28 + 12 + SP_BS + SP_BS / 2);
	CHECK(o.rc == 0 && o.err.truncated, "sparse: cut in a RAW chunk: rc %d %s", o.rc, o.err.why);
	if (!o.rc) {
		CHECK(o.d->ops->read(o.d, 0, buf, sizeof(buf)) == sizeof(buf) && all_bytes(buf, sizeof(buf), 'R'),
		      "sparse: cut in a RAW chunk: its first block reads");
		CHECK(o.d->ops->read(o.d, SP_BS, buf, sizeof(buf)) < 0, "sparse: cut in a RAW chunk: its second fails");
	}
	close_opened(&o);
}

/* A header alone (28 bytes) that declares SPARSE_CHUNKS_MAX chunks: cut
 * short, and its index sized by the file (a chunk header each), not by the
 * count (24 MiB). */
static void test_sparse_short_index(void)
{
	static uint8_t img[28 + 6 * 12 + 3 * SP_BS + 8];
	struct mallinfo2 before, after;
	struct opened o;

	make_sparse(img);
	put32(img + 20, 1u << 20);
	memset(&o, 0, sizeof(o));
	o.fd = memfile(img, 28);
	if (vdisk_file_init(&o.file, o.fd, 28))
		exit(2);
	before = mallinfo2();
	o.rc = vdisk_ops_for("android-sparse")->open(&o.file, &o.err, &o.d);
	after = mallinfo2();
	CHECK(o.rc == 0 && o.err.truncated, "sparse: header alone: rc %d truncated %d %s", o.rc, o.err.truncated,
	      o.err.why);
	CHECK(after.uordblks + after.hblkhd < before.uordblks + before.hblkhd + (64u << 10),
	      "sparse: header alone: %zu bytes allocated for its index",
	      (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd));
	close_opened(&o);
}

/* inside_container() itself: status, sizes and failure text. */
static void test_glue(void)
{
	static uint8_t img[VDI_DATA + 2 * VDI_BS];
	static struct tsk_request req;
	static struct tsk_result res;
	size_t len = make_vdi(img, 1);
	int fd = memfile(img, len);

	memset(&req, 0, sizeof(req));
	req.size = len;
	snprintf(req.op, sizeof(req.op), "inside");
	snprintf(req.container, sizeof(req.container), "vdi");
	memset(&res, 0, sizeof(res));
	inside_container(&req, fd, &res);
	CHECK(res.inside.status != INSIDE_FAILED && res.inside.inner_size == 4 * VDI_BS &&
	      res.inside.inner_size_known && res.inside.examined == 4 * VDI_BS, "glue: good vdi: %d %s",
	      res.inside.status, res.inside.failure);
	close(fd);
	put32(img + VDI_MAP + 8, 0x7FFFFFF0u);
	fd = memfile(img, len);
	memset(&res, 0, sizeof(res));
	inside_container(&req, fd, &res);
	CHECK(res.inside.status == INSIDE_FAILED && strstr(res.inside.failure, "vdi: block map entry 2"),
	      "glue: damaged vdi: %d %s", res.inside.status, res.inside.failure);
	close(fd);
}

/* ---- the driver ---- */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_ident(const struct ident *id)
{
	printf("\"probes\": [");
	for (int i = 0; i < id->nhits; i++) {
		printf("%s{\"name\": ", i ? ", " : "");
		json_string(id->hits[i].name);
		printf(", \"offset\": %llu, \"label\": ", (unsigned long long)id->hits[i].offset);
		json_string(id->hits[i].label);
		printf("}");
	}
	printf("], \"partition_table\": {\"scheme\": ");
	json_string(id->scheme);
	printf(", \"partitions\": [");
	for (int i = 0; i < id->nparts; i++)
		printf("%s{\"number\": %u, \"start\": %llu, \"length\": %llu, \"type\": \"%s\"}", i ? ", " : "",
		       id->parts[i].number, (unsigned long long)id->parts[i].start,
		       (unsigned long long)id->parts[i].length, id->parts[i].type);
	printf("]}");
}

static void print_tsk(const struct tsk_result *r)
{
	printf("\"tsk\": {\"image_type\": ");
	json_string(r->img_type);
	printf(", \"media_size\": %llu, \"volume_system\": {\"type\": ", (unsigned long long)r->img_size);
	json_string(r->vs_type);
	printf(", \"partitions\": %u}, \"filesystems\": [", r->nparts);
	for (uint32_t i = 0; i < r->nfs && i < TSK_MAX_FS; i++) {
		printf("%s{\"offset\": %llu, \"type\": ", i ? ", " : "", (unsigned long long)r->fs[i].offset);
		json_string(r->fs[i].type);
		printf("}");
	}
	printf("], \"errors\": [");
	for (uint32_t i = 0; i < r->nerrors && i < TSK_MAX_ERRORS; i++) {
		printf("%s", i ? ", " : "");
		json_string(r->errors[i]);
	}
	printf("]}");
}

static void print_result(const struct tsk_result *r)
{
	const struct inside_result *in = &r->inside;

	printf("{\"layer\": ");
	json_string(in->layer);
	printf(", \"status\": \"%s\", \"failure\": ", in->status == INSIDE_FAILED ? "failed" : "ok");
	json_string(in->failure);
	printf(", \"truncated\": %s, \"inner_size\": %llu, \"examined\": %llu, \"backing_file\": ",
	       in->truncated ? "true" : "false", (unsigned long long)in->inner_size,
	       (unsigned long long)in->examined);
	json_string(in->backing);
	printf(", \"tsk_ran\": %s, ", in->tsk_ran ? "true" : "false");
	print_ident(&in->id);
	printf(", ");
	print_tsk(r);
	printf("}\n");
}

/* The reader's way, without inside_container(): the whole virtual disk read
 * in pieces of DUMP_PIECE bytes (not a power of two, so reads straddle
 * clusters and grains) into out (zeros left as holes), up to the first read
 * that fails; one JSON object says how it went.  Exit 0 when the answer was
 * printed. */
#define DUMP_PIECE 200000u

static int dump(const char *layer, const char *path, const char *out)
{
	static uint8_t buf[DUMP_PIECE];
	const struct vdisk_ops *ops = vdisk_ops_for(layer);
	char dir[] = "/tmp/unit-inside-XXXXXX";
	int fd = open(path, O_RDONLY | O_CLOEXEC), ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), dfd;
	struct vdisk_error err = {0};
	struct vdisk_file file;
	struct vdisk *d = NULL;
	uint64_t size = 0, off = 0;
	long n = 0;
	struct stat st;
	int rc;

	if (!ops || fd < 0 || ofd < 0 || fstat(fd, &st) || !mkdtemp(dir) || vdisk_file_init(&file, fd, (uint64_t)st.st_size)) {
		perror(path);
		return 2;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	vdisk_set_name_dir(dfd);
	rc = ops->open(&file, &err, &d);
	if (!rc) {
		size = d->ops->size(d);
		while (off < size) {
			n = d->ops->read(d, off, buf, sizeof(buf));
			if (n <= 0 || (!all_bytes(buf, (size_t)n, 0) && pwrite(ofd, buf, (size_t)n, (off_t)off) != n))
				break;
			off += (uint64_t)n;
		}
		d->ops->close(d);
	}
	if (ftruncate(ofd, (off_t)off)) /* zeros are left a hole */
		perror(out);
	vdisk_set_name_dir(-1);
	vdisk_file_release(&file);
	printf("{\"open\": %d, \"size\": %llu, \"read\": %llu, \"last\": %ld, \"truncated\": %s, "
	       "\"needs_parent\": %s, \"why\": ", rc, (unsigned long long)size, (unsigned long long)off, n,
	       err.truncated ? "true" : "false", err.needs_parent ? "true" : "false");
	json_string(err.why);
	printf("}\n");
	close(dfd);
	close(ofd);
	close(fd);
	return rmdir(dir) ? (perror("rmdir: a link was left behind"), 1) : 0;
}

/* The worker's way, with a private directory of this process's own. */
static int drive(bool run_tsk, const char *layer, const char *path)
{
	static struct tsk_request req;
	static struct tsk_result res;
	char dir[] = "/tmp/unit-inside-XXXXXX";
	int fd = open(path, O_RDONLY | O_CLOEXEC), dfd;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || !mkdtemp(dir)) {
		perror(path);
		return 2;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	req.size = (uint64_t)st.st_size;
	req.run_tsk = run_tsk;
	snprintf(req.op, sizeof(req.op), "inside");
	snprintf(req.container, sizeof(req.container), "%s", layer);
	snprintf(req.path, sizeof(req.path), "%s", path);
	snprintf(res.inside.layer, sizeof(res.inside.layer), "%s", layer);
	vdisk_set_name_dir(dfd);
	inside_container(&req, fd, &res);
	vdisk_set_name_dir(-1);
	if (!res.inside.status)
		res.inside.status = INSIDE_DONE;
	print_result(&res);
	close(dfd);
	close(fd);
	return rmdir(dir) ? (perror("rmdir: a link was left behind"), 1) : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--dump"))
		return dump(argv[2], argv[3], argv[4]);
	if (argc > 1) {
		bool run_tsk = !strcmp(argv[1], "--tsk");
		if (argc != 3 + run_tsk) {
			fprintf(stderr, "usage: %s [--tsk] LAYER FILE\n", argv[0]);
			return 2;
		}
		return drive(run_tsk, argv[1 + run_tsk], argv[2 + run_tsk]);
	}
	test_vdi_good();
	test_vdi_crafted();
	test_sparse_good();
	test_sparse_crafted();
	test_sparse_short_index();
	test_glue();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
