/*
 * probe_util.c - helpers every probe shares: label copying, UUIDs, CRC32.
 */
#include "probe.h"

#include <stdio.h>

void probe_copy_label(char *dst, size_t dstlen, const uint8_t *src, size_t srclen)
{
	size_t n = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i < srclen && src[i] && n + 1 < dstlen; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

void probe_copy_utf16(char *dst, size_t dstlen, const uint8_t *src, size_t srclen, bool big_endian)
{
	size_t n = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i + 1 < srclen && n + 1 < dstlen; i += 2) {
		uint16_t c = big_endian ? be16(src + i) : le16(src + i);
		if (!c)
			break;
		dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
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
