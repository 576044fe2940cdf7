/*
 * probe_util.c - helpers every probe shares: label decoding into UTF-8,
 * UUIDs, CRC32.
 *
 * Labels are data (issue 15): the report keeps them exactly.  Those in a
 * defined encoding (UTF-16, Latin-1, a DOS code page) are decoded into
 * UTF-8 character for character, control characters included (the JSON
 * escapes them, the terminal never sees them raw); only what no UTF-8 can
 * hold, an unpaired UTF-16 surrogate, becomes U+FFFD.  Labels of bytes
 * meant as UTF-8 are copied as they are, invalid bytes too: the report
 * gives those in base64 beside a readable form (json_add_path).  Strings
 * that are not labels (details built from disk bytes) go through
 * probe_copy_text, which still turns controls and invalid bytes into
 * U+FFFD.  A character that does not fit whole ends a copy (never half of
 * its bytes), and trailing spaces, the padding of most formats, are trimmed.
 */
#include "probe.h"

#include <string.h>

#include <stdio.h>

#define REPLACEMENT 0xFFFDu

/* Surrogates and values past U+10FFFF have no UTF-8 form. */
static uint32_t encodable(uint32_t cp)
{
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return REPLACEMENT;
	return cp;
}

/* Controls (C0, DEL, C1) are no characters of a detail line. */
static uint32_t displayable(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) ? REPLACEMENT : cp;
}

bool probe_put_utf8(char *dst, size_t dstlen, size_t *n, uint32_t cp)
{
	uint8_t b[4];
	size_t len;

	cp = encodable(cp);
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		len = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		len = 4;
	}
	/* Room for the whole sequence and the terminating NUL, or nothing. */
	if (*n >= dstlen || dstlen - *n <= len)
		return false;
	memcpy(dst + *n, b, len);
	*n += len;
	return true;
}

/* Trim trailing spaces and terminate: the end of every copy below. */
static void finish(char *dst, size_t n)
{
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* One character of strict UTF-8 at s (len > 0 bytes): its code point in
 * *cp and its length; an invalid, overlong or truncated sequence, or an
 * encoded surrogate, is one byte of U+FFFD. */
static size_t utf8_next(const uint8_t *s, size_t len, uint32_t *cp)
{
	size_t need;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 1, c = s[0] & 0x1Fu, min = 0x80;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 2, c = s[0] & 0x0Fu, min = 0x800;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 3, c = s[0] & 0x07u, min = 0x10000;
	else
		goto invalid;
	if (len <= need)
		goto invalid;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto invalid;
		c = c << 6 | (s[i] & 0x3Fu);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		goto invalid;
	*cp = c;
	return need + 1;
invalid:
	*cp = REPLACEMENT;
	return 1;
}

void probe_copy_label(char *dst, size_t dstlen, const uint8_t *src, size_t srclen)
{
	size_t n = 0, i = 0;
	uint32_t cp;

	if (!dstlen)
		return;
	while (i < srclen && src[i]) {
		/* A valid sequence is copied whole or not at all; an invalid
		 * byte is one byte, kept for the report's base64. */
		size_t used = utf8_next(src + i, srclen - i, &cp);
		if (dstlen - n <= used)
			break;
		memcpy(dst + n, src + i, used);
		n += used;
		i += used;
	}
	finish(dst, n);
}

void probe_copy_text(char *dst, size_t dstlen, const uint8_t *src, size_t srclen)
{
	size_t n = 0, i = 0;
	uint32_t cp;

	if (!dstlen)
		return;
	while (i < srclen && src[i]) {
		size_t used = utf8_next(src + i, srclen - i, &cp);
		if (!probe_put_utf8(dst, dstlen, &n, displayable(cp)))
			break;
		i += used;
	}
	finish(dst, n);
}

void probe_copy_codepage(char *dst, size_t dstlen, const uint8_t *src, size_t srclen, const uint16_t *high)
{
	size_t n = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i < srclen && src[i]; i++)
		if (!probe_put_utf8(dst, dstlen, &n, src[i] < 0x80 ? src[i] : high[src[i] - 0x80]))
			break;
	finish(dst, n);
}

void probe_copy_latin1(char *dst, size_t dstlen, const uint8_t *src, size_t srclen)
{
	size_t n = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i < srclen && src[i]; i++) /* Latin-1 is the first 256 code points */
		if (!probe_put_utf8(dst, dstlen, &n, src[i]))
			break;
	finish(dst, n);
}

bool probe_has_high_bytes(const uint8_t *src, size_t srclen)
{
	for (size_t i = 0; i < srclen && src[i]; i++)
		if (src[i] >= 0x80)
			return true;
	return false;
}

/* UTF-16: a high surrogate (D800-DBFF) and the low one (DC00-DFFF) after it
 * make one character past U+FFFF (an emoji: 4 bytes of UTF-8); a surrogate
 * without its partner is U+FFFD.  An odd last byte is ignored. */
void probe_copy_utf16(char *dst, size_t dstlen, const uint8_t *src, size_t srclen, bool big_endian)
{
	size_t n = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i + 1 < srclen;) {
		uint32_t c = big_endian ? be16(src + i) : le16(src + i);
		i += 2;
		if (!c)
			break;
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < srclen) {
			uint32_t lo = big_endian ? be16(src + i) : le16(src + i);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
				i += 2;
			}
		}
		if (!probe_put_utf8(dst, dstlen, &n, c)) /* a lone surrogate: U+FFFD */
			break;
	}
	finish(dst, n);
}

void probe_format_uuid(char *dst, size_t dstlen, const uint8_t *u, bool mixed)
{
	if (mixed) /* GUIDs store the first three fields little-endian */
		snprintf(dst, dstlen, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 le32(u), le16(u + 4), le16(u + 6), u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	else
		snprintf(dst, dstlen, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 be32(u), be16(u + 4), be16(u + 6), u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

uint32_t probe_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	/* Written without unsigned wrap-around: the fuzz build traps on any. */
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (crc & 1 ? 0xedb88320u : 0);
	}
	return ~crc;
}

const uint8_t *probe_src_get(struct probe_src *s, uint64_t off, size_t len)
{
	const uint8_t *p = s->v ? pv_bytes(s->v, off, len) : NULL;
	size_t want;
	uint64_t at;
	long got;

	if (p || !s->read || len > s->buflen)
		return p;
	if (s->v && (off > s->v->size || len > s->v->size - off))
		return NULL;
	if (s->buf_have && off >= s->buf_off && off - s->buf_off <= s->buf_have &&
	    len <= s->buf_have - (off - s->buf_off))
		return s->buf + (off - s->buf_off);
	want = s->fill > len ? (s->fill < s->buflen ? s->fill : s->buflen) : len;
	if (s->v && s->v->size - off < want)
		want = (size_t)(s->v->size - off);
	if (!checked_add(s->base, off, &at))
		return NULL;
	s->buf_have = 0;
	got = s->read(s->ctx, at, s->buf, want);
	if (got < 0 || (size_t)got < len)
		return NULL;
	s->buf_off = off;
	s->buf_have = (size_t)got < want ? (size_t)got : want;
	return s->buf;
}

/* Drop an incomplete UTF-8 sequence at the end of s (cut by a bounded copy). */
void probe_utf8_trim_tail(char *s)
{
	size_t n = strlen(s), k = 0, need;
	unsigned char lead;

	while (k < 3 && k < n && ((unsigned char)s[n - 1 - k] & 0xC0) == 0x80)
		k++;
	if (k == n)
		return;
	lead = (unsigned char)s[n - 1 - k];
	if (lead < 0xC0)
		return; /* ASCII, or continuation bytes with no lead: left to the report's check */
	need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
	if (k < need)
		s[n - 1 - k] = '\0';
}

/* Not the labels: their copies never cut a character, and a label whose
 * bytes on disk end in half of one keeps them (the report's base64). */
void probe_hit_tidy(struct probe_hit *h)
{
	probe_utf8_trim_tail(h->uuid);
	probe_utf8_trim_tail(h->detail);
}
