/*
 * run_lock.c - the catalog's run lock (see run_lock.h).
 */
#include "run_lock.h"
#include "../report/image_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Who holds it, from the file's text: one line, printable. */
static void read_holder(int fd, char *out, size_t len)
{
	ssize_t n = len > 1 ? pread(fd, out, len - 1, 0) : 0;

	if (n <= 0) {
		snprintf(out, len, "a run that has not said who it is yet");
		return;
	}
	out[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\n' || (unsigned char)out[i] < 0x20)
			out[i] = i == n - 1 ? '\0' : ' ';
}

static void write_holder(int fd)
{
	char line[512], when[48], host[256] = "";
	struct timespec now;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	format_utc(when, sizeof(when), now.tv_sec, now.tv_nsec);
	gethostname(host, sizeof(host) - 1);
	n = snprintf(line, sizeof(line), "pid %d, started %s on %s\n", (int)getpid(), when, host);
	if (ftruncate(fd, 0) == 0 && n > 0)
		(void)!pwrite(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, 0);
}

int run_lock_take(const char *catalog_path, bool wait, struct run_lock *l, char *holder, size_t holder_len)
{
	struct stat st;
	int fd;

	l->fd = -1;
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s.lock", catalog_path) >= sizeof(l->path))
		return -ENAMETOOLONG;
	/* O_NOFOLLOW, O_NONBLOCK: never through a symlink, never hung on a FIFO. */
	fd = open(l->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno;
		if (err != EWOULDBLOCK || !wait) {
			if (err == EWOULDBLOCK)
				read_holder(fd, holder, holder_len);
			close(fd);
			return -err;
		}
		if (flock(fd, LOCK_EX)) {
			err = errno;
			close(fd);
			return -err;
		}
	}
	write_holder(fd);
	l->fd = fd;
	return 0;
}

void run_lock_release(struct run_lock *l)
{
	if (l->fd < 0)
		return;
	(void)!ftruncate(l->fd, 0);
	close(l->fd); /* drops the lock */
	l->fd = -1;
}
