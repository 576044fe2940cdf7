/*
 * fs_kind.c - see fs_kind.h.
 */
#include "fs_kind.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/vfs.h>

/* statfs(2) f_type of the local file systems (linux/magic.h and the file
 * systems' own headers). */
static const uint32_t local_magic[] = {
	0xEF53,     /* ext2, ext3, ext4 */
	0x58465342, /* XFS */
	0x9123683E, /* btrfs */
	0x01021994, /* tmpfs */
	0x858458F6, /* ramfs */
	0xF2F52010, /* F2FS */
	0x2FC12FC1, /* ZFS */
	0xCA451A4E, /* bcachefs */
	0x794C7630, /* overlayfs (over local layers, as a rule) */
	0x4D44,     /* FAT */
	0x2011BAB0, /* exFAT */
	0x5346544E, /* NTFS (ntfs-3g is FUSE) */
	0x7366746E, /* ntfs3 */
	0x482B,     /* HFS+ */
	0x9660,     /* ISO 9660 */
	0x15013346, /* UDF */
	0x73717368, /* squashfs */
	0xE0F5E1E2, /* EROFS */
	0x3153464A, /* JFS */
	0x52654973, /* ReiserFS */
	0x3434,     /* NILFS2 */
};

bool fs_reads_may_stall(int fd, const struct stat *st)
{
	struct statfs sf;

	if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode))
		return false;
	if (fstatfs(fd, &sf))
		return true;
	for (size_t i = 0; i < sizeof(local_magic) / sizeof(local_magic[0]); i++)
		if ((uint32_t)sf.f_type == local_magic[i])
			return false;
	return true;
}
