/*
 * unit_probes.c - the probes on bytes, at their edges: the bounds-checked
 * accessor, views shorter than a structure, hostile counts and sizes.  Real
 * images are tested by the integration tests; this checks what no real tool
 * makes.
 */
#include "formats/probe.h"
#include "formats/identify.h"

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

static void put_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

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
	test_udf_anchor_loop(buf, cap);
	test_ebr_loops(buf, cap);
	test_random(buf, cap);
	free(buf);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
