/*
 * vdisk_vhdi.c - Microsoft VHD and VHDX through libvhdi, given
 * /proc/self/fd/N (libvhdi needs no particular name).  A differencing
 * disk's parent locator is reported, never opened: libvhdi refuses reads
 * of a child without its parent (only that refusal says the parent is
 * needed: any other failure is the file's own).  A VHD whose footer copy is
 * missing from the end of the file is a cut copy; a VHDX is one when its
 * allocation table points past the end (vdisk_cut.c).
 */
#include "vdisk.h"

#include <libvhdi.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VHD_FOOTER 512u

struct vhdi {
	struct vdisk base;
	struct vdisk_file *file;
	const char *layer;
	libvhdi_file_t *lib;
	uint64_t size;
	bool differencing;
	char parent[256];
};

/* libvhdi's failure, its backtrace in trace: "what: its reason". */
static int say_library(struct vhdi *v, libvhdi_error_t **lib_err, int errnum, const char *what)
{
	char trace[1024] = "";

	if (*lib_err)
		libvhdi_error_backtrace_sprint(*lib_err, trace, sizeof(trace));
	libvhdi_error_free(lib_err);
	return vdisk_say_trace(v->base.err, v->layer, trace, errnum, what);
}

/* The parent's name as the locator gives it; "" when none. */
static void read_parent(struct vhdi *v)
{
	libvhdi_error_t *lib_err = NULL;
	uint8_t name[sizeof(v->parent)];
	size_t size = 0;

	if (libvhdi_file_get_utf8_parent_filename_size(v->lib, &size, &lib_err) == 1 && size > 1 &&
	    libvhdi_file_get_utf8_parent_filename(v->lib, name, sizeof(name), &lib_err) == 1)
		vdisk_copy_name(v->parent, sizeof(v->parent), name, sizeof(name));
	else if (size > sizeof(name)) /* longer than we keep: say so */
		snprintf(v->parent, sizeof(v->parent), "(a name of %zu bytes)", size);
	libvhdi_error_free(&lib_err);
}

/* A VHD keeps a copy of its footer in the last 512 bytes (a dynamic one
 * also at 0): without it, the file was cut. */
static void check_footer(struct vhdi *v)
{
	uint8_t cookie[8];
	int rc;

	if (strcmp(v->layer, "vhd") || v->file->size < VHD_FOOTER)
		return;
	rc = vdisk_file_small(v->file, v->file->size - VHD_FOOTER, cookie, sizeof(cookie));
	if ((rc && rc != -ENODATA) || (!rc && !memcmp(cookie, "conectix", 8)))
		return; /* there, or an I/O error (libvhdi's reads say it): not a cut copy */
	v->base.err->truncated = true;
	vdisk_fail(v->base.err, 0, v->layer, "no footer at the end of the file (cut short)");
}

static int open_library(struct vhdi *v)
{
	libvhdi_error_t *lib_err = NULL;
	char path[32];
	size64_t size = 0;
	uint32_t type = 0;

	if (vdisk_fd_path(v->file->fd, path, sizeof(path)))
		return vdisk_fail(v->base.err, ENAMETOOLONG, v->layer, "no name for the descriptor");
	if (libvhdi_file_initialize(&v->lib, &lib_err) != 1 ||
	    libvhdi_file_open(v->lib, path, LIBVHDI_OPEN_READ, &lib_err) != 1)
		return say_library(v, &lib_err, EINVAL, "libvhdi");
	if (libvhdi_file_get_media_size(v->lib, &size, &lib_err) != 1 ||
	    libvhdi_file_get_disk_type(v->lib, &type, &lib_err) != 1)
		return say_library(v, &lib_err, EINVAL, "libvhdi");
	v->size = size;
	v->differencing = type == LIBVHDI_DISK_TYPE_DIFFERENTIAL;
	if (v->differencing)
		read_parent(v);
	return 0;
}

static void vhdi_close(struct vdisk *d)
{
	struct vhdi *v = (struct vhdi *)d;

	if (v->lib) {
		libvhdi_file_close(v->lib, NULL);
		libvhdi_file_free(&v->lib, NULL);
	}
	free(v);
}

static int vhdi_open(const struct vdisk_ops *ops, struct vdisk_file *f, struct vdisk_error *err,
		     struct vdisk **out)
{
	struct vhdi *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return vdisk_fail(err, ENOMEM, ops->layer, "no memory");
	v->base.ops = ops;
	v->base.err = err;
	v->file = f;
	v->layer = ops->layer;
	check_footer(v);
	rc = open_library(v);
	if (rc) {
		vhdi_close(&v->base);
		return rc;
	}
	if (!strcmp(v->layer, "vhdx"))
		vdisk_vhdx_find_cut(f, err);
	*out = &v->base;
	return 0;
}

static int vhd_open(struct vdisk_file *f, struct vdisk_error *err, struct vdisk **out)
{
	return vhdi_open(&vdisk_vhd_ops, f, err, out);
}

static int vhdx_open(struct vdisk_file *f, struct vdisk_error *err, struct vdisk **out)
{
	return vhdi_open(&vdisk_vhdx_ops, f, err, out);
}

static long vhdi_read(struct vdisk *d, uint64_t off, void *buf, size_t len)
{
	struct vhdi *v = (struct vhdi *)d;
	libvhdi_error_t *lib_err = NULL;
	char trace[1024] = "";
	ssize_t n;

	if (off >= v->size)
		return 0;
	if (len > v->size - off)
		len = (size_t)(v->size - off);
	n = libvhdi_file_read_buffer_at_offset(v->lib, buf, len, (off64_t)off, &lib_err);
	if (n >= 0 && (size_t)n == len)
		return (long)n;
	if (lib_err)
		libvhdi_error_backtrace_sprint(lib_err, trace, sizeof(trace));
	libvhdi_error_free(&lib_err);
	return vdisk_lib_read_failed(v->base.err, v->layer, trace, v->differencing, "differencing disk", v->parent,
				     off);
}

static uint64_t vhdi_size(const struct vdisk *d)
{
	return ((const struct vhdi *)d)->size;
}

static const char *vhdi_backing(const struct vdisk *d)
{
	return ((const struct vhdi *)d)->parent;
}

const struct vdisk_ops vdisk_vhd_ops = {
	.layer = "vhd",
	.open = vhd_open,
	.read = vhdi_read,
	.size = vhdi_size,
	.backing = vhdi_backing,
	.close = vhdi_close,
};

const struct vdisk_ops vdisk_vhdx_ops = {
	.layer = "vhdx",
	.open = vhdx_open,
	.read = vhdi_read,
	.size = vhdi_size,
	.backing = vhdi_backing,
	.close = vhdi_close,
};
