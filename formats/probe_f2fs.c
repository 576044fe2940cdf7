/*
 * probe_f2fs.c - F2FS: magic 0xF2F52010 (little-endian) at 1024.
 */
#include "probe.h"

#include <stdio.h>

#define SB 1024u

static int probe_f2fs_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, SB, 1024);
	uint32_t log;

	(void)id;
	if (!s || le32(s) != 0xF2F52010u)
		return 1;
	log = le32(s + 16);
	if (log < 9 || log > 16)
		return 1;
	hit->block_size = 1u << log;
	hit->claimed_size = size_shl(le64(s + 36), log);
	snprintf(hit->detail, sizeof(hit->detail), "version %u.%u", le16(s + 4), le16(s + 6));
	return 0;
}

const struct probe_desc probe_f2fs = {
	.name = "f2fs",
	.cls = HIT_FS,
	.magic = "\x10\x20\xF5\xF2",
	.magic_len = 4,
	.magic_off = SB,
	.probe = probe_f2fs_fn,
};
