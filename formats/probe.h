/*
 * probe.h - the probe interface: one descriptor per format, one ordered
 * table (probes.c).  A probe is a pure function over borrowed, read-only
 * bytes: it reads only through pv_bytes(), which checks every offset and
 * length against what the view holds, allocates nothing, and trusts no value
 * from disk without a bound.
 *
 * A probe returns 0 (found; hit filled), 1 (not this format).
 */
#ifndef IMGSCAN_PROBE_H
#define IMGSCAN_PROBE_H

#include "ident.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The bytes of one image (or one partition) that the scanner already has. */
struct probe_view {
	const uint8_t *head;    /* bytes [0, head_len) of the view */
	size_t head_len;
	const uint8_t *tail;    /* bytes [tail_off, tail_off + tail_len) */
	size_t tail_len;
	uint64_t tail_off;
	uint64_t size;          /* size of the whole view in bytes */
};

/* A pointer to len bytes at off, or NULL when the view does not hold them. */
static inline const uint8_t *pv_bytes(const struct probe_view *v, uint64_t off, size_t len)
{
	if (off > v->size || len > v->size - off)
		return NULL;
	if (off <= v->head_len && len <= v->head_len - off)
		return v->head + off;
	if (v->tail && off >= v->tail_off && off - v->tail_off <= v->tail_len &&
	    len <= v->tail_len - (off - v->tail_off))
		return v->tail + (off - v->tail_off);
	return NULL;
}

static inline bool pv_match(const struct probe_view *v, uint64_t off, const void *magic, size_t len)
{
	const uint8_t *p = pv_bytes(v, off, len);
	return p && memcmp(p, magic, len) == 0;
}

/* Arithmetic on values read from disk.  A size that does not fit in 64 bits
 * is no size any disk has: the size_* helpers saturate to SIZE_OVERFLOW
 * (ident.h), which the verdict reports as "claims more than any disk" (a
 * TRUNCATED finding), instead of wrapping to a small, plausible number.
 * SIZE_OVERFLOW stays SIZE_OVERFLOW through further sums and products (by
 * anything but zero).  The checked_* helpers say whether the exact result
 * fits, for offsets about to be read: an offset that does not fit is not
 * read at all. */
static inline bool checked_mul(uint64_t a, uint64_t b, uint64_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

static inline bool checked_add(uint64_t a, uint64_t b, uint64_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

/* a << s; false when bits would be lost or s is not below 64. */
static inline bool checked_shl(uint64_t a, unsigned s, uint64_t *out)
{
	if (s >= 64 ? a != 0 : a > UINT64_MAX >> s)
		return false;
	*out = s >= 64 ? 0 : a << s;
	return true;
}

static inline uint64_t size_mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return checked_mul(a, b, &r) ? r : SIZE_OVERFLOW;
}

static inline uint64_t size_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return checked_add(a, b, &r) ? r : SIZE_OVERFLOW;
}

static inline uint64_t size_shl(uint64_t a, unsigned s)
{
	uint64_t r;

	return checked_shl(a, s, &r) ? r : SIZE_OVERFLOW;
}

/* 2^s as a 32-bit value, or 0 when it does not fit (s above 31): a shift
 * count from disk never reaches the shift operator unchecked. */
static inline uint32_t pow2_u32(unsigned s)
{
	return s < 32 ? 1u << s : 0;
}

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }
static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

struct probe_desc {
	const char *name;
	enum hit_class cls;
	/* Cheap pre-check: magic bytes at magic_off (from the end when
	 * magic_from_end).  NULL magic: the probe is always called. */
	const char *magic;
	size_t magic_len;
	uint64_t magic_off;
	bool magic_from_end;
	/* Full check; id is written only by partition-table probes. */
	int (*probe)(const struct probe_view *v, struct probe_hit *hit, struct ident *id);
	/* Optional: facts that lie beyond the captured bytes (a label in a
	 * directory or a metadata record), read through the callback into
	 * scratch.  Called once per hit by identify_image(). */
	void (*refine)(const uint8_t *start, size_t start_len, uint64_t base,
		       long (*read)(void *ctx, uint64_t off, void *buf, size_t len), void *ctx,
		       uint8_t *scratch, size_t scratch_len, struct probe_hit *hit);
	/* Optional: hits that lie beyond the captured bytes (the later
	 * sessions of a multi-session disc), which a probe cannot add from its
	 * view.  Called by identify_image() after the refine hooks, once for
	 * each hit this probe made (id->hits[hit]; hits added by these hooks are
	 * not passed again), with the whole image's view, the read callback
	 * (bytes read or -errno) and all of scratch.  It may rewrite the hits
	 * its probe made and append hits to id while id->nhits is below
	 * IDENT_MAX_HITS (setting id->hits_truncated when one does not fit);
	 * it never moves or removes a hit. */
	void (*more_hits)(const struct probe_view *whole, int hit,
			  long (*read)(void *ctx, uint64_t off, void *buf, size_t len), void *ctx,
			  uint8_t *scratch, size_t scratch_len, struct ident *id);
};

/* Where a walk's bytes come from (a FAT root directory, UDF anchors, ISO
 * sessions): the captured view v (NULL in a refine hook), then reads through
 * the callback (read NULL: the view only) at base + off into buf.  A read
 * takes fill bytes (0: just the bytes asked), so that later asks within
 * them need no read.  NULL when the bytes are not there (past the view's
 * size, more than buf holds, a failed or short read).  A pointer returned
 * is good until the next call. */
struct probe_src {
	const struct probe_view *v;
	long (*read)(void *ctx, uint64_t off, void *buf, size_t len);
	void *ctx;
	uint64_t base;
	uint8_t *buf;
	size_t buflen;
	size_t fill;
	uint64_t buf_off;       /* bytes [buf_off, buf_off + buf_have) are in buf */
	size_t buf_have;
};

const uint8_t *probe_src_get(struct probe_src *s, uint64_t off, size_t len);

/* A hit's strings end in whole UTF-8 characters: a detail or label cut to
 * its field by snprintf loses the piece of the last character. */
void probe_hit_tidy(struct probe_hit *h);
/* Drop an incomplete UTF-8 sequence from the end of s. */
void probe_utf8_trim_tail(char *s);

/* Copy a space- or NUL-padded on-disk label (bytes meant as UTF-8) into a
 * C string, trimmed (probe_util.c): its bytes exactly, controls and bytes
 * that are not UTF-8 included (the report keeps them: label_b64).  A valid
 * character that does not fit whole ends the copy. */
void probe_copy_label(char *dst, size_t dstlen, const uint8_t *src, size_t srclen);
/* The same for a string that is no label (a detail's part, a cipher name):
 * valid UTF-8 out, a control or a byte that is not UTF-8 one U+FFFD. */
void probe_copy_text(char *dst, size_t dstlen, const uint8_t *src, size_t srclen);
/* UTF-16 (le or be) into UTF-8: surrogate pairs become one 4-byte
 * character, an unpaired surrogate U+FFFD, controls are kept. */
void probe_copy_utf16(char *dst, size_t dstlen, const uint8_t *src, size_t srclen, bool big_endian);
void probe_format_uuid(char *dst, size_t dstlen, const uint8_t *u16, bool guid_mixed_endian);
uint32_t probe_crc32(const uint8_t *p, size_t n);

/* Shared by the ISO 9660 and raw-CD probes: parse a primary volume
 * descriptor (2048 bytes).  Returns 0 when it is one. */
int iso9660_parse_pvd(const uint8_t *pvd, struct probe_hit *hit);
/* True when a FAT, NTFS or exFAT boot sector is at p (512 bytes): its 55 AA
 * is not a partition table's. */
bool probe_is_volume_boot_record(const uint8_t *p);

/* Run every probe over v; hits get offset base.  only_fs limits the run to
 * file systems and optical volumes (inside partitions). */
void probe_run_all(const struct probe_view *v, uint64_t base, bool only_fs, struct ident *id);

/* Cheap test on the first bytes of a file with an unknown extension: is it
 * an image, not one, or a compressed stream or archive whose inside decides
 * (looked at in a worker, formats/inside.h; layer gets its format's name,
 * "gzip", "zip")? */
enum probe_answer { PROBE_NOT_IMAGE, PROBE_IMAGE, PROBE_LOOK_INSIDE };
enum probe_answer probe_classify(const struct probe_view *v, char *layer, size_t layer_len);
/* A hit that makes a file an image whatever its name (not an archive, a
 * boot or firmware image, or high-entropy data). */
bool probe_hit_is_image(const struct probe_hit *h);
/* Does any of id's hits make it an image? */
bool probe_ident_has_image(const struct ident *id);

extern const struct probe_desc *const probe_table[];
extern const size_t probe_table_len;

/* Label decoding (probe_util.c, probe_codepage.c).  Each writes a whole,
 * NUL-terminated, trimmed UTF-8 string, controls kept, and stops at a NUL
 * in src. */
/* Latin-1 (UDF's 8-bit CS0, compression ID 8). */
void probe_copy_latin1(char *dst, size_t dstlen, const uint8_t *src, size_t srclen);
/* An 8-bit code page: ASCII below 0x80, high[b - 0x80] above. */
void probe_copy_codepage(char *dst, size_t dstlen, const uint8_t *src, size_t srclen, const uint16_t *high);
/* IBM code page 850, FAT's OEM code page as mkfs.fat and mtools write it. */
extern const uint16_t probe_cp850_high[128];
/* True when a byte of src (up to a NUL) is outside ASCII. */
bool probe_has_high_bytes(const uint8_t *src, size_t srclen);
/* Append code point cp as UTF-8 at dst + *n when it fits whole with a NUL
 * after it (*n advances); false, and nothing written, when it does not.
 * Surrogates and values past U+10FFFF are written as U+FFFD; controls are
 * kept (labels are data: the report escapes them). */
bool probe_put_utf8(char *dst, size_t dstlen, size_t *n, uint32_t cp);

/* Helpers of the archive, boot and encryption probes (probe_detail.c). */
/* Append printf-style text to the NUL-terminated dst of cap bytes; stops
 * (cut) at cap.  A detail line is built so, piece by piece. */
void probe_appendf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The first needle (a C string, not empty) in p[0, n), or NULL. */
const uint8_t *probe_find(const uint8_t *p, size_t n, const char *needle);
bool probe_all_zero(const uint8_t *p, size_t n);
/* True when the 512-byte boot sector at p is a BitLocker volume header
 * (probe_bitlocker.c): "-FVE-FS-" at 3 (Vista, 7 and later), or BitLocker
 * To Go's "MSWIN4.1" with the BitLocker identifier at 424.  The FAT probe
 * asks it, so that such a sector is not reported as a FAT volume. */
bool probe_is_bitlocker(const uint8_t *p);

#endif
