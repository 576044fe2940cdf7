/*
 * convert_volume.c - what OUT holds, as `imgscan scan` would say it: the
 * written file is opened again read-only (and must be the file we wrote),
 * its head and tail go through the project's probes (formats/identify.h),
 * and the ISO 9660 volume's label and size are printed, with the other
 * structures found (UDF, El Torito...).  A volume that claims more blocks
 * than OUT holds means the raw image was cut short.
 */
#include "convert.h"
#include "../formats/identify.h"
#include "../report/pathenc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The bytes the scanner keeps for the probes (scanner/active.h), so that
 * OUT is identified as a scan of it would identify it. */
#define HEAD_CAP (1u << 20)
#define TAIL_CAP (64u << 10)
#define SCRATCH_BYTES (256u << 10)

static long read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
	ssize_t n = pread(*(int *)ctx, buf, len, (off_t)off);
	return n < 0 ? -errno : (long)n;
}

/* head (HEAD_CAP bytes) and tail (TAIL_CAP) of fd, size bytes long, in v. */
static int read_view(int fd, uint64_t size, uint8_t *head, uint8_t *tail, struct probe_view *v)
{
	long h = read_at(&fd, 0, head, size < HEAD_CAP ? (size_t)size : HEAD_CAP);
	uint64_t tail_off = size > TAIL_CAP ? size - TAIL_CAP : 0;
	long t = read_at(&fd, tail_off, tail, (size_t)(size - tail_off));

	if (h < 0 || t < 0)
		return h < 0 ? (int)h : (int)t;
	*v = (struct probe_view){head, (size_t)h, tail, (size_t)t, tail_off, size};
	return 0;
}

static const struct probe_hit *find_hit(const struct ident *id, const char *name)
{
	for (int i = 0; i < id->nhits; i++)
		if (!strcmp(id->hits[i].name, name))
			return &id->hits[i];
	return NULL;
}

/* Print the ISO 9660 volume (or its absence).  Returns 0 or 1 (a finding). */
static int print_volume(const struct ident *id, uint64_t size)
{
	const struct probe_hit *iso = find_hit(id, "iso9660");
	char *label = iso ? term_escaped(iso->label) : NULL;
	const char *sep = "; also: ";
	int finding = 0;

	if (!iso) {
		printf("volume: no ISO 9660 volume in the output%s", id->nhits ? " (found: " : "");
		sep = "";
	} else {
		printf("volume: ISO 9660 \"%s\", %" PRIu64 " bytes", label ? label : "?", iso->claimed_size);
	}
	for (int i = 0; i < id->nhits; i++)
		if (&id->hits[i] != iso) {
			printf("%s%s", sep, id->hits[i].name);
			sep = ", ";
		}
	printf("%s\n", !iso && id->nhits ? ")" : "");
	free(label);
	if (!iso)
		return 1;
	if (iso->claimed_size > size) {
		printf("volume: claims %" PRIu64 " bytes, the output holds %" PRIu64 ": the raw image is cut short\n",
		       iso->claimed_size, size);
		finding = 1;
	}
	return finding;
}

int convert_volume_report(const char *path, const struct stat *expect)
{
	uint8_t *head = malloc(HEAD_CAP), *tail = malloc(TAIL_CAP), *scratch = malloc(SCRATCH_BYTES);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME), rc = -ENOMEM;
	struct probe_view v;
	struct ident id;
	struct stat st;

	if (fd < 0)
		rc = -errno;
	else if (fstat(fd, &st))
		rc = -errno;
	else if (st.st_dev != expect->st_dev || st.st_ino != expect->st_ino)
		rc = -ESTALE; /* replaced since our rename: not ours to describe */
	else if (head && tail && scratch && !(rc = read_view(fd, (uint64_t)st.st_size, head, tail, &v))) {
		memset(&id, 0, sizeof(id));
		identify_image(&v, read_at, &fd, scratch, SCRATCH_BYTES, &id);
		rc = print_volume(&id, (uint64_t)st.st_size);
	}
	if (fd >= 0)
		close(fd);
	free(head);
	free(tail);
	free(scratch);
	return rc;
}
