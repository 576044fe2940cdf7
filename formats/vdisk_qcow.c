/*
 * vdisk_qcow.c - QEMU qcow (version 1) and qcow2 (versions 2 and 3) through
 * libqcow, given /proc/self/fd/N (libqcow needs no particular name).
 *
 * libqcow 20201213 trusts the tables: it takes an L2 entry's low bits as
 * part of the host offset (so version 3's "reads as zeros" flag, bit 0,
 * makes it read the container's own header, and at the last cluster of the
 * file, read past its buffer), reads the cluster below an offset that is
 * off its boundary, copies a whole cluster out of a short one at the end of
 * a cut copy, and takes the virtual size from the header whatever the L1
 * table maps.  So libqcow is handed only what is checked here first:
 *  - at open, the header: cluster and table sizes, encryption (refused), the
 *    virtual size against what the L1 table maps (as qemu does), the L1
 *    table against the file (and kept), the backing file's name (reported,
 *    never opened: libqcow opens nothing by itself, and reads nothing of an
 *    overlay without it);
 *  - at each read, every cluster's own L1 and L2 entries, one cluster at a
 *    time: zeros (unallocated, or version 3's flag) are written here, runs
 *    of clusters really in the file go to libqcow, and a cluster past the
 *    end of a cut copy, in the backing file, or with an entry qemu calls
 *    corrupt (reserved bits, an offset off its boundary, the zero flag in
 *    version 2) is refused with the reason.
 * At open, the L2 tables (up to a budget) are walked once, so a cut copy is
 * said even where nothing reads it.
 */
#include "vdisk.h"
#include "probe.h"

#include <libqcow.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QCOW1_HEADER 48u
#define QCOW_HEADER 80u                 /* version 2's 72 bytes, and version 3's incompatible features */
#define QCOW_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW_INCOMPAT_KNOWN 0xBull      /* dirty, corrupt, compression type: the tables are the plain ones */
#define QCOW_BACKING_NAME_MAX 1023u     /* qemu's own limit */
#define QCOW_L1_MAX (1u << 22)          /* entries: qemu's 32 MiB cap */
#define QCOW_SCAN_BUDGET (16u << 20)    /* L2 tables read to find a cut copy: those of 128 GiB at 64 KiB clusters */
#define QCOW_SECTOR 512u
/* qcow2's table entries (qemu's block/qcow2.h) */
#define L1E_OFFSET_MASK 0x00fffffffffffe00ull
#define L1E_RESERVED 0x7f000000000001ffull
#define L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define L2E_RESERVED 0x3f000000000001feull
#define L2E_ZERO 1ull                   /* version 3: the cluster reads as zeros */
#define L2E_COMPRESSED (1ull << 62)
/* qcow's (version 1) */
#define QCOW1_COMPRESSED (1ull << 63)

struct qcow {
	struct vdisk base;
	struct vdisk_file *file;
	libqcow_file_t *lib;
	uint64_t size;           /* the virtual size: at most what the L1 table maps */
	uint32_t version, cluster_bits, l2_bits, l1_size;
	uint64_t l1_off;
	uint64_t *l1;            /* the L1 table, in host order (owned) */
	bool has_backing;        /* the header gives a backing file name (an offset and a length) */
	char backing[256];
};

/* What one cluster of the virtual disk is, by its L1 and L2 entries. */
enum cluster_kind {
	CLUSTER_UNALLOCATED,     /* zeros, or the backing file's */
	CLUSTER_ZERO,            /* reads as zeros (version 3's flag) */
	CLUSTER_DATA,            /* in this file, plain or compressed: libqcow reads it */
	CLUSTER_CUT,             /* past the end of the file (a cut copy) */
	CLUSTER_DAMAGED,         /* an entry qemu calls corrupt, or one libqcow would misread */
	CLUSTER_IO_ERROR,        /* its L2 entry did not read */
};

struct cluster {
	enum cluster_kind kind;
	uint64_t entry;          /* the entry that decided it */
	const char *damage;      /* CLUSTER_DAMAGED: what is wrong with the entry */
	int errnum;              /* CLUSTER_IO_ERROR */
	bool tail_past_eof;      /* compressed data whose last sector the file ends inside (a cut copy) */
};

static bool in_file(const struct qcow *q, uint64_t off, uint64_t len)
{
	return off <= q->file->size && len <= q->file->size - off;
}

static uint64_t l2_table_bytes(const struct qcow *q)
{
	return 8ull << q->l2_bits;
}

/* Too long a name to keep, or one that begins with a NUL byte: said as
 * such, so a backing file is never reported as none. */
static void name_backing(struct qcow *q, const uint8_t *name, uint32_t len)
{
	if (len >= sizeof(q->backing))
		snprintf(q->backing, sizeof(q->backing), "(a name of %u bytes)", len);
	else if (!name[0])
		snprintf(q->backing, sizeof(q->backing), "(a name of %u bytes that begins with a NUL byte)", len);
	else
		vdisk_copy_name(q->backing, sizeof(q->backing), name, len);
}

/* The backing file's name, as the header gives it (never opened).  qcow2
 * keeps it in the first cluster (qemu refuses it elsewhere); a name that
 * begins past the end of the file is damage, one the file ends inside is a
 * cut copy's. */
static int read_backing(struct qcow *q, const uint8_t *h, struct vdisk_error *err)
{
	uint64_t off = be64(h + 8);
	uint32_t len = be32(h + 16);
	uint8_t name[QCOW_BACKING_NAME_MAX];
	long got;

	if (!off || !len)
		return 0;
	q->has_backing = true;
	if (len > QCOW_BACKING_NAME_MAX)
		return vdisk_fail(err, EINVAL, "qcow2", "backing file name of %u bytes (at most %u)", len,
				  QCOW_BACKING_NAME_MAX);
	if (q->version >= 2 && (off > (1ull << q->cluster_bits) || len > (1ull << q->cluster_bits) - off))
		return vdisk_fail(err, EINVAL, "qcow2", "its backing file name at %llu is outside its first cluster",
				  (unsigned long long)off);
	if (off >= q->file->size)
		return vdisk_fail(err, EINVAL, "qcow2", "its backing file name at %llu is past the end of the file",
				  (unsigned long long)off);
	got = vdisk_file_read(q->file, off, name, len);
	if (got < 0)
		return vdisk_fail(err, (int)-got, "qcow2", "backing file name: %s", strerror((int)-got));
	if ((size_t)got < len) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "qcow2", "the file ends inside its backing file name (cut short)");
	}
	name_backing(q, name, len);
	return 0;
}

/* Version 1: byte-sized cluster and L2 table bits, an L1 table as long as
 * the virtual size needs (libqcow's and qemu's computation), qemu's
 * limits. */
static int parse_v1(struct qcow *q, const uint8_t *h, struct vdisk_error *err)
{
	unsigned shift;

	q->cluster_bits = h[32];
	q->l2_bits = h[33];
	q->l1_off = be64(h + 40);
	if (q->cluster_bits < 9 || q->cluster_bits > 16)
		return vdisk_fail(err, EINVAL, "qcow2", "cluster size 2^%u (2^9 to 2^16)", q->cluster_bits);
	if (q->l2_bits < 6 || q->l2_bits > 13)
		return vdisk_fail(err, EINVAL, "qcow2", "L2 tables of 2^%u entries (2^6 to 2^13)", q->l2_bits);
	if (be32(h + 36))
		return vdisk_fail(err, ENOTSUP, "qcow2", "encrypted (method %u): not readable without its key",
				  be32(h + 36));
	shift = q->cluster_bits + q->l2_bits;
	if (q->size > ((uint64_t)QCOW_L1_MAX << shift))
		return vdisk_fail(err, EINVAL, "qcow2", "virtual size %llu bytes needs an L1 table of more than %u entries",
				  (unsigned long long)q->size, QCOW_L1_MAX);
	q->l1_size = (uint32_t)((q->size >> shift) + ((q->size & ((1ull << shift) - 1)) != 0));
	return 0;
}

/* Versions 2 and 3. */
static int parse_v2(struct qcow *q, const uint8_t *h, struct vdisk_error *err)
{
	uint64_t incompat = q->version >= 3 ? be64(h + 72) : 0;

	q->cluster_bits = be32(h + 20);
	q->l1_size = be32(h + 36);
	q->l1_off = be64(h + 40);
	if (q->cluster_bits < 9 || q->cluster_bits > 21)
		return vdisk_fail(err, EINVAL, "qcow2", "cluster size 2^%u (2^9 to 2^21)", q->cluster_bits);
	q->l2_bits = q->cluster_bits - 3;
	if (be32(h + 32))
		return vdisk_fail(err, ENOTSUP, "qcow2", "encrypted (method %u): not readable without its key",
				  be32(h + 32));
	if (q->l1_size > QCOW_L1_MAX)
		return vdisk_fail(err, EINVAL, "qcow2", "L1 table of %u entries (at most %u)", q->l1_size, QCOW_L1_MAX);
	if (q->size > ((uint64_t)q->l1_size << (q->cluster_bits + q->l2_bits)))
		return vdisk_fail(err, EINVAL, "qcow2",
				  "virtual size %llu bytes is more than its L1 table of %u entries maps (qemu: too small)",
				  (unsigned long long)q->size, q->l1_size);
	if (incompat & QCOW_INCOMPAT_DATA_FILE)
		return vdisk_fail(err, ENOTSUP, "qcow2", "its data is in an external data file, which is never opened");
	if (incompat & ~QCOW_INCOMPAT_KNOWN)
		return vdisk_fail(err, ENOTSUP, "qcow2", "incompatible features 0x%llx are not read",
				  (unsigned long long)(incompat & ~QCOW_INCOMPAT_KNOWN));
	return 0;
}

/* h holds QCOW1_HEADER bytes, or QCOW_HEADER for versions 2 and 3. */
static int parse_header(struct qcow *q, const uint8_t *h, struct vdisk_error *err)
{
	int rc;

	q->size = be64(h + 24);
	rc = q->version == 1 ? parse_v1(q, h, err) : parse_v2(q, h, err);
	if (rc)
		return rc;
	if (q->l1_off > q->file->size || (uint64_t)q->l1_size * 8 > q->file->size - q->l1_off) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "qcow2", "the file ends inside its L1 table (cut short)");
	}
	return read_backing(q, h, err);
}

/* An 8-byte big-endian table entry at off: 0, -ENODATA past the end, or
 * the read's -errno. */
static int entry_at(struct qcow *q, uint64_t off, uint64_t *e)
{
	uint8_t b[8];
	int rc = vdisk_file_small(q->file, off, b, sizeof(b));

	if (!rc)
		*e = be64(b);
	return rc;
}

static void damaged(struct cluster *c, uint64_t e, const char *what)
{
	c->kind = CLUSTER_DAMAGED;
	c->entry = e;
	c->damage = what;
}

/* Compressed data from host up to end (bytes; qemu pads the file to whole
 * sectors after it).  When the file ends before its last sector, some of
 * the data is certainly gone: cut, and refused.  When it ends inside that
 * sector, the copy was cut too, but what is gone may be padding only (the
 * data need not fill the sector): said cut, and left to libqcow, which
 * reads what the file has and fails only where the data is incomplete. */
static void compressed(const struct qcow *q, uint64_t e, uint64_t host, uint64_t end, struct cluster *c)
{
	c->entry = e;
	if (host >= q->file->size || end - QCOW_SECTOR >= q->file->size) {
		c->kind = CLUSTER_CUT;
		return;
	}
	c->kind = CLUSTER_DATA;
	c->tail_past_eof = end > q->file->size;
}

/* Version 1's L2 entry: bit 63 compressed (its size in the bits above the
 * offset), else the cluster's byte offset. */
static void classify_v1(const struct qcow *q, uint64_t e, struct cluster *c)
{
	uint64_t cluster = 1ull << q->cluster_bits;
	unsigned x = 63 - q->cluster_bits;

	if (e & QCOW1_COMPRESSED) {
		uint64_t host = e & ((1ull << x) - 1), bytes = (e >> x) & (cluster - 1);
		c->entry = e;
		if (!bytes) /* libqcow would take it for a plain cluster */
			damaged(c, e, "a compressed cluster of 0 bytes");
		else
			c->kind = in_file(q, host, bytes) ? CLUSTER_DATA : CLUSTER_CUT;
		return;
	}
	c->entry = e;
	if (!e)
		c->kind = CLUSTER_UNALLOCATED;
	else if (e & (cluster - 1))
		damaged(c, e, "its host offset is not on a cluster boundary");
	else
		c->kind = in_file(q, e, cluster) ? CLUSTER_DATA : CLUSTER_CUT;
}

/* Where the cluster of L2 entry e is. */
static void classify_l2(const struct qcow *q, uint64_t e, struct cluster *c)
{
	uint64_t cluster = 1ull << q->cluster_bits, host = e & L2E_OFFSET_MASK;

	if (q->version == 1) {
		classify_v1(q, e, c);
		return;
	}
	if (e & L2E_COMPRESSED) {
		unsigned x = 62 - (q->cluster_bits - 8);
		uint64_t sectors = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
		host = e & ((1ull << x) - 1);
		compressed(q, e, host, (host & ~(uint64_t)(QCOW_SECTOR - 1)) + sectors * QCOW_SECTOR, c);
		return;
	}
	c->entry = e;
	if (e & L2E_RESERVED)
		damaged(c, e, "reserved bits are set in its L2 entry");
	else if ((e & L2E_ZERO) && q->version < 3)
		damaged(c, e, "its L2 entry has the zero flag of version 3 in a version 2 image");
	else if (host & (cluster - 1))
		damaged(c, e, "its host offset is not on a cluster boundary");
	else if (e & L2E_ZERO)
		c->kind = CLUSTER_ZERO;
	else if (!host)
		c->kind = CLUSTER_UNALLOCATED;
	else
		c->kind = in_file(q, host, cluster) ? CLUSTER_DATA : CLUSTER_CUT;
}

/* L1 entry e: true with *l2 the offset of its L2 table when it has one in
 * the file; false with c saying what else it is. */
static bool classify_l1(const struct qcow *q, uint64_t e, uint64_t *l2, struct cluster *c)
{
	uint64_t bytes = l2_table_bytes(q);

	c->entry = e;
	if (q->version == 1 ? (e & QCOW1_COMPRESSED) != 0 : (e & L1E_RESERVED) != 0) {
		damaged(c, e, "reserved bits are set in its L1 entry");
		return false;
	}
	*l2 = q->version == 1 ? e : e & L1E_OFFSET_MASK;
	if (!*l2) {
		c->kind = CLUSTER_UNALLOCATED;
		return false;
	}
	if (*l2 & (bytes - 1)) { /* libqcow would read the table below it */
		damaged(c, e, "its L2 table is not on a boundary of the table's size");
		return false;
	}
	if (!in_file(q, *l2, bytes)) {
		c->kind = CLUSTER_CUT;
		return false;
	}
	return true;
}

/* What the cluster holding virtual offset voff is. */
static void cluster_at(struct qcow *q, uint64_t voff, struct cluster *c)
{
	uint64_t l1_idx = voff >> (q->cluster_bits + q->l2_bits);
	uint64_t l2_idx = (voff >> q->cluster_bits) & ((1ull << q->l2_bits) - 1), l2, e;
	int rc;

	memset(c, 0, sizeof(*c));
	if (l1_idx >= q->l1_size) { /* not reached: the virtual size is within what the L1 table maps */
		c->kind = CLUSTER_UNALLOCATED;
		return;
	}
	if (!classify_l1(q, q->l1[l1_idx], &l2, c))
		return;
	rc = entry_at(q, l2 + l2_idx * 8, &e);
	if (rc == -ENODATA) {
		c->kind = CLUSTER_CUT; /* the file shrank */
	} else if (rc) {
		c->kind = CLUSTER_IO_ERROR;
		c->errnum = -rc;
	} else {
		classify_l2(q, e, c);
	}
}

static void say_cut(struct qcow *q, uint64_t voff)
{
	q->base.err->truncated = true;
	vdisk_fail(q->base.err, ENODATA, "qcow2", "the file ends before the cluster of virtual offset %llu (cut short)",
		   (unsigned long long)voff);
}

/* Does one L2 table (for virtual offsets from base) point past the end of
 * the file (or end inside a compressed cluster's data)?  Says so and
 * returns true; l2 is a buffer of the table's size. */
static bool l2_table_cut(struct qcow *q, uint64_t l2_off, uint64_t base, uint8_t *l2)
{
	uint64_t bytes = l2_table_bytes(q);
	struct cluster c;

	if (vdisk_file_read(q->file, l2_off, l2, bytes) != (long)bytes)
		return false; /* an I/O error, or the file shrank: the reads will say it */
	for (uint64_t j = 0; j < bytes / 8; j++) {
		memset(&c, 0, sizeof(c));
		classify_l2(q, be64(l2 + 8 * j), &c);
		if (c.kind == CLUSTER_CUT || c.tail_past_eof) {
			say_cut(q, base + (j << q->cluster_bits));
			return true;
		}
	}
	return false;
}

/* A cut copy: the first L2 table or data cluster past the end of the
 * file, found before any read needs it.  Reads at most QCOW_SCAN_BUDGET
 * bytes of L2 tables (each read counts, so tables that repeat cost too). */
static void find_cut(struct qcow *q)
{
	uint64_t start = q->file->bytes_read, l2_off;
	unsigned span_bits = q->cluster_bits + q->l2_bits; /* virtual bytes one L2 table maps: 2^span_bits */
	uint8_t *l2 = malloc(l2_table_bytes(q));
	struct cluster c;

	for (uint32_t i = 0; l2 && i < q->l1_size && q->file->bytes_read - start < QCOW_SCAN_BUDGET; i++) {
		memset(&c, 0, sizeof(c));
		if (classify_l1(q, q->l1[i], &l2_off, &c)) {
			if (l2_table_cut(q, l2_off, (uint64_t)i << span_bits, l2))
				break;
		} else if (c.kind == CLUSTER_CUT) {
			say_cut(q, (uint64_t)i << span_bits);
			break;
		}
	}
	free(l2);
}

/* libqcow refused a read: its reason.  An overlay reads nothing at all
 * without its backing file (libqcow says the parent is missing). */
static int library_failure(struct qcow *q, uint64_t off, libqcow_error_t **lib_err)
{
	char trace[1024] = "", msg[128];

	if (*lib_err)
		libqcow_error_backtrace_sprint(*lib_err, trace, sizeof(trace));
	libqcow_error_free(lib_err);
	vdisk_lib_message(msg, sizeof(msg), trace);
	if (q->has_backing && strstr(trace, "missing parent")) {
		q->base.err->needs_parent = true;
		return vdisk_fail(q->base.err, ENODATA, "qcow2",
				  "libqcow reads nothing of it without its backing file \"%.100s\", which is never opened (%s)",
				  q->backing, msg);
	}
	return vdisk_fail(q->base.err, EIO, "qcow2", "read at virtual offset %llu: %s", (unsigned long long)off, msg);
}

/* Clusters [off, off + len), all CLUSTER_DATA, through libqcow.  0 or
 * -errno.  tail_past_eof: one is compressed data the file ends inside: a
 * cut copy, whose failure is the cut's. */
static int library_read(struct qcow *q, uint64_t off, uint8_t *buf, uint64_t len, bool tail_past_eof)
{
	libqcow_error_t *lib_err = NULL;
	ssize_t n = libqcow_file_read_buffer_at_offset(q->lib, buf, (size_t)len, (off64_t)off, &lib_err);
	bool ok = n >= 0 && (uint64_t)n == len;

	if (tail_past_eof) {
		libqcow_error_free(&lib_err);
		q->base.err->truncated = true;
		vdisk_fail(q->base.err, ENODATA, "qcow2",
			   "the file ends inside the compressed data of virtual offsets %llu to %llu (cut short)",
			   (unsigned long long)off, (unsigned long long)(off + len));
		return ok ? 0 : -ENODATA;
	}
	return ok ? 0 : library_failure(q, off, &lib_err);
}

/* A cluster that is not CLUSTER_DATA, [off, off + len) of it into buf:
 * zeros, or the reason it does not read.  0 or -errno. */
static int read_other(struct qcow *q, uint64_t off, uint8_t *buf, uint64_t len, const struct cluster *c)
{
	switch (c->kind) {
	case CLUSTER_UNALLOCATED:
		if (q->has_backing) {
			q->base.err->needs_parent = true;
			return vdisk_fail(q->base.err, ENODATA, "qcow2",
					  "virtual offset %llu is in the backing file \"%s\", which is never opened",
					  (unsigned long long)off, q->backing);
		}
		/* fall through */
	case CLUSTER_ZERO:
		memset(buf, 0, (size_t)len);
		return 0;
	case CLUSTER_CUT:
		say_cut(q, off);
		return -ENODATA;
	case CLUSTER_IO_ERROR:
		return vdisk_fail(q->base.err, c->errnum, "qcow2", "the L2 entry of virtual offset %llu: %s",
				  (unsigned long long)off, strerror(c->errnum));
	default:
		return vdisk_fail(q->base.err, EINVAL, "qcow2", "the cluster of virtual offset %llu is damaged: %s (0x%016llx)",
				  (unsigned long long)off, c->damage, (unsigned long long)c->entry);
	}
}

/* Split at cluster boundaries: each cluster by its entries, and the runs
 * of clusters in the file through libqcow (its reads never see the rest). */
static long qcow_read(struct vdisk *d, uint64_t off, void *buf, size_t len)
{
	struct qcow *q = (struct qcow *)d;
	uint64_t cluster = 1ull << q->cluster_bits, end, at, run;
	uint8_t *b = buf;
	bool tail = false;
	int rc;

	if (off >= q->size)
		return 0;
	if (len > q->size - off)
		len = (size_t)(q->size - off);
	end = off + len; /* at most the virtual size, which is below 2^62 */
	for (at = run = off; at < end;) { /* [run, at): clusters of data not yet read */
		uint64_t stop = (at & ~(cluster - 1)) + cluster;
		struct cluster c;

		if (stop > end)
			stop = end;
		cluster_at(q, at, &c);
		if (c.kind == CLUSTER_DATA) {
			tail |= c.tail_past_eof;
			at = stop;
			continue;
		}
		if (run < at && (rc = library_read(q, run, b + (run - off), at - run, tail)))
			return rc;
		if ((rc = read_other(q, at, b + (at - off), stop - at, &c)))
			return rc;
		at = run = stop;
		tail = false;
	}
	if (run < end && (rc = library_read(q, run, b + (run - off), end - run, tail)))
		return rc;
	return (long)len;
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

/* libqcow's view of the file: a check that it opens, with our size. */
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
		if (size == q->size)
			return 0;
		return vdisk_fail(err, EINVAL, "qcow2", "libqcow reads a virtual size of %llu bytes, the header %llu",
				  (unsigned long long)size, (unsigned long long)q->size);
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

/* The header: version 1's 48 bytes, or the 80 read of the others.  0, or
 * -errno with err filled. */
static int read_header(struct vdisk_file *f, uint8_t *h, struct vdisk_error *err)
{
	int rc = vdisk_file_small(f, 0, h, QCOW1_HEADER);

	if (!rc && memcmp(h, "QFI\xfb", 4))
		return vdisk_fail(err, EINVAL, "qcow2", "no qcow signature");
	if (!rc && (be32(h + 4) < 1 || be32(h + 4) > 3))
		return vdisk_fail(err, ENOTSUP, "qcow2", "version %u is not read", be32(h + 4));
	if (!rc && be32(h + 4) > 1)
		rc = vdisk_file_small(f, 0, h, QCOW_HEADER);
	if (rc == -ENODATA) {
		err->truncated = true;
		return vdisk_fail(err, ENODATA, "qcow2", "the file ends inside its header (cut short)");
	}
	if (rc)
		return vdisk_fail(err, -rc, "qcow2", "header: %s", strerror(-rc));
	return 0;
}

static int qcow_open(struct vdisk_file *f, struct vdisk_error *err, struct vdisk **out)
{
	uint8_t h[QCOW_HEADER];
	struct qcow *q;
	int rc = read_header(f, h, err);

	if (rc)
		return rc;
	q = calloc(1, sizeof(*q));
	if (!q)
		return vdisk_fail(err, ENOMEM, "qcow2", "no memory");
	q->base.ops = &vdisk_qcow_ops;
	q->base.err = err;
	q->file = f;
	q->version = be32(h + 4);
	rc = parse_header(q, h, err);
	if (!rc)
		rc = load_l1(q, err);
	if (!rc)
		rc = open_library(q, err);
	if (rc) {
		qcow_close(&q->base);
		return rc;
	}
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
