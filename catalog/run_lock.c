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

/* The lock file, opened read-write only once it is known to be a regular
 * file with no other name: imgscan runs as root, and FILE.lock could be a
 * hard link to someone's file, a device or a FIFO.  It is pinned with
 * O_PATH (which opens nothing), checked, then reopened through /proc, so
 * what is checked is what is opened.  Returns the descriptor or -errno
 * (-EINVAL: not a regular file, or not its only name). */
static int open_lock_file(const char *path)
{
	char proc[64];
	struct stat st;
	int pin, fd;

	for (int tries = 0; tries < 8; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0)
			return fd; /* made here: nobody else's */
		if (errno != EEXIST)
			return -errno;
		pin = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (pin < 0 && errno == ENOENT)
			continue; /* removed meanwhile: make it again */
		if (pin < 0)
			return -errno;
		if (fstat(pin, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
			close(pin);
			return -EINVAL;
		}
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pin);
		fd = open(proc, O_RDWR | O_NOCTTY | O_CLOEXEC);
		close(pin);
		return fd >= 0 ? fd : errno == ENOENT ? -ENOSYS : -errno; /* ENOSYS: no /proc */
	}
	return -EAGAIN;
}

int run_lock_take(const char *catalog_path, bool wait, struct run_lock *l, char *holder, size_t holder_len)
{
	int fd;

	l->fd = -1;
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s.lock", catalog_path) >= sizeof(l->path))
		return -ENAMETOOLONG;
	fd = open_lock_file(l->path);
	if (fd < 0)
		return fd;
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
