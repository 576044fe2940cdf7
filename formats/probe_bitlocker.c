/*
 * probe_bitlocker.c - BitLocker volumes (libbde's "BitLocker Drive
 * Encryption (BDE) format"): the volume's boot sector is BitLocker's own.
 *   Windows Vista       EB 52 90 "-FVE-FS-": an NTFS-like BPB whose field at
 *                       56 is the first FVE metadata block's cluster
 *   Windows 7 and later EB 58 90 "-FVE-FS-", the BitLocker identifier at 160
 *                       and the three metadata block offsets at 176
 *   BitLocker To Go     EB 58 90 "MSWIN4.1": a FAT32 discovery volume, with
 *                       the identifier at 424 and the offsets at 440
 * Such a sector is not a FAT or NTFS volume to report: probe_is_bitlocker()
 * is what the FAT probe asks (NTFS's "NTFS    " never matches it).
 *
 * The refine hook reads the first FVE metadata block (beyond the captured
 * head, usually tens of MiB in): the encryption method, the volume's GUID,
 * the encrypted size, and the description entry (computer name, drive and
 * date), which is the volume's label.
 */
#include "probe.h"

#include <stdio.h>

#define FVE_BLOCK_HEADER 64
#define FVE_METADATA_HEADER 48
#define FVE_ENTRIES_MAX 64
#define FVE_ENTRY_DESCRIPTION 0x0007
#define FVE_VALUE_STRING 0x0002
#define FVE_METADATA_MAX (64u << 10)

/* 4967d63b-2e29-4ad8-8399-f6a339e3d001, and the one of a volume that
 * encrypts only used space, as they are stored (GUID byte order). */
static const uint8_t bde_id[16] = {0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
				   0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01};
static const uint8_t bde_id_used_space[16] = {0x3b, 0x4d, 0xa8, 0x92, 0x80, 0xdd, 0x0e, 0x4d,
					      0x9e, 0x4e, 0xb1, 0xe3, 0x28, 0x4e, 0xae, 0xd8};

enum bde_variant { BDE_NONE, BDE_VISTA, BDE_WIN7, BDE_TO_GO };

static bool is_bde_id(const uint8_t *p)
{
	return !memcmp(p, bde_id, 16) || !memcmp(p, bde_id_used_space, 16);
}

static enum bde_variant bde_variant(const uint8_t *s)
{
	if (s[510] != 0x55 || s[511] != 0xAA || s[0] != 0xEB)
		return BDE_NONE;
	if (!memcmp(s + 3, "-FVE-FS-", 8))
		return s[1] == 0x52 && !is_bde_id(s + 160) ? BDE_VISTA : BDE_WIN7;
	if (!memcmp(s + 3, "MSWIN4.1", 8) && is_bde_id(s + 424))
		return BDE_TO_GO;
	return BDE_NONE;
}

bool probe_is_bitlocker(const uint8_t *s)
{
	return bde_variant(s) != BDE_NONE;
}

/* The first FVE metadata block's offset from the volume's start; 0 when the
 * sector does not give one. */
static uint64_t first_metadata_offset(const uint8_t *s, enum bde_variant k)
{
	uint64_t off;

	if (k == BDE_WIN7)
		return le64(s + 176);
	if (k == BDE_TO_GO)
		return le64(s + 440);
	/* Vista: a cluster number. */
	if (le16(s + 11) < 512 || le16(s + 11) > 4096 || !s[13] || s[13] > 128 ||
	    !checked_mul(le64(s + 56), (uint64_t)le16(s + 11) * s[13], &off))
		return 0;
	return off;
}

static int probe_bitlocker_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	static const char *const variants[] = {"", "Windows Vista", "Windows 7 or later", "BitLocker To Go"};
	const uint8_t *s = pv_bytes(v, 0, 512);
	enum bde_variant k;

	(void)id;
	if (!s || (k = bde_variant(s)) == BDE_NONE)
		return 1;
	hit->block_size = le16(s + 11);
	snprintf(hit->detail, sizeof(hit->detail), "%s, first metadata block at %llu", variants[k],
		 (unsigned long long)first_metadata_offset(s, k));
	return 0;
}

static const char *encryption_method(uint32_t m)
{
	switch (m & 0xffff) {
	case 0x8000: return "AES-128-CBC with Elephant diffuser";
	case 0x8001: return "AES-256-CBC with Elephant diffuser";
	case 0x8002: return "AES-128-CBC";
	case 0x8003: return "AES-256-CBC";
	case 0x8004: return "AES-128-XTS";
	case 0x8005: return "AES-256-XTS";
	case 0x0000: return "not encrypted (clear key)";
	default: return NULL;
	}
}

/* The description entry (type 7, a UTF-16 string) among the metadata
 * entries e[0, len). */
static void find_description(const uint8_t *e, size_t len, struct probe_hit *hit)
{
	size_t at = 0;

	for (int i = 0; i < FVE_ENTRIES_MAX && at + 8 <= len; i++) {
		uint16_t size = le16(e + at);
		if (size < 8 || size > len - at)
			return;
		if (le16(e + at + 2) == FVE_ENTRY_DESCRIPTION && le16(e + at + 4) == FVE_VALUE_STRING) {
			probe_copy_utf16(hit->label, sizeof(hit->label), e + at + 8, size - 8u, false);
			return;
		}
		at += size;
	}
}

/* Read the first FVE metadata block: block header (64 bytes), metadata
 * header (48), entries. */
static void bitlocker_refine(const uint8_t *s, size_t slen, uint64_t base,
			     long (*read)(void *, uint64_t, void *, size_t), void *ctx, uint8_t *buf, size_t buflen,
			     struct probe_hit *hit)
{
	enum bde_variant k;
	uint64_t at;
	uint32_t msize;
	const char *method;
	size_t want;
	long got;

	if (slen < 512 || (k = bde_variant(s)) == BDE_NONE || buflen < FVE_BLOCK_HEADER + FVE_METADATA_HEADER)
		return;
	if (!(at = first_metadata_offset(s, k)) || !checked_add(base, at, &at))
		return;
	want = buflen < FVE_BLOCK_HEADER + FVE_METADATA_MAX ? buflen : FVE_BLOCK_HEADER + FVE_METADATA_MAX;
	got = read(ctx, at, buf, want);
	if (got < FVE_BLOCK_HEADER + FVE_METADATA_HEADER || memcmp(buf, "-FVE-FS-", 8))
		return;
	msize = le32(buf + FVE_BLOCK_HEADER);
	probe_appendf(hit->detail, sizeof(hit->detail), ", metadata version %u", le16(buf + 10));
	if ((method = encryption_method(le32(buf + FVE_BLOCK_HEADER + 36))))
		probe_appendf(hit->detail, sizeof(hit->detail), ", %s", method);
	if (le16(buf + 10) >= 2 && le64(buf + 16)) {
		hit->claimed_size = le64(buf + 16); /* the encrypted volume's size */
		probe_appendf(hit->detail, sizeof(hit->detail), ", volume %llu bytes",
			      (unsigned long long)hit->claimed_size);
	}
	probe_format_uuid(hit->uuid, sizeof(hit->uuid), buf + FVE_BLOCK_HEADER + 16, true);
	if (msize > FVE_METADATA_HEADER && msize <= (size_t)got - FVE_BLOCK_HEADER)
		find_description(buf + FVE_BLOCK_HEADER + FVE_METADATA_HEADER, msize - FVE_METADATA_HEADER, hit);
}

/* The driver checks 55 AA; the probe the signature at 3 (and 424). */
const struct probe_desc probe_bitlocker = {
	.name = "bitlocker", .cls = HIT_ENCRYPTED,
	.magic = "\x55\xAA", .magic_len = 2, .magic_off = 510,
	.probe = probe_bitlocker_fn, .refine = bitlocker_refine,
};
