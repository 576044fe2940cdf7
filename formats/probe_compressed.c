/*
 * probe_compressed.c - compressed files that hide behind image names:
 * gzip, xz, zstd, bzip2, zip, 7z.  They are kept in one file because each is
 * a magic number and at most one header field; each still has its own
 * descriptor in the table.
 */
#include "probe.h"

#include <stdio.h>

/* gzip: method 8 (deflate) and, with FNAME, the original file name. */
static int probe_gzip_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 10), *p;
	uint64_t off = 10;

	(void)id;
	if (!s || s[2] != 8 || (s[3] & 0xE0))
		return 1;
	if (s[3] & 0x04) { /* FEXTRA */
		p = pv_bytes(v, off, 2);
		if (!p)
			return 0;
		off += 2 + le16(p);
	}
	if (s[3] & 0x08) { /* FNAME: a NUL-terminated name */
		p = pv_bytes(v, off, 1);
		if (p) {
			size_t avail = v->head_len > off ? v->head_len - off : 0;
			char name[96];
			probe_copy_text(name, sizeof(name), p, avail < 95 ? avail : 95);
			snprintf(hit->detail, sizeof(hit->detail), "original name \"%s\"", name);
		}
	}
	return 0;
}

static int probe_bzip2_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 10);

	(void)id;
	if (!s || s[3] < '1' || s[3] > '9' || memcmp(s + 4, "\x31\x41\x59\x26\x53\x59", 6))
		return 1;
	snprintf(hit->detail, sizeof(hit->detail), "block size %c00k", s[3]);
	return 0;
}

const struct probe_desc probe_gzip = {
	.name = "gzip", .cls = HIT_COMPRESSED,
	.magic = "\x1F\x8B", .magic_len = 2, .magic_off = 0, .probe = probe_gzip_fn,
};
const struct probe_desc probe_xz = {
	.name = "xz", .cls = HIT_COMPRESSED,
	.magic = "\xFD" "7zXZ\x00", .magic_len = 6, .magic_off = 0,
};
const struct probe_desc probe_zstd = {
	.name = "zstd", .cls = HIT_COMPRESSED,
	.magic = "\x28\xB5\x2F\xFD", .magic_len = 4, .magic_off = 0,
};
const struct probe_desc probe_bzip2 = {
	.name = "bzip2", .cls = HIT_COMPRESSED,
	.magic = "BZh", .magic_len = 3, .magic_off = 0, .probe = probe_bzip2_fn,
};
const struct probe_desc probe_zip = {
	.name = "zip", .cls = HIT_COMPRESSED,
	.magic = "PK\x03\x04", .magic_len = 4, .magic_off = 0,
};
const struct probe_desc probe_7z = {
	.name = "7z", .cls = HIT_COMPRESSED,
	.magic = "7z\xBC\xAF\x27\x1C", .magic_len = 6, .magic_off = 0,
};
