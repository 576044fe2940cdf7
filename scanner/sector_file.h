/*
 * sector_file.h - the sector-hash list file (--sector-hashes DIR).
 *
 * Format (all integers big-endian), documented in report/SCHEMA.md:
 *   0  8  magic "IMGSXH3\0"
 *   8  4  version (1)
 *  12  4  sector size in bytes
 *  16  8  sector count
 *  24  8  image size in bytes
 *  32 16  XXH128 of the image, canonical
 *  48 16  reserved, zero
 *  64 ..  one 8-byte canonical XXH3-64 per sector, in order
 * It is written to a temporary name in DIR and renamed to <xxh128>.xxh3s
 * when the image is done, so a reader never sees a partial list.
 */
#ifndef IMGSCAN_SECTOR_FILE_H
#define IMGSCAN_SECTOR_FILE_H

#include <stddef.h>
#include <stdint.h>

#define SECTOR_FILE_HEADER 64
#define SECTOR_FILE_MAGIC "IMGSXH3"

struct sector_file;

/* Open a temporary list file in dir.  Returns 0 or -errno. */
int sector_file_open(const char *dir, struct sector_file **out);
int sector_file_append(struct sector_file *sf, const uint8_t *canon8, size_t n);
/* Write the header, fsync and rename; path receives the final name.
 * Returns 0 or -errno; the file is freed either way. */
int sector_file_commit(struct sector_file *sf, uint32_t sector_size, uint64_t count,
		       uint64_t image_size, const char *xxh128_hex, char *path, size_t pathlen);
/* Remove the temporary file and free (failed images). */
void sector_file_abort(struct sector_file *sf);

#endif
