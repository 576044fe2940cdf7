/*
 * result.h - everything the scan learned about one image, handed to the
 * report sink when the image is done.  The sink must copy what it keeps: the
 * struct is reused for the next image.
 */
#ifndef IMGSCAN_RESULT_H
#define IMGSCAN_RESULT_H

#include "../formats/ident.h"
#include "../formats/verdict.h"
#include "hasher.h"
#include "walk.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define RESULT_MAX_ERRORS 4

struct scan_error {
	const char *stage;      /* "open", "stat", "read", "identify", "tsk", "sector-hashes" */
	int err;                /* errno value, 0 when none applies */
	uint64_t offset;        /* for read errors */
	char message[240];
};

struct image_result {
	uint64_t index;         /* order in which the walk met the file */
	const char *path;       /* bytes, NUL-terminated */
	const char *ext;        /* extension without the dot, "" when none */
	bool is_blockdev;
	struct stat st;
	struct timespec opened_at; /* CLOCK_REALTIME just before the open: st's age is judged against it */
	bool noatime;           /* opened with O_NOATIME (access time kept) */
	bool direct;            /* O_DIRECT was used */
	uint64_t size;          /* bytes to read (st_size, or device size) */
	uint64_t bytes_read;
	bool complete;          /* every byte was read and hashed */
	char xxh128[33];        /* lowercase hex, as xxhsum -H2 prints it */
	char crypto[HASH_COUNT][HASH_HEX_MAX]; /* --hash digests, "" when not asked */
	uint32_t sector_size;
	uint64_t sector_count;
	uint64_t zero_sectors;
	char sector_list_xxh128[33];
	char sector_file[4096]; /* path of the sector-hash list, "" when none */
	struct ident ident;
	struct tsk_result tsk;  /* the workers' answer: The Sleuth Kit's, and what is
				 * inside a compressed file or container (tsk.inside) */
	bool inside_asked;      /* tsk.inside was asked for before streaming (inspection) */
	struct verdict verdict;
	const struct walk_media *media; /* evidence media of several files (walk.h): its segments; NULL */
	char (*seg_xxh128)[33];  /* media: each segment's XXH128, "" when not wholly read */
	struct scan_error errors[RESULT_MAX_ERRORS];
	int nerrors;
	double seconds;
	double buffer_wait;     /* seconds its read blocks waited, ready, for a hashing thread */
};

/* Record an error (keeps the first RESULT_MAX_ERRORS). */
void result_add_error(struct image_result *r, const char *stage, int err, uint64_t offset,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Entries the walk met that are not scanned as images. */
enum skip_reason { SKIP_NOT_IMAGE, SKIP_SYMLINK, SKIP_SPECIAL, SKIP_WALK_ERROR };

struct skipped_entry {
	const char *path;
	enum skip_reason reason;
	mode_t mode;
	int err;
	const char *message;
};

#endif
