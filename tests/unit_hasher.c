/*
 * unit_hasher.c - streaming hashes equal one-shot hashes whatever the piece
 * sizes; zero sectors are counted exactly; the list digest is the XXH128 of
 * the canonical sector hashes in order.  The one-shot reference calls
 * libxxhash directly, independently of hasher.c.
 */
#include "scanner/hasher.h"

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

int main(void)
{
	static const size_t lens[] = {0, 1, 511, 512, 4095, 4097, 65536, 200001, 1 << 20};
	static const uint32_t sectors[] = {512, 2048, 4096};
	size_t cap = 1 << 20;
	uint8_t *data = malloc(cap);
	struct hasher h;
	unsigned seed = 7;

	if (!data || hasher_init(&h, 1u << HASH_SHA256))
		return 1;
	for (size_t i = 0; i < cap; i++)
		data[i] = (i / 4096) % 3 == 1 ? 0 : (uint8_t)rand_r(&seed);
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
	hasher_free(&h);
	free(data);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
