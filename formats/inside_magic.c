/*
 * inside_magic.c - a name for content none of our probes knows, from
 * libmagic (the `file` command's library), in the worker.  Bounded: it sees
 * at most MAGIC_BYTES from a buffer we read (never the file by name: no
 * decompression, no following of links), with libmagic's own recursion and
 * ELF limits set low.  One cookie per worker, loaded at the first use.
 */
#include "inside.h"
#include "../scanner/page_cache.h"

#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_BYTES (64u << 10)

static magic_t open_cookie(void)
{
	static magic_t cookie;
	static bool tried;
	size_t bytes = MAGIC_BYTES, indir = 4, phnum = 64, shnum = 64, regex = 4096;

	if (tried)
		return cookie;
	tried = true;
	cookie = magic_open(MAGIC_NO_CHECK_COMPRESS | MAGIC_RAW);
	if (!cookie)
		return NULL;
	if (magic_load(cookie, NULL) != 0) {
		magic_close(cookie);
		return cookie = NULL;
	}
	magic_setparam(cookie, MAGIC_PARAM_BYTES_MAX, &bytes);
	magic_setparam(cookie, MAGIC_PARAM_INDIR_MAX, &indir);
	magic_setparam(cookie, MAGIC_PARAM_ELF_PHNUM_MAX, &phnum);
	magic_setparam(cookie, MAGIC_PARAM_ELF_SHNUM_MAX, &shnum);
	magic_setparam(cookie, MAGIC_PARAM_REGEX_MAX, &regex);
	return cookie;
}

static bool prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Our short name for a MIME type: what the verdict and the report say. */
static const char *content_of(const char *mime)
{
	static const struct { const char *mime, *content; } names[] = {
		{"text/html", "html"}, {"application/xhtml", "html"}, {"text/xml", "xml"},
		{"application/xml", "xml"}, {"text/", "text"}, {"application/json", "text"},
		{"application/x-executable", "executable"}, {"application/x-pie-executable", "executable"},
		{"application/x-sharedlib", "executable"}, {"application/x-object", "executable"},
		{"application/x-dosexec", "executable"}, {"application/vnd.microsoft.portable-executable", "executable"},
		{"application/x-mach-binary", "executable"}, {"application/pdf", "pdf"},
		{"application/postscript", "postscript"}, {"application/x-tar", "tar"},
		{"application/x-cpio", "cpio"}, {"application/vnd.debian.binary-package", "debian-package"},
		{"application/x-rpm", "rpm"}, {"application/x-iso9660-image", "iso9660"},
		{"image/", "picture"}, {"audio/", "audio"}, {"video/", "video"}, {"font/", "font"},
		{"application/x-sqlite3", "database"}, {"application/vnd.sqlite3", "database"},
		{"application/x-empty", "empty"}, {"inode/x-empty", "empty"},
		{"application/octet-stream", "data"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (prefix(mime, names[i].mime))
			return names[i].content;
	return NULL;
}

void inside_magic_buffer(const void *buf, size_t len, struct inside_result *out)
{
	magic_t cookie = open_cookie();
	const char *desc, *mime, *content;

	if (len > MAGIC_BYTES)
		len = MAGIC_BYTES;
	if (!cookie) {
		out->status = INSIDE_FAILED;
		snprintf(out->failure, sizeof(out->failure), "libmagic: its database cannot be loaded");
		return;
	}
	magic_setflags(cookie, MAGIC_NO_CHECK_COMPRESS | MAGIC_RAW);
	desc = magic_buffer(cookie, buf, len);
	if (desc)
		snprintf(out->magic, sizeof(out->magic), "%s", desc);
	magic_setflags(cookie, MAGIC_NO_CHECK_COMPRESS | MAGIC_MIME_TYPE);
	mime = magic_buffer(cookie, buf, len);
	if (!mime)
		return;
	snprintf(out->mime, sizeof(out->mime), "%s", mime);
	content = content_of(mime);
	if (!out->content[0])
		snprintf(out->content, sizeof(out->content), "%s", content ? content : "other");
}

void inside_magic(int fd, uint64_t size, struct inside_result *out)
{
	struct page_cache_reader pc;
	size_t want = size < MAGIC_BYTES ? (size_t)size : MAGIC_BYTES;
	uint8_t *buf = malloc(MAGIC_BYTES);
	long got;

	if (!buf) {
		out->status = INSIDE_FAILED;
		snprintf(out->failure, sizeof(out->failure), "out of memory");
		return;
	}
	page_cache_reader_init(&pc, fd);
	got = page_cache_pread(&pc, buf, want, 0);
	page_cache_reader_release(&pc);
	if (got < 0) {
		out->status = INSIDE_FAILED;
		snprintf(out->failure, sizeof(out->failure), "read: %s", strerror((int)-got));
	} else {
		out->examined = (uint64_t)got;
		inside_magic_buffer(buf, (size_t)got, out);
	}
	free(buf);
}
