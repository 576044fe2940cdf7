/*
 * unit_probes.c - the probes on bytes, at their edges: the bounds-checked
 * accessor, views shorter than a structure, hostile counts and sizes.  Real
 * images are tested by the integration tests; this checks what no real tool
 * makes.
 */
#include "formats/probe.h"
#include "formats/identify.h"
#include "formats/verdict.h"
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static void run(const uint8_t *buf, size_t len, uint64_t size, struct ident *id)
{
	struct probe_view v = {buf, len, NULL, 0, 0, size};

	memset(id, 0, sizeof(*id));
	probe_run_all(&v, 0, false, id);
}

static const struct probe_hit *find(const struct ident *id, const char *name)
{
	for (int i = 0; i < id->nhits; i++)
		if (!strcmp(id->hits[i].name, name))
			return &id->hits[i];
	return NULL;
}

static void test_accessor(void)
{
	uint8_t head[16] = {1, 2, 3}, tail[8] = {9};
	struct probe_view v = {head, sizeof(head), tail, sizeof(tail), 100, 108};

	CHECK(pv_bytes(&v, 0, 16) == head);
	CHECK(pv_bytes(&v, 15, 2) == NULL);          /* crosses the head's end */
	CHECK(pv_bytes(&v, 100, 8) == tail);
	CHECK(pv_bytes(&v, 104, 8) == NULL);         /* past the view */
	CHECK(pv_bytes(&v, UINT64_MAX - 2, 4) == NULL); /* no overflow */
	CHECK(pv_bytes(&v, 50, 1) == NULL);          /* the hole between */
}

static long blob_read(void *ctx, uint64_t off, void *out, size_t len)
{
	const uint8_t *b = ctx;
	size_t cap = 1 << 20;

	if (off >= cap)
		return 0;
	if (len > cap - off)
		len = (size_t)(cap - off);
	memcpy(out, b + off, len);
	return (long)len;
}

static void put_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_be32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i)); }
static void put_be64(uint8_t *p, uint64_t v) { put_be32(p, (uint32_t)(v >> 32)); put_be32(p + 4, (uint32_t)v); }

#define HUGE_BLOCKS ((1ull << 52) + 16) /* x 4096 = 2^64 + 65536: wrapped to 65536 */

/* The checked arithmetic every probe uses on disk values (probe.h). */
static void test_size_helpers(void)
{
	uint64_t r;

	CHECK(size_mul(HUGE_BLOCKS, 4096) == SIZE_OVERFLOW);
	CHECK(size_mul(1ull << 32, 1ull << 31) == 1ull << 63);
	CHECK(size_mul(SIZE_OVERFLOW, 1) == SIZE_OVERFLOW && size_mul(0, SIZE_OVERFLOW) == 0);
	CHECK(size_add(SIZE_OVERFLOW - 1, 1) == SIZE_OVERFLOW && size_add(SIZE_OVERFLOW, 5) == SIZE_OVERFLOW);
	CHECK(size_add(1ull << 62, 1ull << 62) == 1ull << 63);
	CHECK(size_shl(1, 63) == 1ull << 63 && size_shl(2, 63) == SIZE_OVERFLOW);
	CHECK(size_shl(1ull << 60, 12) == SIZE_OVERFLOW && size_shl(0, 200) == 0 && size_shl(1, 64) == SIZE_OVERFLOW);
	CHECK(checked_shl(4, 62, &r) == false && checked_shl(3, 62, &r) && r == 3ull << 62);
	CHECK(!checked_mul(UINT64_MAX, 2, &r) && checked_mul(UINT64_MAX, 1, &r) && r == UINT64_MAX);
	CHECK(!checked_add(UINT64_MAX, 1, &r) && checked_add(UINT64_MAX - 1, 1, &r) && r == UINT64_MAX);
	CHECK(pow2_u32(0) == 1 && pow2_u32(31) == 1u << 31 && pow2_u32(32) == 0 && pow2_u32(127) == 0);
}

/* An ext4 superblock (64bit feature, 4 KiB blocks) claiming blocks. */
static void make_ext4(uint8_t *buf, size_t cap, uint64_t blocks)
{
	uint8_t *sb = buf + 1024;

	memset(buf, 0, cap);
	sb[56] = 0x53, sb[57] = 0xEF;
	put_le32(sb + 24, 2);                     /* 1024 << 2 */
	put_le32(sb + 96, 0x0080 | 0x0040);       /* 64bit, extents */
	put_le32(sb + 4, (uint32_t)blocks);
	put_le32(sb + 0x150, (uint32_t)(blocks >> 32));
}

/* Sizes that pass 64 bits saturate (they used to wrap to a small size). */
static void test_size_overflow(uint8_t *buf, size_t cap)
{
	struct ident id;
	const struct probe_hit *h;

	make_ext4(buf, cap, HUGE_BLOCKS);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "ext4")) && h->claimed_size == SIZE_OVERFLOW);
	make_ext4(buf, cap, 4096);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "ext4")) && h->claimed_size == 4096ull * 4096);

	memset(buf, 0, cap);                      /* XFS: dblocks x blocksize */
	memcpy(buf, "XFSB", 4);
	put_be32(buf + 4, 4096);
	put_be64(buf + 8, HUGE_BLOCKS);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "xfs")) && h->claimed_size == SIZE_OVERFLOW);

	memset(buf, 0, cap);                      /* F2FS: block_count << log */
	put_le32(buf + 1024, 0xF2F52010u);
	put_le32(buf + 1024 + 16, 12);
	put_le64(buf + 1024 + 36, 1ull << 60);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "f2fs")) && h->claimed_size == SIZE_OVERFLOW);

	memset(buf, 0, cap);                      /* exFAT: VolumeLength << sector shift */
	memcpy(buf + 3, "EXFAT   ", 8);
	put_le64(buf + 72, 1ull << 60);
	buf[108] = 12, buf[109] = 13;
	put_le32(buf + 88, 0xFFFFFFFFu);          /* heap and root cluster at their */
	put_le32(buf + 96, 0xFFFFFFFFu);          /* largest: the root is past the view */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "exfat")) && h->claimed_size == SIZE_OVERFLOW && h->block_size == 1u << 25);
}

/* An NTFS boot sector with 512-byte sectors and the given byte 13. */
static void make_ntfs(uint8_t *buf, size_t cap, uint8_t spc, uint64_t sectors)
{
	memset(buf, 0, cap);
	buf[0] = 0xEB, buf[1] = 0x52, buf[2] = 0x90;
	memcpy(buf + 3, "NTFS    ", 8);
	buf[11] = 0x00, buf[12] = 0x02;
	buf[13] = spc;
	put_le64(buf + 40, sectors);
	put_le64(buf + 0x30, 1);                  /* $MFT at cluster 1 */
	buf[0x40] = 0xF6;                         /* 2^10-byte records */
	buf[510] = 0x55, buf[511] = 0xAA;
}

/* $Volume's FILE record (1 KiB, two fixups) at rec, with the label "WRAPPED". */
static void put_volume_record(uint8_t *rec)
{
	static const char name[] = "WRAPPED";
	uint8_t *a = rec + 0x38;

	memset(rec, 0, 1024);
	memcpy(rec, "FILE", 4);
	rec[4] = 0x30, rec[6] = 3;                /* update sequence at 0x30, 1 + 2 entries */
	rec[0x30] = 1;                            /* its number, also at each sector's end */
	rec[510] = 1, rec[1022] = 1;
	rec[0x14] = 0x38;                         /* first attribute */
	put_le32(a, 0x60);                        /* $VOLUME_NAME, resident */
	put_le32(a + 4, 40);
	put_le32(a + 0x10, 14);
	a[0x14] = 24;
	for (int i = 0; i < 7; i++)
		a[24 + 2 * i] = (uint8_t)name[i];
	put_le32(a + 40, 0xFFFFFFFFu);
}

/* Byte 13 above 0x80 is 2^(256 - v) sectors: 0x81..0xE0 asked for shifts of
 * 127..32 bits (undefined behaviour; UBSan: "shift exponent 127 is too
 * large").  Now those are no NTFS geometry, and the refine hook, which
 * re-reads the sector, decides the same. */
static void test_ntfs_cluster_shift(uint8_t *buf, size_t cap)
{
	static uint8_t scratch[64 << 10];
	struct probe_hit hit;
	struct ident id;
	const struct probe_hit *h;
	extern const struct probe_desc probe_ntfs;
	static const uint8_t invalid[] = {0x81, 0xA0, 0xE0, 0xE1, 0xF3, 0x00, 0x03};

	for (size_t i = 0; i < sizeof(invalid); i++) {
		make_ntfs(buf, cap, invalid[i], 2048);
		run(buf, cap, cap, &id);
		CHECK(find(&id, "ntfs") == NULL);
		memset(&hit, 0, sizeof(hit));
		probe_ntfs.refine(buf, 512, 0, blob_read, buf, scratch, sizeof(scratch), &hit);
		CHECK(hit.label[0] == '\0');
	}
	make_ntfs(buf, cap, 0xF8, 2048);          /* 256 sectors: 128 KiB clusters */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "ntfs")) && h->block_size == 128u << 10 && h->claimed_size == 2048 * 512);
	make_ntfs(buf, cap, 0xF4, 1ull << 62);    /* 2 MiB clusters; 2^62 sectors */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "ntfs")) && h->block_size == 2u << 20 && h->claimed_size == SIZE_OVERFLOW);
	/* 128 KiB clusters, $MFT at cluster 1: the label is read from record 3. */
	make_ntfs(buf, cap, 0xF8, 2048);
	put_volume_record(buf + (128 << 10) + 3 * 1024);
	memset(&hit, 0, sizeof(hit));
	probe_ntfs.refine(buf, 512, 0, blob_read, buf, scratch, sizeof(scratch), &hit);
	CHECK(!strcmp(hit.label, "WRAPPED"));
	/* $MFT at cluster 2^47 + 1: x 128 KiB is 2^64 + 128 KiB, which wrapped
	 * to the same record; an offset past 64 bits is not read at all. */
	put_le64(buf + 0x30, (1ull << 47) + 1);
	memset(&hit, 0, sizeof(hit));
	probe_ntfs.refine(buf, 512, 0, blob_read, buf, scratch, sizeof(scratch), &hit);
	CHECK(hit.label[0] == '\0');
}

static void test_iso_bounds(uint8_t *buf, size_t cap)
{
	struct ident id;
	uint8_t *pvd = buf + 32768;

	memset(buf, 0, cap);
	pvd[0] = 1;
	memcpy(pvd + 1, "CD001", 5);
	pvd[6] = 1;
	put_le32(pvd + 80, 0xFFFFFFFFu);          /* a huge volume... */
	pvd[128] = 0x00; pvd[129] = 0x08;         /* ...of 2048-byte blocks */
	put_le32(pvd + 156 + 2, 0xFFFFFFF0u);     /* root far beyond the view */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "iso9660") != NULL);
	CHECK(find(&id, "iso9660") && find(&id, "iso9660")->claimed_size == 0xFFFFFFFFull * 2048);
	pvd[128] = 0x00; pvd[129] = 0x03;         /* block size 768: not a power of two */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "iso9660") == NULL);
	run(buf, 32768 + 100, cap, &id);          /* view ends inside the descriptor */
	CHECK(find(&id, "iso9660") == NULL);
}

static void test_mbr_vs_fat(uint8_t *buf, size_t cap)
{
	struct ident id;

	memset(buf, 0, cap);
	buf[510] = 0x55;
	buf[511] = 0xAA;
	run(buf, cap, cap, &id);
	CHECK(id.nhits == 0);                     /* 55 AA and nothing else */
	buf[446] = 0x80;
	buf[446 + 4] = 0x83;
	put_le32(buf + 446 + 8, 2048);
	put_le32(buf + 446 + 12, 1000);
	run(buf, cap, cap, &id);
	CHECK(find(&id, "mbr") && id.nparts == 1 && id.parts[0].start == 2048 * 512);
	buf[446] = 0x42;                          /* boot flag must be 00 or 80 */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "mbr") == NULL);
}

static void test_gpt_hostile(uint8_t *buf, size_t cap)
{
	struct ident id;
	uint8_t *h = buf + 512;

	memset(buf, 0, cap);
	memcpy(h, "EFI PART", 8);
	put_le32(h + 12, 92);
	put_le32(h + 80, 0xFFFFFFFFu);            /* entry count far past any cap */
	put_le32(h + 84, 128);
	run(buf, cap, cap, &id);
	CHECK(find(&id, "gpt") == NULL);          /* bad CRC and count: rejected, no loop */
}

/* A GPT on 512-byte sectors with one partition [first, last], both CRCs
 * right (when the entry array fits), as a crafted image has them. */
static void make_gpt(uint8_t *buf, size_t cap, uint64_t alt, uint64_t first, uint64_t last, uint64_t ents_lba,
		     uint32_t n, uint32_t esize)
{
	uint8_t *h = buf + 512, *e = buf + 1024;

	memset(buf, 0, cap);
	memcpy(h, "EFI PART", 8);
	put_le32(h + 8, 0x00010000);
	put_le32(h + 12, 92);
	put_le64(h + 24, 1);
	put_le64(h + 32, alt);
	put_le64(h + 40, 34);
	put_le64(h + 48, 2000);
	put_le64(h + 72, ents_lba);
	put_le32(h + 80, n);
	put_le32(h + 84, esize);
	e[0] = 0xAF;                              /* a type GUID: the entry is used */
	put_le64(e + 32, first);
	put_le64(e + 40, last);
	if ((uint64_t)n * esize <= cap - 1024)
		put_le32(h + 88, probe_crc32(e, (size_t)n * esize));
	put_le32(h + 16, probe_crc32(h, 92));
}

static void test_gpt_overflow(uint8_t *buf, size_t cap)
{
	struct ident id;
	const struct probe_hit *h;

	make_gpt(buf, cap, 2047, 34, 1000, 2, 128, 128);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "gpt")) && h->claimed_size == 2048 * 512);
	CHECK(id.nparts == 1 && id.parts[0].start == 34 * 512 && id.parts[0].length == 967 * 512);
	make_gpt(buf, cap, 1ull << 62, 34, 1000, 2, 128, 128); /* backup header past 64 bits */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "gpt")) && h->claimed_size == SIZE_OVERFLOW);
	make_gpt(buf, cap, 2047, 34, 1ull << 62, 2, 128, 128); /* partition end past 64 bits */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "gpt") && id.nparts == 1 && id.parts[0].start == 34 * 512 &&
	      id.parts[0].length == SIZE_OVERFLOW);
	make_gpt(buf, cap, 2047, UINT64_MAX, UINT64_MAX, 2, 128, 128); /* and its start */
	run(buf, cap, cap, &id);
	CHECK(id.nparts == 1 && id.parts[0].start == SIZE_OVERFLOW && id.parts[0].length == 512);
	/* Entries at LBA 2^55 + 2: x 512 wrapped to byte 1024, where the real
	 * entries are; an offset past 64 bits is refused instead. */
	make_gpt(buf, cap, 2047, 34, 1000, (1ull << 55) + 2, 128, 128);
	run(buf, cap, cap, &id);
	CHECK(find(&id, "gpt") == NULL);
	make_gpt(buf, cap, 2047, 34, 1000, 2, 0xFFFFFFFFu, 128); /* count past the cap */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "gpt") == NULL);
	make_gpt(buf, cap, 2047, 34, 1000, 2, 128, 0x80000000u); /* entry size past the cap */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "gpt") == NULL);
}

/* The verdict adds offsets to sizes without wrapping: a size past 64 bits
 * is a TRUNCATED finding that says so. */
static void test_verdict_overflow(void)
{
	static const char *const names[KIND_COUNT] = {"unreadable", "optical", "raw-cd", "disk", "container",
						     "compressed", "empty", "zero", "unrecognised", "archive",
						     "initramfs", "boot", "encrypted", "high-entropy", "other", "media"};
	static struct imgscan_config cfg;
	static struct ident id;
	static struct tsk_result tsk;
	static struct verdict v;
	struct verdict_input in = {.basename = "disk.img", .ext = "img", .size = 16 << 20, .size_known = true};
	char err[256];

	CHECK(config_load(NULL, &cfg, err, sizeof(err)) == 0);
	id.nhits = 1;
	id.hits[0] = (struct probe_hit){.name = "ext4", .cls = HIT_FS, .offset = 1 << 20,
					.claimed_size = SIZE_OVERFLOW - 100};
	verdict_decide(&id, &tsk, &in, &cfg, &v);
	CHECK(v.kind_id == KIND_DISK && !strcmp(image_kind_name(v.kind_id), "disk") && v.content_bytes == SIZE_OVERFLOW);
	CHECK(v.nfindings == 1 && !strcmp(v.findings[0].code, "TRUNCATED") &&
	      strstr(v.findings[0].message, "ext4 claims more bytes than any disk"));
	/* TSK's block count: (last block + 1) x block size wrapped the same way. */
	id.nhits = 1;
	id.hits[0].claimed_size = 4096;
	tsk.status = TSK_DONE;
	tsk.nfs = 1;
	tsk.fs[0] = (struct tsk_fs){.offset = 0, .type = "ext4", .block_size = 4096, .last_block = HUGE_BLOCKS - 1};
	verdict_decide(&id, &tsk, &in, &cfg, &v);
	CHECK(v.nfindings == 1 && !strcmp(v.findings[0].code, "TRUNCATED") &&
	      strstr(v.findings[0].message, "more bytes than any disk"));
	/* A slack percentage whose product passes 64 bits: no wrap, no finding. */
	memset(&tsk, 0, sizeof(tsk));
	cfg.trailing_slack_pct = 4000000000u;
	in.size = 1ull << 40;
	id.hits[0].claimed_size = 1ull << 39;
	verdict_decide(&id, &tsk, &in, &cfg, &v);
	CHECK(v.nfindings == 0);
	for (int k = 0; k < KIND_COUNT; k++)
		CHECK(!strcmp(image_kind_name((enum image_kind)k), names[k]));
	CHECK(!strcmp(image_kind_name(KIND_COUNT), "unreadable"));
}

static void test_udf_anchor_loop(uint8_t *buf, size_t cap)
{
	struct ident id;

	memset(buf, 0, cap);
	for (int i = 0; i < 3; i++)
		memcpy(buf + 32768 + 2048 * i + 1, i == 0 ? "BEA01" : i == 1 ? "NSR03" : "TEA01", 5);
	run(buf, cap, cap, &id);
	CHECK(find(&id, "udf") != NULL);          /* sequence without anchor: said so */
	CHECK(find(&id, "udf") && strstr(find(&id, "udf")->detail, "no anchor found"));
}

/* Extended boot records that link back to themselves, or forward forever:
 * the walk stops (links must move forward; at most EBR_MAX followed). */
static void test_ebr_loops(uint8_t *buf, size_t cap)
{
	static uint8_t scratch[128 << 10];
	struct probe_view v = {buf, cap, NULL, 0, 0, cap};
	struct ident id;

	memset(buf, 0, cap);
	buf[510] = 0x55, buf[511] = 0xAA;
	buf[446 + 4] = 0x05;                      /* extended, sectors 1 .. 2047 */
	put_le32(buf + 446 + 8, 1);
	put_le32(buf + 446 + 12, 2047);
	for (int s = 1; s < 2048; s++) {          /* every sector an EBR */
		uint8_t *e = buf + 512 * s;
		e[510] = 0x55, e[511] = 0xAA;
		e[446 + 4] = 0x83;                /* one logical partition */
		put_le32(e + 446 + 8, 1);
		put_le32(e + 446 + 12, 1);
		e[462 + 4] = 0x05;                /* link: the next sector */
		put_le32(e + 462 + 8, (uint32_t)s);
	}
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK(id.nparts == IDENT_MAX_PARTS);      /* capped, not 2047 */
	put_le32(buf + 512 + 462 + 8, 0);         /* first EBR links to itself */
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK(id.nparts == 2);                    /* the extended one and one logical */
}

static void test_random(uint8_t *buf, size_t cap)
{
	struct ident id;
	unsigned seed = 12345;

	/* Random bytes with real magics sprinkled in: no crash, bounded hits. */
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < cap; i++)
			buf[i] = (uint8_t)(rand_r(&seed) >> 7);
		memcpy(buf + 32769, "CD001", 5);
		buf[510] = 0x55, buf[511] = 0xAA;
		memcpy(buf + 1024 + 56, "\x53\xEF", 2);
		memcpy(buf + 65536 + 64, "_BHRfS_M", 8);
		run(buf, cap, (uint64_t)cap + (rand_r(&seed) % 3) * 4096, &id);
		CHECK(id.nhits <= IDENT_MAX_HITS);
	}
}

/* ---- labels: decoding into UTF-8 (issue 10) ---- */

/* UTF-16: pairs become one 4-byte character, lone surrogates U+FFFD,
 * controls stay, and a full destination never ends in half a character. */
static void test_utf16(void)
{
	static const uint8_t emoji_le[] = {'A', 0, 0x3C, 0xD8, 0x89, 0xDF, ' ', 0, ' ', 0};   /* "A🎉  " */
	static const uint8_t lone_be[] = {0xD8, 0x3C, 0x00, 'x', 0xDF, 0x89, 0xD8, 0x00};    /* hi, x, lo, hi at end */
	static const uint8_t cyr_le[] = {0x22, 0x04, 0x35, 0x04, 0x41, 0x04, 0x42, 0x04};   /* "Тест" */
	static const uint8_t esc_le[] = {0x1B, 0, '[', 0, '2', 0, 'J', 0, '\r', 0};          /* ESC [ 2 J CR */
	char out[128];

	probe_copy_utf16(out, sizeof(out), emoji_le, sizeof(emoji_le), false);
	CHECK(!strcmp(out, "A\xF0\x9F\x8E\x89"));  /* U+1F389 as 4 bytes, padding trimmed */
	probe_copy_utf16(out, sizeof(out), lone_be, sizeof(lone_be), true);
	CHECK(!strcmp(out, "\xEF\xBF\xBDx\xEF\xBF\xBD\xEF\xBF\xBD"));
	probe_copy_utf16(out, sizeof(out), cyr_le, sizeof(cyr_le), false);
	CHECK(!strcmp(out, "\xD0\xA2\xD0\xB5\xD1\x81\xD1\x82"));
	probe_copy_utf16(out, 8, cyr_le, sizeof(cyr_le), false); /* 7 bytes of room: 3 letters, not 3.5 */
	CHECK(!strcmp(out, "\xD0\xA2\xD0\xB5\xD1\x81"));
	probe_copy_utf16(out, 5, emoji_le, sizeof(emoji_le), false); /* 4 bytes: "A", the emoji does not fit */
	CHECK(!strcmp(out, "A"));
	probe_copy_utf16(out, 6, emoji_le, sizeof(emoji_le), false);
	CHECK(!strcmp(out, "A\xF0\x9F\x8E\x89"));
	probe_copy_utf16(out, sizeof(out), emoji_le, 3, false);  /* odd length: the last byte is no unit */
	CHECK(!strcmp(out, "A"));
	probe_copy_utf16(out, 1, emoji_le, sizeof(emoji_le), false);
	CHECK(out[0] == '\0');
	probe_copy_utf16(out, sizeof(out), esc_le, sizeof(esc_le), false); /* controls are kept */
	CHECK(!strcmp(out, "\x1b[2J\r"));
}

/* 8-bit labels: their bytes kept; Latin-1 and cp850 by their tables; the
 * text of a detail repaired. */
static void test_8bit_labels(void)
{
	static const uint8_t utf8[] = "Caf\xC3\xA9 \xF0\x9F\x8E\x89   ";
	static const uint8_t bad[] = {'a', 0xC0, 0x80, 'b', 0xE2, 0x82, 0x01, 0xED, 0xA0, 0x80, 0xFF};
	static const uint8_t latin1[] = {'C', 'a', 'f', 0xE9, ' ', 0x80, 0};
	static const uint8_t cp850[] = {'C', 'A', 'F', 0x90, ' ', 0x9D, 0xB7, ' ', ' ', ' ', ' '};
	char out[128];

	probe_copy_label(out, sizeof(out), utf8, sizeof(utf8) - 1);
	CHECK(!strcmp(out, "Caf\xC3\xA9 \xF0\x9F\x8E\x89"));
	/* A label keeps its bytes, bad ones and controls too (issue 15). */
	probe_copy_label(out, sizeof(out), bad, sizeof(bad));
	CHECK(strlen(out) == sizeof(bad) && !memcmp(out, bad, sizeof(bad)));
	probe_copy_label(out, sizeof(out), (const uint8_t *)"\x1b[2J\rX  ", 9);
	CHECK(!strcmp(out, "\x1b[2J\rX"));
	probe_copy_label(out, 4, bad, sizeof(bad));             /* bad bytes are one byte each */
	CHECK(!memcmp(out, "a\xC0\x80", 4));
	/* A detail's text: overlong C0 80: two bad bytes; E2 82 cut short; a
	 * control; an encoded surrogate (ED A0 80: three bad bytes); FF */
	probe_copy_text(out, sizeof(out), bad, sizeof(bad));
	CHECK(!strcmp(out, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
			   "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
	probe_copy_label(out, 6, utf8, sizeof(utf8) - 1);      /* "Caf" + é = 5 bytes: fits */
	CHECK(!strcmp(out, "Caf\xC3\xA9"));
	probe_copy_label(out, 5, utf8, sizeof(utf8) - 1);      /* é would be cut: left out */
	CHECK(!strcmp(out, "Caf"));
	probe_copy_latin1(out, sizeof(out), latin1, sizeof(latin1));
	CHECK(!strcmp(out, "Caf\xC3\xA9 \xC2\x80"));            /* 0x80, a C1 control, kept: U+0080 */
	probe_copy_codepage(out, sizeof(out), cp850, sizeof(cp850), probe_cp850_high);
	CHECK(!strcmp(out, "CAF\xC3\x89 \xC3\x98\xC3\x80"));    /* É, Ø, À */
	CHECK(probe_has_high_bytes(cp850, sizeof(cp850)) && !probe_has_high_bytes((const uint8_t *)"ABC", 3));
}

/* A FAT16 boot sector (512-byte sectors, 4 per cluster, 4 reserved, two
 * FATs of 40 sectors, 512 root entries: the root directory at sector 84)
 * with the boot-sector label boot (11 bytes). */
#define FAT16_ROOT (84 * 512)
static void make_fat16(uint8_t *buf, size_t cap, const char *boot)
{
	memset(buf, 0, cap);
	buf[0] = 0xEB, buf[1] = 0x3C, buf[2] = 0x90;
	buf[11] = 0x00, buf[12] = 0x02, buf[13] = 4, buf[14] = 4, buf[16] = 2;
	buf[17] = 0x00, buf[18] = 0x02;           /* 512 root entries */
	buf[21] = 0xF8, buf[22] = 40;
	put_le32(buf + 32, 40000);
	buf[38] = 0x29;
	put_le32(buf + 39, 0x12345678);
	memcpy(buf + 43, boot, 11);
	buf[510] = 0x55, buf[511] = 0xAA;
}

static void put_dirent(uint8_t *e, const char *name, uint8_t attr)
{
	memcpy(e, name, 11);
	e[11] = attr;
}

/* The root directory's label entry wins; long-name pieces and deleted
 * entries before it are skipped; the boot sector's copy goes beside it when
 * it differs; "NO NAME" counts as none. */
static void test_fat_root_label(uint8_t *buf, size_t cap)
{
	struct ident id;
	const struct probe_hit *h;
	uint8_t *root = buf + FAT16_ROOT;

	make_fat16(buf, cap, "BOOTLBL    ");
	put_dirent(root, "A\0B\0C\0D\0E\0F", 0x0F);      /* a long-name piece: attribute 0x0F */
	put_dirent(root + 32, "\xE5OLDLBL    ", 0x08);   /* a deleted label */
	put_dirent(root + 64, "FILE    TXT", 0x20);
	put_dirent(root + 96, "\x05LE \x9D     ", 0x08); /* 05 stands for E5: "ÕLE Ø" */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "fat16")) && !strcmp(h->label, "\xC3\x95LE \xC3\x98") &&
	      !strcmp(h->label2, "BOOTLBL") && !strcmp(h->label2_key, "label_boot_sector") &&
	      !strcmp(h->label_codepage, "cp850"));
	put_dirent(root + 96, "BOOTLBL    ", 0x08);      /* the same in both: one label */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "fat16")) && !strcmp(h->label, "BOOTLBL") && !h->label2[0] && !h->label_codepage[0]);
	put_dirent(root + 96, "NO NAME    ", 0x08);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "fat16")) && !strcmp(h->label, "BOOTLBL") && !h->label2[0]);
	memset(root + 64, 0, 32);                        /* the directory ends before the label */
	make_fat16(buf, FAT16_ROOT, "NO NAME    ");
	put_dirent(root + 96, "ROOTONLY   ", 0x08);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "fat16")) && !h->label[0] && !h->label2[0]);
	root[64] = 'X';                                  /* now it does not end there */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "fat16")) && !strcmp(h->label, "ROOTONLY") && !h->label2[0]);
	put_dirent(root + 96, "DIRECTORY  ", 0x18);      /* volume bit with directory bit: not a label */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "fat16")) && !h->label[0]);
}

/* FAT32 (512-byte clusters, 32 reserved sectors, two FATs of 600 sectors:
 * cluster 2 at sector 1232) with its root directory chain: cluster 2, then
 * next. */
#define FAT32_CLUSTER(c) ((1232 + (uint64_t)(c) - 2) * 512)
static void make_fat32(uint8_t *buf, size_t cap, uint32_t next)
{
	memset(buf, 0, cap);
	buf[0] = 0xEB, buf[1] = 0x58, buf[2] = 0x90;
	buf[11] = 0x00, buf[12] = 0x02, buf[13] = 1, buf[14] = 32, buf[16] = 2;
	buf[21] = 0xF8;
	put_le32(buf + 32, 70000);
	put_le32(buf + 36, 600);
	put_le32(buf + 44, 2);                    /* root cluster */
	buf[66] = 0x29;
	memcpy(buf + 71, "BOOT32     ", 11);
	buf[510] = 0x55, buf[511] = 0xAA;
	put_le32(buf + 32 * 512 + 4 * 2, next);
	put_le32(buf + 32 * 512 + 4 * 3, 0x0FFFFFFF);
	for (int i = 0; i < 16; i++)              /* cluster 2 full of files */
		put_dirent(buf + FAT32_CLUSTER(2) + 32 * i, "FILE    TXT", 0x20);
}

/* The FAT32 root directory is followed along its chain; beyond the view it
 * is read by the refine hook (the label waits in label2 until then); a
 * chain that loops ends. */
static void test_fat32_chain(uint8_t *buf, size_t cap)
{
	static uint8_t scratch[256 << 10];
	struct probe_view v = {buf, cap, NULL, 0, 0, cap};
	struct ident id;
	const struct probe_hit *h;

	make_fat32(buf, cap, 3);
	put_dirent(buf + FAT32_CLUSTER(3), "MORE    TXT", 0x20);
	put_dirent(buf + FAT32_CLUSTER(3) + 32, "ROOT32     ", 0x08);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "fat32")) && !strcmp(h->label, "ROOT32") && !strcmp(h->label2, "BOOT32"));
	run(buf, FAT32_CLUSTER(3), cap, &id);     /* cluster 3 beyond the head */
	CHECK((h = find(&id, "fat32")) && !h->label[0] && !strcmp(h->label2, "BOOT32") &&
	      !strcmp(h->label2_key, "label_boot_sector"));
	v.head_len = FAT32_CLUSTER(3);            /* ...and read by the refine hook */
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK((h = find(&id, "fat32")) && !strcmp(h->label, "ROOT32") && !strcmp(h->label2, "BOOT32"));
	make_fat32(buf, cap, 2);                  /* cluster 2 links to itself */
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK((h = find(&id, "fat32")) && !strcmp(h->label, "BOOT32") && !h->label2[0]);
	make_fat32(buf, cap, 0x0FFFFFF7);         /* a bad-cluster mark ends the chain */
	put_dirent(buf + FAT32_CLUSTER(3), "ROOT32     ", 0x08);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "fat32")) && !strcmp(h->label, "BOOT32"));
}

static void put_tag(uint8_t *d, uint16_t ident, uint32_t loc)
{
	uint8_t sum = 0;

	memset(d, 0, 16);
	d[0] = (uint8_t)ident, d[1] = (uint8_t)(ident >> 8), d[2] = 2;
	put_le32(d + 12, loc);
	for (int i = 0; i < 16; i++)
		if (i != 4)
			sum = (uint8_t)(sum + d[i]);
	d[4] = sum;
}

/* Where byte off of a view made of head and tail lies, NULL when in neither. */
static uint8_t *udf_block(uint8_t *head, size_t head_len, uint8_t *tail, size_t tail_len, uint64_t size,
			  uint64_t off)
{
	if (off + 512 <= head_len)
		return head + off;
	if (tail && off >= size - tail_len && off + 512 <= size)
		return tail + (off - (size - tail_len));
	return NULL;
}

/* A UDF volume of blocks of bs (a size-byte view of head and tail): the
 * recognition sequence in steps of step, the main sequence at 48 KiB (a
 * logical volume descriptor with the dstring lvid of len bytes, then a
 * terminator), anchors at the blocks listed. */
static void make_udf(uint8_t *head, size_t head_len, uint8_t *tail, size_t tail_len, uint64_t size, uint32_t bs,
		     uint32_t step, const uint8_t *lvid, size_t len, const uint64_t *anchors, int nanchors)
{
	uint32_t vds = 49152 / bs;
	uint8_t *d;

	memset(head, 0, head_len);
	if (tail)
		memset(tail, 0, tail_len);
	for (int i = 0; i < 3; i++)
		memcpy(head + 32768 + step * i + 1, i == 0 ? "BEA01" : i == 1 ? "NSR03" : "TEA01", 5);
	d = head + (uint64_t)vds * bs;
	put_tag(d, 6, vds);
	memcpy(d + 84, lvid, len);
	d[84 + 127] = (uint8_t)len;
	put_tag(head + (vds + 1ull) * bs, 8, vds + 1);
	for (int i = 0; i < nanchors; i++)
		if ((d = udf_block(head, head_len, tail, tail_len, size, anchors[i] * bs))) {
			put_tag(d, 2, (uint32_t)anchors[i]);
			put_le32(d + 16, 16 * bs);
			put_le32(d + 20, vds);
		}
}

/* Anchors other than the one at block 256, 4 KiB blocks, and the label's
 * two encodings (8: Latin-1; 16: UTF-16BE with a surrogate pair). */
static void test_udf_anchors(uint8_t *buf, size_t cap)
{
	static uint8_t tail[64 << 10], scratch[256 << 10];
	static const uint8_t latin1[] = {8, 'C', 'a', 'f', 0xE9};
	static const uint8_t utf16[] = {16, 0, 'D', 0xD8, 0x3C, 0xDF, 0x89, 0xDF, 0x89};  /* D, 🎉, lone low */
	const uint64_t big = 4ull << 20, last4k = (4ull << 20) / 4096 - 1;
	struct probe_view v = {buf, cap, tail, sizeof(tail), big - sizeof(tail), big};
	struct ident id;
	const struct probe_hit *h;
	uint64_t pos;

	/* 4 KiB blocks: recognition sequence in 4 KiB steps, block 256 at
	 * 1 MiB (past the head), the anchor at the last block in the tail. */
	pos = last4k;
	make_udf(buf, cap, tail, sizeof(tail), big, 4096, 4096, latin1, sizeof(latin1), &pos, 1);
	memset(&id, 0, sizeof(id));
	probe_run_all(&v, 0, false, &id);
	CHECK((h = find(&id, "udf")) && h->block_size == 4096 && !strcmp(h->label, "Caf\xC3\xA9") &&
	      !strstr(h->detail, "no anchor at block 256")); /* block 256 was not seen: no claim */
	/* 512-byte blocks, only the anchor at N - 256 (1791 of 2048): beyond a
	 * 64 KiB head, found by the refine hook, which reads up to the end. */
	pos = 2048 - 257;
	make_udf(buf, cap, NULL, 0, cap, 512, 2048, utf16, sizeof(utf16), &pos, 1);
	v = (struct probe_view){buf, 64 << 10, NULL, 0, 0, cap};
	memset(&id, 0, sizeof(id));
	probe_run_all(&v, 0, false, &id);
	CHECK((h = find(&id, "udf")) && !h->label[0] && strstr(h->detail, "no anchor found"));
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK((h = find(&id, "udf")) && h->block_size == 512 && !strcmp(h->label, "D\xF0\x9F\x8E\x89\xEF\xBF\xBD") &&
	      strstr(h->detail, "used the one at block 1791"));
	/* The same anchor with its tag naming another block: no anchor. */
	put_tag(buf + pos * 512, 2, 256);
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK((h = find(&id, "udf")) && !h->label[0] && !h->block_size);
}

/* An HFS+ volume header (4 KiB blocks, catalog at block 2, 4 KiB nodes) and
 * the catalog's header node and first leaf node, whose first record is the
 * root folder's, named name (UTF-16BE, 6 units; the key says n). */
static void make_hfsplus(uint8_t *buf, size_t cap, const uint8_t *name, uint16_t n, uint32_t parent)
{
	uint8_t *vh = buf + 1024, *hdr = buf + 2 * 4096, *leaf = hdr + 3 * 4096;

	memset(buf, 0, cap);
	vh[0] = 'H', vh[1] = '+', vh[3] = 4;
	put_be32(vh + 40, 4096);
	put_be32(vh + 44, 256);
	put_be32(vh + 0x110 + 16, 2);             /* catalog: first extent at block 2, 8 blocks */
	put_be32(vh + 0x110 + 20, 8);
	hdr[8] = 1;                               /* header node */
	put_be32(hdr + 24, 3);                    /* first leaf: node 3 */
	hdr[32] = 0x10, hdr[33] = 0x00;           /* 4096-byte nodes */
	leaf[8] = 0xFF, leaf[11] = 1;             /* a leaf with one record, at 14 */
	leaf[4094] = 0, leaf[4095] = 14;
	leaf[14] = 0, leaf[15] = (uint8_t)(6 + 2 * n);
	put_be32(leaf + 16, parent);
	leaf[20] = (uint8_t)(n >> 8), leaf[21] = (uint8_t)n;
	memcpy(leaf + 22, name, 12);
}

static void test_hfsplus_name(uint8_t *buf, size_t cap)
{
	static uint8_t scratch[256 << 10];
	static const uint8_t name[] = {0, 'M', 0, 'a', 0, 'c', 0, ' ', 0xD8, 0x3C, 0xDF, 0x89};
	struct probe_view v = {buf, cap, NULL, 0, 0, cap};
	struct ident id;
	const struct probe_hit *h;

	make_hfsplus(buf, cap, name, 6, 1);
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK((h = find(&id, "hfsplus")) && !strcmp(h->label, "Mac \xF0\x9F\x8E\x89"));
	make_hfsplus(buf, cap, name, 6, 2);       /* a record that is not the root folder's */
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK((h = find(&id, "hfsplus")) && !h->label[0]);
	make_hfsplus(buf, cap, name, 300, 1);     /* a name longer than 255 units */
	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, buf, scratch, sizeof(scratch), &id);
	CHECK((h = find(&id, "hfsplus")) && !h->label[0]);
}

/* An ISO 9660 volume descriptor set at sector start + 16: a PVD with label,
 * a Joliet SVD when asked, a terminator, and the root directory's "."
 * record in the sector after: a volume of 20 sectors, or 19 without Joliet. */
static void put_iso_volume(uint8_t *buf, uint32_t start, const char *label, bool joliet)
{
	uint8_t *pvd = buf + (start + 16ull) * 2048, *svd = pvd + 2048, *term = svd + (joliet ? 2048 : 0);
	uint32_t root = start + (joliet ? 19 : 18), blocks = root + 1 - start;
	uint8_t *dot = buf + (uint64_t)root * 2048;

	pvd[0] = 1;
	memcpy(pvd + 1, "CD001", 5);
	pvd[6] = 1;
	memset(pvd + 40, ' ', 32);
	memcpy(pvd + 40, label, strlen(label));
	put_le32(pvd + 80, blocks);
	pvd[128] = 0x00, pvd[129] = 0x08;
	put_le32(pvd + 156 + 2, root);
	svd[0] = 2;
	memcpy(svd + 1, "CD001", 5);
	svd[6] = 1;
	memcpy(svd + 88, "%/E", 3);
	for (int i = 0; i < 16; i++) {            /* "Jöliet 🎉" then spaces */
		static const uint16_t units[] = {'J', 0xF6, 'l', 'i', 'e', 't', ' ', 0xD83C, 0xDF89};
		uint16_t u = i < 9 ? units[i] : ' ';
		svd[40 + 2 * i] = (uint8_t)(u >> 8), svd[41 + 2 * i] = (uint8_t)u;
	}
	term[0] = 255;
	memcpy(term + 1, "CD001", 5);
	dot[0] = 34, dot[32] = 1;
	put_le32(dot + 2, root);
}

/* Joliet's label beside the primary one, and sessions: xorriso's layout
 * (the newest session's copy at sector 16, sessions from sector 32, each
 * right after the last), each a hit at its offset; at most 16 followed, and
 * bounded by the hit array. */
static void test_iso_joliet_sessions(uint8_t *buf, size_t cap)
{
	extern const struct probe_desc probe_iso9660;
	struct ident id;
	const struct probe_hit *h;
	struct probe_hit hit;
	struct probe_view v = {buf, cap, NULL, 0, 0, cap};
	int sessions = 0;

	memset(buf, 0, cap);
	put_iso_volume(buf, 0, "PRIMARY", true);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "iso9660")) && !strcmp(h->label, "PRIMARY") && !strcmp(h->label2_key, "label_joliet") &&
	      !strcmp(h->label2, "J\xC3\xB6liet \xF0\x9F\x8E\x89") && id.nhits == 1);
	memset(buf, 0, cap);
	for (uint32_t s = 32; s + 19 <= 20 * 19 + 32; s += 19)   /* 20 sessions of 19 sectors */
		put_iso_volume(buf, s, "SESSION", false);
	put_iso_volume(buf, 0, "NEWEST", false);
	put_le32(buf + 16 * 2048 + 158, 19 * 19 + 32 + 18); /* the newest session's root */
	run(buf, cap, cap, &id);
	for (int i = 0; i < id.nhits; i++)
		sessions += !strcmp(id.hits[i].name, "iso9660") && id.hits[i].offset;
	CHECK(sessions == 16 && id.nhits == 17);  /* 16 sessions followed, not 20 */
	CHECK((h = find(&id, "iso9660")) && h->offset == 32 * 2048 && !strcmp(h->label, "SESSION") &&
	      h->claimed_size == 19 * 2048 && !h->tsk_hint[0] && strstr(h->detail, "session 1 of at least 17"));
	CHECK(!strcmp(id.hits[16].label, "NEWEST") && id.hits[16].offset == 0 &&
	      strstr(id.hits[16].detail, "at least 17 sessions"));
	/* The probe adds hits only while room is left for its own. */
	memset(&id, 0, sizeof(id));
	id.nhits = IDENT_MAX_HITS - 3;
	memset(&hit, 0, sizeof(hit));
	CHECK(probe_iso9660.probe(&v, &hit, &id) == 0 && id.nhits == IDENT_MAX_HITS - 1 && id.hits_truncated);
	/* Inside a partition (partitions listed already) no session is added. */
	memset(&id, 0, sizeof(id));
	id.nparts = 1;
	memset(&hit, 0, sizeof(hit));
	CHECK(probe_iso9660.probe(&v, &hit, &id) == 0 && id.nhits == 0);
	/* xorriso's layout with one session: the copy at 16 is of it; no hits. */
	memset(buf + (32 + 19) * 2048, 0, cap - (32 + 19) * 2048);
	put_le32(buf + 16 * 2048 + 158, 32 + 18);
	run(buf, cap, cap, &id);
	CHECK(id.nhits == 1);
}

/* A read callback over an image of size bytes in buf that records what is
 * asked: the calls, and the furthest byte asked for.  Offsets from fail_from
 * on fail with -EIO. */
struct rec_image {
	const uint8_t *buf;
	uint64_t size, fail_from, max_end;
	int calls;
};

static long rec_read(void *ctx, uint64_t off, void *out, size_t len)
{
	struct rec_image *r = ctx;

	r->calls++;
	if (off + len > r->max_end)
		r->max_end = off + len;
	if (off >= r->fail_from)
		return -5; /* -EIO */
	if (off >= r->size)
		return 0;
	if (len > r->size - off)
		len = (size_t)(r->size - off);
	memcpy(out, r->buf + off, len);
	return (long)len;
}

/* The iso9660 hit at byte offset off, or NULL. */
static const struct probe_hit *iso_at(const struct ident *id, uint64_t off)
{
	for (int i = 0; i < id->nhits; i++)
		if (!strcmp(id->hits[i].name, "iso9660") && id->hits[i].offset == off)
			return &id->hits[i];
	return NULL;
}

/* Sessions beyond the captured bytes (a 256 KiB head here), followed by the
 * more_hits hook through the read callback: genisoimage's layout (the first
 * session at 0, the next appended), xorriso's (the newest copied to 16),
 * and hostile chains: one whose size points past the image's end, one that
 * would lead back to itself, one that never ends (16 followed), reads that
 * fail, and a hit array with no room left. */
static void test_iso_sessions_beyond_view(uint8_t *buf, size_t cap)
{
	extern const struct probe_desc probe_iso9660;
	static uint8_t scratch[128 << 10];
	const size_t head = 256 << 10;
	struct rec_image img = {buf, cap, UINT64_MAX, 0, 0};
	struct probe_view v = {buf, head, NULL, 0, 0, cap};
	struct ident id;
	const struct probe_hit *h;

	/* Appended: session 1 at 0 (200 sectors), session 2 at sector 200,
	 * 400 KiB in.  The probe alone sees one volume; the hook both. */
	memset(buf, 0, cap);
	put_iso_volume(buf, 0, "FIRST", false);
	put_le32(buf + 16 * 2048 + 80, 200);
	put_iso_volume(buf, 200, "SECOND", true);
	run(buf, head, cap, &id);
	CHECK(id.nhits == 1 && (h = iso_at(&id, 0)) && !strstr(h->detail, "session"));
	memset(&id, 0, sizeof(id));
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(id.nhits == 2 && !id.hits_truncated);
	CHECK((h = iso_at(&id, 0)) && !strcmp(h->label, "FIRST") && strstr(h->detail, "2 sessions") &&
	      !strstr(h->detail, "at least") && !strcmp(h->tsk_hint, "iso9660"));
	CHECK((h = iso_at(&id, 200 * 2048)) && !strcmp(h->label, "SECOND") && h->claimed_size == 20 * 2048 &&
	      !strcmp(h->label2_key, "label_joliet") && strstr(h->detail, "Joliet, session 2 of 2") &&
	      !h->tsk_hint[0] && h->desc == &probe_iso9660);
	CHECK(img.max_end <= cap);

	/* xorriso: sessions at 32 and 51 in view, the third at 251 beyond;
	 * the copy at 16 is the third's.  The probe says "at least 3 (the newest
	 * not reached)"; the hook reaches it and rewrites every count. */
	memset(buf, 0, cap);
	put_iso_volume(buf, 32, "ONE", false);
	put_iso_volume(buf, 51, "TWO", false);
	put_le32(buf + (51 + 16) * 2048 + 80, 200);
	put_iso_volume(buf, 251, "THREE", false);
	put_iso_volume(buf, 0, "THREE", false);
	put_le32(buf + 16 * 2048 + 158, 251 + 18);
	run(buf, head, cap, &id);
	CHECK(id.nhits == 3 && (h = iso_at(&id, 0)) && strstr(h->detail, "at least 3 sessions (the newest not reached)"));
	memset(&id, 0, sizeof(id));
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(id.nhits == 4 && !id.hits_truncated);
	CHECK((h = iso_at(&id, 0)) && strstr(h->detail, "3 sessions") && !strstr(h->detail, "not reached") &&
	      !strstr(h->detail, "at least"));
	CHECK((h = iso_at(&id, 32 * 2048)) && !strcmp(h->label, "ONE") && strstr(h->detail, "session 1 of 3") &&
	      !strstr(h->detail, "at least"));
	CHECK((h = iso_at(&id, 51 * 2048)) && !strcmp(h->label, "TWO") && strstr(h->detail, "session 2 of 3") &&
	      h->claimed_size == 200 * 2048);
	CHECK((h = iso_at(&id, 251 * 2048)) && !strcmp(h->label, "THREE") && strstr(h->detail, "session 3 of 3") &&
	      !h->tsk_hint[0]);

	/* Reads that fail (-EIO past the head): the probe's hits stand as
	 * they were, nothing added. */
	img.fail_from = head;
	memset(&id, 0, sizeof(id));
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(id.nhits == 3 && (h = iso_at(&id, 0)) && strstr(h->detail, "at least 3 sessions") &&
	      (h = iso_at(&id, 32 * 2048)) && strstr(h->detail, "session 1 of at least 3"));
	img.fail_from = UINT64_MAX;

	/* No room: the probe fills the array to its own hit, the hook rewrites
	 * what is there and adds nothing past IDENT_MAX_HITS. */
	memset(&id, 0, sizeof(id));
	id.nhits = IDENT_MAX_HITS - 3;
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(id.nhits == IDENT_MAX_HITS && id.hits_truncated && iso_at(&id, 251 * 2048) == NULL &&
	      (h = iso_at(&id, 51 * 2048)) && strstr(h->detail, "session 2 of 3"));
	memset(&id, 0, sizeof(id));
	id.nhits = IDENT_MAX_HITS - 1;            /* room for the probe's own hit only */
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(id.nhits == IDENT_MAX_HITS && id.hits_truncated && (h = iso_at(&id, 0)) && strstr(h->detail, "3 sessions"));

	/* Past the end: a fourth session's descriptor set would cross the
	 * image's end (it ends inside the PVD), then the third session claims
	 * 2^32 - 1 sectors.  No read asks for a byte past the end. */
	put_iso_volume(buf, 251 + 19, "CUT", false);
	img = (struct rec_image){buf, (251 + 19 + 16) * 2048 + 1024, UINT64_MAX, 0, 0};
	v.size = img.size;
	memset(&id, 0, sizeof(id));
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(img.calls > 0 && img.max_end <= img.size && !iso_at(&id, (251 + 19) * 2048) &&
	      (h = iso_at(&id, 251 * 2048)) && strstr(h->detail, "session 3 of 3"));
	put_le32(buf + (251 + 16) * 2048 + 80, 0xFFFFFFFFu);
	img = (struct rec_image){buf, (251 + 19 + 16) * 2048 + 1024, UINT64_MAX, 0, 0};
	memset(&id, 0, sizeof(id));
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(img.max_end <= img.size && id.nhits == 4 && (h = iso_at(&id, 251 * 2048)) &&
	      strstr(h->detail, "session 3 of 3"));
	v.size = cap;

	/* Leading back: session 2 at 200 claims 201 sectors, which counted from
	 * sector 0 would end right after its own start; every candidate lies
	 * after it, none is a volume: two sessions, each once. */
	memset(buf, 0, cap);
	put_iso_volume(buf, 0, "FIRST", false);
	put_le32(buf + 16 * 2048 + 80, 200);
	put_iso_volume(buf, 200, "SECOND", false);
	put_le32(buf + (200 + 16) * 2048 + 80, 201);
	img = (struct rec_image){buf, cap, UINT64_MAX, 0, 0};
	memset(&id, 0, sizeof(id));
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(id.nhits == 2 && iso_at(&id, 200 * 2048) && strstr(iso_at(&id, 0)->detail, "2 sessions"));

	/* Forever: 24 sessions of 19 sectors from 32, all but the first beyond
	 * a 120 KiB head: 16 followed, the newest not reached, and a bounded
	 * number of reads (here one per session walked and one per hit made). */
	memset(buf, 0, cap);
	for (uint32_t s = 32; s < 32 + 24 * 19; s += 19)
		put_iso_volume(buf, s, "LOOP", false);
	put_iso_volume(buf, 0, "NEWEST", false);
	put_le32(buf + 16 * 2048 + 158, 32 + 23 * 19 + 18);
	v.head_len = 120 << 10;                   /* session 1 (sectors 48 to 50) in view */
	img = (struct rec_image){buf, cap, UINT64_MAX, 0, 0};
	memset(&id, 0, sizeof(id));
	identify_image(&v, rec_read, &img, scratch, sizeof(scratch), &id);
	CHECK(id.nhits == 17 && (h = iso_at(&id, 0)) && strstr(h->detail, "at least 17 sessions (the newest not reached)"));
	CHECK((h = iso_at(&id, (32 + 15 * 19) * 2048)) && strstr(h->detail, "session 16 of at least 17") &&
	      !iso_at(&id, (32 + 16 * 19) * 2048));
	CHECK(img.calls > 0 && img.calls <= 16 * 11 && img.max_end <= cap);
}

/* ---- files that are not disks (issue 10): on bytes, what no tool makes ---- */

static void set_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

/* high-entropy: random bytes pass, only with nothing else found, only
 * from 64 KiB; zeros and a skewed byte distribution do not. */
static void test_high_entropy(uint8_t *buf, size_t cap)
{
	struct ident id;
	unsigned seed = 4242;

	for (size_t i = 0; i < cap; i++)
		buf[i] = (uint8_t)(rand_r(&seed) >> 7);
	buf[510] = buf[511] = 0; /* no 55 AA for a boot-sector probe to look at */
	run(buf, cap, cap, &id);
	CHECK(id.nhits == 1 && find(&id, "high-entropy") && find(&id, "high-entropy")->cls == HIT_ENCRYPTED);
	CHECK(find(&id, "high-entropy") && strstr(find(&id, "high-entropy")->detail, "entropy 7.99"));
	run(buf, (64u << 10) - 1, (64u << 10) - 1, &id);      /* too little to measure */
	CHECK(find(&id, "high-entropy") == NULL);
	run(buf, 64u << 10, 64u << 10, &id);
	CHECK(find(&id, "high-entropy") != NULL);
	for (size_t i = 0; i < cap; i++)                       /* 7 bits of randomness: 7.0 bits/byte */
		buf[i] &= 0x7f;
	run(buf, cap, cap, &id);
	CHECK(find(&id, "high-entropy") == NULL);
	for (size_t i = 0; i < cap; i++)
		buf[i] = (uint8_t)(rand_r(&seed) >> 7);
	memcpy(buf, "\x28\xB5\x2F\xFD", 4);                    /* a known format: no guess */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "zstd") && find(&id, "high-entropy") == NULL);
	memset(buf, 0, cap);
	run(buf, cap, cap, &id);
	CHECK(id.nhits == 0);
}

/* Android boot v4 (init_boot: no kernel, a boot signature), v1 with a
 * recovery DTBO, the old Qualcomm dt_size, and a vendor_boot v4: the sizes
 * their headers account for. */
static void test_android_headers(uint8_t *buf, size_t cap)
{
	struct ident id;
	const struct probe_hit *h;

	memset(buf, 0, cap);
	memcpy(buf, "ANDROID!", 8);
	put_le32(buf + 12, 5000);                /* ramdisk */
	put_le32(buf + 40, 4);                   /* header v4 */
	put_le32(buf + 1580, 4096);              /* boot signature */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "android-boot")) && h->claimed_size == 4096 * (1 + 2 + 1) &&
	      strstr(h->detail, "no kernel (init_boot)") && strstr(h->detail, "signature 4096"));
	memset(buf, 0, 4096);
	memcpy(buf, "ANDROID!", 8);
	put_le32(buf + 8, 3000);                 /* kernel */
	put_le32(buf + 16, 2049);                /* ramdisk: 2 pages */
	put_le32(buf + 36, 2048);
	put_le32(buf + 40, 1);
	put_le32(buf + 1632, 100);               /* recovery dtbo */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "android-boot")) && h->claimed_size == 2048 * (1 + 2 + 2 + 1));
	put_le32(buf + 40, 0x1c0000);            /* Qualcomm dt_size: v0 with a device-tree table */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "android-boot")) && h->claimed_size == 2048 * (1 + 2 + 2 + 0x1c0000 / 2048) &&
	      strstr(h->detail, "header v0"));
	put_le32(buf + 36, 3000);                /* not a power of two */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "android-boot") == NULL);
	memset(buf, 0, 4096);
	memcpy(buf, "VNDRBOOT", 8);
	put_le32(buf + 8, 4);
	put_le32(buf + 12, 4096);
	put_le32(buf + 24, 10000);               /* vendor ramdisks: 3 pages */
	put_le32(buf + 2096, 2128);
	put_le32(buf + 2100, 100);               /* dtb */
	put_le32(buf + 2112, 216);               /* ramdisk table */
	put_le32(buf + 2116, 2);
	put_le32(buf + 2124, 50);                /* bootconfig */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "android-vendor-boot")) && h->claimed_size == 4096 * (1 + 3 + 1 + 1 + 1) &&
	      strstr(h->detail, "(2 ramdisks)"));
}

/* A tar header whose size field (GNU base-256) claims 2^64 - 1 bytes, and a
 * cpio entry whose data runs past the file: both claim more than it holds. */
static void test_archive_sizes(uint8_t *buf, size_t cap)
{
	struct ident id;
	const struct probe_hit *h;
	unsigned sum = 0;

	memset(buf, 0, cap);
	memcpy(buf, "big.bin", 7);
	memcpy(buf + 100, "0000644", 7);
	memcpy(buf + 108, "0000000", 7);
	memcpy(buf + 116, "0000000", 7);
	buf[124] = 0x80;
	memset(buf + 124 + 4, 0xff, 8);          /* base-256: 2^64 - 1 */
	memcpy(buf + 136, "00000000000", 11);
	buf[156] = '0';
	memcpy(buf + 257, "ustar\0" "00", 8);
	memset(buf + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += buf[i];
	snprintf((char *)buf + 148, 8, "%06o", sum);
	run(buf, 4096, 4096, &id);
	CHECK((h = find(&id, "tar")) && h->cls == HIT_ARCHIVE && h->claimed_size == SIZE_OVERFLOW);
	memset(buf, 0, 4096);
	memcpy(buf, "070701", 6);
	for (int i = 0; i < 13; i++)
		memcpy(buf + 6 + 8 * i, "00000000", 8);
	memcpy(buf + 54, "FFFFFFFF", 8);         /* file size */
	memcpy(buf + 94, "00000002", 8);         /* name size: "a" and its NUL */
	buf[110] = 'a';
	run(buf, 4096, 4096, &id);
	CHECK((h = find(&id, "cpio")) && h->claimed_size == 112 + 0xFFFFFFFFull + 1 &&
	      strstr(h->detail, "runs past the end"));
	buf[111] = 'b';                          /* the name's NUL is missing */
	run(buf, 4096, 4096, &id);
	CHECK(find(&id, "cpio") == NULL);
}

/* A BitLocker To Go boot sector carries a sound FAT32 BPB: the FAT probe
 * stands aside (probe_is_bitlocker) and the MBR probe sees a boot record.
 * Without the identifier at 424 it is the FAT32 volume it looks like. */
static void test_bitlocker_vs_fat(uint8_t *buf, size_t cap)
{
	static const uint8_t guid[16] = {0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
					 0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01};
	struct ident id;

	memset(buf, 0, cap);
	memcpy(buf, "\xEB\x58\x90MSWIN4.1", 11);
	buf[11 + 1] = 2;                         /* 512-byte sectors */
	buf[13] = 8;
	buf[14] = 32;                            /* reserved sectors */
	buf[16] = 2;
	buf[21] = 0xF8;
	put_le32(buf + 32, 1 << 20);             /* 512 MiB */
	put_le32(buf + 36, 1024);                /* sectors per FAT */
	put_le32(buf + 44, 2);
	buf[66] = 0x29;
	memcpy(buf + 82, "FAT32   ", 8);
	buf[510] = 0x55, buf[511] = 0xAA;
	run(buf, cap, (uint64_t)1 << 29, &id);
	CHECK(find(&id, "fat32") && !find(&id, "bitlocker"));
	memcpy(buf + 424, guid, 16);
	CHECK(probe_is_bitlocker(buf));
	run(buf, cap, (uint64_t)1 << 29, &id);
	CHECK(find(&id, "bitlocker") && !find(&id, "fat32") && !find(&id, "mbr") && id.nhits == 1);
	memcpy(buf + 3, "-FVE-FS-", 8);          /* Windows 7 and later: "-FVE-FS-" */
	run(buf, cap, (uint64_t)1 << 29, &id);
	CHECK(find(&id, "bitlocker") && strstr(find(&id, "bitlocker")->detail, "Windows 7") && id.nhits == 1);
}

/* Device trees and sparse images with hostile fields: bounded, and what
 * cannot be followed is not claimed. */
static void test_boot_hostile(uint8_t *buf, size_t cap)
{
	struct ident id;
	const struct probe_hit *h;

	memset(buf, 0, cap);
	put_be32(buf, 0xd00dfeed);
	put_be32(buf + 4, 4096);                 /* total size */
	put_be32(buf + 8, 64);                   /* structure block */
	put_be32(buf + 12, 4000);                /* strings */
	put_be32(buf + 20, 17);
	put_be32(buf + 24, 16);
	put_be32(buf + 36, 4000 - 64);
	for (int i = 0; i < 200; i++)            /* nodes nested past any depth */
		put_be32(buf + 64 + 8 * i, 1);   /* FDT_BEGIN_NODE "" */
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "dtb")) && h->claimed_size == 4096);
	put_be32(buf + 64, 3);                   /* a property longer than the block */
	put_be32(buf + 68, 0xFFFFFFF0u);
	run(buf, cap, cap, &id);
	CHECK(find(&id, "dtb") != NULL);
	memset(buf, 0, 4096);
	memcpy(buf, "\x3a\xff\x26\xed", 4);
	set_le16(buf + 4, 1);
	set_le16(buf + 8, 28);
	set_le16(buf + 10, 12);
	put_le32(buf + 12, 4096);
	put_le32(buf + 16, 0xFFFFFFFFu);         /* blocks */
	put_le32(buf + 20, 2);                   /* chunks */
	set_le16(buf + 28, 0xCAC1);              /* raw: 2^32 - 1 blocks, past the file */
	put_le32(buf + 32, 0xFFFFFFFFu);
	put_le32(buf + 36, 12 + 4096);           /* and no 32-bit total_sz could hold it */
	run(buf, cap, cap, &id);
	CHECK(find(&id, "android-sparse") == NULL); /* its first chunk is no chunk */
	put_le32(buf + 32, 1);
	put_le32(buf + 36, 12 + 4096);
	set_le16(buf + 28 + 12 + 4096, 0xCAC3);  /* don't care */
	put_le32(buf + 28 + 12 + 4096 + 4, 7);
	put_le32(buf + 28 + 12 + 4096 + 8, 12);
	run(buf, cap, cap, &id);
	CHECK((h = find(&id, "android-sparse")) && h->claimed_size == 28 + 12 + 4096 + 12 &&
	      strstr(h->detail, "chunks cover 8 blocks"));
}

int main(void)
{
	size_t cap = 1 << 20;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return 1;
	test_accessor();
	test_iso_bounds(buf, cap);
	test_mbr_vs_fat(buf, cap);
	test_gpt_hostile(buf, cap);
	test_gpt_overflow(buf, cap);
	test_size_helpers();
	test_size_overflow(buf, cap);
	test_ntfs_cluster_shift(buf, cap);
	test_verdict_overflow();
	test_udf_anchor_loop(buf, cap);
	test_ebr_loops(buf, cap);
	test_utf16();
	test_8bit_labels();
	test_fat_root_label(buf, cap);
	test_fat32_chain(buf, cap);
	test_udf_anchors(buf, cap);
	test_hfsplus_name(buf, cap);
	test_iso_joliet_sessions(buf, cap);
	test_iso_sessions_beyond_view(buf, cap);
	test_high_entropy(buf, cap);
	test_android_headers(buf, cap);
	test_archive_sizes(buf, cap);
	test_bitlocker_vs_fat(buf, cap);
	test_boot_hostile(buf, cap);
	test_random(buf, cap);
	free(buf);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
