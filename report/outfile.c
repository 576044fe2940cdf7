/*
 * outfile.c - safe output files (the rules are in outfile.h).
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static mode_t umask_value;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

/* The umask, read without changing it (umask(2) would, for every thread). */
static void read_umask(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	unsigned v;

	umask_value = 022;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &v) == 1) {
			umask_value = (mode_t)v & 0777;
			break;
		}
	fclose(f);
}

mode_t outfile_new_mode(void)
{
	pthread_once(&umask_once, read_umask);
	return 0666 & ~umask_value;
}

/* /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: the descriptor
 * number, else -1.  Such a path names an open descriptor, not a file to
 * replace (and for a pipe or socket, nothing that could be reopened). */
static int fd_path_number(const char *path)
{
	static const char *const prefixes[] = {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"};
	char *end;
	long n;

	if (!strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t len = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], len) || !path[len])
			continue;
		errno = 0;
		n = strtol(path + len, &end, 10);
		if (!*end && !errno && n >= 0 && n <= INT_MAX)
			return (int)n;
	}
	return -1;
}

static int attach_fd(struct outfile *o, int fd)
{
	o->f = fdopen(fd, "w");
	if (!o->f) {
		int err = errno;
		close(fd);
		return -err;
	}
	setvbuf(o->f, NULL, _IOFBF, 1 << 16);
	return 0;
}

/* Write straight into fd (a device, FIFO, socket or inherited descriptor),
 * after refusing what must never be written over. */
static int open_direct(struct outfile *o, int fd)
{
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = errno;
		close(fd);
		return -err;
	}
	if (S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)) {
		close(fd);
		return S_ISBLK(st.st_mode) ? -OUTFILE_EBLOCKDEV : -EISDIR;
	}
	o->how = OUT_DIRECT;
	return attach_fd(o, fd);
}

/* Whether the directory of path is sticky (/tmp-like): there, a file
 * another user made is theirs to make, not ours to hand our report to. */
static bool sticky_dir(const char *path)
{
	char copy[PATH_MAX];
	struct stat st;

	snprintf(copy, sizeof(copy), "%s", path);
	return !stat(dirname(copy), &st) && (st.st_mode & S_ISVTX);
}

/* A character device or FIFO, written in place: opened without following a
 * link and only if it is still the node lstat saw (a symlink swapped in
 * meanwhile must not lead the write into a regular file).  A FIFO blocks
 * here until it has a reader, as a shell redirection does. */
static int open_node(struct outfile *o, const char *path, const struct stat *seen)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	struct stat now;

	if (fd < 0)
		return errno == ELOOP ? -OUTFILE_ECHANGED : -errno;
	if (fstat(fd, &now) || now.st_dev != seen->st_dev || now.st_ino != seen->st_ino ||
	    (now.st_mode & S_IFMT) != (seen->st_mode & S_IFMT)) {
		close(fd);
		return -OUTFILE_ECHANGED;
	}
	return open_direct(o, fd);
}

/* Give the temporary file the mode (and owner) the report should have:
 * those of the file it replaces, never its set-id bits, and never a foreign
 * owner's in a sticky directory; else 0666 less the umask. */
static void set_new_file_mode(int fd, const char *final, const struct stat *replaced)
{
	if (!replaced) {
		fchmod(fd, outfile_new_mode());
		return;
	}
	if (replaced->st_uid != geteuid() && sticky_dir(final)) {
		fchmod(fd, replaced->st_mode & 0666 & ~(mode_t)0022);
		return;
	}
	/* Where we may not set the owner (not root), the file is ours anyway. */
	if (fchown(fd, replaced->st_uid, replaced->st_gid) && errno != EPERM) {
		fchmod(fd, outfile_new_mode());
		return;
	}
	fchmod(fd, replaced->st_mode & 0777);
}

/* Whether an unnamed file could be named "<stem>.xxxxxx" at the commit:
 * decided now, so that nothing fails only after the whole scan (no /proc in
 * a chroot or a minimal container; a name too long for the directory). */
static bool nameable_later(const char *stem)
{
	const char *base = strrchr(stem, '/');

	base = base ? base + 1 : stem;
	return strlen(base) + 7 <= NAME_MAX && access("/proc/self/fd", X_OK) == 0;
}

int outfile_temp_open(const char *dir, const char *stem, char *tmp, size_t len, bool *anon)
{
	int fd = nameable_later(stem) ? open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600) : -1;

	*anon = fd >= 0;
	if (fd >= 0)
		return fd;
	/* No O_TMPFILE here (NFS, FUSE, old kernels): a named one at once. */
	if ((size_t)snprintf(tmp, len, "%s.XXXXXX", stem) >= len)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int outfile_temp_name(int fd, const char *stem, char *tmp, size_t len)
{
	char self[64];
	unsigned r = (unsigned)getpid() ^ (unsigned)(uintptr_t)tmp;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	for (int tries = 0; tries < 100; tries++) {
		r = r * 1103515245u + 12345u + (unsigned)time(NULL);
		if ((size_t)snprintf(tmp, len, "%s.%06x", stem, r & 0xffffff) >= len)
			return -ENAMETOOLONG;
		if (!linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW))
			return 0;
		/* /proc gone since the open: as root, the descriptor names it itself. */
		if (errno == ENOENT && !linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH))
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int dir_of(const char *path, char *dir, size_t len)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	return (size_t)snprintf(dir, len, "%s", dirname(copy)) >= len ? -ENAMETOOLONG : 0;
}

/* The temporary file for final, in final's directory; unnamed where the
 * file system allows it (a kill before the commit leaves nothing). */
static int make_temp(struct outfile *o, const char *final, const struct stat *replaced)
{
	char dir[PATH_MAX], stem[PATH_MAX + 8];
	int fd, rc = dir_of(final, dir, sizeof(dir));

	if (rc)
		return rc;
	snprintf(stem, sizeof(stem), "%s.tmp", final);
	fd = outfile_temp_open(dir, stem, o->tmp, sizeof(o->tmp), &o->anon);
	if (fd < 0)
		return fd;
	set_new_file_mode(fd, final, replaced);
	return fd;
}

/* The regular file (or nothing yet) at final: atomic replacement. */
static int open_atomic(struct outfile *o, const char *final, const struct stat *replaced)
{
	int fd;

	if (strlen(final) >= sizeof(o->final))
		return -ENAMETOOLONG;
	snprintf(o->final, sizeof(o->final), "%s", final);
	fd = make_temp(o, final, replaced);
	if (fd < 0)
		return fd;
	o->how = OUT_ATOMIC;
	if (attach_fd(o, fd)) {
		int err = errno;
		if (!o->anon)
			unlink(o->tmp);
		return -err;
	}
	return 0;
}

/* Where a symlink leads, resolved once.  Returns 0 or -errno/-OUTFILE_E*. */
static int resolve_link(const char *path, char *target)
{
	if (realpath(path, target))
		return 0;
	return errno == ENOENT ? -OUTFILE_EDANGLING : -errno;
}

/* What is at path (not following a final symlink): 0 with *st filled,
 * 1 when nothing is there, or -errno. */
static int what_is_there(const char *path, struct stat *st)
{
	if (!lstat(path, st))
		return 0;
	return errno == ENOENT ? 1 : -errno;
}

int outfile_open(struct outfile *o, const char *path)
{
	char target[PATH_MAX];
	struct stat st;
	int fdnum, rc;

	memset(o, 0, sizeof(*o));
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		o->how = OUT_STDOUT;
		return 0;
	}
	fdnum = fd_path_number(path);
	if (fdnum >= 0)
		return open_direct(o, fcntl(fdnum, F_DUPFD_CLOEXEC, 3));
	rc = what_is_there(path, &st);
	if (rc == 0 && S_ISLNK(st.st_mode)) {
		rc = resolve_link(path, target);
		if (rc)
			return rc;
		path = target;
		rc = what_is_there(path, &st);
	}
	if (rc < 0)
		return rc;
	if (rc == 1)
		return open_atomic(o, path, NULL);
	if (S_ISREG(st.st_mode))
		return open_atomic(o, path, &st);
	if (S_ISBLK(st.st_mode))
		return -OUTFILE_EBLOCKDEV;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISSOCK(st.st_mode))
		return -OUTFILE_ESOCKET;
	return open_node(o, path, &st);
}

void outfile_write(struct outfile *o, const char *text, size_t len)
{
	if (!o->err && fwrite(text, 1, len, o->f) != len)
		o->err = errno ? errno : EIO;
}

void outfile_flush_stream(struct outfile *o)
{
	if (!o->err && o->how != OUT_ATOMIC && fflush(o->f))
		o->err = errno ? errno : EIO;
}

int outfile_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void outfile_sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Put tmp at final without ever replacing anything but a regular file:
 * when nothing is there, a rename that refuses to replace; when something
 * is, an atomic exchange, after which what came out (now at tmp's name) must
 * be a regular file, else it is exchanged back and left alone.  Where the
 * file system has no renameat2 flags, a check and a rename (a small race). */
static bool no_rename_flags(int err)
{
	return err == EINVAL || err == ENOSYS; /* a file system or a sandbox without renameat2 flags */
}

static int rename_over_regular(const char *tmp, const char *final)
{
	struct stat st;
	int rc = what_is_there(final, &st);

	if (rc < 0)
		return rc;
	if (rc == 1 && !renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE))
		goto done;
	if (rc == 1 && errno != EEXIST && !no_rename_flags(errno))
		return -errno;
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE)) {
		if (lstat(tmp, &st) && errno == ENOENT)
			goto done; /* the flag was ignored (some FUSE): a plain rename happened */
		if (!S_ISREG(st.st_mode)) {
			if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE))
				return -OUTFILE_ESTUCK; /* the node sits at tmp's name: never unlinked */
			return -OUTFILE_ECHANGED;
		}
		unlink(tmp); /* the replaced report */
		goto done;
	}
	if (!no_rename_flags(errno) && errno != ENOENT)
		return -errno;
	rc = what_is_there(final, &st); /* no renameat2 here: check, then rename */
	if (rc < 0)
		return rc;
	if (rc == 0 && !S_ISREG(st.st_mode))
		return -OUTFILE_ECHANGED;
	if (rename(tmp, final))
		return -errno;
done:
	outfile_sync_dir(final);
	return 0;
}

int outfile_rename_regular(const char *tmp, const char *final)
{
	return rename_over_regular(tmp, final);
}

int outfile_commit(struct outfile *o)
{
	int rc;

	if (o->how != OUT_ATOMIC) {
		if (fflush(o->f) && !o->err)
			o->err = errno ? errno : EIO;
		if (o->how == OUT_DIRECT && fclose(o->f) && !o->err)
			o->err = errno ? errno : EIO;
		o->f = NULL;
		return -o->err;
	}
	if (!o->err && (fflush(o->f) || fsync(fileno(o->f))))
		o->err = errno ? errno : EIO;
	if (!o->err && o->anon) { /* named only now, right before the rename */
		char stem[PATH_MAX + 8];
		snprintf(stem, sizeof(stem), "%s.tmp", o->final);
		rc = outfile_temp_name(fileno(o->f), stem, o->tmp, sizeof(o->tmp));
		if (rc)
			o->err = -rc;
		else
			o->anon = false;
	}
	if (fclose(o->f) && !o->err)
		o->err = errno ? errno : EIO;
	o->f = NULL;
	rc = o->err ? -o->err : rename_over_regular(o->tmp, o->final);
	if (rc && rc != -OUTFILE_ESTUCK && !o->anon)
		unlink(o->tmp);
	return rc;
}

void outfile_abort(struct outfile *o)
{
	if (o->f && o->how == OUT_ATOMIC) {
		fclose(o->f);
		if (!o->anon)
			unlink(o->tmp);
	} else if (o->f && o->how == OUT_DIRECT) {
		fclose(o->f);
	}
	o->f = NULL;
}

/* Copy a finished temporary file into a new one at final, atomically. */
static int copy_into(const char *tmp, const char *final)
{
	struct outfile o;
	char buf[1 << 16];
	size_t n;
	FILE *in;
	int rc = outfile_open(&o, final);

	if (rc)
		return rc;
	in = fopen(tmp, "rb");
	if (!in) {
		rc = -errno;
		outfile_abort(&o);
		return rc;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		outfile_write(&o, buf, n);
	if (ferror(in) && !o.err)
		o.err = EIO;
	fclose(in);
	return outfile_commit(&o);
}

static bool same_dir(const char *a, const char *b)
{
	char ca[PATH_MAX], cb[PATH_MAX];
	struct stat sa, sb;

	snprintf(ca, sizeof(ca), "%s", a);
	snprintf(cb, sizeof(cb), "%s", b);
	return !stat(dirname(ca), &sa) && !stat(dirname(cb), &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int outfile_place(const char *tmp, const char *final)
{
	char target[PATH_MAX];
	struct stat st;
	int rc = what_is_there(final, &st);

	if (rc == 0 && S_ISLNK(st.st_mode)) {
		rc = resolve_link(final, target);
		if (rc == 0) {
			final = target;
			rc = what_is_there(final, &st);
		}
	}
	if (rc == 0 && !S_ISREG(st.st_mode))
		rc = S_ISBLK(st.st_mode) ? -OUTFILE_EBLOCKDEV : -OUTFILE_ENOTREG;
	if (rc == 1 || rc == 0) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			set_new_file_mode(fd, final, rc == 0 ? &st : NULL);
			close(fd);
		}
		/* A symlink's target may be in another directory: a copy there. */
		rc = same_dir(tmp, final) ? rename_over_regular(tmp, final) : copy_into(tmp, final);
	}
	if (rc != -OUTFILE_ESTUCK)
		unlink(tmp); /* gone after a rename; removed after a copy or a failure */
	return rc;
}

int outfile_check_fd_path(const char *path)
{
	int n = path ? fd_path_number(path) : -1, flags;

	if (n < 0)
		return 0;
	flags = fcntl(n, F_GETFL);
	return flags < 0 || (flags & O_ACCMODE) == O_RDONLY ? -EBADF : 0;
}

const char *outfile_strerror(int err)
{
	switch (err) {
	case EBADF: return "names no descriptor imgscan was given open for writing";
	case OUTFILE_EBLOCKDEV: return "is a block device: a report is never written over a disk";
	case OUTFILE_EDANGLING: return "is a symlink to nothing (the link is left as it is)";
	case OUTFILE_ECHANGED: return "changed while it was being opened or replaced (left as it is)";
	case OUTFILE_ESOCKET: return "is a socket: imgscan does not connect to sockets (use a FIFO or a /dev/fd path)";
	case OUTFILE_ESTUCK: return "changed while it was being replaced, and could not be put back: it is now beside it, under the temporary name";
	case OUTFILE_ENOTREG: return "is not a regular file (a device, FIFO or socket): a file imgscan names itself is never written there";
	case EISDIR: return "is a directory";
	default: return strerror(err);
	}
}

bool outfile_is_usage_error(int err)
{
	return err == OUTFILE_EBLOCKDEV || err == EISDIR || err == OUTFILE_EDANGLING || err == OUTFILE_ESOCKET ||
	       err == EBADF;
}
