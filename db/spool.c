/*
 * spool.c - a report's stream, pipes read to their end first (spool.h).
 * The temporary file is made with O_TMPFILE in $TMPDIR (or /tmp): it has
 * no name, nobody else can open it, and it is gone when load exits.
 */
#include "spool.h"
#include "../report/outfile.h"
#include "../verify/report_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int temp_fd(char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!dir || dir[0] != '/')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		snprintf(err, errlen, "cannot make a temporary file in %s to hold the piped report: %s", dir,
			 strerror(errno));
	return fd;
}

/* Copy in to out until the end of in. */
static int copy_all(int in, int out, char *err, size_t errlen)
{
	static char buf[1 << 16];
	ssize_t n;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return snprintf(err, errlen, "cannot read it: %s", strerror(errno)), -1;
		}
		int rc = outfile_write_all(out, buf, (size_t)n);

		if (rc)
			return snprintf(err, errlen, "cannot keep the piped report in a temporary file: %s",
					strerror(-rc)), -1;
	}
}

static FILE *spool_fd(int in, char *err, size_t errlen)
{
	int tmp = temp_fd(err, errlen);
	FILE *f;

	if (tmp < 0)
		return NULL;
	if (copy_all(in, tmp, err, errlen) || lseek(tmp, 0, SEEK_SET) != 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot rewind the temporary file: %s", strerror(errno));
		close(tmp);
		return NULL;
	}
	if (!(f = fdopen(tmp, "r"))) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(tmp);
	}
	return f;
}

FILE *spool_open(const char *path, bool *spooled, char *err, size_t errlen)
{
	FILE *in, *f;
	struct stat st;

	*spooled = false;
	err[0] = '\0';
	if (!(in = report_open_stream(path, err, errlen)))
		return NULL;
	if (fstat(fileno(in), &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		f = NULL;
	} else if (!S_ISREG(st.st_mode)) {
		*spooled = true;
		f = spool_fd(fileno(in), err, errlen);
	} else if (in != stdin) {
		return in;
	} else { /* a regular file on stdin: a stream of our own to close, stdin stays */
		int fd = dup(STDIN_FILENO);

		if (fd < 0 || !(f = fdopen(fd, "r"))) {
			snprintf(err, errlen, "%s", strerror(errno));
			if (fd >= 0)
				close(fd);
			f = NULL;
		}
	}
	if (in != stdin)
		fclose(in);
	return f;
}
