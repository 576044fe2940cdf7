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
						     "initramfs", "boot", "encrypted", "high-entropy", "other"};
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
	CHECK(find(&id, "udf") && strstr(find(&id, "udf")->detail, "anchor not found"));
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
	test_random(buf, cap);
	free(buf);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
