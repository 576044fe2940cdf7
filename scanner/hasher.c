/*
 * hasher.c - XXH128 of the image and XXH3-64 per sector as the bytes stream
 * past, in 64 KiB chunks (the optional OpenSSL digests read each chunk from
 * cache).  When sectors are a multiple of 1024 bytes, xxh3_fused.c computes
 * both XXH3 hashes in one pass over each byte; otherwise (512-byte sectors)
 * libxxhash walks the chunk twice, once per hash, and a short last sector
 * always goes to libxxhash.  The x86 dispatch entry points of Debian's
 * libxxhash pick AVX2/AVX-512 at run time.
 */
#include "hasher.h"
#include "sector_file.h"
#include "xxh3_fused.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include <xxh_x86dispatch.h>

#include <openssl/evp.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (64u << 10)
#define CANON_BATCH 512 /* sector hashes buffered before the list is updated */

/* What h->whole points to: the image digest, ours when sectors are a
 * multiple of XXH3_FUSED_ALIGN (fused), libxxhash's otherwise. */
struct whole {
	XXH3_state_t *lib;
	bool fused;
	struct xxh3_whole own;
};

static uint64_t zero_sector_hash(uint32_t sector_size)
{
	void *z = calloc(1, sector_size);
	uint64_t h;

	if (!z)
		return 0; /* only costs the shortcut: every sector is then memcmp-free */
	h = XXH3_64bits(z, sector_size);
	free(z);
	return h;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	static const uint8_t zeros[4096];

	while (n) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);
		if (memcmp(p, zeros, k))
			return false;
		p += k;
		n -= k;
	}
	return true;
}

static const EVP_MD *crypto_md(int i)
{
	return i == HASH_MD5 ? EVP_md5() : i == HASH_SHA1 ? EVP_sha1() : EVP_sha256();
}

int hasher_init(struct hasher *h, unsigned crypto_mask)
{
	struct whole *w;
	bool ok;

	memset(h, 0, sizeof(*h));
	h->whole = w = calloc(1, sizeof(*w));
	h->list = XXH3_createState();
	ok = w && h->list && (w->lib = XXH3_createState()) != NULL;
	for (int i = 0; i < HASH_COUNT && ok; i++)
		if (crypto_mask & (1u << i))
			ok = (h->crypto[i] = EVP_MD_CTX_new()) != NULL;
	if (!ok) {
		hasher_free(h);
		return -ENOMEM;
	}
	return 0;
}

void hasher_free(struct hasher *h)
{
	struct whole *w = h->whole;

	if (w)
		XXH3_freeState(w->lib);
	free(w);
	XXH3_freeState(h->list);
	h->whole = h->list = NULL;
	for (int i = 0; i < HASH_COUNT; i++) {
		EVP_MD_CTX_free(h->crypto[i]);
		h->crypto[i] = NULL;
	}
}

void hasher_reset(struct hasher *h, uint32_t sector_size, struct sector_file *out)
{
	struct whole *w = h->whole;

	if (h->sector_size != sector_size)
		h->zero_hash = zero_sector_hash(sector_size);
	h->sector_size = sector_size;
	h->sectors = h->zero_sectors = h->bytes = 0;
	h->out = out;
	w->fused = sector_size % XXH3_FUSED_ALIGN == 0;
	if (w->fused)
		xxh3_whole_reset(&w->own);
	else
		XXH3_128bits_reset(w->lib);
	XXH3_128bits_reset(h->list);
	for (int i = 0; i < HASH_COUNT; i++)
		if (h->crypto[i])
			EVP_DigestInit_ex(h->crypto[i], crypto_md(i), NULL);
}

/* Sector hashes of one chunk, into the list digest and the list file.
 * pre: the hashes of its sectors (all whole), or NULL to compute them. */
static int hash_sectors(struct hasher *h, const uint8_t *p, size_t len, const uint64_t *pre)
{
	uint8_t canon[CANON_BATCH][8];
	size_t n = 0, n_all = 0;
	int rc = 0;

	while (len) {
		size_t k = len < h->sector_size ? len : h->sector_size;
		XXH64_hash_t s = pre ? pre[n_all++] : XXH3_64bits(p, k);

		/* A zero sector has the zero hash; confirm before counting. */
		if (k == h->sector_size && s == h->zero_hash && is_zero(p, k))
			h->zero_sectors++;
		else if (k < h->sector_size && is_zero(p, k))
			h->zero_sectors++;
		XXH64_canonicalFromHash((XXH64_canonical_t *)canon[n], s);
		if (++n == CANON_BATCH) {
			XXH3_128bits_update(h->list, canon, sizeof(canon));
			if (h->out && !rc)
				rc = sector_file_append(h->out, &canon[0][0], n);
			n = 0;
		}
		h->sectors++;
		p += k;
		len -= k;
	}
	if (n) {
		XXH3_128bits_update(h->list, canon, n * 8);
		if (h->out && !rc)
			rc = sector_file_append(h->out, &canon[0][0], n);
	}
	return rc;
}

/* One chunk, the way the old two-pass code did it: libxxhash twice. */
static int hash_chunk_lib(struct hasher *h, const uint8_t *p, size_t len)
{
	struct whole *w = h->whole;

	XXH3_128bits_update(w->lib, p, len);
	return hash_sectors(h, p, len, NULL);
}

/* One chunk in one pass: its whole sectors through the fused call (which
 * refuses, -EINVAL, a stream off a 1024-byte boundary: a caller that broke
 * the piece contract); what is left, a short last sector, through our
 * streaming state and libxxhash.  Returns 0 or -errno. */
static int hash_chunk_fused(struct hasher *h, const uint8_t *p, size_t len)
{
	struct whole *w = h->whole;
	uint64_t sums[CHUNK / XXH3_FUSED_ALIGN];
	size_t n = len / h->sector_size, done = n * h->sector_size;
	int rc = 0, r;

	if (n && xxh3_fused_sectors(&w->own, p, n, h->sector_size, sums) == 0) {
		rc = hash_sectors(h, p, done, sums);
		p += done;
		len -= done;
	}
	if (len) {
		xxh3_whole_update(&w->own, p, len);
		r = hash_sectors(h, p, len, NULL);
		if (r && !rc)
			rc = r;
	}
	return rc;
}

int hasher_update(struct hasher *h, const uint8_t *buf, size_t len)
{
	const struct whole *w = h->whole;
	size_t chunk = h->sector_size > CHUNK ? h->sector_size : CHUNK;
	int rc = 0, r;

	h->bytes += len;
	while (len) {
		size_t k = len < chunk ? len : chunk;

		for (int i = 0; i < HASH_COUNT; i++)
			if (h->crypto[i])
				EVP_DigestUpdate(h->crypto[i], buf, k);
		r = w->fused ? hash_chunk_fused(h, buf, k) : hash_chunk_lib(h, buf, k);
		if (r && !rc)
			rc = r;
		buf += k;
		len -= k;
	}
	return rc;
}

static void hex_bytes(const unsigned char *b, unsigned n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void hex128(XXH128_hash_t v, char out[33])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, v);
	hex_bytes(c.digest, 16, out);
}

void hasher_final(struct hasher *h, char whole_hex[33], char list_hex[33], char crypto_hex[HASH_COUNT][HASH_HEX_MAX])
{
	const struct whole *w = h->whole;

	hex128(w->fused ? xxh3_whole_digest(&w->own) : XXH3_128bits_digest(w->lib), whole_hex);
	hex128(XXH3_128bits_digest(h->list), list_hex);
	for (int i = 0; i < HASH_COUNT; i++) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned n = 0;
		crypto_hex[i][0] = '\0';
		if (h->crypto[i] && EVP_DigestFinal_ex(h->crypto[i], md, &n) && n * 2 < HASH_HEX_MAX)
			hex_bytes(md, n, crypto_hex[i]);
	}
}

void hash_xxh128_hex(const void *buf, size_t len, char out[33])
{
	hex128(XXH3_128bits(buf, len), out);
}

void *hash_state_new(void)
{
	return XXH3_createState();
}

void hash_state_free(void *state)
{
	XXH3_freeState(state);
}

void hash_state_reset(void *state)
{
	XXH3_128bits_reset(state);
}

void hash_state_update(void *state, const void *buf, size_t len)
{
	XXH3_128bits_update(state, buf, len);
}

void hash_state_hex(void *state, char out[33])
{
	hex128(XXH3_128bits_digest(state), out);
}
