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
	int err; /* sticky: first write error */
};

int sector_file_open(const char *dir, struct sector_file **out)
{
	struct sector_file *sf = calloc(1, sizeof(*sf));
	static const uint8_t zero[SECTOR_FILE_HEADER];
	int fd, rc;

	if (!sf)
		return -ENOMEM;
	snprintf(sf->dir, sizeof(sf->dir), "%s", dir);
	snprintf(sf->tmp, sizeof(sf->tmp), "%s/.imgscan-sectors.XXXXXX", dir);
	fd = mkostemp(sf->tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(sf);
		return rc;
	}
	sf->f = fdopen(fd, "wb");
	if (!sf->f) {
		rc = -errno;
		close(fd);
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
	if (fclose(sf->f) && !sf->err)
		sf->err = EIO;
	sf->f = NULL;
	snprintf(path, pathlen, "%s/%s.xxh3s", sf->dir, xxh128_hex);
	/* Never over a device or through a link without the rules of outfile.h. */
	rc = sf->err ? -sf->err : outfile_place(sf->tmp, path);
	if (rc) {
		unlink(sf->tmp);
		path[0] = '\0';
	}
	free(sf);
	return rc;
}

void sector_file_abort(struct sector_file *sf)
{
	if (!sf)
		return;
	fclose(sf->f);
	unlink(sf->tmp);
	free(sf);
}
