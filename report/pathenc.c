/*
 * pathenc.c - UTF-8 validation, lossy repair and base64 (see pathenc.h).
 */
#include "pathenc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = seq_len(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

char *utf8_lossy(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(3 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = seq_len(p + i, n - i);
		if (k) {
			memcpy(o, p + i, k);
			o += k;
			i += k;
		} else {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}

char *base64_encode(const unsigned char *p, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		*o++ = tbl[v >> 18 & 63];
		*o++ = tbl[v >> 12 & 63];
		*o++ = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tbl[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* The value of one base64 character, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

unsigned char *base64_decode(const char *text, size_t len, size_t *n)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t pad = 0, out_len;
	unsigned char *out, *o;

	if (len % 4) {
		errno = EINVAL;
		return NULL;
	}
	if (len && t[len - 1] == '=')
		pad = len >= 2 && t[len - 2] == '=' ? 2 : 1;
	out_len = len / 4 * 3 - pad;
	if (!(out = malloc(out_len + 1))) {
		errno = ENOMEM;
		return NULL;
	}
	o = out;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int v[4];
		for (int k = 0; k < 4; k++) {
			bool padding = last && k >= 4 - (int)pad;
			v[k] = padding ? 0 : b64_value(t[i + k]);
			if (v[k] < 0)
				goto bad;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		*o++ = (unsigned char)(w >> 16);
		if (!last || pad < 2)
			*o++ = (unsigned char)(w >> 8);
		else if (w & 0xFFFF)
			goto bad; /* bits past the last byte must be zero */
		if (!last || pad < 1)
			*o++ = (unsigned char)w;
		else if (pad == 1 && (w & 0xFF))
			goto bad;
	}
	*o = '\0';
	*n = out_len;
	return out;
bad:
	free(out);
	errno = EINVAL;
	return NULL;
}

char *term_escaped(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	char *out = malloc(4 * n + 1), *o = out; /* "\xNN" for each byte at most */

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = seq_len(p + i, n - i);
		/* Valid UTF-8 passes, but not a C1 control (U+0080..U+009F:
		 * 0xC2 0x80..0x9F), which a terminal may take as ESC [. */
		if (k > 1 && !(p[i] == 0xC2 && p[i + 1] < 0xA0)) {
			memcpy(o, p + i, k);
			o += k;
			i += k;
			continue;
		}
		if (p[i] == '\\')
			o += sprintf(o, "\\\\");
		else if (p[i] == '\n')
			o += sprintf(o, "\\n");
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			o += sprintf(o, "\\x%02x", p[i]);
		else
			*o++ = (char)p[i];
		i++;
	}
	*o = '\0';
	return out;
}

void term_fputs(const char *s, FILE *f)
{
	char *shown = term_escaped(s);

	fputs(shown ? shown : "(out of memory)", f);
	free(shown);
}

void term_say(const char *before, const char *text, const char *after)
{
	fputs(before, stderr);
	term_fputs(text, stderr);
	fputs(after, stderr);
}
