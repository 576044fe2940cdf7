/*
 * convert.c - the copy of `imgscan convert`: IN read with pread in blocks
 * of 448 raw sectors (about 1 MiB), every sector checked, its 2048 bytes of
 * user data written to OUT's temporary file and hashed (XXH128) as they go,
 * then OUT put in place, identified and its digest printed in the line
 * `xxhsum -H2` prints, so that `xxhsum -c` can check it later.
 *
 * A bad sector does not stop the copy: its user data is copied as read
 * (it may well be right: a broken sync or address says nothing about the
 * data), it is named on stdout, and the exit status is 1.  What cannot be
 * converted faithfully stops it and leaves no OUT: a Form 2 sector (mixed
 * XA data, whose 2324-byte sectors an ISO image cannot hold), a read error,
 * IN changing while read.
 */
#include "convert.h"
#include "../config/options.h"
#include "../report/outfile.h"
#include "../report/pathenc.h"
#include "../scanner/hasher.h"
#include "../scanner/page_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_SECTORS 448u /* 448 x 2352 = 1,053,696 bytes a read */

static int say(const char *path, const char *why)
{
	char *shown = term_escaped(path);

	fprintf(stderr, "imgscan convert: %s: %s\n", shown ? shown : "?", why);
	free(shown);
	return EXIT_ERRORS;
}

/* len bytes at off, all of them.  Returns 0 or -errno (-EIO at an early end:
 * the file shrank). */
static int read_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	long n = pread_full(fd, buf, len, off);

	return n < 0 ? (int)n : (size_t)n < len ? -EIO : 0;
}

/* The address sector lba should carry: counted from sector 0's own (or
 * from 00:02:00 when sector 0 has none); -1 past what M:S:F can say. */
static int64_t expected_frames(const struct convert_input *in, uint64_t lba)
{
	uint64_t base = in->first_frames >= 0 ? (uint64_t)in->first_frames : CD_LBA0_FRAMES;
	return base + lba > CD_MAX_FRAMES ? -1 : (int64_t)(base + lba);
}

/* Check and extract n sectors of raw (the first is lba) into user. */
static int extract(const struct convert_input *in, const struct convert_options *o, const uint8_t *raw,
		   uint8_t *user, uint64_t lba, unsigned n, struct convert_faults *f)
{
	const unsigned data = cd_user_offset(in->mode);
	char why[160];

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *s = raw + (size_t)i * CD_RAW_SECTOR;
		int64_t expect = expected_frames(in, lba + i);
		unsigned faults = cd_sector_check(s, in->mode, expect, o->ecc);
		if (faults & CD_FORM2) {
			snprintf(why, sizeof(why), "sector %" PRIu64 " is Mode 2 Form 2 (XA, mixed data): an ISO "
				 "image cannot hold it; nothing written", lba + i);
			return say(in->raw_path, why);
		}
		if (faults)
			convert_fault(f, lba + i, faults, s, expect);
		memcpy(user + (size_t)i * CD_USER_DATA, s + data, CD_USER_DATA);
	}
	return 0;
}

/* Every sector of IN into OUT's temporary file.  Returns 0 or the exit
 * status (said). */
static int copy_sectors(const struct convert_input *in, const struct convert_options *o, int out_fd,
			void *hash, struct convert_faults *f)
{
	uint8_t *raw = malloc((size_t)BATCH_SECTORS * CD_RAW_SECTOR), *user = malloc((size_t)BATCH_SECTORS * CD_USER_DATA);
	int rc = raw && user ? 0 : say(in->raw_path, strerror(ENOMEM));

	posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (uint64_t lba = 0; !rc && lba < in->sectors; lba += BATCH_SECTORS) {
		unsigned n = in->sectors - lba < BATCH_SECTORS ? (unsigned)(in->sectors - lba) : BATCH_SECTORS;
		int err = read_full(in->fd, raw, (size_t)n * CD_RAW_SECTOR, lba * CD_RAW_SECTOR);
		if (err) {
			rc = say(in->raw_path, err == -EIO ? "read error, or the file shrank while read" : strerror(-err));
			break;
		}
		rc = extract(in, o, raw, user, lba, n, f);
		if (!rc && (err = outfile_write_all(out_fd, user, (size_t)n * CD_USER_DATA)))
			rc = say(o->out, strerror(-err));
		if (!rc)
			hash_state_update(hash, user, (size_t)n * CD_USER_DATA);
	}
	free(raw);
	free(user);
	return rc;
}

/* IN must be as it was when opened: a copy of a file being written is no
 * copy of it. */
static int unchanged_since_open(const struct convert_input *in)
{
	struct stat now;

	if (fstat(in->fd, &now))
		return say(in->raw_path, strerror(errno));
	if (now.st_size != in->st.st_size || now.st_mtim.tv_sec != in->st.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != in->st.st_mtim.tv_nsec)
		return say(in->raw_path, "changed while it was read: nothing written");
	return 0;
}

/* "input: ..." and, when sector 0 is not at 00:02:00, why that matters.
 * Returns 1 for that finding, else 0. */
static int print_input(const struct convert_input *in, const char *in_arg)
{
	char *raw = term_escaped(in->raw_path), *arg = term_escaped(in_arg), at[12];

	printf("input: %s: %s, %" PRIu64 " sectors", raw ? raw : "?",
	       in->mode == CD_MODE1 ? "MODE1/2352" : "MODE2/2352 Form 1", in->sectors);
	if (in->from_cue)
		printf(" (the cue sheet %s's track)", arg ? arg : "?");
	putchar('\n');
	free(raw);
	free(arg);
	if (in->first_frames < 0 || (uint32_t)in->first_frames == CD_LBA0_FRAMES)
		return 0;
	cd_frames_text((uint32_t)in->first_frames, at);
	printf("input: sector 0's address is %s, not 00:02:00: the image does not start at the disc's first "
	       "sector (the volume's block numbers count from there)\n", at);
	return 1;
}

/* The digest line as xxhsum -H2 writes it ("<hex>  <name>"); a name with a
 * backslash, newline or CR is escaped with a leading backslash, the way
 * xxhsum 0.8.2 and coreutils do, so one file stays one line. */
static void print_digest(const char *hex, const char *name)
{
	bool escape = strpbrk(name, "\\\n\r") != NULL;

	printf("%s%s  ", escape ? "\\" : "", hex);
	for (const char *p = name; *p; p++)
		if (escape && (*p == '\\' || *p == '\n' || *p == '\r'))
			printf("\\%c", *p == '\\' ? '\\' : *p == '\n' ? 'n' : 'r');
		else
			putchar(*p);
	putchar('\n');
}

static int finish(const struct convert_options *o, struct convert_output *out, void *hash, int findings)
{
	char hex[33], *shown;
	int rc = convert_output_commit(out);

	if (rc)
		return rc;
	hash_state_hex(hash, hex);
	shown = term_escaped(o->out);
	printf("output: %s: %lld bytes written\n", shown ? shown : "?", (long long)out->placed.st_size);
	free(shown);
	rc = convert_volume_report(o->out, &out->placed);
	if (rc < 0)
		say(o->out, strerror(-rc));
	print_digest(hex, o->out);
	if (fflush(stdout))
		return EXIT_ERRORS;
	return rc < 0 ? EXIT_ERRORS : (rc || findings) ? EXIT_FINDINGS : EXIT_CLEAN;
}

int convert_run(const struct convert_options *o)
{
	struct convert_faults faults = {.max_listed = o->max_listed, .quiet = o->quiet};
	struct convert_input in;
	struct convert_output out;
	void *hash;
	int rc, findings;

	cd_edc_init();
	rc = convert_input_open(o->in, &in);
	if (rc)
		return rc;
	rc = convert_output_open(o, &in, &out);
	hash = rc ? NULL : hash_state_new();
	if (!rc && !hash)
		rc = say(o->out, strerror(ENOMEM));
	if (hash)
		hash_state_reset(hash); /* a new state holds no seed yet */
	if (rc) {
		convert_output_abort(&out);
		convert_input_close(&in);
		return rc;
	}
	findings = print_input(&in, o->in);
	rc = copy_sectors(&in, o, out.fd, hash, &faults);
	if (!rc)
		rc = unchanged_since_open(&in);
	convert_input_close(&in);
	if (rc) {
		fflush(stdout);
		convert_output_abort(&out);
	} else {
		convert_faults_summary(&faults, in.sectors);
		rc = finish(o, &out, hash, findings || faults.bad);
	}
	hash_state_free(hash);
	return rc;
}
