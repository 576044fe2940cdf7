/*
 * rename_check.c - the checks before a file is touched (see rename_check.h).
 */
#include "rename_check.h"
#include "../scanner/hasher.h"
#include "../scanner/open_noatime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int split_path(const char *abs, char **dir, const char **name)
{
	const char *slash = strrchr(abs, '/');

	if (!slash || !slash[1])
		return -1;
	*name = slash + 1;
	*dir = slash == abs ? strdup("/") : strndup(abs, (size_t)(slash - abs));
	return *dir ? 0 : -1;
}

/* Is path root, or under it? */
static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return true;
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

/* Absolute, and no empty, "." or ".." component: what it names is where
 * it says once opened without following a symlink. */
static bool canonical(const char *dir)
{
	const char *p = dir;

	if (dir[0] != '/')
		return false;
	if (!dir[1])
		return true;
	while (*p == '/') {
		const char *next = strchr(p + 1, '/');
		size_t n = next ? (size_t)(next - p - 1) : strlen(p + 1);
		if (n == 0 || (n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
			return false;
		p += n + 1;
	}
	return true;
}

/* Is root a file directly in dir, named name (any name when NULL)? */
static bool file_root_in(const char *dir, const char *name, const char *root)
{
	const char *slash = strrchr(root, '/');
	size_t n;

	if (!slash || !slash[1])
		return false;
	n = slash == root ? 1 : (size_t)(slash - root);
	return strlen(dir) == n && !strncmp(dir, root, n) && (!name || !strcmp(slash + 1, name));
}

bool place_under_roots(const char *dir, const char *name, char *const *roots, size_t nroots)
{
	bool ok = false;

	if (!canonical(dir))
		return false;
	for (size_t i = 0; i < nroots && !ok; i++)
		ok = under(dir, roots[i]) || file_root_in(dir, name, roots[i]);
	return ok;
}

int open_dir_nofollow(const char *dir)
{
	char *copy = strdup(dir), *save = NULL, *part;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), next;

	if (!copy || fd < 0 || dir[0] != '/') {
		int e = !copy ? ENOMEM : fd < 0 ? errno : EINVAL;
		free(copy);
		if (fd >= 0)
			close(fd);
		return -e;
	}
	for (part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0) {
			free(copy);
			return -e;
		}
		fd = next;
	}
	free(copy);
	return fd;
}

int open_dir_under_roots(const char *dir, const char *name, char *const *roots, size_t nroots, char *why,
			 size_t len)
{
	char *real = realpath(dir, NULL);
	int fd;

	if (!real) {
		snprintf(why, len, "its directory cannot be resolved: %s", strerror(errno));
		return errno == ENOMEM ? -2 : -1;
	}
	if (!place_under_roots(real, name, roots, nroots)) {
		snprintf(why, len, "its directory is not under the scanned roots (a symlink out of the tree?)");
		free(real);
		return -1;
	}
	fd = open_dir_nofollow(real);
	free(real);
	if (fd < 0)
		snprintf(why, len, "its directory cannot be opened without following a symlink: %s", strerror(-fd));
	return fd < 0 ? -1 : fd;
}

void stamp_of(const struct stat *st, struct file_stamp *out)
{
	out->known = true;
	out->dev = st->st_dev;
	out->ino = st->st_ino;
	out->size = (uint64_t)st->st_size;
	out->mtime = st->st_mtim;
}

static const char *type_name(mode_t m)
{
	return S_ISLNK(m) ? "a symlink" : S_ISDIR(m) ? "a directory" : S_ISBLK(m) ? "a block device"
		: S_ISCHR(m) ? "a character device" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : "not a file";
}

/* 0 when st has want's stamp, else 1 with why. */
static int same_stamp(const struct stat *st, const struct file_stamp *want, char *why, size_t len)
{
	if (!S_ISREG(st->st_mode))
		return snprintf(why, len, "it is now %s, not a regular file", type_name(st->st_mode)), 1;
	if ((uint64_t)st->st_dev != want->dev || (uint64_t)st->st_ino != want->ino)
		return snprintf(why, len, "another file is there now (device/inode %llu/%llu, not %llu/%llu)",
				(unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
				(unsigned long long)want->dev, (unsigned long long)want->ino), 1;
	if ((uint64_t)st->st_size != want->size)
		return snprintf(why, len, "its size changed (%llu bytes, not %llu)", (unsigned long long)st->st_size,
				(unsigned long long)want->size), 1;
	if (st->st_mtim.tv_sec != want->mtime.tv_sec || st->st_mtim.tv_nsec != want->mtime.tv_nsec)
		return snprintf(why, len, "its mtime changed"), 1;
	return 0;
}

int check_stamp(int dirfd, const char *name, const struct file_stamp *want, struct stat *got, char *why,
		size_t len)
{
	if (fstatat(dirfd, name, got, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return same_stamp(got, want, why, len);
}

static int open_noatime(int dirfd, const char *name)
{
	return openat_noatime(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, NULL);
}

/* XXH128 of the open file, as xxhsum -H2 prints it.  0 or -errno. */
static int digest_fd(int fd, char hex[33])
{
	void *st = hash_state_new();
	unsigned char *buf = malloc(1 << 20);
	ssize_t n;
	int rc = 0;

	if (!st || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	hash_state_reset(st);
	while ((n = read(fd, buf, 1 << 20)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		hash_state_update(st, buf, (size_t)n);
	}
	hash_state_hex(st, hex);
out:
	hash_state_free(st);
	free(buf);
	return rc;
}

int check_digest(int dirfd, const char *name, const struct file_stamp *want, const char *xxh128, char *why,
		 size_t len)
{
	int fd = open_noatime(dirfd, name), rc;
	struct stat st;
	char hex[33];

	if (fd < 0)
		return fd;
	if (fstat(fd, &st))
		rc = -errno;
	else if ((rc = same_stamp(&st, want, why, len)) == 0 && (rc = digest_fd(fd, hex)) == 0 && strcmp(hex, xxh128))
		rc = 1, snprintf(why, len, "its XXH128 changed (%s, not %s)", hex, xxh128);
	close(fd);
	return rc;
}
