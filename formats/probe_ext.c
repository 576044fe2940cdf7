/*
 * probe_ext.c - ext2/3/4: the superblock at 1024, magic EF53 at +56; the
 * flavour follows from the feature flags (as libblkid decides it).
 */
#include "probe.h"

#include <stdio.h>

#define SB 1024u
#define COMPAT_HAS_JOURNAL 0x0004u
#define INCOMPAT_JOURNAL_DEV 0x0008u
#define INCOMPAT_EXT4 (0x0040u | 0x0080u | 0x0200u | 0x0400u) /* extents 64bit flex_bg mmp */
#define INCOMPAT_64BIT 0x0080u
#define RO_COMPAT_EXT4 (0x0008u | 0x0010u | 0x0020u | 0x0040u | 0x0400u) /* huge_file gdt_csum dir_nlink extra_isize metadata_csum */

static int probe_ext_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, SB, 1024);
	uint32_t log, compat, incompat, ro;
	uint64_t blocks;

	(void)id;
	if (!s || le16(s + 56) != 0xEF53)
		return 1;
	log = le32(s + 24);
	if (log > 6)
		return 1;
	compat = le32(s + 92);
	incompat = le32(s + 96);
	ro = le32(s + 100);
	if (incompat & INCOMPAT_JOURNAL_DEV)
		snprintf(hit->name, sizeof(hit->name), "%s", "jbd");
	else if ((incompat & INCOMPAT_EXT4) || (ro & RO_COMPAT_EXT4))
		snprintf(hit->name, sizeof(hit->name), "%s", "ext4");
	else if (compat & COMPAT_HAS_JOURNAL)
		snprintf(hit->name, sizeof(hit->name), "%s", "ext3");
	else
		snprintf(hit->name, sizeof(hit->name), "%s", "ext2");
	hit->block_size = 1024u << log;
	blocks = le32(s + 4);
	if (incompat & INCOMPAT_64BIT)
		blocks |= (uint64_t)le32(s + 0x150) << 32;
	hit->claimed_size = size_mul(blocks, hit->block_size); /* 2^52+16 blocks of 4K: no wrap to 64K */
	probe_copy_label(hit->label, sizeof(hit->label), s + 120, 16);
	probe_format_uuid(hit->uuid, sizeof(hit->uuid), s + 104, false);
	snprintf(hit->detail, sizeof(hit->detail), "%llu blocks of %u bytes", (unsigned long long)blocks,
		 hit->block_size);
	snprintf(hit->tsk_hint, sizeof(hit->tsk_hint), "ext");
	return 0;
}

const struct probe_desc probe_ext = {
	.name = "ext",
	.cls = HIT_FS,
	.magic = "\x53\xEF",
	.magic_len = 2,
	.magic_off = SB + 56,
	.probe = probe_ext_fn,
};
