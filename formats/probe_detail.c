/*
 * probe_detail.c - small helpers for the probes that describe files rather
 * than volumes (archives, boot images, encrypted volumes): a detail line
 * built piece by piece, a bounded search in borrowed bytes, a quoted
 * printable copy of an on-disk string.
 */
#include "probe.h"

#include <stdarg.h>
#include <stdio.h>

void probe_appendf(char *dst, size_t cap, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (!cap)
		return;
	n = strnlen(dst, cap);
	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + n, cap - n, fmt, ap);
	va_end(ap);
	probe_utf8_trim_tail(dst); /* cut to fit: never half a character */
}

const uint8_t *probe_find(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	if (!p || !k || k > n)
		return NULL;
	for (size_t i = 0; i <= n - k; i++)
		if (p[i] == (uint8_t)needle[0] && !memcmp(p + i, needle, k))
			return p + i;
	return NULL;
}

bool probe_all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}
