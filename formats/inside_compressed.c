/*
 * inside_compressed.c - what a compressed stream or an archive holds, read
 * through libarchive in the worker: the decompressed start of a gzip, xz,
 * zstd, bzip2 or lz4 stream goes through our probes (a file system, a
 * partition table, an ISO; or a tar or cpio archive); a zip's or 7z's (or a
 * compressed tar's) members are listed and the start of each large one is
 * probed, so "zip holding disc.iso" can be said.
 *
 * Everything is bounded: INSIDE_PEEK_BYTES of the stream, MEMBER_PEEK_BYTES
 * of a member, PEEK_BUDGET over all members, LIST_MAX members walked; a
 * decompression bomb stops at the first limit.  --inside full reads the
 * whole stream (or the first image member) once more, to hash it: that is
 * bounded only by the worker's time limit, which the scanner scales to the
 * file's size.  The image is read cache-neutrally (page_cache_pread).
 */
#include "identify.h"
#include "inside.h"
#include "tsk_glue.h"
#include "../scanner/page_cache.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SOURCE_CHUNK (1u << 20)
#define MEMBER_PEEK_BYTES (1u << 20)
#define MEMBER_PEEK_MIN (32u << 10) /* smaller members cannot hold an ISO 9660 volume */
#define PEEK_BUDGET (32u << 20)
#define LIST_MAX 100000
/* Listing a compressed tar or a solid 7z skips a member by decompressing
 * it: at most this much skipped, then the listing stops (members_cut). */
#define SKIP_BUDGET (256ull << 20)

/* libarchive's input: the image, read cache-neutrally at our own offset
 * (the descriptor's file offset is shared with the scanner). */
struct source {
	struct page_cache_reader pc;
	uint64_t off, size;
	uint8_t *chunk;
	int err;              /* first read error, -errno */
};

static la_ssize_t source_read(struct archive *a, void *ctx, const void **out)
{
	struct source *s = ctx;
	long n;

	(void)a;
	if (s->off >= s->size)
		return 0;
	n = page_cache_pread(&s->pc, s->chunk, SOURCE_CHUNK, s->off);
	if (n < 0) {
		s->err = (int)n;
		return -1;
	}
	s->off += (uint64_t)n;
	*out = s->chunk;
	return n;
}

static la_int64_t source_seek(struct archive *a, void *ctx, la_int64_t off, int whence)
{
	struct source *s = ctx;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)s->off : (int64_t)s->size;

	(void)a;
	if ((off < 0 && -off > base) || (off > 0 && (uint64_t)(base + off) > s->size))
		return ARCHIVE_FATAL;
	s->off = (uint64_t)(base + off);
	return (la_int64_t)s->off;
}

static la_int64_t source_skip(struct archive *a, void *ctx, la_int64_t n)
{
	struct source *s = ctx;
	uint64_t left = s->size - (s->off < s->size ? s->off : s->size);

	(void)a;
	if (n <= 0)
		return 0;
	if ((uint64_t)n > left)
		n = (la_int64_t)left;
	s->off += (uint64_t)n;
	return n;
}

/* An archive reader over the image; formats: "raw" for a plain compressed
 * stream, "members" for zip, 7z, tar and cpio. */
static struct archive *open_reader(struct source *s, bool members)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	s->off = 0;
	s->err = 0;
	/* The filters built into libarchive only: _all would also run external
	 * programs (lzop, lrzip, grzip) found on PATH on the bytes of evidence. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	if (members) {
		archive_read_support_format_zip(a);
		archive_read_support_format_7zip(a);
		archive_read_support_format_tar(a);
		archive_read_support_format_cpio(a);
	} else {
		archive_read_support_format_raw(a);
	}
	archive_read_set_seek_callback(a, source_seek);
	if (archive_read_open2(a, s, NULL, source_read, source_skip, NULL) != ARCHIVE_OK)
		return a; /* the caller reads the error and frees it */
	return a;
}

static void say_failure(struct inside_result *out, const char *what, struct archive *a, const struct source *s)
{
	const char *why = s->err ? strerror(-s->err) : archive_error_string(a);

	out->status = INSIDE_FAILED;
	snprintf(out->failure, sizeof(out->failure), "%s: %s", what, why ? why : "cannot be read");
}

/* Read up to len bytes of the current entry; the count, or -1 on an error. */
static long read_entry(struct archive *a, uint8_t *buf, size_t len, bool *ended)
{
	size_t got = 0;

	*ended = false;
	while (got < len) {
		la_ssize_t n = archive_read_data(a, buf + got, len - got);
		if (n < 0)
			return got ? (long)got : -1;
		if (n == 0) {
			*ended = true;
			break;
		}
		got += (size_t)n;
	}
	return (long)got;
}


/* Our probes over decompressed bytes (partition heads read from them too). */
static void probe_bytes(const uint8_t *p, size_t len, uint64_t size, uint8_t *scratch, size_t scratch_len,
			struct ident *id)
{
	struct probe_view v = {p, len, NULL, 0, 0, size};
	struct tsk_buffer b = {p, len};

	memset(id, 0, sizeof(*id));
	identify_image(&v, tsk_read_buffer, &b, scratch, scratch_len, id);
}

/* "iso9660", "mbr, fat16": what a member's start is, for the listing. */
static void summarise(const struct ident *id, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	if (id->scheme[0])
		n += (size_t)snprintf(out, len, "%s", id->scheme);
	for (int i = 0; i < id->nhits && n < len; i++) {
		if (id->hits[i].cls == HIT_PTABLE)
			continue;
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", id->hits[i].name);
	}
}


struct peek {
	uint8_t *buf;         /* INSIDE_PEEK_BYTES */
	uint8_t *scratch;     /* 1 MiB for partition heads */
	size_t scratch_len;
	uint64_t budget;      /* member bytes still allowed */
};

/* Keep a member in the listing: images first, then the others in order. */
static void keep_member(struct inside_result *out, uint32_t ordinal, const char *name, uint64_t size,
			const char *what, bool image)
{
	struct inside_member *m;
	uint32_t at = out->nmembers;

	if (at >= INSIDE_MAX_MEMBERS) {
		if (!image)
			return;
		for (at = 0; at < INSIDE_MAX_MEMBERS && out->members[at].what[0]; at++)
			;
		if (at >= INSIDE_MAX_MEMBERS)
			return; /* full of images */
	} else {
		out->nmembers++;
	}
	m = &out->members[at];
	memset(m, 0, sizeof(*m));
	m->ordinal = ordinal;
	snprintf(m->name, sizeof(m->name), "%s", name ? name : "");
	m->size = size;
	if (image)
		snprintf(m->what, sizeof(m->what), "%s", what);
}

/* The name as stored: UTF-8 where the archive says so, else its bytes. */
static const char *member_name(struct archive_entry *e)
{
	const char *n = archive_entry_pathname_utf8(e);

	return n ? n : archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
}

static void list_one(struct archive *a, struct archive_entry *e, struct peek *pk, struct inside_result *out)
{
	uint64_t size = archive_entry_size_is_set(e) && archive_entry_size(e) > 0 ? (uint64_t)archive_entry_size(e) : 0;
	char what[48] = "";
	bool image = false, ended;
	struct ident id;
	long got;

	if (archive_entry_filetype(e) != AE_IFREG)
		return;
	if (size >= MEMBER_PEEK_MIN && pk->budget >= MEMBER_PEEK_MIN) {
		size_t want = MEMBER_PEEK_BYTES < pk->budget ? MEMBER_PEEK_BYTES : (size_t)pk->budget;
		got = read_entry(a, pk->buf, want, &ended);
		if (got > 0) {
			pk->budget -= (uint64_t)got;
			probe_bytes(pk->buf, (size_t)got, size, pk->scratch, pk->scratch_len, &id);
			image = probe_ident_has_image(&id);
			if (image)
				summarise(&id, what, sizeof(what));
		}
	}
	keep_member(out, out->members_total - 1, member_name(e), size, what, image);
}

/* Would moving past this member decompress more than the budget left?  A
 * zip seeks past it for free; a compressed tar or a solid 7z must inflate
 * it (a 12 GiB member of zeros fits in 80 KB of bzip2). */
static bool skip_costly(struct archive *a, struct archive_entry *e, uint64_t *skipped)
{
	uint64_t size = archive_entry_size_is_set(e) && archive_entry_size(e) > 0 ? (uint64_t)archive_entry_size(e) : 0;

	if (archive_filter_count(a) <= 1 && archive_format(a) != ARCHIVE_FORMAT_7ZIP)
		return false;
	*skipped += size;
	return *skipped > SKIP_BUDGET;
}

/* zip, 7z, and a (compressed) tar or cpio: list the members. */
static void list_members(struct source *s, struct peek *pk, struct inside_result *out)
{
	struct archive *a = open_reader(s, true);
	struct archive_entry *e;
	uint64_t skipped = 0;
	int rc = ARCHIVE_FATAL;

	if (!a) {
		say_failure(out, out->layer, NULL, s);
		return;
	}
	while (out->members_total < LIST_MAX &&
	       ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)) {
		out->members_total++;
		list_one(a, e, pk, out);
		if (skip_costly(a, e, &skipped))
			break;
	}
	if (rc == ARCHIVE_FATAL && !out->members_total)
		say_failure(out, out->layer, a, s);
	else if (rc != ARCHIVE_EOF)
		out->members_cut = 1; /* a limit, or damage after what was listed */
	if (!out->content[0])
		snprintf(out->content, sizeof(out->content), "%s", archive_format_name(a) ? archive_format_name(a) : "archive");
	archive_read_free(a);
}

/* Is the stream's start text?  (printable ASCII/UTF-8 and whitespace) */
static bool looks_like_text(const uint8_t *p, size_t n)
{
	size_t bad = 0;

	if (n > 65536)
		n = 65536;
	for (size_t i = 0; i < n; i++)
		bad += (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && p[i] != '\f') || p[i] == 0x7f;
	return n > 0 && bad == 0;
}

/* A plain compressed stream: probe its decompressed start. */
static void peek_stream(struct source *s, struct peek *pk, struct inside_result *out)
{
	struct archive *a = open_reader(s, false);
	struct archive_entry *e;
	int rc = a ? archive_read_next_header(a, &e) : ARCHIVE_FATAL;
	bool ended;
	long got;

	if (a && rc != ARCHIVE_OK && archive_filter_count(a) > 1 && archive_filter_bytes(a, 0) == 0 && !s->err) {
		/* A decompressor took it and it holds nothing (gzip of an empty
		 * file): the raw format has no entry to give. */
		snprintf(out->content, sizeof(out->content), "empty");
		out->inner_size_known = 1;
		archive_read_free(a);
		return;
	}
	if (rc != ARCHIVE_OK) {
		say_failure(out, out->layer, a, s);
		if (a)
			archive_read_free(a);
		return;
	}
	got = read_entry(a, pk->buf, INSIDE_PEEK_BYTES, &ended);
	if (got < 0) {
		say_failure(out, out->layer, a, s);
		out->truncated = s->err == 0;
		archive_read_free(a);
		return;
	}
	out->examined = (uint64_t)got;
	if (ended) {
		out->inner_size = (uint64_t)got;
		out->inner_size_known = 1;
	}
	probe_bytes(pk->buf, (size_t)got, ended ? (uint64_t)got : UINT64_MAX >> 1, pk->scratch, pk->scratch_len,
		    &out->id);
	if (!out->id.nhits && looks_like_text(pk->buf, (size_t)got))
		snprintf(out->content, sizeof(out->content), "text");
	else if (!out->id.nhits)
		inside_magic_buffer(pk->buf, (size_t)got, out);
	archive_read_free(a);
}

static const char *first_archive_hit(const struct ident *id)
{
	for (int i = 0; i < id->nhits; i++)
		if (id->hits[i].cls == HIT_ARCHIVE && id->hits[i].offset == 0)
			return id->hits[i].name;
	return NULL;
}

/* --inside full: hash the whole stream, or the member at ordinal (-1: a
 * plain stream).  A failure here leaves what the head showed standing: it
 * is said in failure (and truncated), the status stays done. */
static void hash_all(struct source *s, struct peek *pk, int64_t member, struct inside_result *out)
{
	bool members = member >= 0;
	struct archive *a = open_reader(s, members);
	struct archive_entry *e;
	XXH3_state_t *st = XXH3_createState();
	uint64_t total = 0;
	la_ssize_t n;
	int64_t at = -1;
	int rc;

	if (!a || !st)
		goto out;
	XXH3_128bits_reset(st);
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		if (members && ++at != member)
			continue;
		while ((n = archive_read_data(a, pk->buf, INSIDE_PEEK_BYTES)) > 0) {
			XXH3_128bits_update(st, pk->buf, (size_t)n);
			total += (uint64_t)n;
		}
		if (n < 0) {
			const char *why = s->err ? strerror(-s->err) : archive_error_string(a);
			snprintf(out->failure, sizeof(out->failure), "the whole stream cannot be read: %s",
				 why ? why : "damaged");
			out->truncated = s->err == 0;
			goto out;
		}
		inside_hex128(XXH3_128bits_digest(st), out->xxh128);
		out->inner_size = total;
		out->inner_size_known = 1;
		break;
	}
out:
	if (a)
		archive_read_free(a);
	if (st)
		XXH3_freeState(st);
}

/* The ordinal of the first member whose start is an image, or -1. */
static int64_t image_member(const struct inside_result *out)
{
	for (uint32_t i = 0; i < out->nmembers; i++)
		if (out->members[i].what[0])
			return out->members[i].ordinal;
	return -1;
}

void inside_compressed(const struct tsk_request *req, int fd, struct inside_result *out)
{
	struct source s = {.size = req->size};
	struct peek pk = {.budget = PEEK_BUDGET, .scratch_len = 1u << 20};
	bool archive = !strcmp(req->container, "zip") || !strcmp(req->container, "7z");

	page_cache_reader_init(&s.pc, fd);
	s.chunk = malloc(SOURCE_CHUNK);
	pk.buf = malloc(INSIDE_PEEK_BYTES);
	pk.scratch = malloc(pk.scratch_len);
	if (!s.chunk || !pk.buf || !pk.scratch) {
		out->status = INSIDE_FAILED;
		snprintf(out->failure, sizeof(out->failure), "out of memory");
		goto out;
	}
	if (!archive)
		peek_stream(&s, &pk, out);
	if (archive || (out->status != INSIDE_FAILED && first_archive_hit(&out->id)))
		list_members(&s, &pk, out);
	if (req->inside_full && out->status != INSIDE_FAILED) {
		int64_t member = image_member(out);
		if (archive ? member >= 0 : probe_ident_has_image(&out->id))
			hash_all(&s, &pk, archive ? member : -1, out);
	}
out:
	free(s.chunk);
	free(pk.buf);
	free(pk.scratch);
	page_cache_reader_release(&s.pc);
}
