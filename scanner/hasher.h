/*
 * hasher.h - hashing as the bytes stream past, in offset order: XXH128 of
 * the whole image (as `xxhsum -H2` prints it), XXH3-64 of every sector, the
 * count of all-zero sectors, and an XXH128 over the ordered list of sector
 * hashes (each in its 8-byte canonical, big-endian form).
 *
 * One hasher per image slot, reused; only the thread that holds the image
 * calls it.
 */
#ifndef IMGSCAN_HASHER_H
#define IMGSCAN_HASHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sector_file;

#include "../config/options.h" /* enum crypto_hash */

struct hasher {
	void *whole;            /* XXH3_state_t: the image */
	void *list;             /* XXH3_state_t: the sector-hash list */
	uint32_t sector_size;
	uint64_t zero_hash;     /* XXH3-64 of a full all-zero sector */
	uint64_t sectors;
	uint64_t zero_sectors;
	uint64_t bytes;
	struct sector_file *out; /* optional list file, owned by the caller */
	void *crypto[HASH_COUNT];  /* EVP_MD_CTX, allocated once; NULL: not computed */
};

/* crypto_mask: bits (1 << HASH_SHA256)... of the digests to compute too. */
int hasher_init(struct hasher *h, unsigned crypto_mask);
void hasher_free(struct hasher *h);
void hasher_reset(struct hasher *h, uint32_t sector_size, struct sector_file *out);

/* Hash len bytes that follow what came before.  len must be a multiple of the
 * sector size except for the image's last piece.  Returns 0 or -errno (from
 * writing the sector list file). */
int hasher_update(struct hasher *h, const uint8_t *buf, size_t len);

/* Write the digests as lowercase hex (33 bytes each with the NUL); crypto_hex
 * receives the --hash digests ("" for those not computed). */
void hasher_final(struct hasher *h, char whole_hex[33], char list_hex[33], char crypto_hex[HASH_COUNT][HASH_HEX_MAX]);


/* The canonical hex form of an XXH128 / XXH3-64 of a buffer (for tests). */
void hash_xxh128_hex(const void *buf, size_t len, char out[33]);
/* A plain XXH128 of a stream, for digests beside the image's own (each
 * segment of media): no sector list, no --hash digests. */
void *hash_state_new(void);
void hash_state_free(void *state);
void hash_state_reset(void *state);
void hash_state_update(void *state, const void *buf, size_t len);
void hash_state_hex(void *state, char out[33]);

#endif
