/*
 * convert.h - `imgscan convert IN OUT`: the 2048-byte user data of every
 * sector of a raw MODE1/2352 or MODE2/2352 Form 1 CD image (or of the BIN a
 * cue sheet names), each sector checked (cd_sector.h), written to OUT
 * atomically, then OUT's volume identified with our probes and its XXH128
 * printed.  The pieces: convert_input.c opens IN and decides the mode,
 * convert_output.c creates and places OUT, convert_faults.c lists the bad
 * sectors, convert_volume.c identifies OUT, convert.c runs the copy.
 */
#ifndef IMGSCAN_CONVERT_H
#define IMGSCAN_CONVERT_H

#include "cd_sector.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* Frozen after parsing (convert_main.c). */
struct convert_options {
	const char *in;       /* a raw image, or a .cue sheet */
	const char *out;      /* the ISO image to write */
	bool force;           /* replace OUT when it is a regular file */
	bool ecc;             /* also check the P/Q parity of every sector */
	bool quiet;           /* no per-sector lines */
	uint64_t max_listed;  /* bad sectors listed one per line; 0: all */
};

/* IN, opened: the raw data and what it holds. */
struct convert_input {
	int fd;                    /* the raw sectors, read-only */
	struct stat st;            /* of the raw file */
	struct stat cue_st;        /* of the cue sheet, when IN is one */
	bool from_cue;
	char raw_path[PATH_MAX];   /* the raw file as named to the user */
	enum cd_mode mode;
	uint64_t sectors;
	int32_t first_frames;      /* sector 0's address, -1 when not BCD */
};

/* Open IN; on refusal or error say why on stderr.  Returns 0, or the exit
 * status (EXIT_ERRORS: cannot read it, or it is nothing this converts). */
int convert_input_open(const char *path, struct convert_input *in);
void convert_input_close(struct convert_input *in);

/* OUT while it is written: a temporary file beside it. */
struct convert_output {
	int fd;
	const char *final;
	char stem[PATH_MAX + 8];   /* "<OUT>.tmp": the temporary file's name stem */
	char tmp[PATH_MAX + 16];   /* its name, once it has one */
	bool anon;                 /* no name yet (O_TMPFILE) */
	bool replace;              /* a regular file is at OUT and --force was given */
	struct stat placed;        /* the written file, for the check after the rename */
};

/* Check what is at OUT (nothing; with --force a regular file that is not
 * IN) and open the temporary file.  Says why on stderr; returns 0 or the
 * exit status (EXIT_USAGE for what OUT may not be, EXIT_ERRORS otherwise). */
int convert_output_open(const struct convert_options *o, const struct convert_input *in, struct convert_output *out);
/* fsync, name, put at OUT (never over anything but what --force allows).
 * Returns 0 or the exit status, said on stderr; the temporary file is gone. */
int convert_output_commit(struct convert_output *out);
void convert_output_abort(struct convert_output *out);

/* The bad sectors, listed as they are found (up to max_listed lines on
 * stdout), counted by kind. */
struct convert_faults {
	uint64_t max_listed, listed, bad;
	uint64_t by_kind[CD_FAULT_KINDS];
	bool quiet;
};
void convert_fault(struct convert_faults *f, uint64_t lba, unsigned faults, const uint8_t *sector,
		   int64_t expect_frames);
/* The closing count: "bad sectors: none" or how many of each kind. */
void convert_faults_summary(const struct convert_faults *f, uint64_t sectors);

/* Identify the volume at path (the written OUT, opened again read-only) and
 * print it.  Returns 0 when it holds an ISO 9660 volume that fits in it, 1
 * when not (said), or -errno when it cannot be read. */
int convert_volume_report(const char *path, const struct stat *expect);

/* The whole command.  Returns the exit status. */
int convert_run(const struct convert_options *o);

#endif
