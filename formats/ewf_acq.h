/*
 * ewf_acq.h - an EWF (E01) acquisition checked as an examiner checks it
 * (issue 13): the media read whole through libewf, hashed (XXH128, and the
 * --hash digests), the MD5 and SHA-1 stored at acquisition time compared
 * with what was computed, the chunks that failed their checksums listed, and
 * the acquisition metadata the E01 holds.  Runs in a worker process (it
 * links libewf); plain data in the answer, sent over the worker's socket.
 */
#ifndef IMGSCAN_EWF_ACQ_H
#define IMGSCAN_EWF_ACQ_H

#include <stdint.h>

#define EWF_ACQ_MAX_BAD 8        /* checksum-error ranges kept (the count is exact) */

enum ewf_acq_status {
	EWF_ACQ_NONE = 0,          /* not asked (all zero: not sent) */
	EWF_ACQ_DONE,              /* opened and read to the end (read errors, if any, in error) */
	EWF_ACQ_OPEN_FAILED,       /* libewf would not open the segments: error says why */
	EWF_ACQ_READ_FAILED,       /* opened, but reading stopped at bytes_read: error says why */
};

/* How the computed digest compares with the stored one. */
enum ewf_acq_match {
	EWF_HASH_NOT_STORED = 0,   /* the E01 holds none of this kind */
	EWF_HASH_MATCH,
	EWF_HASH_MISMATCH,
	EWF_HASH_NOT_COMPUTED,     /* the media could not be read whole */
};

struct ewf_bad_range {
	uint64_t first_sector;
	uint64_t sectors;
};

struct ewf_acquisition {
	int32_t status;                /* enum ewf_acq_status */
	char error[240];
	/* The media. */
	uint64_t media_size;           /* bytes */
	uint32_t bytes_per_sector;
	uint64_t sectors;
	uint64_t bytes_read;           /* of the media, through libewf */
	char format[24];               /* "encase6", "ewf", "smart"... (libewf's format) */
	char compression[24];          /* "none", "fast", "best", "empty-block" */
	uint32_t segments_opened;      /* segment files libewf used */
	/* The header values, as the E01 holds them (UTF-8, "" when absent). */
	char case_number[128];
	char evidence_number[128];
	char examiner[128];
	char description[256];
	char notes[512];
	char acquiry_date[64];
	char system_date[64];
	char acquiry_os[64];
	char acquiry_software[64];
	char acquiry_software_version[64];
	char model[128];
	char serial_number[128];
	/* Digests: stored at acquisition ("" none), computed now (hex, lowercase). */
	char stored_md5[33];
	char stored_sha1[41];
	char md5[33];
	char sha1[41];
	char sha256[65];               /* when --hash asked for it, "" otherwise */
	char xxh128[33];
	int32_t md5_match;             /* enum ewf_acq_match */
	int32_t sha1_match;
	/* Chunks that failed their checksum (libewf's list, in sectors). */
	uint32_t checksum_errors;      /* ranges libewf reported */
	struct ewf_bad_range bad[EWF_ACQ_MAX_BAD];
};

/*
 * Open the segment files at paths[0..n-1] (in order: E01, E02...) with
 * libewf, given the names themselves (no globbing: a renamed segment is
 * opened all the same), read the whole media, and fill out.  want_sha256:
 * compute SHA-256 too (MD5 and SHA-1 are always computed, to compare with
 * the stored ones).  Never prints; out->status and out->error say how it
 * went.  Returns 0, or -ENOMEM when the hashing state could not be made.
 */
int ewf_acq_check(const char *const *paths, int n, int want_sha256, struct ewf_acquisition *out);

#endif
