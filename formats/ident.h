/*
 * ident.h - what identification found in one image: the hits of our own
 * probes (every match is kept: ISO 9660 and UDF share a disc), the partition
 * table, and what The Sleuth Kit said.  Plain structs: report/ turns them into
 * JSON, verdict.c turns them into a kind and findings.
 */
#ifndef IMGSCAN_IDENT_H
#define IMGSCAN_IDENT_H

#include "ewf_acq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDENT_MAX_HITS 24
#define IDENT_MAX_PARTS 32
#define TSK_MAX_PARTS 64
#define TSK_MAX_FS 32
#define TSK_MAX_ERRORS 4

/* A size from disk that overflows 64 bits (blocks x block size, a shift,
 * a sum): it claims more bytes than any disk has.  Kept saturated, never
 * wrapped, so the verdict reports it (probe.h has the helpers). */
#define SIZE_OVERFLOW UINT64_MAX

enum hit_class {
	HIT_OPTICAL,     /* ISO 9660, UDF, El Torito */
	HIT_RAWCD,       /* 2352/2336-byte sector CD image */
	HIT_PTABLE,      /* MBR, GPT */
	HIT_FS,          /* a file system */
	HIT_CONTAINER,   /* E01, qcow2, VMDK, VHD, VHDX, VDI, DMG */
	HIT_COMPRESSED,  /* gzip, xz, zstd, bzip2, lz4, zip, 7z */
	HIT_ARCHIVE,     /* tar, cpio: an archive of files, not a disk */
	HIT_BOOT,        /* boot and firmware images conventionally named .img:
			  * android-boot, android-vendor-boot, android-dtbo,
			  * android-vbmeta, android-super, u-boot, fit */
	HIT_ENCRYPTED,   /* luks1, luks2, bitlocker, high-entropy */
};

struct probe_hit {
	/* Every field is plain data (no pointers but desc), so that a worker
	 * process can send hits back: "iso9660", "fat32", "qcow2"... */
	char name[24];
	enum hit_class cls;
	uint64_t offset;        /* where the structure starts in the image */
	uint64_t claimed_size;  /* bytes it says it spans; 0 when unknown;
				 * SIZE_OVERFLOW when more than 64 bits hold */
	uint32_t block_size;
	char label[128];        /* UTF-8, decoded from the format's own encoding */
	/* A second label where the format keeps one (FAT's boot-sector copy
	 * when it differs from the root-directory entry; ISO 9660's Joliet
	 * label): label2_key is its report key ("label_boot_sector",
	 * "label_joliet"), "" when none. */
	char label2[128];
	char label2_key[24];
	char label_codepage[12]; /* the code page an 8-bit label was decoded
				  * from ("cp850"), "" when none */
	char uuid[40];
	char detail[160];       /* format facts: "Joliet, Rock Ridge", "version 3" */
	char tsk_hint[12];      /* TSK file-system name to open it with, "" when none */
	const void *desc;       /* the struct probe_desc that matched; NULL in a
				 * hit a worker sent */
};

struct part_entry {
	uint32_t number;        /* 1-based slot in the table */
	uint64_t start;         /* bytes; SIZE_OVERFLOW past 64 bits */
	uint64_t length;        /* bytes; SIZE_OVERFLOW past 64 bits */
	char type[40];          /* "0x83" or a GPT type GUID */
	char name[40];          /* GPT partition name (ASCII part) */
	bool bootable;
};

struct ident {
	struct probe_hit hits[IDENT_MAX_HITS];
	int nhits;
	bool hits_truncated;
	char scheme[8];         /* "mbr", "gpt" or "" */
	struct part_entry parts[IDENT_MAX_PARTS];
	int nparts;
	uint64_t rawcd_iso_bytes; /* ISO volume size inside a raw CD image */
};

enum tsk_status {
	TSK_NOT_RUN = 0,  /* --no-tsk, or nothing to open */
	TSK_DONE,         /* the worker answered (it may have found nothing) */
	TSK_CRASHED,      /* worker died from a signal */
	TSK_TIMED_OUT,
	TSK_OUT_OF_MEMORY,
	TSK_WORKER_ERROR, /* could not start or talk to a worker */
	TSK_STOPPED,      /* the run was stopped (SIGINT/SIGTERM) while it ran */
};

struct tsk_part {
	uint32_t addr;
	uint64_t start, length;  /* bytes */
	char desc[64];
	uint8_t allocated;
};

struct tsk_fs {
	uint64_t offset;
	char type[16];           /* as TSK names it: "fat16", "ext4", "iso9660" */
	char how[8];             /* "hint" (type from our probes) or "detect" */
	uint32_t block_size;
	uint64_t block_count;
	uint64_t last_block;     /* as the file system says */
};

/* What lies inside a compressed file or container (formats/inside.h). */
#define INSIDE_MAX_MEMBERS 16
/* Decompressed bytes our probes see in head mode (UDF's anchor is at 512 KiB
 * on a 2048-byte-block disc; a partition table's partitions start at 1 MiB). */
#define INSIDE_PEEK_BYTES (4u << 20)

enum inside_status {
	INSIDE_NOT_RUN = 0,
	INSIDE_DONE,       /* looked: the fields below say what was found */
	INSIDE_FAILED,     /* could not look (corrupt stream, library error): failure says why */
};

struct inside_member {
	uint32_t ordinal;      /* its place in the archive (0-based), to find it again */
	char name[200];        /* member name as the archive stores it (bytes; may be cut) */
	uint64_t size;
	char what[48];         /* what our probes saw at its start: "iso9660", "mbr, fat16"; "" */
};

struct inside_result {
	int32_t status;        /* enum inside_status */
	char failure[160];
	char layer[16];        /* what was opened: "gzip", "xz", "zstd", "bzip2", "lz4", "zip",
				* "7z", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "android-sparse" */
	uint64_t examined;     /* inner bytes our probes saw */
	uint64_t inner_size;   /* the virtual disk's size, or the decompressed size when known */
	uint8_t inner_size_known;
	uint8_t truncated;     /* the stream or the container ends early (a cut copy) */
	char content[32];      /* what the inner start is when no probe matched:
				* "tar", "cpio", "text", "html", "data"... */
	char magic[160];       /* libmagic's description of it, "" when not asked */
	char mime[64];
	struct ident id;       /* our probes over the inner bytes (offsets are inner) */
	uint8_t tsk_ran;       /* the TSK fields of the enclosing tsk_result are the inner disk's */
	char backing[256];     /* the parent a differencing container names (never opened) */
	uint32_t nmembers;     /* zip, 7z: members listed here */
	uint32_t members_total;/* members in the archive (as far as it was listed) */
	uint8_t members_cut;   /* listing stopped at a limit */
	struct inside_member members[INSIDE_MAX_MEMBERS];
	char xxh128[33];       /* --inside full: XXH128 of the whole inner stream, "" otherwise */
};

/* The worker's whole answer, sent over a pipe as it is (same binary). */
struct tsk_result {
	uint32_t magic;
	int32_t status;          /* enum tsk_status */
	char failure[160];       /* when the worker failed: "crashed: SIGSEGV" */
	char img_type[16];       /* "raw", "ewf", "vmdk", "vhd" */
	uint64_t img_size;       /* media size as TSK sees it (containers) */
	char vs_type[24];        /* "" when no volume system */
	uint32_t vs_block_size;
	uint32_t nparts;
	struct tsk_part parts[TSK_MAX_PARTS];
	uint32_t nfs;
	struct tsk_fs fs[TSK_MAX_FS];
	uint32_t nerrors;
	char errors[TSK_MAX_ERRORS][200];
	struct inside_result inside; /* the "inside" request's answer */
	struct ewf_acquisition acq;  /* an EWF image or media: its acquisition checked (ewf_acq.h) */
};

#endif
