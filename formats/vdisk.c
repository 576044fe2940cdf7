/*
 * vdisk.c - the table of virtual-disk readers, the worker's directory for
 * the names libraries need, and the helpers the readers share: the
 * container file read cache-neutrally (with one window for small metadata
 * reads) and their failure messages.
 */
#include "vdisk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_BYTES (64u << 10)
#define SMALL_MAX 4096u

static const struct vdisk_ops *const readers[] = {
	&vdisk_qcow_ops, &vdisk_vmdk_ops, &vdisk_vhd_ops, &vdisk_vhdx_ops, &vdisk_vdi_ops, &vdisk_sparse_ops,
};

const struct vdisk_ops *vdisk_ops_for(const char *layer)
{
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
		if (!strcmp(readers[i]->layer, layer))
			return readers[i];
	return NULL;
}

static int name_dir = -1;

void vdisk_set_name_dir(int dfd)
{
	name_dir = dfd;
}

int vdisk_name_dir(void)
{
	return name_dir;
}

int vdisk_file_init(struct vdisk_file *f, int fd, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->size = size;
	page_cache_reader_init(&f->pc, fd);
	f->win = malloc(WINDOW_BYTES);
	return f->win ? 0 : -ENOMEM;
}

void vdisk_file_release(struct vdisk_file *f)
{
	page_cache_reader_release(&f->pc);
	free(f->win);
	f->win = NULL;
	f->win_len = 0;
}

long vdisk_file_read(struct vdisk_file *f, uint64_t off, void *buf, size_t len)
{
	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = (size_t)(f->size - off);
	f->bytes_read += len;
	return page_cache_pread(&f->pc, buf, len, off);
}

int vdisk_file_small(struct vdisk_file *f, uint64_t off, void *buf, size_t len)
{
	long got;

	if (len > SMALL_MAX)
		return -EINVAL;
	if (off > f->size || len > f->size - off)
		return -ENODATA;
	if (off < f->win_off || off - f->win_off > f->win_len || len > f->win_len - (off - f->win_off)) {
		f->win_off = off & ~(uint64_t)(SMALL_MAX - 1); /* page-aligned: one O_DIRECT read */
		f->win_len = 0;
		got = vdisk_file_read(f, f->win_off, f->win, WINDOW_BYTES);
		if (got < 0)
			return (int)got;
		f->win_len = (size_t)got;
		if (off - f->win_off > f->win_len || len > f->win_len - (off - f->win_off))
			return -ENODATA; /* the file ended early (it shrank) */
	}
	memcpy(buf, f->win + (off - f->win_off), len);
	return 0;
}

int vdisk_fail(struct vdisk_error *err, int errnum, const char *layer, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err->why[0])
		return -errnum;
	n = snprintf(err->why, sizeof(err->why), "%s: ", layer);
	if (n < 0 || (size_t)n >= sizeof(err->why))
		return -errnum;
	va_start(ap, fmt);
	vsnprintf(err->why + n, sizeof(err->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return -errnum;
}

void vdisk_copy_name(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	size_t i;

	if (!dstlen)
		return;
	for (i = 0; i < n && i + 1 < dstlen && src[i]; i++)
		dst[i] = src[i] < 0x20 || src[i] == 0x7f ? '?' : (char)src[i];
	dst[i] = '\0';
}

void vdisk_lib_message(char *dst, size_t dstlen, const char *backtrace)
{
	const char *line = backtrace, *end = strchr(line, '\n'), *colon;
	size_t n;

	if (!dstlen)
		return;
	if (!end)
		end = line + strlen(line);
	colon = memchr(line, ':', (size_t)(end - line));
	if (colon && colon[1] == ' ')
		line = colon + 2;
	n = (size_t)(end - line);
	while (n && (line[n - 1] == '.' || line[n - 1] == ' ' || line[n - 1] == '\r'))
		n--;
	if (!n) {
		snprintf(dst, dstlen, "unknown error");
		return;
	}
	snprintf(dst, dstlen, "%.*s", (int)n, line);
}

bool vdisk_lib_missing_parent(const char *backtrace)
{
	return strstr(backtrace, "missing parent") != NULL;
}

int vdisk_fd_path(int fd, char *path, size_t len)
{
	return (size_t)snprintf(path, len, "/proc/self/fd/%d", fd) < len ? 0 : -ENAMETOOLONG;
}

int vdisk_say_trace(struct vdisk_error *err, const char *layer, const char *trace, int errnum, const char *what)
{
	char msg[128];

	vdisk_lib_message(msg, sizeof(msg), trace);
	return vdisk_fail(err, errnum, layer, "%s: %s", what, msg);
}

long vdisk_lib_read_failed(struct vdisk_error *err, const char *layer, const char *trace, bool child,
			   const char *child_what, const char *parent, uint64_t off)
{
	char what[200];

	if (child && vdisk_lib_missing_parent(trace)) { /* the library reads nothing of a child without it */
		err->needs_parent = true;
		snprintf(what, sizeof(what), "%s (its parent \"%.100s\" is never opened): read at %llu", child_what,
			 parent, (unsigned long long)off);
		return vdisk_say_trace(err, layer, trace, ENODATA, what);
	}
	snprintf(what, sizeof(what), "read at virtual offset %llu", (unsigned long long)off);
	return vdisk_say_trace(err, layer, trace, EIO, what);
}
