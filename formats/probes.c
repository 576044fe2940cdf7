/*
 * probes.c - the one ordered table of probes, and the driver that runs it.
 * The driver checks the cheap magic first and calls a probe only then; it
 * keeps every match (ISO 9660 and UDF share a disc; an isohybrid image is an
 * MBR and an ISO at once) and leaves the judgement to verdict.c.
 */
#include "inside.h"
#include "probe.h"

#include <stdio.h>

extern const struct probe_desc probe_ewf, probe_qcow, probe_vmdk, probe_vhdx, probe_vdi, probe_vhd,
	probe_dmg, probe_gzip, probe_xz, probe_zstd, probe_bzip2, probe_zip, probe_7z, probe_iso9660,
	probe_eltorito, probe_udf, probe_rawcd, probe_gpt, probe_mbr, probe_fat, probe_exfat, probe_ntfs,
	probe_ext, probe_hfs, probe_btrfs, probe_xfs, probe_f2fs, probe_squashfs;
extern const struct probe_desc probe_android_sparse, probe_sparseimage, probe_lz4, probe_tar, probe_cpio,
	probe_luks1, probe_luks2, probe_android_boot, probe_android_vendor_boot, probe_android_dtbo,
	probe_android_vbmeta, probe_android_super, probe_android_super_empty, probe_uboot, probe_fdt, probe_bitlocker, probe_erofs,
	probe_swap, probe_high_entropy;

const struct probe_desc *const probe_table[] = {
	/* Containers first: their own header sits at 0, so a file-system magic
	 * found further in is payload, not the file's identity. */
	&probe_ewf, &probe_qcow, &probe_vmdk, &probe_vhdx, &probe_vdi,
	&probe_android_sparse, &probe_sparseimage,
	/* VHD and DMG are recognised by a trailer; a fixed VHD holds a raw disk
	 * from 0, so the probes below still describe what is inside it. */
	&probe_vhd, &probe_dmg,
	&probe_gzip, &probe_xz, &probe_zstd, &probe_bzip2, &probe_lz4, &probe_zip, &probe_7z,
	/* Files that are not disks, each with its header at 0: archives of
	 * files, encrypted volumes, boot and firmware images.  Before the disk
	 * probes, so that their hit comes first: what a boot image carries
	 * (a kernel, a ramdisk, a device tree) starts further in and is payload.
	 * tar and cpio have no magic for the driver (v7 tar has none, cpio
	 * five): they check their own, cheaply. */
	&probe_tar, &probe_cpio,
	&probe_luks1, &probe_luks2,
	&probe_android_boot, &probe_android_vendor_boot, &probe_android_dtbo, &probe_android_vbmeta,
	&probe_android_super, &probe_android_super_empty, &probe_uboot, &probe_fdt,
	/* Optical before partition tables: isohybrid images put an MBR (and
	 * xorriso a GPT) in front of the ISO 9660 volume. */
	&probe_iso9660, &probe_eltorito, &probe_udf,
	&probe_rawcd,
	/* BitLocker before the partition tables and FAT: its boot sector ends
	 * in 55 AA and BitLocker To Go's carries a FAT32 BPB.  The FAT probe
	 * asks probe_is_bitlocker() and stands aside; NTFS's "NTFS    " never
	 * matches "-FVE-FS-". */
	&probe_bitlocker,
	/* GPT before MBR, so that the protective MBR does not claim the list. */
	&probe_gpt, &probe_mbr,
	/* FAT's 55 AA overlaps the MBR's; each checks the other's structure. */
	&probe_fat, &probe_exfat, &probe_ntfs, &probe_ext, &probe_hfs,
	&probe_btrfs, &probe_xfs, &probe_f2fs, &probe_squashfs, &probe_erofs,
	/* swap's signature sits at the end of its first page (4 to 64 KiB). */
	&probe_swap,
	/* Last, and only when nothing above matched (it reads id->nhits): the
	 * byte entropy of the head, for encrypted volumes without a header,
	 * random-wiped media and compressed data of unknown formats. */
	&probe_high_entropy,
};

const size_t probe_table_len = sizeof(probe_table) / sizeof(probe_table[0]);

static bool magic_matches(const struct probe_desc *d, const struct probe_view *v)
{
	uint64_t off;

	if (!d->magic)
		return true;
	if (d->magic_from_end) {
		if (v->size < d->magic_off)
			return false;
		off = v->size - d->magic_off;
	} else {
		off = d->magic_off;
	}
	return pv_match(v, off, d->magic, d->magic_len);
}

/* Inside a partition: file systems, optical volumes and encrypted volumes
 * (a LUKS or BitLocker partition); high-entropy never fires there (the
 * partition table is already a hit). */
static bool wanted(const struct probe_desc *d, bool only_fs)
{
	return !only_fs || d->cls == HIT_FS || d->cls == HIT_OPTICAL || d->cls == HIT_ENCRYPTED;
}

/* skip: a descriptor not to run (NULL: none). */
static void run_table(const struct probe_view *v, uint64_t base, bool only_fs, const struct probe_desc *skip,
		      struct ident *id)
{
	for (size_t i = 0; i < probe_table_len; i++) {
		const struct probe_desc *d = probe_table[i];
		struct probe_hit hit;

		if (d == skip || !wanted(d, only_fs) || !magic_matches(d, v))
			continue;
		memset(&hit, 0, sizeof(hit));
		if (d->probe && d->probe(v, &hit, id) != 0)
			continue;
		if (id->nhits >= IDENT_MAX_HITS) {
			id->hits_truncated = true;
			return;
		}
		if (!hit.name[0])
			snprintf(hit.name, sizeof(hit.name), "%s", d->name);
		hit.cls = d->cls;
		hit.offset = base;
		hit.desc = d;
		probe_hit_tidy(&hit);
		id->hits[id->nhits++] = hit;
	}
}

void probe_run_all(const struct probe_view *v, uint64_t base, bool only_fs, struct ident *id)
{
	run_table(v, base, only_fs, NULL, id);
}

/* A hit that makes a file an image whatever its name.  Archives, boot and
 * firmware images and high-entropy data are not: under a name of their own
 * they are other files (a tarball, boot.img under /boot, a JPEG). */
bool probe_hit_is_image(const struct probe_hit *h)
{
	switch (h->cls) {
	case HIT_OPTICAL: case HIT_RAWCD: case HIT_PTABLE: case HIT_FS: case HIT_CONTAINER:
		return true;
	case HIT_ENCRYPTED:
		return strcmp(h->name, "high-entropy") != 0;
	default:
		return false;
	}
}

enum probe_answer probe_classify(const struct probe_view *v, char *layer, size_t layer_len)
{
	static __thread struct ident scratch; /* 20 KiB: not on the reader's stack */
	const char *compressed = NULL;

	memset(&scratch, 0, sizeof(scratch));
	/* High entropy never makes a file an image: not measured here (half a
	 * millisecond per MiB, for every large file of unknown extension). */
	run_table(v, 0, false, &probe_high_entropy, &scratch);
	for (int i = 0; i < scratch.nhits; i++) {
		if (probe_hit_is_image(&scratch.hits[i]))
			return PROBE_IMAGE;
		if (!compressed && scratch.hits[i].cls == HIT_COMPRESSED && scratch.hits[i].offset == 0)
			compressed = scratch.hits[i].name;
	}
	if (!compressed)
		return PROBE_NOT_IMAGE;
	snprintf(layer, layer_len, "%s", compressed);
	return PROBE_LOOK_INSIDE;
}

bool probe_ident_has_image(const struct ident *id)
{
	for (int i = 0; i < id->nhits && i < IDENT_MAX_HITS; i++)
		if (probe_hit_is_image(&id->hits[i]))
			return true;
	return false;
}

/* Declared in inside.h: the scanner and the verdict both ask it. */
bool inside_holds_image(const struct inside_result *in)
{
	if (probe_ident_has_image(&in->id))
		return true;
	for (uint32_t i = 0; i < in->nmembers && i < INSIDE_MAX_MEMBERS; i++)
		if (in->members[i].what[0])
			return true;
	return false;
}
