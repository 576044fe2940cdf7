/*
 * sector_file.c - writes the sector-hash list file (format in sector_file.h).
 * Buffered through stdio with a large buffer: entries arrive 8 bytes at a time.
 */
#include "sector_file.h"
#include "../report/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sector_file {
	FILE *f;
	char dir[4096];
	char tmp[4200];
	bool anon;  /* unnamed (O_TMPFILE) until the commit */
	int err; /* sticky: first write error */
};

/* "DIR/.imgscan-sectors": the start of the temporary list's name, once it has one. */
static const char *stem_of(const char *dir, char *stem, size_t len)
{
	snprintf(stem, len, "%s/.imgscan-sectors", dir);
	return stem;
}

int sector_file_open(const char *dir, struct sector_file **out)
{
	struct sector_file *sf = calloc(1, sizeof(*sf));
	static const uint8_t zero[SECTOR_FILE_HEADER];
	char stem[4200];
	int fd, rc;

	if (!sf)
		return -ENOMEM;
	snprintf(sf->dir, sizeof(sf->dir), "%s", dir);
	fd = outfile_temp_open(dir, stem_of(dir, stem, sizeof(stem)), sf->tmp, sizeof(sf->tmp), &sf->anon);
	if (fd < 0) {
		free(sf);
		return fd;
	}
	sf->f = fdopen(fd, "wb");
	if (!sf->f) {
		rc = -errno;
		close(fd);
		if (!sf->anon)
			unlink(sf->tmp);
		free(sf);
		return rc;
	}
	setvbuf(sf->f, NULL, _IOFBF, 1 << 16);
	if (fwrite(zero, 1, sizeof(zero), sf->f) != sizeof(zero))
		sf->err = EIO;
	*out = sf;
	return 0;
}

int sector_file_append(struct sector_file *sf, const uint8_t *canon8, size_t n)
{
	if (!sf->err && fwrite(canon8, 8, n, sf->f) != n)
		sf->err = errno ? errno : EIO;
	return -sf->err;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

int sector_file_commit(struct sector_file *sf, uint32_t sector_size, uint64_t count,
		       uint64_t image_size, const char *xxh128_hex, char *path, size_t pathlen)
{
	uint8_t hdr[SECTOR_FILE_HEADER] = {0};
	char stem[4200];
	int rc;

	memcpy(hdr, SECTOR_FILE_MAGIC, 8);
	put_be(hdr + 8, 1, 4);
	put_be(hdr + 12, sector_size, 4);
	put_be(hdr + 16, count, 8);
	put_be(hdr + 24, image_size, 8);
	hex_to_bytes(xxh128_hex, hdr + 32, 16);
	if (!sf->err && (fflush(sf->f) || fseeko(sf->f, 0, SEEK_SET) ||
			 fwrite(hdr, 1, sizeof(hdr), sf->f) != sizeof(hdr) || fflush(sf->f) ||
			 fsync(fileno(sf->f))))
		sf->err = errno ? errno : EIO;
	if (!sf->err && sf->anon) { /* named only now, right before it is put in place */
		rc = outfile_temp_name(fileno(sf->f), stem_of(sf->dir, stem, sizeof(stem)), sf->tmp, sizeof(sf->tmp));
		if (rc)
			sf->err = -rc;
		else
			sf->anon = false;
	}
	if (fclose(sf->f) && !sf->err)
		sf->err = EIO;
	sf->f = NULL;
	snprintf(path, pathlen, "%s/%s.xxh3s", sf->dir, xxh128_hex);
	/* Put in place under the rules of outfile.h; outfile_place removes tmp
	 * itself (never a node it could not put back): only a list that never
	 * got there is removed here. */
	if (sf->err) {
		rc = -sf->err;
		if (!sf->anon)
			unlink(sf->tmp);
	} else {
		rc = outfile_place(sf->tmp, path);
	}
	if (rc)
		path[0] = '\0';
	free(sf);
	return rc;
}

void sector_file_abort(struct sector_file *sf)
{
	if (!sf)
		return;
	fclose(sf->f);
	if (!sf->anon)
		unlink(sf->tmp);
	free(sf);
}
