/*
 * convert_input.c - IN for `imgscan convert`: a raw image, or a cue sheet
 * followed to its BIN.  Both are opened read-only and with O_NOATIME (an
 * archive's access times are evidence too; EPERM, a file we do not own,
 * retries without).  The BIN is looked for in the sheet's own directory,
 * under the name the sheet gives (an absolute name or one with a ".."
 * part is refused: a sheet does not send us elsewhere); a sheet written on
 * Windows may name "DISC.BIN" for disc.bin, so a name not found exactly is
 * looked up once more ignoring case, when exactly one name matches.
 */
#include "convert.h"
#include "cue_sheet.h"
#include "../config/options.h"
#include "../report/pathenc.h"
#include "../scanner/open_noatime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* O_NONBLOCK: a FIFO (or a tape, a serial line) named as IN or as the
 * sheet's BIN must not block the open; the caller's fstat then refuses
 * what is not a regular file.  The flag is cleared for the reads. */
static int open_readonly(int dirfd, const char *name)
{
	int fd = openat_noatime(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, NULL), fl;

	if (fd < 0)
		return fd;
	fl = fcntl(fd, F_GETFL); /* O_NOATIME kept: F_SETFL would clear it */
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Say on stderr why path is refused; returns EXIT_ERRORS. */
static int refuse(const char *path, const char *why)
{
	char *shown = term_escaped(path);

	fprintf(stderr, "imgscan convert: %s: %s\n", shown ? shown : "?", why);
	free(shown);
	return EXIT_ERRORS;
}

static bool ends_with_cue(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && !strcasecmp(path + n - 4, ".cue");
}

/* A name the sheet may give: relative, no "..", not empty. */
static bool name_stays_inside(const char *name)
{
	const char *p = name;

	if (name[0] == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2))
			return false;
		p += n;
		p += *p == '/';
	}
	return true;
}

/* The one entry of dir whose name equals name ignoring case (a bare
 * name, no '/'), into found.  Returns 0, or -ENOENT (none, or several). */
static int find_ignoring_case(int dirfd, const char *name, char *found, size_t len)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), matches = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	while ((e = readdir(d)))
		if (!strcasecmp(e->d_name, name) && strlen(e->d_name) < len) {
			snprintf(found, len, "%s", e->d_name);
			matches++;
		}
	closedir(d);
	return matches == 1 ? 0 : -ENOENT;
}

/* Read the sheet at fd (st its stat) and open the BIN it names, relative
 * to the sheet's directory.  Returns the BIN's descriptor or the exit
 * status negated. */
static int follow_cue(const char *cue_path, int fd, const struct stat *st, struct convert_input *in)
{
	char text[CUE_MAX_BYTES], why[400], dir[PATH_MAX], alt[NAME_MAX + 1];
	struct cue_track t;
	ssize_t n = st->st_size > (off_t)CUE_MAX_BYTES ? -1 : pread(fd, text, sizeof(text), 0);
	int dirfd, bin;

	if (n < 0)
		return -refuse(cue_path, st->st_size > (off_t)CUE_MAX_BYTES ? "larger than 64 KiB: not a cue sheet"
									    : strerror(errno));
	if (cue_parse(text, (size_t)n, &t, why, sizeof(why)))
		return -refuse(cue_path, why);
	if (!name_stays_inside(t.file))
		return -refuse(cue_path, "its FILE names a path outside the sheet's directory (absolute, or with "
					 "'..'): give the BIN itself as IN");
	in->mode = t.mode;
	snprintf(dir, sizeof(dir), "%s", cue_path);
	dirfd = open(dirname(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -refuse(cue_path, strerror(errno));
	bin = open_readonly(dirfd, t.file);
	if (bin == -ENOENT && !strchr(t.file, '/') && !find_ignoring_case(dirfd, t.file, alt, sizeof(alt))) {
		snprintf(t.file, sizeof(t.file), "%s", alt);
		bin = open_readonly(dirfd, t.file);
	}
	close(dirfd);
	snprintf(dir, sizeof(dir), "%s", cue_path);
	if (!strchr(cue_path, '/') ||
	    (size_t)snprintf(in->raw_path, sizeof(in->raw_path), "%s/%s", dirname(dir), t.file) >= sizeof(in->raw_path))
		snprintf(in->raw_path, sizeof(in->raw_path), "%s", t.file);
	if (bin < 0)
		return -refuse(in->raw_path, strerror(-bin));
	return bin;
}

/* What sector 0 says about the image: sync, mode, address.  Returns 0 or
 * the exit status (said). */
static int check_first_sector(struct convert_input *in)
{
	uint8_t s[24];
	char why[200];
	ssize_t n = pread(in->fd, s, sizeof(s), 0);

	if (n != (ssize_t)sizeof(s))
		return refuse(in->raw_path, n < 0 ? strerror(errno) : "shorter than one sector");
	if (!cd_has_sync(s))
		return refuse(in->raw_path, "sector 0 has no sync pattern: not a raw data track (an audio track "
					   "has none; an ISO image is 2048-byte sectors already)");
	if (!in->from_cue && (s[15] == 1 || s[15] == 2))
		in->mode = s[15] == 1 ? CD_MODE1 : CD_MODE2_FORM1;
	if (s[15] != (uint8_t)in->mode) {
		snprintf(why, sizeof(why), "sector 0 is mode %u%s: only MODE1/2352 and MODE2/2352 Form 1 convert",
			 s[15], in->from_cue ? ", not the cue sheet's" : "");
		return refuse(in->raw_path, why);
	}
	if (in->mode == CD_MODE2_FORM1 && (s[18] & s[22] & 0x20))
		return refuse(in->raw_path, "sector 0 is Mode 2 Form 2 (XA, mixed data): not an ISO 9660 data track");
	in->first_frames = cd_msf_frames(s + 12);
	return 0;
}

int convert_input_open(const char *path, struct convert_input *in)
{
	char why[200];
	int fd, rc;

	memset(in, 0, sizeof(*in));
	in->fd = -1;
	snprintf(in->raw_path, sizeof(in->raw_path), "%s", path);
	fd = open_readonly(AT_FDCWD, path);
	if (fd < 0)
		return refuse(path, strerror(-fd));
	if (fstat(fd, &in->st) || !S_ISREG(in->st.st_mode)) {
		close(fd);
		return refuse(path, "not a regular file");
	}
	if (ends_with_cue(path)) {
		in->from_cue = true;
		in->cue_st = in->st;
		rc = follow_cue(path, fd, &in->cue_st, in);
		close(fd);
		if (rc < 0)
			return -rc;
		fd = rc;
		if (fstat(fd, &in->st) || !S_ISREG(in->st.st_mode)) {
			close(fd);
			return refuse(in->raw_path, "not a regular file");
		}
	}
	in->fd = fd;
	if (in->st.st_size == 0 || in->st.st_size % CD_RAW_SECTOR) {
		snprintf(why, sizeof(why), "%lld bytes, not a whole number of 2352-byte sectors (%lld bytes over): "
			 "not a raw CD image, or one cut short", (long long)in->st.st_size,
			 (long long)(in->st.st_size % CD_RAW_SECTOR));
		convert_input_close(in);
		return refuse(in->raw_path, in->st.st_size ? why : "empty");
	}
	in->sectors = (uint64_t)in->st.st_size / CD_RAW_SECTOR;
	rc = check_first_sector(in);
	if (rc)
		convert_input_close(in);
	return rc;
}

void convert_input_close(struct convert_input *in)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
}
