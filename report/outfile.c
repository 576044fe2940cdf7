/*
 * outfile.c - atomic report output (see outfile.h).
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int outfile_open(struct outfile *o, const char *path)
{
	int fd;

	memset(o, 0, sizeof(*o));
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	if (strlen(path) >= sizeof(o->final))
		return -ENAMETOOLONG;
	snprintf(o->final, sizeof(o->final), "%s", path);
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path);
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0644);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		int err = errno;
		close(fd);
		unlink(o->tmp);
		return -err;
	}
	setvbuf(o->f, NULL, _IOFBF, 1 << 16);
	return 0;
}

void outfile_write(struct outfile *o, const char *text, size_t len)
{
	if (!o->err && fwrite(text, 1, len, o->f) != len)
		o->err = errno ? errno : EIO;
}

static void sync_dir(const char *path)
{
	char copy[4096];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int outfile_commit(struct outfile *o)
{
	if (!o->final[0]) {
		if (fflush(o->f) && !o->err)
			o->err = errno;
		return -o->err;
	}
	if (!o->err && (fflush(o->f) || fsync(fileno(o->f))))
		o->err = errno ? errno : EIO;
	if (fclose(o->f) && !o->err)
		o->err = errno ? errno : EIO;
	o->f = NULL;
	if (!o->err && rename(o->tmp, o->final))
		o->err = errno;
	if (o->err) {
		unlink(o->tmp);
		return -o->err;
	}
	sync_dir(o->final);
	return 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->final[0] && o->f) {
		fclose(o->f);
		unlink(o->tmp);
	}
	o->f = NULL;
}
