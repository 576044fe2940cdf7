/*
 * verdict.h - from identification to a kind and findings: what the image
 * really is and what is wrong with its name or its size.  The extension rules
 * come from the configuration, not from code.
 */
#ifndef IMGSCAN_VERDICT_H
#define IMGSCAN_VERDICT_H

#include "ident.h"

#include <stdint.h>

struct imgscan_config;

#define VERDICT_MAX_FINDINGS 8

struct finding {
	const char *code;       /* static: "ISO_NAMED_IMG", "TRUNCATED", ... */
	const char *severity;   /* "info", "low", "medium", "high", "critical" (the media no
	                         * longer matches its acquisition hash) */
	char message[320];
	char suggested_name[512]; /* "" when no rename is suggested */
};

/* What an image is.  Zero is "unreadable", so a verdict never decided (a
 * zeroed struct) reads as unreadable, as the report has always said. */
enum image_kind {
	KIND_UNREADABLE = 0,    /* nothing could be read */
	KIND_OPTICAL,
	KIND_RAWCD,
	KIND_DISK,
	KIND_CONTAINER,
	KIND_COMPRESSED,
	KIND_EMPTY,
	KIND_ZERO,
	KIND_UNRECOGNISED,
	KIND_ARCHIVE,           /* an archive of files (tar, zip of documents), compressed or not */
	KIND_INITRAMFS,         /* a cpio archive, compressed or not: what /boot names .img */
	KIND_BOOT,              /* a boot or firmware image: Android boot, U-Boot, FIT */
	KIND_ENCRYPTED,         /* LUKS, BitLocker: a disk, but locked */
	KIND_HIGH_ENTROPY,      /* no structure, random-looking bytes */
	KIND_OTHER,             /* not an image at all: text, HTML, an executable... */
	KIND_MEDIA,             /* evidence media stored as several files (a split raw or EWF set) */
	KIND_COUNT
};

/* The report's name for a kind: "optical", "raw-cd", ...; "unreadable" for
 * a value out of range. */
const char *image_kind_name(enum image_kind kind);

struct verdict {
	enum image_kind kind_id; /* what the image is; verdict.c decides on this */
	char kind_key[40];      /* naming-rule key: "optical", "container:qcow2" */
	char inner_ext[16];     /* archive, other: the extension its content calls for
				 * ("tar.gz", "html"), "" when none */
	char detail[160];       /* "ISO 9660 + UDF bridge", "MBR disk, FAT32" */
	uint64_t content_bytes; /* what the structures found account for; 0 unknown;
				 * SIZE_OVERFLOW when one claims more than 64 bits hold */
	enum image_kind content_kind; /* media: what its bytes are (disk, optical...) */
	struct finding findings[VERDICT_MAX_FINDINGS];
	int nfindings;
};

/* Media of several files: what the walk and the reads saw of its segments. */
struct verdict_media {
	const char *scheme;     /* "split-raw", "ewf" */
	unsigned segments;
	unsigned gaps;          /* segment numbers missing between the first and the last */
	const char *first_gap;  /* the first one's name: "disk.002" */
	unsigned wrong_sizes;   /* split raw: segments not of the first one's size (the last may be shorter) */
	const char *first_wrong;
	uint64_t first_wrong_size, expected_size;
};

/* What verdict_decide() needs besides identification. */
struct verdict_input {
	const char *basename;   /* the file name, bytes */
	const char *ext;        /* extension without the dot, "" when none */
	uint64_t size;
	bool all_zero;          /* every byte read was zero */
	bool size_known;        /* the whole file was read */
	bool is_device;         /* a block device: its name says nothing of its content */
	const struct verdict_media *media; /* NULL: one file */
};

/* Did The Sleuth Kit find a volume system or a file system? */
bool tsk_found_something(const struct tsk_result *tsk);

/* Is the kind one a disk or disc image has (not an archive, a boot image,
 * another file)? */
bool image_kind_is_image(enum image_kind kind);

/* Add a finding (NULL when the list is full); verdict_media.c's too. */
struct finding *verdict_add_finding(struct verdict *v, const char *code, const char *severity);

/* verdict_media.c: media's kind and findings (its segments), and an EWF
 * acquisition's (media or one file): the stored hashes, bad chunks. */
void verdict_media(const struct verdict_media *m, const struct tsk_result *tsk, struct verdict *v);
void verdict_acquisition(const struct ewf_acquisition *q, struct verdict *v);

void verdict_decide(const struct ident *id, const struct tsk_result *tsk,
		    const struct verdict_input *in, const struct imgscan_config *cfg,
		    struct verdict *out);

#endif
