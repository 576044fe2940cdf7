/*
 * unit_hasher.c - streaming hashes equal one-shot hashes whatever the piece
 * sizes; zero sectors are counted exactly; the list digest is the XXH128 of
 * the canonical sector hashes in order.  The one-shot reference calls
 * libxxhash directly, independently of hasher.c.  The one-pass path
 * (xxh3_fused.c) is checked with each of its kernels this CPU has: every
 * length 0..3000, lengths around multiples of 1024, large random lengths,
 * every sector size 512..65536 (and up to 1 MiB), random piece splits.
 */
#include "scanner/hasher.h"
#include "scanner/xxh3_fused.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static int failures;

#define CHECK(cond) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void reference(const uint8_t *data, size_t len, uint32_t ss, char whole[33], char list[33], uint64_t *zeros)
{
	size_t n = (len + ss - 1) / ss;
	uint8_t *canon = malloc(n * 8 + 1);
	XXH128_canonical_t c;

	*zeros = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = len - i * ss < ss ? len - i * ss : ss;
		size_t z = 0;
		while (z < k && data[i * ss + z] == 0)
			z++;
		*zeros += z == k;
		XXH64_canonicalFromHash((XXH64_canonical_t *)(canon + 8 * i), XXH3_64bits(data + i * ss, k));
	}
	XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
	hex(c.digest, 16, whole);
	XXH128_canonicalFromHash(&c, XXH3_128bits(canon, n * 8));
	hex(c.digest, 16, list);
	free(canon);
}

/* One image of len bytes at data through the hasher (sector size ss) in
 * random pieces of whole sectors, the last piece short; checks every result. */
static void hasher_case(struct hasher *h, const uint8_t *data, size_t len, uint32_t ss, unsigned *seed)
{
	char w1[33], l1[33], w2[33], l2[33], crypto[HASH_COUNT][HASH_HEX_MAX];
	uint64_t zeros;
	size_t off = 0;

	reference(data, len, ss, w1, l1, &zeros);
	hasher_reset(h, ss, NULL);
	while (off < len) {
		size_t k = (size_t)ss * (1 + rand_r(seed) % 40);
		if (rand_r(seed) % 8 == 0)
			k = len; /* all the rest: crosses several 64 KiB chunks */
		k = len - off < k ? len - off : k;
		CHECK(hasher_update(h, data + off, k) == 0);
		off += k;
	}
	hasher_final(h, w2, l2, crypto);
	if (strcmp(w1, w2) || strcmp(l1, l2) || h->zero_sectors != zeros) {
		failures++;
		fprintf(stderr, "FAIL: kernel %s, sector %u, length %zu\n", xxh3_fused_kernel_name(), ss, len);
	}
	CHECK(h->sectors == (len + ss - 1) / ss);
}

/* Our XXH128 state alone, fed in random pieces of any length. */
static void whole_case(const uint8_t *data, size_t len, unsigned *seed)
{
	struct xxh3_whole w;
	XXH128_hash_t a, b = XXH3_128bits(data, len);
	size_t off = 0;

	xxh3_whole_reset(&w);
	while (off < len) {
		size_t k = rand_r(seed) % 4 ? (size_t)rand_r(seed) % 200 : (size_t)rand_r(seed) % 5000;
		k = len - off < k ? len - off : k;
		xxh3_whole_update(&w, data + off, k);
		off += k;
	}
	a = xxh3_whole_digest(&w);
	if (a.low64 != b.low64 || a.high64 != b.high64) {
		failures++;
		fprintf(stderr, "FAIL: xxh3_whole, length %zu\n", len);
	}
}

/* The fused call alone: each sector's hash, then the image after a tail. */
static void fused_case(const uint8_t *data, size_t ss, size_t nsect, size_t tail)
{
	static uint64_t out[64];
	struct xxh3_whole w;
	XXH128_hash_t a, b = XXH3_128bits(data, nsect * ss + tail);
	size_t done = 0;

	xxh3_whole_reset(&w);
	while (done < nsect) {
		size_t k = nsect - done < 64 ? nsect - done : 64;
		CHECK(xxh3_fused_sectors(&w, data + done * ss, k, ss, out) == 0);
		for (size_t i = 0; i < k; i++)
			if (out[i] != XXH3_64bits(data + (done + i) * ss, ss)) {
				failures++;
				fprintf(stderr, "FAIL: kernel %s, sector %zu of %zu\n", xxh3_fused_kernel_name(), done + i, ss);
			}
		done += k;
	}
	xxh3_whole_update(&w, data + nsect * ss, tail);
	a = xxh3_whole_digest(&w);
	CHECK(a.low64 == b.low64 && a.high64 == b.high64);
}

/* Every check of the one-pass path, with the kernel in use. */
static void fused_checks(struct hasher *h, const uint8_t *data, size_t cap, unsigned *seed)
{
	for (size_t len = 0; len <= 3000; len++)
		hasher_case(h, data + len % 3, len, 1024, seed);
	static const size_t big[] = {32u << 10, 64u << 10, 1u << 20, 4u << 20};

	for (size_t i = 0; i < 16 + 4; i++) { /* data holds cap + 64 KiB */
		size_t m = i < 16 ? 1024 * (i + 1) : big[i - 16];
		for (size_t d = 1; d <= 64; d++) {
			hasher_case(h, data, m - d, d % 2 ? 1024 : 2048, seed);
			hasher_case(h, data, m + d, d % 2 ? 1024 : 4096, seed);
		}
	}
	for (uint32_t ss = 512; ss <= (1u << 20); ss *= 2) {
		size_t fixed[] = {0, 1, ss - 1, ss, ss + 1, 3 * ss - 64, 3 * ss + 63, 7 * ss};
		int randoms = ss <= 65536 ? 4 : 1;
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			if (fixed[i] <= cap)
				hasher_case(h, data, fixed[i], ss, seed);
		for (int r = 0; r < randoms; r++)
			hasher_case(h, data, (size_t)rand_r(seed) % cap, ss, seed);
	}
	for (size_t ss = 1024; ss <= 65536; ss *= 2) /* 2 MiB and a sector, off alignment */
		fused_case(data + 1, ss, (2u << 20) / ss + 1, ss / 3);
}

static void unit_whole(const uint8_t *data, size_t cap, unsigned *seed)
{
	for (size_t len = 0; len <= 3000; len++)
		whole_case(data, len, seed);
	for (size_t m = 1024; m <= 65536; m += 1024)
		for (size_t d = 1; d <= 64; d++) {
			whole_case(data, m - d, seed);
			whole_case(data, m + d, seed);
		}
	for (int r = 0; r < 8; r++)
		whole_case(data, (size_t)rand_r(seed) % cap, seed);
}

/* Each kernel this CPU has (a missing one is said, not failed). */
static void unit_fused(struct hasher *h, const uint8_t *data, size_t cap, unsigned *seed)
{
	static const enum xxh3_kernel ks[] = {XXH3_KERNEL_SCALAR, XXH3_KERNEL_AVX2, XXH3_KERNEL_AVX512};
	static const char *names[] = {"scalar", "avx2", "avx512"};

	for (int i = 0; i < 3; i++) {
		if (xxh3_fused_force_kernel(ks[i])) {
			printf("kernel %s: not on this CPU, not tested\n", names[i]);
			continue;
		}
		CHECK(!strcmp(xxh3_fused_kernel_name(), names[i]));
		fused_checks(h, data, cap, seed);
	}
	CHECK(xxh3_fused_force_kernel(XXH3_KERNEL_AUTO) == 0);
}

int main(void)
{
	static const size_t lens[] = {0, 1, 511, 512, 4095, 4097, 65536, 200001, 1 << 20};
	static const uint32_t sectors[] = {512, 2048, 4096};
	size_t cap = 4 << 20;
	uint8_t *data = malloc(cap + (64 << 10));
	struct hasher h;
	unsigned seed = 7;

	if (!data || hasher_init(&h, 1u << HASH_SHA256))
		return 1;
	/* Zero stretches for every sector size up to 256 KiB. */
	for (size_t i = 0; i < cap + (64 << 10); i++)
		data[i] = (i / 4096) % 3 == 1 || (i >> 18) % 5 == 2 ? 0 : (uint8_t)rand_r(&seed);
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
		for (size_t si = 0; si < 3; si++) {
			uint32_t ss = sectors[si];
			char w1[33], l1[33], w2[33], l2[33], crypto[HASH_COUNT][HASH_HEX_MAX];
			uint64_t zeros;
			size_t len = lens[li], off = 0, piece = ss * 3;

			reference(data, len, ss, w1, l1, &zeros);
			hasher_reset(&h, ss, NULL);
			while (off < len) { /* pieces are whole sectors, the last may be short */
				size_t k = len - off < piece ? len - off : piece;
				CHECK(hasher_update(&h, data + off, k) == 0);
				off += k;
				piece = piece == ss * 3 ? ss : ss * 3;
			}
			hasher_final(&h, w2, l2, crypto);
			CHECK(strlen(crypto[HASH_SHA256]) == 64 && crypto[HASH_MD5][0] == 0);
			CHECK(!strcmp(w1, w2));
			CHECK(!strcmp(l1, l2));
			CHECK(h.sectors == (len + ss - 1) / ss);
			CHECK(h.zero_sectors == zeros);
		}
	unit_whole(data, cap, &seed);
	unit_fused(&h, data, cap, &seed);
	hasher_free(&h);
	free(data);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
