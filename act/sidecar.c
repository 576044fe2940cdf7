/*
 * sidecar.c - checksum sidecars and cue sheets that name an image (see
 * sidecar.h).
 */
#include "sidecar.h"
#include "../report/outfile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *const sidecar_suffixes[] = {
	".md5", ".sha1", ".sha256", ".sha512", ".xxh128", ".xxh64", ".xxh3", ".b3",
	".md5sum", ".sha1sum", ".sha256sum", ".sha512sum", NULL,
};

/* A growing output buffer: a NULL p after a failed append. */
struct text {
	char *p;
	size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (!t->p)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *grown = realloc(t->p, cap);
		if (!grown) {
			free(t->p);
			t->p = NULL;
			return;
		}
		t->p = grown;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* A line's name field [start, end) replaced when it is old. */
typedef bool (*name_field_fn)(const char *line, size_t n, const char *old, size_t *start, size_t *end,
			      bool *quote);

/* FILE "name" TYPE, or FILE name TYPE (cue sheets: FILE, any case, after
 * blanks). */
static bool cue_field(const char *line, size_t n, const char *old, size_t *start, size_t *end, bool *quote)
{
	size_t i = 0, olen = strlen(old);

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (n - i < 5 || strncasecmp(line + i, "FILE", 4) || (line[i + 4] != ' ' && line[i + 4] != '\t'))
		return false;
	for (i += 4; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	*quote = i < n && line[i] == '"';
	if (*quote) {
		const char *close = memchr(line + i + 1, '"', n - i - 1);
		*start = i + 1;
		*end = close ? (size_t)(close - line) : n;
	} else {
		*start = i;
		for (*end = i; *end < n && line[*end] != ' ' && line[*end] != '\t' && line[*end] != '\r' &&
				   line[*end] != '\n'; (*end)++)
			;
	}
	return *end - *start == olen && !memcmp(line + *start, old, olen);
}

/* Does the name field line[*start, end) name the image: old itself, or a
 * path ending in /old (a sum made from a directory above: "a/disc.img")?
 * Then *start moves to old's first byte: only the file name is rewritten. */
static bool field_names(const char *line, size_t *start, size_t end, const char *old)
{
	size_t olen = strlen(old);

	if (end < *start + olen || memcmp(line + end - olen, old, olen))
		return false;
	if (end - *start > olen && line[end - olen - 1] != '/')
		return false;
	*start = end - olen;
	return true;
}

/* "<hex>  name", "<hex> *name" (GNU), "ALG (name) = <hex>" (BSD tags); the
 * name may be a path whose last component is the image's. */
static bool sums_field(const char *line, size_t n, const char *old, size_t *start, size_t *end, bool *quote)
{
	size_t i = 0, stop = n;
	const char *open;

	*quote = false;
	while (stop > 0 && (line[stop - 1] == '\n' || line[stop - 1] == '\r'))
		stop--;
	while (i < stop && isxdigit((unsigned char)line[i]))
		i++;
	if (i >= 8 && i + 2 <= stop && line[i] == ' ' && (line[i + 1] == ' ' || line[i + 1] == '*')) {
		*start = i + 2;
		*end = stop;
		return field_names(line, start, *end, old);
	}
	open = memchr(line, '(', stop);
	if (!open || open == line || open[-1] != ' ')
		return false;
	*start = (size_t)(open - line) + 1;
	for (*end = stop; *end >= *start + 4; (*end)--) /* the last ") = ": a name may hold one */
		if (!memcmp(line + *end - 4, ") = ", 4))
			break;
	if (*end < *start + 4)
		return false;
	*end -= 4;
	return field_names(line, start, *end, old);
}

static char *renamed(const char *text, size_t len, const char *old, const char *neu, size_t *outlen,
		     name_field_fn field, bool cue)
{
	struct text t = {.p = malloc(len + 64), .cap = len + 64};
	size_t pos = 0, start, end;
	bool changed = false, quote;

	while (t.p && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) + 1 : len - pos;
		const char *line = text + pos;

		if (field(line, n, old, &start, &end, &quote)) {
			/* An unquoted cue name is written back quoted: the new
			 * name may hold a blank. */
			bool add_quotes = cue && !quote;
			put(&t, line, start);
			if (add_quotes)
				put(&t, "\"", 1);
			put(&t, neu, strlen(neu));
			if (add_quotes)
				put(&t, "\"", 1);
			put(&t, line + end, n - end);
			changed = true;
		} else {
			put(&t, line, n);
		}
		pos += n;
	}
	*outlen = t.p ? t.len : 1;
	if (!changed || !t.p) {
		free(t.p);
		return NULL;
	}
	return t.p;
}

char *cue_renamed(const char *text, size_t len, const char *old, const char *neu, size_t *outlen)
{
	return renamed(text, len, old, neu, outlen, cue_field, true);
}

char *sums_renamed(const char *text, size_t len, const char *old, const char *neu, size_t *outlen)
{
	return renamed(text, len, old, neu, outlen, sums_field, false);
}

int read_small_file(int dirfd, const char *name, char **text, size_t *len, struct stat *st)
{
	struct stat seen;
	ssize_t n;
	int fd, rc = 0;

	*text = NULL;
	/* Looked at before it is opened: opening a device or FIFO is acting
	 * on it (a tape rewinds, a watchdog arms, a FIFO's writer wakes). */
	if (fstatat(dirfd, name, &seen, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISREG(seen.st_mode))
		return -EINVAL;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st))
		rc = -errno;
	else if (!S_ISREG(st->st_mode) || st->st_dev != seen.st_dev || st->st_ino != seen.st_ino)
		rc = -EINVAL;
	else if (st->st_size > SIDECAR_MAX_BYTES)
		rc = -EFBIG;
	else if (!(*text = malloc((size_t)st->st_size + 1)))
		rc = -ENOMEM;
	for (*len = 0; !rc && *len < (size_t)st->st_size; *len += (size_t)n)
		if ((n = read(fd, *text + *len, (size_t)st->st_size - *len)) <= 0) {
			rc = n < 0 ? -errno : -EIO; /* shorter than fstat said: it changed */
			break;
		}
	if (!rc)
		(*text)[*len] = '\0';
	else {
		free(*text);
		*text = NULL;
	}
	close(fd);
	return rc;
}

static bool is_cue_name(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && !strcasecmp(name + n - 4, ".cue");
}

bool rewritable_name(const char *name)
{
	size_t n = strlen(name);

	if (is_cue_name(name))
		return true;
	for (int i = 0; sidecar_suffixes[i]; i++) {
		size_t k = strlen(sidecar_suffixes[i]);
		if (n > k && !strcmp(name + n - k, sidecar_suffixes[i]))
			return true;
	}
	return false;
}

int cue_sheets_naming(int dirfd, const char *old, const char *neu, struct rewrite **out)
{
	int dupfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	struct dirent *e;
	struct rewrite r, *grown;

	*out = NULL;
	if (!d) {
		int e0 = errno;
		if (dupfd >= 0)
			close(dupfd);
		return -e0;
	}
	while ((e = readdir(d))) {
		if (!is_cue_name(e->d_name) || read_small_file(dirfd, e->d_name, &r.old_text, &r.old_len, &r.st))
			continue;
		r.new_text = cue_renamed(r.old_text, r.old_len, old, neu, &r.new_len);
		if (!r.new_text || !(grown = realloc(*out, (size_t)(n + 1) * sizeof(**out))) ||
		    !(r.name = strdup(e->d_name))) {
			free(r.old_text);
			free(r.new_text);
			continue;
		}
		*out = grown;
		(*out)[n++] = r;
	}
	closedir(d);
	return n;
}

void rewrites_free(struct rewrite *r, int n)
{
	for (int i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].old_text);
		free(r[i].new_text);
	}
	free(r);
}

/* A new file beside name holding content, mode as seen's, fsynced.
 * Returns its descriptor (tmp named) or -errno. */
static int write_temp(int dirfd, const char *name, const struct stat *seen, const char *content, size_t len,
		      char *tmp, size_t tmplen)
{
	int fd = -1, rc;

	for (int k = 0; k < 100 && fd < 0; k++) {
		snprintf(tmp, tmplen, ".%.200s.imgscan-rename-%d-%d", name, (int)getpid(), k);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	if (fchown(fd, seen->st_uid, seen->st_gid)) {
		/* not ours to give away: the file is ours then, as any new file */
	}
	if ((rc = outfile_write_all(fd, content, len)) == 0 && (fchmod(fd, seen->st_mode & 07777) || fsync(fd)))
		rc = -errno;
	if (rc) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	return fd;
}

int replace_content(int dirfd, const char *name, const struct stat *seen, const char *content, size_t len,
		    const struct timespec *mtime, struct stat *now, char *why, size_t whylen)
{
	char tmp[300];
	struct stat out;
	int fd = write_temp(dirfd, name, seen, content, len, tmp, sizeof(tmp)), rc = 0;
	struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {0}};

	if (fd < 0)
		return fd;
	if (mtime)
		times[1] = *mtime;
	if (mtime && futimens(fd, times))
		rc = -errno;
	else if (fstat(fd, now))
		rc = -errno;
	close(fd);
	if (!rc && renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE))
		rc = -errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	/* What came out must be the file we read, not one swapped in since. */
	if (fstatat(dirfd, tmp, &out, AT_SYMLINK_NOFOLLOW) || out.st_dev != seen->st_dev || out.st_ino != seen->st_ino ||
	    out.st_size != seen->st_size || out.st_mtim.tv_sec != seen->st_mtim.tv_sec ||
	    out.st_mtim.tv_nsec != seen->st_mtim.tv_nsec) {
		if (renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE))
			return snprintf(why, whylen, "it changed while rewritten, and could not be put back (left at %s)",
					tmp), 1;
		unlinkat(dirfd, tmp, 0);
		return snprintf(why, whylen, "it changed while it was rewritten: left as it was"), 1;
	}
	if (unlinkat(dirfd, tmp, 0) || fsync(dirfd))
		return -errno;
	return 0;
}
