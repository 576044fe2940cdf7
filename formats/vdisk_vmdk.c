/*
 * vdisk_vmdk.c - VMware VMDK through libvmdk.  libvmdk reads the
 * descriptor from the name it is given (here /proc/self/fd/N), then opens
 * each extent by the name the descriptor gives, in a directory: so only a
 * hosted sparse extent ("KDMV") whose embedded descriptor names one extent,
 * itself, is read; its name becomes a link to /proc/self/fd/N in the
 * worker's private directory (vdisk_set_name_dir()), removed at close.
 * A cut copy is found by walking its grain tables (vdisk_cut.c).
 * Split extents and descriptor files keep their data in other files, which
 * are never opened.  A delta disk's parentFileNameHint is reported; libvmdk
 * reads nothing of it without the parent (only that refusal of libvmdk's
 * says the parent is needed: any other failure is the file's own).
 */
#include "vdisk.h"
#include "probe.h"

/* libvmdk.h includes libbfio.h, whose -dev package Debian's libvmdk-dev
 * does not pull in: where it is missing, the calls used here are declared
 * as libvmdk.h (20200926) declares them.  Where it is present, the header
 * comes too and the compiler checks each declaration against it. */
#if __has_include(<libbfio.h>)
#include <libvmdk.h>
#endif
#include <libvmdk/definitions.h>
#include <libvmdk/error.h>
#include <libvmdk/extern.h>
#include <libvmdk/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

LIBVMDK_EXTERN int libvmdk_error_backtrace_sprint(libvmdk_error_t *error, char *string, size_t size);
LIBVMDK_EXTERN void libvmdk_error_free(libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_initialize(libvmdk_handle_t **handle, libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_free(libvmdk_handle_t **handle, libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_open(libvmdk_handle_t *handle, const char *filename, int access_flags,
				       libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_close(libvmdk_handle_t *handle, libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_open_extent_data_files(libvmdk_handle_t *handle, libvmdk_error_t **error);
LIBVMDK_EXTERN ssize_t libvmdk_handle_read_buffer_at_offset(libvmdk_handle_t *handle, void *buffer,
							    size_t buffer_size, off64_t offset,
							    libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_set_maximum_number_of_open_handles(libvmdk_handle_t *handle,
								     int maximum_number_of_open_handles,
								     libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_set_extent_data_files_path(libvmdk_handle_t *handle, const char *path,
							     size_t path_length, libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_get_media_size(libvmdk_handle_t *handle, size64_t *media_size,
						 libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_get_utf8_parent_filename_size(libvmdk_handle_t *handle, size_t *utf8_string_size,
								libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_get_utf8_parent_filename(libvmdk_handle_t *handle, uint8_t *utf8_string,
							   size_t utf8_string_size, libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_get_number_of_extents(libvmdk_handle_t *handle, int *number_of_extents,
							libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_handle_get_extent_descriptor(libvmdk_handle_t *handle, int extent_index,
							libvmdk_extent_descriptor_t **extent_descriptor,
							libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_extent_descriptor_free(libvmdk_extent_descriptor_t **extent_descriptor,
						  libvmdk_error_t **error);
LIBVMDK_EXTERN int libvmdk_extent_descriptor_get_utf8_filename(libvmdk_extent_descriptor_t *extent_descriptor,
							       uint8_t *utf8_string, size_t utf8_string_size,
							       libvmdk_error_t **error);

#define VMDK_HEADER 72u
#define VMDK_OPEN_HANDLES 4  /* libvmdk's pool of open extent files: ours has one */

struct vmdk {
	struct vdisk base;
	struct vdisk_file *file;
	libvmdk_handle_t *lib;
	uint64_t size;
	int link_dir;            /* where link_name was made; -1: no link */
	char link_name[256];
	char parent[256];
};

/* libvmdk's failure, its backtrace in trace: "what: its reason". */
static int say_library(struct vmdk *v, libvmdk_error_t **lib_err, int errnum, const char *what)
{
	char trace[1024] = "";

	if (*lib_err)
		libvmdk_error_backtrace_sprint(*lib_err, trace, sizeof(trace));
	libvmdk_error_free(lib_err);
	return vdisk_say_trace(v->base.err, "vmdk", trace, errnum, what);
}

/* A plain file name: no directory part, nothing that walks up. */
static bool plain_name(const char *s)
{
	return s[0] && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

/* The hosted sparse extent's header: is this file one, with its
 * descriptor embedded? */
static int check_header(struct vmdk *v)
{
	uint8_t h[VMDK_HEADER];
	int rc = vdisk_file_small(v->file, 0, h, sizeof(h));

	if (rc == -ENODATA && v->file->size >= 4 && vdisk_file_small(v->file, 0, h, 4) == 0 && !memcmp(h, "KDMV", 4)) {
		v->base.err->truncated = true;
		return vdisk_fail(v->base.err, ENODATA, "vmdk", "the file ends inside its header (cut short)");
	}
	if (rc == -ENODATA || (!rc && memcmp(h, "KDMV", 4)) || (!rc && (!le64(h + 28) || !le64(h + 36))))
		return vdisk_fail(v->base.err, ENOTSUP, "vmdk",
				  "its data is in other files (a descriptor file or a split extent), which are never opened");
	if (rc)
		return vdisk_fail(v->base.err, -rc, "vmdk", "header: %s", strerror(-rc));
	return 0;
}

/* The one extent's name, which must be a plain file name: this file's. */
static int extent_name(struct vmdk *v, char *name, size_t len)
{
	libvmdk_error_t *lib_err = NULL;
	libvmdk_extent_descriptor_t *ext = NULL;
	int n = 0, ok;

	if (libvmdk_handle_get_number_of_extents(v->lib, &n, &lib_err) != 1)
		return say_library(v, &lib_err, EINVAL, "extents");
	if (n != 1)
		return vdisk_fail(v->base.err, ENOTSUP, "vmdk",
				  "%d extents: its data is in other files, which are never opened", n);
	if (libvmdk_handle_get_extent_descriptor(v->lib, 0, &ext, &lib_err) != 1)
		return say_library(v, &lib_err, EINVAL, "extent");
	ok = libvmdk_extent_descriptor_get_utf8_filename(ext, (uint8_t *)name, len, &lib_err) == 1;
	libvmdk_extent_descriptor_free(&ext, NULL);
	if (!ok)
		return say_library(v, &lib_err, EINVAL, "extent name");
	name[len - 1] = '\0';
	if (!plain_name(name))
		return vdisk_fail(v->base.err, ENOTSUP, "vmdk", "its extent \"%.100s\" is not a plain file name", name);
	return 0;
}

/* Name this file, in the private directory, as its descriptor names its
 * extent; libvmdk opens the extent there. */
static int link_extent(struct vmdk *v)
{
	libvmdk_error_t *lib_err = NULL;
	char target[32], dir[32];
	int dfd = vdisk_name_dir(), rc = extent_name(v, v->link_name, sizeof(v->link_name));

	if (rc)
		return rc;
	if (dfd < 0)
		return vdisk_fail(v->base.err, ENOENT, "vmdk", "no private directory to name its extent in");
	vdisk_fd_path(v->file->fd, target, sizeof(target));
	vdisk_fd_path(dfd, dir, sizeof(dir));
	unlinkat(dfd, v->link_name, 0); /* left by a worker killed mid-request */
	if (symlinkat(target, dfd, v->link_name))
		return vdisk_fail(v->base.err, errno, "vmdk", "cannot name its extent: %s", strerror(errno));
	v->link_dir = dfd;
	if (libvmdk_handle_set_maximum_number_of_open_handles(v->lib, VMDK_OPEN_HANDLES, &lib_err) != 1 ||
	    libvmdk_handle_set_extent_data_files_path(v->lib, dir, strlen(dir), &lib_err) != 1 ||
	    libvmdk_handle_open_extent_data_files(v->lib, &lib_err) != 1)
		return say_library(v, &lib_err, EINVAL, "libvmdk");
	return 0;
}

static void read_parent(struct vmdk *v)
{
	libvmdk_error_t *lib_err = NULL;
	uint8_t name[sizeof(v->parent)];
	size_t size = 0;

	if (libvmdk_handle_get_utf8_parent_filename_size(v->lib, &size, &lib_err) == 1 && size > 1 &&
	    libvmdk_handle_get_utf8_parent_filename(v->lib, name, sizeof(name), &lib_err) == 1)
		vdisk_copy_name(v->parent, sizeof(v->parent), name, sizeof(name));
	else if (size > sizeof(name))
		snprintf(v->parent, sizeof(v->parent), "(a name of %zu bytes)", size);
	libvmdk_error_free(&lib_err);
}

static int open_library(struct vmdk *v)
{
	libvmdk_error_t *lib_err = NULL;
	char path[32];
	size64_t size = 0;
	int rc;

	vdisk_fd_path(v->file->fd, path, sizeof(path));
	if (libvmdk_handle_initialize(&v->lib, &lib_err) != 1 ||
	    libvmdk_handle_open(v->lib, path, LIBVMDK_OPEN_READ, &lib_err) != 1)
		return say_library(v, &lib_err, EINVAL, "libvmdk");
	read_parent(v);
	rc = link_extent(v);
	if (rc)
		return rc;
	if (libvmdk_handle_get_media_size(v->lib, &size, &lib_err) != 1)
		return say_library(v, &lib_err, EINVAL, "libvmdk");
	v->size = size;
	return 0;
}

static void vmdk_close(struct vdisk *d)
{
	struct vmdk *v = (struct vmdk *)d;

	if (v->lib) {
		libvmdk_handle_close(v->lib, NULL);
		libvmdk_handle_free(&v->lib, NULL);
	}
	if (v->link_dir >= 0)
		unlinkat(v->link_dir, v->link_name, 0);
	free(v);
}

static int vmdk_open(struct vdisk_file *f, struct vdisk_error *err, struct vdisk **out)
{
	struct vmdk *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return vdisk_fail(err, ENOMEM, "vmdk", "no memory");
	v->base.ops = &vdisk_vmdk_ops;
	v->base.err = err;
	v->file = f;
	v->link_dir = -1;
	rc = check_header(v);
	if (!rc)
		rc = open_library(v);
	if (rc) {
		vmdk_close(&v->base);
		return rc;
	}
	vdisk_vmdk_find_cut(f, err);
	*out = &v->base;
	return 0;
}

static long vmdk_read(struct vdisk *d, uint64_t off, void *buf, size_t len)
{
	struct vmdk *v = (struct vmdk *)d;
	libvmdk_error_t *lib_err = NULL;
	char trace[1024] = "";
	ssize_t n;

	if (off >= v->size)
		return 0;
	if (len > v->size - off)
		len = (size_t)(v->size - off);
	n = libvmdk_handle_read_buffer_at_offset(v->lib, buf, len, (off64_t)off, &lib_err);
	if (n >= 0 && (size_t)n == len)
		return (long)n;
	if (lib_err)
		libvmdk_error_backtrace_sprint(lib_err, trace, sizeof(trace));
	libvmdk_error_free(&lib_err);
	return vdisk_lib_read_failed(v->base.err, "vmdk", trace, true, "delta disk",
				     v->parent[0] ? v->parent : "(not named)", off);
}

static uint64_t vmdk_size(const struct vdisk *d)
{
	return ((const struct vmdk *)d)->size;
}

static const char *vmdk_backing(const struct vdisk *d)
{
	return ((const struct vmdk *)d)->parent;
}

const struct vdisk_ops vdisk_vmdk_ops = {
	.layer = "vmdk",
	.open = vmdk_open,
	.read = vmdk_read,
	.size = vmdk_size,
	.backing = vmdk_backing,
	.close = vmdk_close,
};
