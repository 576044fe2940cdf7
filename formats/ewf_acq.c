/*
 * ewf_acq.c - an EWF segment set checked as an examiner checks it, through
 * libewf (20140813): the segments opened by the names given (no globbing, so
 * a renamed segment still counts), the media read whole and hashed, the
 * digests stored at acquisition compared with those computed, the chunks
 * that failed their checksums listed, and the header values copied out.
 *
 * libewf does not stop a read at a chunk whose checksum fails, whose
 * deflate data will not inflate, or whose segment file gives EIO: it logs
 * the chunk in its checksum-error list and goes on.  We ask it to hand back
 * zeros for such a chunk (as EnCase does), so the damage shows as a digest
 * mismatch too, never as stray bytes that could pass for media.  The list
 * is read after the whole media, since libewf fills it as it reads.  So
 * EWF_ACQ_READ_FAILED is only for libewf_handle_read_buffer failing or
 * ending before the media size, which this version hardly ever does.
 */
#include "ewf_acq.h"
#include "../scanner/hasher.h"

#include <libewf.h>

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EWF_READ_PIECE (1u << 20)      /* bytes per libewf_handle_read_buffer */
#define EWF_SECTOR_MAX (1u << 16)      /* a larger bytes-per-sector is not believed */

/* Copy src into dst[size], truncated, always NUL-terminated. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; i + 1 < size && src[i]; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* Append a note to out->error, after "; " when it holds one already. */
static void add_error(struct ewf_acquisition *out, const char *note)
{
	size_t n = strlen(out->error);

	if (n) {
		copy_str(out->error + n, sizeof(out->error) - n, "; ");
		n = strlen(out->error);
	}
	copy_str(out->error + n, sizeof(out->error) - n, note);
}

/* Add "what: libewf's messages" to out->error, on one line, and free *e.
 * libewf's own error_sprint gives only the outermost message, which is the
 * same for every cause of a failed open ("unable to open handle using a
 * file IO pool"); the backtrace starts with the cause ("missing file",
 * "unsupported segment file signature"), so its lines are joined. */
static void set_error(struct ewf_acquisition *out, const char *what, libewf_error_t **e)
{
	char msg[2048] = "", line[sizeof(out->error)]; /* libewf prints nothing into a short buffer */
	size_t n, start;
	int newline = 0;

	if (e && *e) {
		if (libewf_error_backtrace_sprint(*e, msg, sizeof(msg)) < 0
		    && libewf_error_sprint(*e, msg, sizeof(msg)) < 0)
			msg[0] = '\0';
		libewf_error_free(e);
	}
	msg[sizeof(msg) - 1] = '\0';
	snprintf(line, sizeof(line), "%s%s", what, msg[0] ? ": " : "");
	n = start = strlen(line);
	for (const char *p = msg; *p && n + 1 < sizeof(line); p++) {
		if (*p == '\n' || *p == '\r') {
			newline = 1;
			continue;
		}
		if (newline && n > start) { /* lines joined by "; ", without their full stops */
			if (line[n - 1] == '.')
				n--;
			if (n + 3 >= sizeof(line))
				break;
			line[n++] = ';';
			line[n++] = ' ';
		}
		newline = 0;
		line[n++] = *p == '\t' ? ' ' : *p;
	}
	if (n > start && line[n - 1] == '.')
		n--;
	line[n] = '\0';
	add_error(out, line);
}

static void to_hex(const uint8_t *b, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
	hex[2 * n] = '\0';
}

static const char *format_name(uint8_t f)
{
	switch (f) {
	case LIBEWF_FORMAT_ENCASE1: return "encase1";
	case LIBEWF_FORMAT_ENCASE2: return "encase2";
	case LIBEWF_FORMAT_ENCASE3: return "encase3";
	case LIBEWF_FORMAT_ENCASE4: return "encase4";
	case LIBEWF_FORMAT_ENCASE5: return "encase5";
	case LIBEWF_FORMAT_ENCASE6: return "encase6";
	case LIBEWF_FORMAT_ENCASE7: return "encase7";
	case LIBEWF_FORMAT_SMART: return "smart";
	case LIBEWF_FORMAT_FTK_IMAGER: return "ftk";
	case LIBEWF_FORMAT_LOGICAL_ENCASE5: return "logical-encase5";
	case LIBEWF_FORMAT_LOGICAL_ENCASE6: return "logical-encase6";
	case LIBEWF_FORMAT_LOGICAL_ENCASE7: return "logical-encase7";
	case LIBEWF_FORMAT_LINEN5: return "linen5";
	case LIBEWF_FORMAT_LINEN6: return "linen6";
	case LIBEWF_FORMAT_LINEN7: return "linen7";
	case LIBEWF_FORMAT_EWF: return "ewf";
	case LIBEWF_FORMAT_EWFX: return "ewfx";
	default: return "unknown";
	}
}

/* The compression as ewfacquire's -c names it: "empty-block" alone is
 * level none with the empty-block flag.  (The flag is not in the file:
 * libewf 20140813 reads an empty-block set back as "none".) */
static void compression_name(int8_t level, uint8_t flags, char *dst, size_t size)
{
	const char *name = level == LIBEWF_COMPRESSION_NONE ? "none" : level == LIBEWF_COMPRESSION_FAST ? "fast"
		: level == LIBEWF_COMPRESSION_BEST ? "best" : "unknown";

	if (!(flags & LIBEWF_COMPRESS_FLAG_USE_EMPTY_BLOCK_COMPRESSION))
		copy_str(dst, size, name);
	else if (level == LIBEWF_COMPRESSION_NONE)
		copy_str(dst, size, "empty-block");
	else
		snprintf(dst, size, "%s,empty-block", name);
}

/* Open paths[0..n-1] read-only.  Returns 0, or -1 with out's status and
 * error set and *handle freed. */
static int open_set(const char *const *paths, int n, libewf_handle_t **handle, struct ewf_acquisition *out)
{
	libewf_error_t *e = NULL;

	out->status = EWF_ACQ_OPEN_FAILED;
	if (n < 1) {
		copy_str(out->error, sizeof(out->error), "no segment files given");
		return -1;
	}
	if (libewf_handle_initialize(handle, &e) != 1) {
		set_error(out, "cannot start libewf", &e);
		return -1;
	}
	/* libewf takes char *const[] but only reads the names */
	if (libewf_handle_open(*handle, (char *const *)paths, n, LIBEWF_OPEN_READ, &e) != 1) {
		set_error(out, "cannot open the segment files", &e);
		libewf_handle_free(handle, NULL);
		return -1;
	}
	if (libewf_handle_set_read_zero_chunk_on_error(*handle, 1, &e) != 1)
		libewf_error_free(&e); /* only costs the zeroing: the errors are still listed */
	/* libewf_handle_open fails unless every name given is a segment of the
	 * set, and opens no other file by itself */
	out->segments_opened = (uint32_t)n;
	/* a set without its last segment (or with one cut short) opens all the
	 * same: libewf reads the chunks it lacks as zeros, logged as one
	 * checksum-error range, and the stored digests (in the last segment)
	 * are simply absent */
	if (libewf_handle_segment_files_corrupted(*handle, &e) == 1)
		add_error(out, "the segment set is incomplete or damaged"
			  " (its last segment, which ends the set, is missing or cut short)");
	libewf_error_free(&e);
	out->status = EWF_ACQ_NONE;
	return 0;
}

/* Media size, sector size and count, format, compression.  Returns 0, or
 * -1 with the error set when the size or sector size cannot be had. */
static int media_values(libewf_handle_t *h, struct ewf_acquisition *out)
{
	libewf_error_t *e = NULL;
	size64_t size = 0;
	uint8_t format = 0, flags = 0;
	int8_t level = 0;

	if (libewf_handle_get_media_size(h, &size, &e) != 1) {
		set_error(out, "no media size", &e);
		return -1;
	}
	out->media_size = size;
	if (libewf_handle_get_bytes_per_sector(h, &out->bytes_per_sector, &e) != 1) {
		set_error(out, "no bytes per sector", &e);
		return -1;
	}
	if (libewf_handle_get_number_of_sectors(h, &out->sectors, &e) != 1)
		libewf_error_free(&e);
	if (libewf_handle_get_format(h, &format, &e) != 1)
		libewf_error_free(&e);
	copy_str(out->format, sizeof(out->format), format_name(format));
	if (libewf_handle_get_compression_values(h, &level, &flags, &e) == 1)
		compression_name(level, flags, out->compression, sizeof(out->compression));
	else
		libewf_error_free(&e);
	return 0;
}

static const struct header_field {
	const char *id;          /* libewf's identifier */
	size_t off, size;        /* where it goes in struct ewf_acquisition */
} header_fields[] = {
#define HF(id, field) { id, offsetof(struct ewf_acquisition, field), sizeof(((struct ewf_acquisition *)0)->field) }
	HF("case_number", case_number),
	HF("evidence_number", evidence_number),
	HF("examiner_name", examiner),
	HF("description", description),
	HF("notes", notes),
	HF("acquiry_date", acquiry_date),
	HF("system_date", system_date),
	HF("acquiry_operating_system", acquiry_os),
	/* libewf 20140813 knows no such identifier: "" unless a later one does */
	HF("acquiry_software", acquiry_software),
	HF("acquiry_software_version", acquiry_software_version),
	HF("model", model),
	HF("serial_number", serial_number),
#undef HF
};

/* Copy one header value into dst[size] ("" when absent).  A value longer
 * than dst is fetched whole and cut, since libewf refuses a short buffer. */
static void header_value(libewf_handle_t *h, const char *id, char *dst, size_t size)
{
	libewf_error_t *e = NULL;
	size_t need = 0;
	uint8_t *buf;

	dst[0] = '\0';
	if (libewf_handle_get_utf8_header_value_size(h, (const uint8_t *)id, strlen(id), &need, &e) != 1 || !need) {
		libewf_error_free(&e);
		return;
	}
	buf = malloc(need);
	if (!buf)
		return;
	if (libewf_handle_get_utf8_header_value(h, (const uint8_t *)id, strlen(id), buf, need, &e) == 1) {
		buf[need - 1] = '\0';
		copy_str(dst, size, (const char *)buf);
	} else {
		libewf_error_free(&e);
	}
	free(buf);
}

static void header_values(libewf_handle_t *h, struct ewf_acquisition *out)
{
	for (size_t i = 0; i < sizeof(header_fields) / sizeof(header_fields[0]); i++)
		header_value(h, header_fields[i].id, (char *)out + header_fields[i].off, header_fields[i].size);
}

static int all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* A stored digest as lowercase hex into hex[2 * len + 1], "" when absent:
 * the binary one from the hash or digest section, else the textual one
 * (EWFX's xhash).  An all-zero digest is libewf's "section without one". */
static void stored_digest(libewf_handle_t *h, int sha1, char *hex)
{
	size_t len = sha1 ? 20 : 16;
	uint8_t bin[20];
	uint8_t text[64];
	libewf_error_t *e = NULL;
	int r = sha1 ? libewf_handle_get_sha1_hash(h, bin, len, &e) : libewf_handle_get_md5_hash(h, bin, len, &e);

	hex[0] = '\0';
	libewf_error_free(&e);
	if (r == 1 && !all_zero(bin, len)) {
		to_hex(bin, len, hex);
		return;
	}
	r = libewf_handle_get_utf8_hash_value(h, (const uint8_t *)(sha1 ? "SHA1" : "MD5"), sha1 ? 4 : 3, text,
					      sizeof(text), &e);
	libewf_error_free(&e);
	if (r != 1 || strnlen((char *)text, sizeof(text)) != 2 * len
	    || strspn((char *)text, "0123456789abcdefABCDEF") != 2 * len)
		return;
	for (size_t i = 0; i < 2 * len; i++)
		hex[i] = (char)(text[i] | 0x20); /* hex digits: this lowers A-F, keeps 0-9 */
	hex[2 * len] = '\0';
}

/* The checksum errors libewf listed while reading: the count exact, the
 * first EWF_ACQ_MAX_BAD ranges kept. */
static void checksum_errors(libewf_handle_t *h, struct ewf_acquisition *out)
{
	libewf_error_t *e = NULL;
	uint32_t count = 0;

	if (libewf_handle_get_number_of_checksum_errors(h, &count, &e) != 1) {
		libewf_error_free(&e);
		return;
	}
	out->checksum_errors = count;
	if (count) {
		char note[120];
		snprintf(note, sizeof(note), "%" PRIu32 " range(s) of chunks failed their checksum or did not read"
			 " (read as zeros)", count);
		add_error(out, note);
	}
	for (uint32_t i = 0; i < count && i < EWF_ACQ_MAX_BAD; i++) {
		struct ewf_bad_range *b = &out->bad[i];
		if (libewf_handle_get_checksum_error(h, i, &b->first_sector, &b->sectors, &e) != 1) {
			libewf_error_free(&e);
			b->first_sector = b->sectors = 0;
		}
	}
}

/* Fill buf[want] from the media; returns the bytes read (short only at the
 * end of the media), or -1 with the error set. */
static ssize_t read_piece(libewf_handle_t *h, uint8_t *buf, size_t want, struct ewf_acquisition *out)
{
	libewf_error_t *e = NULL;
	size_t got = 0;

	while (got < want) {
		ssize_t r = libewf_handle_read_buffer(h, buf + got, want - got, &e);
		if (r < 0) {
			char what[80];
			snprintf(what, sizeof(what), "read error at media byte %" PRIu64, out->bytes_read + got);
			set_error(out, what, &e);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Read the whole media into the hasher.  Sets status DONE or READ_FAILED. */
static void read_media(libewf_handle_t *h, struct hasher *hs, struct ewf_acquisition *out)
{
	size_t piece = EWF_READ_PIECE - EWF_READ_PIECE % hs->sector_size; /* whole sectors but the last */
	uint8_t *buf = malloc(piece);
	char note[120];
	ssize_t got;

	out->status = EWF_ACQ_READ_FAILED;
	if (!buf) {
		add_error(out, "no memory for the read buffer");
		return;
	}
	while (out->bytes_read < out->media_size) {
		uint64_t left = out->media_size - out->bytes_read;
		got = read_piece(h, buf, left < piece ? (size_t)left : piece, out);
		if (got < 0)
			break;
		if (got == 0) {
			snprintf(note, sizeof(note), "libewf ended the media at byte %" PRIu64 " of %" PRIu64,
				 out->bytes_read, out->media_size);
			add_error(out, note);
			break;
		}
		int err = hasher_update(hs, buf, (size_t)got);
		if (err) {
			snprintf(note, sizeof(note), "hashing: %s", strerror(-err));
			add_error(out, note);
			break;
		}
		out->bytes_read += (uint64_t)got;
	}
	if (out->bytes_read == out->media_size)
		out->status = EWF_ACQ_DONE;
	free(buf);
}

static int32_t match(const char *stored, const char *computed, int32_t status)
{
	if (!stored[0])
		return EWF_HASH_NOT_STORED;
	if (status != EWF_ACQ_DONE || !computed[0])
		return EWF_HASH_NOT_COMPUTED;
	return strcasecmp(stored, computed) ? EWF_HASH_MISMATCH : EWF_HASH_MATCH;
}

/* The digests of a media read whole; none of a media read in part (a
 * digest of part would only look like an answer). */
static void finish_digests(struct hasher *hs, struct ewf_acquisition *out)
{
	char xxh[33], list[33], crypto[HASH_COUNT][HASH_HEX_MAX];

	if (out->status == EWF_ACQ_DONE) {
		hasher_final(hs, xxh, list, crypto);
		copy_str(out->xxh128, sizeof(out->xxh128), xxh);
		copy_str(out->md5, sizeof(out->md5), crypto[HASH_MD5]);
		copy_str(out->sha1, sizeof(out->sha1), crypto[HASH_SHA1]);
		copy_str(out->sha256, sizeof(out->sha256), crypto[HASH_SHA256]);
	}
	out->md5_match = match(out->stored_md5, out->md5, out->status);
	out->sha1_match = match(out->stored_sha1, out->sha1, out->status);
}

int ewf_acq_check(const char *const *paths, int n, int want_sha256, struct ewf_acquisition *out)
{
	unsigned mask = (1u << HASH_MD5) | (1u << HASH_SHA1) | (want_sha256 ? 1u << HASH_SHA256 : 0);
	libewf_handle_t *h = NULL;
	libewf_error_t *e = NULL;
	struct hasher hs;

	memset(out, 0, sizeof(*out));
	if (hasher_init(&hs, mask)) {
		out->status = EWF_ACQ_OPEN_FAILED;
		copy_str(out->error, sizeof(out->error), "no memory for the hashing state");
		return -ENOMEM;
	}
	if (open_set(paths, n, &h, out) == 0) {
		if (media_values(h, out) == 0) {
			header_values(h, out);
			stored_digest(h, 0, out->stored_md5);
			stored_digest(h, 1, out->stored_sha1);
			uint32_t bps = out->bytes_per_sector;
			hasher_reset(&hs, bps && bps <= EWF_SECTOR_MAX ? bps : 512, NULL);
			read_media(h, &hs, out);
			checksum_errors(h, out);
		} else {
			out->status = EWF_ACQ_READ_FAILED;
		}
		finish_digests(&hs, out);
		if (libewf_handle_close(h, &e) != 0)
			libewf_error_free(&e);
		libewf_handle_free(&h, NULL);
	}
	hasher_free(&hs);
	return 0;
}
