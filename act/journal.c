/*
 * journal.c - the rename journal written and read back (see journal.h).
 */
#include "journal.h"
#include "../report/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The directory entry of a new file is durable only once its directory is
 * synced. */
static int sync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int journal_create(struct journal *j, const char *path)
{
	int rc;

	j->err = 0;
	j->fd = -1;
	if (snprintf(j->path, sizeof(j->path), "%s", path) >= (int)sizeof(j->path))
		return -ENAMETOOLONG;
	j->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd < 0)
		return -errno;
	if ((rc = sync_parent(path))) {
		journal_close(j);
		return rc;
	}
	return 0;
}

int journal_create_beside(struct journal *j, const char *base, const char *what)
{
	char stamp[32], path[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	int rc = -EEXIST;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int k = 1; k < 1000 && rc == -EEXIST; k++) {
		int n = k == 1 ? snprintf(path, sizeof(path), "%s.%s-%s.jsonl", base, what, stamp)
			       : snprintf(path, sizeof(path), "%s.%s-%s-%d.jsonl", base, what, stamp, k);
		if (n >= (int)sizeof(path))
			return -ENAMETOOLONG;
		rc = journal_create(j, path);
	}
	return rc;
}

int journal_append(struct journal *j, const cJSON *rec)
{
	char *text;
	size_t len;
	int rc;

	if (j->err)
		return -j->err;
	if (!(text = cJSON_PrintUnformatted(rec)))
		return -(j->err = ENOMEM);
	len = strlen(text);
	text[len++] = '\n'; /* over the NUL: cJSON's buffer holds it */
	rc = outfile_write_all(j->fd, text, len);
	if (rc)
		j->err = -rc;
	free(text);
	if (!j->err && fsync(j->fd))
		j->err = errno;
	return -j->err;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

int journal_read(const char *path, cJSON **recs, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	struct stat st;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return -1;
	}
	*recs = cJSON_CreateArray();
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n')
			break; /* cut short by a crash: its step never began */
		cJSON *rec = cJSON_ParseWithLength(line, (size_t)n);
		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			snprintf(err, errlen, "%s: line %zu is not a journal record", path, lineno);
			cJSON_Delete(*recs);
			*recs = NULL;
			break;
		}
		cJSON_AddItemToArray(*recs, rec);
	}
	free(line);
	fclose(f);
	return *recs ? 0 : -1;
}
