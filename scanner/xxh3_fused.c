/*
 * xxh3_fused.c - the whole-image XXH128 and every sector's XXH3-64 in one
 * pass over the bytes, bit-identical to libxxhash 0.8 (default secret, no
 * seed; the reference is XXH3_hashLong_internal_loop in xxhash.h).
 *
 * Why one pass is enough: above 240 bytes, XXH3-64 and XXH3-128 run the same
 * accumulator loop.  A 64-byte stripe adds to the eight accumulators a value
 * that depends on the data and a secret offset only, never on the
 * accumulators; a block is 16 stripes (secret offsets 0, 8, ..., 120) and
 * then a scramble; the input's last block takes only its (len-1)%1024/64
 * first stripes, then the "last stripe" (the input's final 64 bytes) at
 * offset 121, and no scramble.  A sector of k*1024 bytes starting on a
 * 1024-byte boundary therefore shares every block with the image: the sum of
 * the first 15 stripes is added to both accumulator sets, the 16th stripe
 * (offset 120) too, except in the sector's last block, which ends with the
 * last stripe at offset 121 over the same bytes.  The image's own newest
 * stripe is committed (and its block scrambled) only once more bytes
 * arrive: until then it may be the image's last stripe.
 */
#include "xxh3_fused.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FUSED_X86 1
#else
#define FUSED_X86 0
#endif

#define STRIPE 64
#define BLOCK 1024
#define STRIPES_PER_BLOCK 16
#define SCRAMBLE_KEY 128 /* secret size - stripe */
#define LASTACC_KEY 121  /* secret size - stripe - XXH_SECRET_LASTACC_START (7) */
#define MERGE_KEY 11     /* XXH_SECRET_MERGEACCS_START */
#define MERGE_HIGH_KEY (192 - 64 - MERGE_KEY)
#define P32_1 0x9E3779B1U
#define P32_2 0x85EBCA77U
#define P32_3 0xC2B2AE3DU
#define P64_1 0x9E3779B185EBCA87ULL
#define P64_2 0xC2B2AE3D27D4EB4FULL

/* XXH3_kSecret, the default secret (xxhash.h). */
static const uint8_t ksecret[192] __attribute__((aligned(64))) = {
	0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
	0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
	0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
	0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
	0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
	0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
	0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
	0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
	0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
	0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
	0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
	0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

/* XXH3_INIT_ACC */
static const uint64_t init_acc[8] __attribute__((aligned(64))) = {
	P32_3, P64_1, P64_2, 0x165667B19E3779F9ULL, 0x85EBCA77C2B2AE63ULL, P32_2, 0x27D4EB2F165667C5ULL, P32_1,
};

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* XXH3_mul128_fold64 */
static inline uint64_t fold64(uint64_t a, uint64_t b)
{
	unsigned __int128 m = (unsigned __int128)a * b;

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* XXH3_mergeAccs, with XXH3_avalanche. */
static uint64_t merge_accs(const uint64_t acc[8], const uint8_t *key, uint64_t start)
{
	uint64_t h = start;

	for (int i = 0; i < 4; i++)
		h += fold64(acc[2 * i] ^ rd64(key + 16 * i), acc[2 * i + 1] ^ rd64(key + 16 * i + 8));
	h ^= h >> 37;
	h *= 0x165667919E3779F9ULL;
	return h ^ (h >> 32);
}

/* The XXH3-64 of a long input from its final accumulators. */
static inline uint64_t final64(const uint64_t acc[8], uint64_t len)
{
	return merge_accs(acc, ksecret + MERGE_KEY, len * P64_1);
}

/* ---- portable kernel (and the helpers of the streaming state) ---- */

/* a += the stripe's contribution (XXH3_accumulate_512_scalar). */
static inline void stripe_scalar(uint64_t a[8], const uint8_t *in, const uint8_t *key)
{
	for (int i = 0; i < 8; i++) {
		uint64_t d = rd64(in + 8 * i), k = d ^ rd64(key + 8 * i);
		a[i ^ 1] += d;
		a[i] += (k & 0xffffffffu) * (k >> 32);
	}
}

/* XXH3_scrambleAcc_scalar with the default secret. */
static inline void scramble_scalar(uint64_t a[8])
{
	for (int i = 0; i < 8; i++)
		a[i] = (a[i] ^ (a[i] >> 47) ^ rd64(ksecret + SCRAMBLE_KEY + 8 * i)) * P32_1;
}

static inline void add8(uint64_t a[8], const uint64_t b[8])
{
	for (int i = 0; i < 8; i++)
		a[i] += b[i];
}

/* d = the contributions of a block's first 15 stripes; c = all 16. */
static inline void block_sums_scalar(const uint8_t *p, uint64_t d[8], uint64_t c[8])
{
	memset(d, 0, 64);
	for (int n = 0; n < STRIPES_PER_BLOCK - 1; n++)
		stripe_scalar(d, p + STRIPE * n, ksecret + 8 * n);
	memcpy(c, d, 64);
	stripe_scalar(c, p + BLOCK - STRIPE, ksecret + 8 * (STRIPES_PER_BLOCK - 1));
}

/*
 * The kernel contract (all three): acc holds the image's accumulators with
 * every earlier block scrambled; p holds nsect sectors of bps blocks.  Writes
 * each sector's XXH3-64 to out; on return acc has every block of p but the
 * last added and scrambled, and blk the last block's first 15 stripes (the
 * caller keeps its 16th: it may be the image's last stripe).
 */
typedef void sectors_fn(uint64_t acc[8], uint64_t blk[8], const uint8_t *p, size_t nsect, size_t bps,
			uint64_t *out);

static void sectors_scalar(uint64_t acc[8], uint64_t blk[8], const uint8_t *p, size_t nsect, size_t bps,
			   uint64_t *out)
{
	uint64_t s[8], d[8], c[8];

	for (size_t i = 0; i < nsect; i++) {
		memcpy(s, init_acc, 64);
		for (size_t b = 0; b < bps; b++, p += BLOCK) {
			block_sums_scalar(p, d, c);
			if (b + 1 < bps || i + 1 < nsect) { /* more of the image follows */
				add8(acc, c);
				scramble_scalar(acc);
			}
			if (b + 1 < bps) {
				add8(s, c);
				scramble_scalar(s);
				continue;
			}
			add8(s, d); /* the sector's last block ends with the last stripe */
			stripe_scalar(s, p + BLOCK - STRIPE, ksecret + LASTACC_KEY);
			out[i] = final64(s, (uint64_t)bps * BLOCK);
		}
	}
	memcpy(blk, d, 64);
}

/* ---- AVX2: the eight accumulators as two 256-bit halves ---- */
#if FUSED_X86
#define AVX2_FN static inline __attribute__((target("avx2"), always_inline))

struct v2 {
	__m256i lo, hi;
};

/* The lane swap of the data (acc[i ^ 1] += data) is a permutation, so it
 * commutes with the sums: the kernels add products and plain data in two
 * sums and swap the data sum once per block, not once per stripe. */
AVX2_FN __m256i swap_avx2(__m256i d)
{
	return _mm256_shuffle_epi32(d, _MM_SHUFFLE(1, 0, 3, 2));
}

/* lo32(d ^ key) * hi32(d ^ key) per 64-bit lane. */
AVX2_FN __m256i prod_avx2(__m256i d, const uint8_t *key)
{
	__m256i k = _mm256_xor_si256(d, _mm256_loadu_si256((const __m256i *)(const void *)key));

	return _mm256_mul_epu32(k, _mm256_shuffle_epi32(k, _MM_SHUFFLE(0, 3, 0, 1)));
}

AVX2_FN __m256i contrib_avx2(const uint8_t *in, const uint8_t *key)
{
	__m256i d = _mm256_loadu_si256((const __m256i *)(const void *)in);

	return _mm256_add_epi64(prod_avx2(d, key), swap_avx2(d));
}

AVX2_FN struct v2 stripe_avx2(struct v2 a, const uint8_t *in, const uint8_t *key)
{
	a.lo = _mm256_add_epi64(a.lo, contrib_avx2(in, key));
	a.hi = _mm256_add_epi64(a.hi, contrib_avx2(in + 32, key + 32));
	return a;
}

AVX2_FN __m256i scramble_half_avx2(__m256i a, const uint8_t *key)
{
	const __m256i prime = _mm256_set1_epi32((int)P32_1);
	__m256i x = _mm256_xor_si256(_mm256_xor_si256(a, _mm256_srli_epi64(a, 47)),
				     _mm256_loadu_si256((const __m256i *)(const void *)key));
	__m256i lo = _mm256_mul_epu32(x, prime);
	__m256i hi = _mm256_mul_epu32(_mm256_shuffle_epi32(x, _MM_SHUFFLE(0, 3, 0, 1)), prime);

	return _mm256_add_epi64(lo, _mm256_slli_epi64(hi, 32));
}

AVX2_FN struct v2 scramble_avx2(struct v2 a)
{
	a.lo = scramble_half_avx2(a.lo, ksecret + SCRAMBLE_KEY);
	a.hi = scramble_half_avx2(a.hi, ksecret + SCRAMBLE_KEY + 32);
	return a;
}

AVX2_FN struct v2 add_avx2(struct v2 a, struct v2 b)
{
	a.lo = _mm256_add_epi64(a.lo, b.lo);
	a.hi = _mm256_add_epi64(a.hi, b.hi);
	return a;
}

AVX2_FN struct v2 load_avx2(const uint64_t *a)
{
	struct v2 v = { _mm256_loadu_si256((const __m256i *)(const void *)a),
			_mm256_loadu_si256((const __m256i *)(const void *)(a + 4)) };
	return v;
}

AVX2_FN void store_avx2(uint64_t *a, struct v2 v)
{
	_mm256_storeu_si256((__m256i *)(void *)a, v.lo);
	_mm256_storeu_si256((__m256i *)(void *)(a + 4), v.hi);
}

/* One half (32 bytes at offset h) of the first 15 stripes' sum. */
AVX2_FN __m256i sum15_half_avx2(const uint8_t *p, int h)
{
	__m256i prod = _mm256_setzero_si256(), data = prod;

	for (int n = 0; n < 15; n++) {
		__m256i d = _mm256_loadu_si256((const __m256i *)(const void *)(p + STRIPE * n + h));
		prod = _mm256_add_epi64(prod, prod_avx2(d, ksecret + 8 * n + h));
		data = _mm256_add_epi64(data, d);
	}
	return _mm256_add_epi64(prod, swap_avx2(data));
}

AVX2_FN struct v2 sum15_avx2(const uint8_t *p)
{
	struct v2 v = { sum15_half_avx2(p, 0), sum15_half_avx2(p, 32) };
	return v;
}

__attribute__((target("avx2"))) static void sectors_avx2(uint64_t acc[8], uint64_t blk[8], const uint8_t *p,
							  size_t nsect, size_t bps, uint64_t *out)
{
	struct v2 w = load_avx2(acc), s, d = { _mm256_setzero_si256(), _mm256_setzero_si256() }, c;
	uint64_t tmp[8];

	for (size_t i = 0; i < nsect; i++) {
		s = load_avx2(init_acc);
		for (size_t b = 0; b < bps; b++, p += BLOCK) {
			d = sum15_avx2(p);
			c = stripe_avx2(d, p + BLOCK - STRIPE, ksecret + 8 * 15);
			if (b + 1 < bps || i + 1 < nsect)
				w = scramble_avx2(add_avx2(w, c));
			if (b + 1 < bps) {
				s = scramble_avx2(add_avx2(s, c));
				continue;
			}
			store_avx2(tmp, stripe_avx2(add_avx2(s, d), p + BLOCK - STRIPE, ksecret + LASTACC_KEY));
			out[i] = final64(tmp, (uint64_t)bps * BLOCK);
		}
	}
	store_avx2(acc, w);
	store_avx2(blk, d);
}

/* ---- AVX-512: the eight accumulators in one register ---- */
#define AVX512_FN static inline __attribute__((target("avx512f"), always_inline))

AVX512_FN __m512i swap_avx512(__m512i d)
{
	return _mm512_shuffle_epi32(d, (_MM_PERM_ENUM)_MM_SHUFFLE(1, 0, 3, 2));
}

AVX512_FN __m512i prod_avx512(__m512i d, const uint8_t *key)
{
	__m512i k = _mm512_xor_si512(d, _mm512_loadu_si512(key));

	return _mm512_mul_epu32(k, _mm512_shuffle_epi32(k, (_MM_PERM_ENUM)_MM_SHUFFLE(0, 3, 0, 1)));
}

AVX512_FN __m512i contrib_avx512(const uint8_t *in, const uint8_t *key)
{
	__m512i d = _mm512_loadu_si512(in);

	return _mm512_add_epi64(prod_avx512(d, key), swap_avx512(d));
}

AVX512_FN __m512i scramble_avx512(__m512i a)
{
	const __m512i prime = _mm512_set1_epi32((int)P32_1);
	__m512i x = _mm512_xor_si512(_mm512_xor_si512(a, _mm512_srli_epi64(a, 47)),
				     _mm512_loadu_si512(ksecret + SCRAMBLE_KEY));
	__m512i lo = _mm512_mul_epu32(x, prime);
	__m512i hi = _mm512_mul_epu32(_mm512_shuffle_epi32(x, (_MM_PERM_ENUM)_MM_SHUFFLE(0, 3, 0, 1)), prime);

	return _mm512_add_epi64(lo, _mm512_slli_epi64(hi, 32));
}

/* The first 15 stripes' sum: products and data apart (see swap_avx2). */
AVX512_FN __m512i sum15_avx512(const uint8_t *p)
{
	__m512i prod = _mm512_setzero_si512(), data = prod;

	for (int n = 0; n < 15; n++) {
		__m512i d = _mm512_loadu_si512(p + STRIPE * n);
		prod = _mm512_add_epi64(prod, prod_avx512(d, ksecret + 8 * n));
		data = _mm512_add_epi64(data, d);
	}
	return _mm512_add_epi64(prod, swap_avx512(data));
}

__attribute__((target("avx512f"))) static void sectors_avx512(uint64_t acc[8], uint64_t blk[8], const uint8_t *p,
							      size_t nsect, size_t bps, uint64_t *out)
{
	__m512i w = _mm512_loadu_si512(acc), s, d = _mm512_setzero_si512(), c;
	uint64_t tmp[8];

	for (size_t i = 0; i < nsect; i++) {
		s = _mm512_loadu_si512(init_acc);
		for (size_t b = 0; b < bps; b++, p += BLOCK) {
			d = sum15_avx512(p);
			c = _mm512_add_epi64(d, contrib_avx512(p + BLOCK - STRIPE, ksecret + 8 * 15));
			if (b + 1 < bps || i + 1 < nsect)
				w = scramble_avx512(_mm512_add_epi64(w, c));
			if (b + 1 < bps) {
				s = scramble_avx512(_mm512_add_epi64(s, c));
				continue;
			}
			s = _mm512_add_epi64(_mm512_add_epi64(s, d), contrib_avx512(p + BLOCK - STRIPE, ksecret + LASTACC_KEY));
			_mm512_storeu_si512(tmp, s);
			out[i] = final64(tmp, (uint64_t)bps * BLOCK);
		}
	}
	_mm512_storeu_si512(acc, w);
	_mm512_storeu_si512(blk, d);
}
#endif /* FUSED_X86 */

/* ---- kernel choice: once, at first use ---- */

static sectors_fn *kernel;
static const char *kernel_name = "scalar";
static pthread_once_t kernel_once = PTHREAD_ONCE_INIT;

static bool cpu_has(enum xxh3_kernel k)
{
#if FUSED_X86
	__builtin_cpu_init();
	if (k == XXH3_KERNEL_AVX512)
		return __builtin_cpu_supports("avx512f");
	if (k == XXH3_KERNEL_AVX2)
		return __builtin_cpu_supports("avx2");
#endif
	return k == XXH3_KERNEL_SCALAR;
}

static void use_kernel(enum xxh3_kernel k)
{
	kernel = sectors_scalar;
	kernel_name = "scalar";
#if FUSED_X86
	if (k == XXH3_KERNEL_AVX512) {
		kernel = sectors_avx512;
		kernel_name = "avx512";
	} else if (k == XXH3_KERNEL_AVX2) {
		kernel = sectors_avx2;
		kernel_name = "avx2";
	}
#endif
}

static void pick_kernel(void)
{
	use_kernel(cpu_has(XXH3_KERNEL_AVX512) ? XXH3_KERNEL_AVX512
		   : cpu_has(XXH3_KERNEL_AVX2) ? XXH3_KERNEL_AVX2 : XXH3_KERNEL_SCALAR);
}

int xxh3_fused_force_kernel(enum xxh3_kernel k)
{
	pthread_once(&kernel_once, pick_kernel);
	if (k == XXH3_KERNEL_AUTO) {
		pick_kernel();
		return 0;
	}
	if (!cpu_has(k))
		return -ENOTSUP;
	use_kernel(k);
	return 0;
}

const char *xxh3_fused_kernel_name(void)
{
	pthread_once(&kernel_once, pick_kernel);
	return kernel_name;
}

/* ---- the streaming state ---- */

void xxh3_whole_reset(struct xxh3_whole *w)
{
	memcpy(w->acc, init_acc, sizeof(w->acc));
	memset(w->blk, 0, sizeof(w->blk));
	w->total = 0;
	w->nstripes = w->tail = 0;
}

/* Keep the first 240 bytes: inputs that short hash differently. */
static void keep_small(struct xxh3_whole *w, const uint8_t *p, size_t len)
{
	if (w->total < sizeof(w->small)) {
		size_t k = sizeof(w->small) - w->total;
		memcpy(w->small + w->total, p, len < k ? len : k);
	}
}

/* Add a full stripe known not to be the image's last; scramble a full block. */
static void commit_stripe(struct xxh3_whole *w, const uint8_t *s)
{
	stripe_scalar(w->blk, s, ksecret + 8 * w->nstripes);
	if (++w->nstripes < STRIPES_PER_BLOCK)
		return;
	add8(w->acc, w->blk);
	scramble_scalar(w->acc);
	memset(w->blk, 0, sizeof(w->blk));
	w->nstripes = 0;
}

void xxh3_whole_update(struct xxh3_whole *w, const void *data, size_t len)
{
	const uint8_t *p = data, *last = NULL;

	keep_small(w, p, len);
	w->total += len;
	while (len) {
		size_t k;

		if (w->tail == STRIPE) { /* more follows: the held stripe is not the last */
			commit_stripe(w, w->stripe);
			memcpy(w->prev, w->stripe, STRIPE);
			w->tail = 0;
		}
		for (; w->tail == 0 && len > STRIPE; p += STRIPE, len -= STRIPE)
			commit_stripe(w, last = p); /* straight from the input */
		if (last)
			memcpy(w->prev, last, STRIPE);
		last = NULL;
		k = STRIPE - w->tail < len ? STRIPE - w->tail : len;
		memcpy(w->stripe + w->tail, p, k);
		w->tail += (unsigned)k;
		p += k;
		len -= k;
	}
}

XXH128_hash_t xxh3_whole_digest(const struct xxh3_whole *w)
{
	uint64_t acc[8];
	uint8_t last[STRIPE];
	XXH128_hash_t h;

	if (w->total <= sizeof(w->small))
		return XXH3_128bits(w->small, (size_t)w->total);
	/* The final 64 bytes: the end of prev, then the held tail. */
	memcpy(last, w->prev + w->tail, STRIPE - w->tail);
	memcpy(last + STRIPE - w->tail, w->stripe, w->tail);
	memcpy(acc, w->acc, sizeof(acc));
	add8(acc, w->blk);
	stripe_scalar(acc, last, ksecret + LASTACC_KEY);
	h.low64 = merge_accs(acc, ksecret + MERGE_KEY, w->total * P64_1);
	h.high64 = merge_accs(acc, ksecret + MERGE_HIGH_KEY, ~(w->total * P64_2));
	return h;
}

int xxh3_fused_sectors(struct xxh3_whole *w, const uint8_t *p, size_t nsect, size_t sector_size, uint64_t *out)
{
	size_t len = nsect * sector_size;

	if (sector_size == 0 || sector_size % BLOCK || w->total % BLOCK)
		return -EINVAL;
	if (!nsect)
		return 0;
	pthread_once(&kernel_once, pick_kernel);
	keep_small(w, p, len);
	if (w->total) /* the held stripe ends a block that is not the last */
		commit_stripe(w, w->stripe);
	kernel(w->acc, w->blk, p, nsect, sector_size / BLOCK, out);
	/* Hold the last block's 16th stripe, as update() would have. */
	memcpy(w->stripe, p + len - STRIPE, STRIPE);
	w->tail = STRIPE;
	w->nstripes = STRIPES_PER_BLOCK - 1;
	w->total += len;
	return 0;
}
