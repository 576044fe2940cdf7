/*
 * xxh3_fused.h - the XXH128 of a stream and the XXH3-64 of each of its
 * sectors from one pass over the bytes, bit-identical to libxxhash's
 * XXH3_128bits() and XXH3_64bits() (default secret, no seed).
 *
 * struct xxh3_whole is a small streaming XXH128 state of our own:
 * xxh3_whole_update() takes any lengths; xxh3_fused_sectors() takes whole
 * sectors (a multiple of 1024 bytes, the stream at a 1024-byte boundary),
 * advances the same state and writes each sector's XXH3-64.  The vector
 * kernel (AVX-512, AVX2 or portable) is chosen once, at first use.
 *
 * One state per stream; a state is used by one thread at a time.
 */
#ifndef IMGSCAN_XXH3_FUSED_H
#define IMGSCAN_XXH3_FUSED_H

#include <stddef.h>
#include <stdint.h>

#include <xxhash.h> /* XXH128_hash_t */

#define XXH3_FUSED_ALIGN 1024u /* sector sizes and stream offsets the fused call takes */

struct xxh3_whole {
	uint64_t acc[8];     /* every block before the open one, scrambled */
	uint64_t blk[8];     /* sum of the open block's committed stripes */
	uint64_t total;      /* bytes fed */
	unsigned nstripes;   /* committed stripes of the open block, 0..15 */
	unsigned tail;       /* bytes in stripe[]; 1..64 once total > 0 */
	uint8_t stripe[64];  /* the newest stripe: committed only when more bytes follow */
	uint8_t prev[64];    /* the last committed stripe (the final stripe may reach into it) */
	uint8_t small[240];  /* the first 240 bytes: short inputs are hashed by libxxhash */
};

void xxh3_whole_reset(struct xxh3_whole *w);

/* Append len bytes (any length, any alignment). */
void xxh3_whole_update(struct xxh3_whole *w, const void *p, size_t len);

/* XXH3_128bits() of everything fed so far; the state is not changed. */
XXH128_hash_t xxh3_whole_digest(const struct xxh3_whole *w);

/* Append nsect sectors of sector_size bytes at p and write the XXH3-64 of
 * each into out[0..nsect).  Returns 0, or -EINVAL (nothing done) unless
 * sector_size is a multiple of XXH3_FUSED_ALIGN and w->total is too. */
int xxh3_fused_sectors(struct xxh3_whole *w, const uint8_t *p, size_t nsect, size_t sector_size, uint64_t *out);

enum xxh3_kernel { XXH3_KERNEL_AUTO, XXH3_KERNEL_SCALAR, XXH3_KERNEL_AVX2, XXH3_KERNEL_AVX512 };

/* Tests and benchmarks: use kernel k from now on (AUTO: the best this CPU
 * has).  Returns 0, or -ENOTSUP when this CPU or build lacks it.  Not
 * thread-safe: call it before any hashing starts. */
int xxh3_fused_force_kernel(enum xxh3_kernel k);

/* "avx512", "avx2" or "scalar": the kernel in use. */
const char *xxh3_fused_kernel_name(void);

#endif
