/*
 * duplicates.h - summary.duplicates: the images whose whole-file XXH128 is
 * the same, i.e. one image stored under two or more names.  The report is
 * streamed, so this keeps only what a group needs of each image: its
 * digest, size, index and path bytes (about 48 bytes plus the path).
 * Not thread-safe: the report calls it under its own lock.
 */
#ifndef IMGSCAN_DUPLICATES_H
#define IMGSCAN_DUPLICATES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct dup_index;

/* Returns 0 or -ENOMEM. */
int dup_index_create(struct dup_index **out);
/* Note one image object (image_json.h's form: read in this run or taken
 * from the catalog).  Images without hashes.xxh128 (not read completely)
 * and empty images (size 0: every empty file has the same digest, which
 * says nothing about copies) are left out.  Returns 0 or -ENOMEM; a failure
 * is sticky: dup_groups_json() then fails too, so no partial list goes out. */
int dup_note(struct dup_index *d, const cJSON *img);
/* The groups of two or more images, as summary.duplicates (SCHEMA.md):
 * largest size first, then by digest; a group's images by index.  NULL
 * when memory ran out (now or in an earlier dup_note()). */
cJSON *dup_groups_json(struct dup_index *d);
void dup_index_free(struct dup_index *d);

/* summary.duplicates written as it is found, group by group and image by
 * image, instead of held (merge reads its groups back from an index of any
 * size): the same bytes cJSON_PrintUnformatted() gives dup_groups_json()'s
 * array for the same groups.  The caller gives the groups in order and each
 * group's images in order; a failed write (or out of memory) is out's
 * sticky error. */
struct outfile;
struct dup_stream {
	struct outfile *out;
	uint64_t groups;           /* begun so far */
	bool in_group;             /* a group and its images array are open */
	bool first_image;          /* no image written in the open group yet */
};
/* "[" */
void dup_stream_begin(struct dup_stream *s, struct outfile *out);
/* A new group (the one open, if any, is closed): its digest and size. */
void dup_stream_group(struct dup_stream *s, const unsigned char xxh[16], uint64_t size);
/* One image of the open group. */
void dup_stream_image(struct dup_stream *s, uint64_t index, const char *path);
/* Close the open group, if any, and the array. */
void dup_stream_end(struct dup_stream *s);

/* An image object's path as its exact bytes: path_b64 when path_lossy.
 * Malloc'd; NULL with errno EINVAL (no path, or a NUL inside) or ENOMEM. */
char *image_path_bytes(const cJSON *img);
/* 32 lowercase hex digits into 16 bytes; false for anything else. */
bool parse_xxh128(const char *hex, unsigned char out[16]);
/* The reverse: 16 canonical bytes as 32 lowercase hex digits. */
void xxh128_hex(const unsigned char digest[16], char out[33]);

#endif
