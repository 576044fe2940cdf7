/*
 * vdisk_qcow.c - QEMU qcow2 through libqcow, given /proc/self/fd/N (libqcow
 * needs no particular name).  Before libqcow sees it, the header is read
 * and bounded here: its cluster size, the L1 table against the file (and
 * kept), the backing file's name (reported, never opened: libqcow opens
 * nothing by itself, and reads nothing of an overlay without it).  Before
 * each read, the clusters' own L1/L2 entries are checked: one past the end
 * of a cut copy, or in the backing file, is refused here with the reason,
 * never handed to libqcow.  At open, the L2 tables (up to a budget) are
 * walked once, so a cut copy is said even where nothing reads it.
 */
#include "vdisk.h"
#include "probe.h"

#include <libqcow.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QCOW_HEADER 80u                 /* version 2's 72 bytes, and version 3's incompatible features */
#define QCOW_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW_INCOMPAT_KNOWN 0xBull      /* dirty, corrupt, compression type: the tables are the plain ones */
#define QCOW_BACKING_NAME_MAX 1023u     /* qemu's own limit */
#define QCOW_L1_MAX (1u << 22)          /* entries: qemu's 32 MiB cap */
#define QCOW_SCAN_BUDGET (16u << 20)    /* L2 tables read to find a cut copy: those of 128 GiB at 64 KiB clusters */
#define QCOW_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW_COMPRESSED (1ull << 62)

struct qcow {
	struct vdisk base;
	struct vdisk_file *file;
	libqcow_file_t *lib;
	uint64_t size;
	uint32_t version, cluster_bits, l1_size;
	bool own_checks;         /* its L1/L2 tables are ones this file reads: reads are checked against them */
	uint64_t l1_off;
	uint64_t *l1;            /* the L1 table, in host order (owned; own_checks only) */
	char backing[256];
};

enum cluster_state { CLUSTER_OK, CLUSTER_UNALLOCATED, CLUSTER_PAST_EOF };

/* The backing file's name, as the header gives it (never opened). */
static int read_backing(struct qcow *q, const uint8_t *h, struct vdisk_error *err)
{
	uint64_t off = be64(h + 8);
	uint32_t len = be32(h + 16);
	uint8_t name[QCOW_BACKING_NAME_MAX];
	long got;

	if (!off || !len)
		return 0;
	if (len > QCOW_BACKING_NAME_MAX)
		return vdisk_fail(err, EINVAL, "qcow2", "backing file name of %u bytes (at most %u)", len,
				  QCOW_BACKING_NAME_MAX);
	got = vdisk_file_read(q->file, off, name, len);
	if (got < 0)
		return vdisk_fail(err, (int)-got, "qcow2", "backing file name: %s", strerror((int)-got));
	if ((size_t)got < len) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "qcow2", "the file ends inside its backing file name (cut short)");
	}
	vdisk_copy_name(q->backing, sizeof(q->backing), name, len);
	return 0;
}

static int parse_header(struct qcow *q, const uint8_t *h, struct vdisk_error *err)
{
	if (memcmp(h, "QFI\xfb", 4))
		return vdisk_fail(err, EINVAL, "qcow2", "no qcow signature");
	q->version = be32(h + 4);
	if (q->version < 1 || q->version > 3)
		return vdisk_fail(err, ENOTSUP, "qcow2", "version %u is not read", q->version);
	q->size = be64(h + 24);
	if (q->version == 1) /* other tables: libqcow alone reads them */
		return read_backing(q, h, err);
	q->cluster_bits = be32(h + 20);
	q->l1_size = be32(h + 36);
	q->l1_off = be64(h + 40);
	if (q->cluster_bits < 9 || q->cluster_bits > 21)
		return vdisk_fail(err, EINVAL, "qcow2", "cluster size 2^%u (2^9 to 2^21)", q->cluster_bits);
	if (be32(h + 32))
		return vdisk_fail(err, ENOTSUP, "qcow2", "encrypted (method %u): not readable without its key",
				  be32(h + 32));
	if (q->l1_size > QCOW_L1_MAX)
		return vdisk_fail(err, EINVAL, "qcow2", "L1 table of %u entries (at most %u)", q->l1_size, QCOW_L1_MAX);
	if (q->version >= 3 && (be64(h + 72) & QCOW_INCOMPAT_DATA_FILE))
		return vdisk_fail(err, ENOTSUP, "qcow2", "its data is in an external data file, which is never opened");
	q->own_checks = q->version == 2 || !(be64(h + 72) & ~QCOW_INCOMPAT_KNOWN);
	if (q->l1_off > q->file->size || (uint64_t)q->l1_size * 8 > q->file->size - q->l1_off) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "qcow2", "the file ends inside its L1 table (cut short)");
	}
	return read_backing(q, h, err);
}

/* An 8-byte big-endian table entry at off: 0, or -ENODATA past the end. */
static int entry_at(struct qcow *q, uint64_t off, uint64_t *e)
{
	uint8_t b[8];
	int rc = vdisk_file_small(q->file, off, b, sizeof(b));

	if (!rc)
		*e = be64(b);
	return rc;
}

/* Where an L2 entry's cluster is. */
static enum cluster_state l2_state(const struct qcow *q, uint64_t e)
{
	uint64_t cluster = 1ull << q->cluster_bits, host;

	if (e & QCOW_COMPRESSED) {
		host = e & ((1ull << (62 - (q->cluster_bits - 8))) - 1);
		return host < q->file->size ? CLUSTER_OK : CLUSTER_PAST_EOF;
	}
	host = e & QCOW_OFFSET_MASK;
	if (!host)
		return (e & 1) ? CLUSTER_OK : CLUSTER_UNALLOCATED; /* bit 0: reads as zeros (version 3) */
	return host <= q->file->size && cluster <= q->file->size - host ? CLUSTER_OK : CLUSTER_PAST_EOF;
}

/* Where the cluster holding virtual offset voff is, by its L1 and L2
 * entries (qcow2 only). */
static enum cluster_state cluster_at(struct qcow *q, uint64_t voff)
{
	unsigned l2_bits = q->cluster_bits - 3;
	uint64_t l1_idx = voff >> (q->cluster_bits + l2_bits);
	uint64_t l2_idx = (voff >> q->cluster_bits) & ((1ull << l2_bits) - 1), e;

	if (l1_idx >= q->l1_size)
		return CLUSTER_UNALLOCATED;
	e = q->l1[l1_idx];
	if (!(e & QCOW_OFFSET_MASK))
		return CLUSTER_UNALLOCATED;
	if (entry_at(q, (e & QCOW_OFFSET_MASK) + l2_idx * 8, &e))
		return CLUSTER_PAST_EOF;
	return l2_state(q, e);
}

static void say_cut(struct qcow *q, uint64_t voff)
{
	q->base.err->truncated = true;
	vdisk_fail(q->base.err, ENODATA, "qcow2", "the file ends before the cluster of virtual offset %llu (cut short)",
		   (unsigned long long)voff);
}

/* Does one L2 table (for virtual offsets from base) point past the end of
 * the file?  Says so and returns true; l2 is a cluster-sized buffer. */
static bool l2_table_cut(struct qcow *q, uint64_t l2_off, uint64_t base, uint8_t *l2)
{
	size_t cluster = (size_t)1 << q->cluster_bits;
	long got;

	if (l2_off > q->file->size || cluster > q->file->size - l2_off) {
		say_cut(q, base);
		return true;
	}
	got = vdisk_file_read(q->file, l2_off, l2, cluster);
	if (got != (long)cluster)
		return false; /* an I/O error: the reads will say it */
	for (size_t j = 0; j < cluster / 8; j++)
		if (l2_state(q, be64(l2 + 8 * j)) == CLUSTER_PAST_EOF) {
			say_cut(q, base + ((uint64_t)j << q->cluster_bits));
			return true;
		}
	return false;
}

/* A cut copy: the first L2 table or data cluster past the end of the
 * file, found before any read needs it.  Reads the L1 table and at most
 * QCOW_SCAN_BUDGET bytes of L2 tables. */
static void find_cut(struct qcow *q)
{
	uint64_t cluster = 1ull << q->cluster_bits, start = q->file->bytes_read;
	unsigned span_bits = 2 * q->cluster_bits - 3; /* virtual bytes one L2 table maps: 2^span_bits */
	uint8_t *l2 = malloc(cluster);

	for (uint32_t i = 0; l2 && i < q->l1_size && q->file->bytes_read - start < QCOW_SCAN_BUDGET; i++) {
		if (!(q->l1[i] & QCOW_OFFSET_MASK))
			continue;
		if (l2_table_cut(q, q->l1[i] & QCOW_OFFSET_MASK, (uint64_t)i << span_bits, l2))
			break;
	}
	free(l2);
}

/* Before libqcow reads [off, off + len): a cluster in it that lies past
 * the end of the file (libqcow 20201213 copies a whole cluster out of a
 * short one at the end of a cut copy, past its buffer) or in the backing
 * file is refused here.  0, or -ENODATA with the reason kept. */
static int check_range(struct qcow *q, uint64_t off, size_t len)
{
	uint64_t step = 1ull << q->cluster_bits;

	for (uint64_t at = off & ~(step - 1); at < off + len; at += step) {
		enum cluster_state st = cluster_at(q, at);
		if (st == CLUSTER_PAST_EOF) {
			say_cut(q, at);
			return -ENODATA;
		}
		if (st == CLUSTER_UNALLOCATED && q->backing[0]) {
			q->base.err->needs_parent = true;
			return vdisk_fail(q->base.err, ENODATA, "qcow2",
					  "virtual offset %llu is in the backing file \"%s\", which is never opened",
					  (unsigned long long)at, q->backing);
		}
	}
	return 0;
}

/* libqcow refused a read: its reason.  An overlay reads nothing at all
 * without its backing file. */
static long library_failure(struct qcow *q, uint64_t off, libqcow_error_t **lib_err)
{
	char trace[1024] = "", msg[128];

	if (*lib_err)
		libqcow_error_backtrace_sprint(*lib_err, trace, sizeof(trace));
	libqcow_error_free(lib_err);
	vdisk_lib_message(msg, sizeof(msg), trace);
	if (q->backing[0]) {
		q->base.err->needs_parent = true;
		return vdisk_fail(q->base.err, ENODATA, "qcow2",
				  "libqcow reads nothing of it without its backing file \"%.100s\", which is never opened (%s)",
				  q->backing, msg);
	}
	return vdisk_fail(q->base.err, EIO, "qcow2", "read at virtual offset %llu: %s", (unsigned long long)off, msg);
}

static long qcow_read(struct vdisk *d, uint64_t off, void *buf, size_t len)
{
	struct qcow *q = (struct qcow *)d;
	libqcow_error_t *lib_err = NULL;
	ssize_t n;
	int rc;

	if (off >= q->size)
		return 0;
	if (len > q->size - off)
		len = (size_t)(q->size - off);
	if (q->own_checks && (rc = check_range(q, off, len)))
		return rc;
	n = libqcow_file_read_buffer_at_offset(q->lib, buf, len, (off64_t)off, &lib_err);
	if (n >= 0 && (size_t)n == len)
		return (long)n;
	return library_failure(q, off, &lib_err);
}

/* The L1 table, whole (its size is checked against the file and capped at
 * QCOW_L1_MAX entries, 32 MiB). */
static int load_l1(struct qcow *q, struct vdisk_error *err)
{
	long got;

	q->l1 = malloc(q->l1_size ? (size_t)q->l1_size * 8 : 1);
	if (!q->l1)
		return vdisk_fail(err, ENOMEM, "qcow2", "no memory for an L1 table of %u entries", q->l1_size);
	got = vdisk_file_read(q->file, q->l1_off, q->l1, (size_t)q->l1_size * 8);
	if (got < 0)
		return vdisk_fail(err, (int)-got, "qcow2", "L1 table: %s", strerror((int)-got));
	if ((size_t)got < (size_t)q->l1_size * 8) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "qcow2", "the file ends inside its L1 table (cut short)");
	}
	for (uint32_t i = 0; i < q->l1_size; i++)
		q->l1[i] = be64((const uint8_t *)&q->l1[i]);
	return 0;
}

/* libqcow's view of the file: its size and a check that it reads at all. */
static int open_library(struct qcow *q, struct vdisk_error *err)
{
	libqcow_error_t *lib_err = NULL;
	char path[32], trace[1024] = "", msg[128];
	size64_t size = 0;

	if (vdisk_fd_path(q->file->fd, path, sizeof(path)))
		return vdisk_fail(err, ENAMETOOLONG, "qcow2", "no name for the descriptor");
	if (libqcow_file_initialize(&q->lib, &lib_err) == 1 &&
	    libqcow_file_open(q->lib, path, LIBQCOW_OPEN_READ, &lib_err) == 1 &&
	    libqcow_file_get_media_size(q->lib, &size, &lib_err) == 1) {
		q->size = size;
		return 0;
	}
	if (lib_err)
		libqcow_error_backtrace_sprint(lib_err, trace, sizeof(trace));
	libqcow_error_free(&lib_err);
	vdisk_lib_message(msg, sizeof(msg), trace);
	return vdisk_fail(err, EINVAL, "qcow2", "libqcow: %s", msg);
}

static void qcow_close(struct vdisk *d)
{
	struct qcow *q = (struct qcow *)d;

	if (q->lib) {
		libqcow_file_close(q->lib, NULL);
		libqcow_file_free(&q->lib, NULL);
	}
	free(q->l1);
	free(q);
}

static int qcow_open(struct vdisk_file *f, struct vdisk_error *err, struct vdisk **out)
{
	uint8_t h[QCOW_HEADER];
	struct qcow *q;
	int rc = vdisk_file_small(f, 0, h, sizeof(h));

	if (rc == -ENODATA) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "qcow2", "the file ends inside its header (cut short)");
	}
	if (rc)
		return vdisk_fail(err, -rc, "qcow2", "header: %s", strerror(-rc));
	q = calloc(1, sizeof(*q));
	if (!q)
		return vdisk_fail(err, ENOMEM, "qcow2", "no memory");
	q->base.ops = &vdisk_qcow_ops;
	q->base.err = err;
	q->file = f;
	rc = parse_header(q, h, err);
	if (!rc && q->own_checks)
		rc = load_l1(q, err);
	if (!rc)
		rc = open_library(q, err);
	if (rc) {
		qcow_close(&q->base);
		return rc;
	}
	if (q->own_checks)
		find_cut(q);
	*out = &q->base;
	return 0;
}

static uint64_t qcow_size(const struct vdisk *d)
{
	return ((const struct qcow *)d)->size;
}

static const char *qcow_backing(const struct vdisk *d)
{
	return ((const struct qcow *)d)->backing;
}

const struct vdisk_ops vdisk_qcow_ops = {
	.layer = "qcow2",
	.open = qcow_open,
	.read = qcow_read,
	.size = qcow_size,
	.backing = qcow_backing,
	.close = qcow_close,
};
