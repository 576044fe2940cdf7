/*
 * probe_gpt.c - GUID partition table: the header at LBA 1 (512-byte or
 * 4096-byte sectors), checked as libblkid's gpt.c does: header CRC, MyLBA,
 * usable range within the disk, entry size and count capped, entries' CRC.
 */
#include "probe.h"

#include <stdio.h>

#define GPT_MAX_ENTRIES 1024u
#define GPT_MAX_ENTRY_SIZE 4096u

struct gpt_name { const char *guid; const char *name; };

static const struct gpt_name known_types[] = {
	{"c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System"},
	{"ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data"},
	{"0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem"},
	{"21686148-6449-6e6f-744e-656564454649", "BIOS boot"},
	{"0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap"},
	{"48465300-0000-11aa-aa11-00306543ecac", "Apple HFS+"},
	{"7c3457ef-0000-11aa-aa11-00306543ecac", "Apple APFS"},
	{"e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved"},
};

static const char *type_name(const char *guid)
{
	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++)
		if (!strcmp(known_types[i].guid, guid))
			return known_types[i].name;
	return NULL;
}

/* A stored CRC against the computed one.  Fuzzing builds accept any: a
 * fuzzer cannot forge a CRC-32, and the header fields and entries behind it
 * are what must survive hostile values (a crafted image has right CRCs).
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION is libFuzzer's convention. */
static bool crc_matches(uint32_t stored, uint32_t computed)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)stored;
	(void)computed;
	return true;
#else
	return stored == computed;
#endif
}

static bool header_ok(const uint8_t *h)
{
	uint8_t copy[512];
	uint32_t hsize = le32(h + 12);

	if (hsize < 92 || hsize > 512 || le64(h + 24) != 1)
		return false;
	memcpy(copy, h, hsize);
	memset(copy + 16, 0, 4);
	if (!crc_matches(le32(h + 16), probe_crc32(copy, hsize)))
		return false;
	/* The usable range may run past a truncated file: keep the table (the
	 * verdict reports the truncation) but not a range that makes no sense. */
	return le64(h + 40) <= le64(h + 48) && le64(h + 32) >= le64(h + 48);
}

static void add_entry(struct ident *id, const uint8_t *e, uint32_t number, uint32_t lbsize)
{
	struct part_entry *p;
	const char *known;

	if (id->nparts >= IDENT_MAX_PARTS)
		return;
	p = &id->parts[id->nparts++];
	memset(p, 0, sizeof(*p));
	p->number = number;
	/* LBAs are 64-bit: in bytes they may pass 64 bits (saturated, so the
	 * verdict says the partition claims more than any disk). */
	p->start = size_mul(le64(e + 32), lbsize);
	p->length = size_mul(size_add(le64(e + 40) - le64(e + 32), 1), lbsize);
	probe_format_uuid(p->type, sizeof(p->type), e, true);
	known = type_name(p->type);
	probe_copy_utf16(p->name, sizeof(p->name), e + 56, 72, false);
	if (!p->name[0] && known)
		snprintf(p->name, sizeof(p->name), "%s", known);
}

static int parse_gpt(const struct probe_view *v, uint32_t lbsize, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, lbsize, 512), *ents;
	uint32_t n, esize, used = 0;
	uint64_t ents_off;
	static const uint8_t unused[16];

	if (!h || memcmp(h, "EFI PART", 8) || !header_ok(h))
		return 1;
	n = le32(h + 80);
	esize = le32(h + 84);
	if (n == 0 || n > GPT_MAX_ENTRIES || esize < 128 || esize > GPT_MAX_ENTRY_SIZE || esize % 8)
		return 1;
	/* An entry array past 64 bits would wrap to some other place. */
	if (!checked_mul(le64(h + 72), lbsize, &ents_off))
		return 1;
	ents = pv_bytes(v, ents_off, (size_t)n * esize);
	if (!ents || !crc_matches(le32(h + 88), probe_crc32(ents, (size_t)n * esize)))
		return 1;
	snprintf(id->scheme, sizeof(id->scheme), "gpt");
	id->nparts = 0; /* a protective MBR may not list anything: GPT owns it */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = ents + (size_t)i * esize;
		if (!memcmp(e, unused, 16) || le64(e + 40) < le64(e + 32))
			continue;
		used++;
		add_entry(id, e, i + 1, lbsize);
	}
	hit->block_size = lbsize;
	hit->claimed_size = size_mul(size_add(le64(h + 32), 1), lbsize); /* through the backup header */
	probe_format_uuid(hit->uuid, sizeof(hit->uuid), h + 56, true);
	snprintf(hit->detail, sizeof(hit->detail), "%u partition%s, %u-byte sectors", used,
		 used == 1 ? "" : "s", lbsize);
	return 0;
}

static int probe_efi(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	if (parse_gpt(v, 512, hit, id) == 0)
		return 0;
	return parse_gpt(v, 4096, hit, id);
}

const struct probe_desc probe_gpt = {
	.name = "gpt",
	.cls = HIT_PTABLE,
	.probe = probe_efi,
};
