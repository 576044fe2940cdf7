/*
 * convert_output.c - OUT for `imgscan convert`.  A converted image is a
 * new file: it is written beside OUT under a temporary name (unnamed where
 * the file system allows, so a kill leaves nothing), fsynced, and put in
 * place by a rename that never replaces anything, or with --force one that
 * replaces only a regular file (report/outfile.h's checked exchange).  OUT
 * as a symlink is refused even with --force: the link is not ours to write
 * through, nor to replace by a file.  Devices, FIFOs, sockets and
 * directories are refused, and so is IN itself (--force would destroy the
 * raw image the ISO came from).
 */
#include "convert.h"
#include "../config/options.h"
#include "../report/outfile.h"
#include "../report/pathenc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int say(const char *path, const char *why, int status)
{
	char *shown = term_escaped(path);

	fprintf(stderr, "imgscan convert: %s: %s\n", shown ? shown : "?", why);
	free(shown);
	return status;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* What is at OUT: nothing, or a regular file --force lets us replace.
 * Returns 0 (*replaced filled when something is there, mode kept) or the
 * exit status, said. */
static int check_target(const struct convert_options *o, const struct convert_input *in, struct stat *replaced,
			bool *exists)
{
	const char *p = o->out;

	*exists = false;
	if (lstat(p, replaced))
		return errno == ENOENT ? 0 : say(p, strerror(errno), EXIT_ERRORS);
	if (S_ISLNK(replaced->st_mode))
		return say(p, "is a symlink: convert never writes through one nor replaces it "
			      "(name the file itself, or remove the link)", EXIT_USAGE);
	if (S_ISDIR(replaced->st_mode))
		return say(p, "is a directory", EXIT_USAGE);
	if (!S_ISREG(replaced->st_mode))
		return say(p, "is a device, FIFO or socket: never replaced", EXIT_USAGE);
	if (same_file(replaced, &in->st) || (in->from_cue && same_file(replaced, &in->cue_st)))
		return say(p, "is the input itself: never replaced by its conversion", EXIT_USAGE);
	if (!o->force)
		return say(p, "exists (--force replaces a regular file)", EXIT_USAGE);
	*exists = true;
	return 0;
}

/* The temporary file's name stem: "<OUT>.tmp", or "<OUT's dir>/.convert.tmp"
 * when OUT's own name leaves no room in NAME_MAX for ".tmp.XXXXXX" (a
 * 250-byte name is a valid OUT).  Returns 0 or -ENAMETOOLONG. */
static int temp_stem(const char *final, char *stem, size_t len)
{
	const char *base = strrchr(final, '/');
	size_t dir_len = base ? (size_t)(base - final) + 1 : 0;

	base = base ? base + 1 : final;
	if (strlen(base) + sizeof(".tmp.XXXXXX") - 1 <= NAME_MAX)
		return (size_t)snprintf(stem, len, "%s.tmp", final) >= len ? -ENAMETOOLONG : 0;
	return (size_t)snprintf(stem, len, "%.*s.convert.tmp", (int)dir_len, final) >= len ? -ENAMETOOLONG : 0;
}

int convert_output_open(const struct convert_options *o, const struct convert_input *in, struct convert_output *out)
{
	char dir[PATH_MAX];
	struct stat replaced;
	bool exists;
	int rc = check_target(o, in, &replaced, &exists);

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->final = o->out;
	if (rc)
		return rc;
	out->replace = exists;
	if (strlen(o->out) >= sizeof(dir) || temp_stem(o->out, out->stem, sizeof(out->stem)))
		return say(o->out, strerror(ENAMETOOLONG), EXIT_ERRORS);
	snprintf(dir, sizeof(dir), "%s", o->out);
	out->fd = outfile_temp_open(dirname(dir), out->stem, out->tmp, sizeof(out->tmp), &out->anon);
	if (out->fd < 0)
		return say(o->out, strerror(-out->fd), EXIT_ERRORS);
	fchmod(out->fd, exists ? replaced.st_mode & 0777 : outfile_new_mode());
	return 0;
}

/* A rename that never replaces; where renameat2's flags are missing, a
 * hard link (which fails on an existing name too) and an unlink. */
static int place_new(const char *tmp, const char *final)
{
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(tmp, final))
		return -errno;
	unlink(tmp);
	return 0;
}

int convert_output_commit(struct convert_output *out)
{
	int rc = 0;

	if (fsync(out->fd) || fstat(out->fd, &out->placed))
		rc = -errno;
	if (!rc && out->anon) {
		rc = outfile_temp_name(out->fd, out->stem, out->tmp, sizeof(out->tmp));
		out->anon = rc != 0;
	}
	if (close(out->fd) && !rc)
		rc = -errno;
	out->fd = -1;
	if (!rc)
		rc = out->replace ? outfile_rename_regular(out->tmp, out->final) : place_new(out->tmp, out->final);
	if (rc && rc != -OUTFILE_ESTUCK)
		convert_output_abort(out); /* ESTUCK: a node sits at the temporary name, never unlinked */
	if (rc == -EEXIST)
		return say(out->final, "appeared while the image was written: left as it is "
				       "(--force replaces a regular file)", EXIT_USAGE);
	if (rc)
		return say(out->final, outfile_strerror(-rc), EXIT_ERRORS);
	outfile_sync_dir(out->final);
	out->tmp[0] = '\0';
	return 0;
}

void convert_output_abort(struct convert_output *out)
{
	if (out->fd >= 0)
		close(out->fd);
	out->fd = -1;
	if (!out->anon && out->tmp[0])
		unlink(out->tmp);
	out->tmp[0] = '\0';
}
