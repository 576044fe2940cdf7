/*
 * vdisk.h - the virtual disk inside a container, behind one small ops
 * table: qcow and qcow2 (libqcow, given only clusters checked here), vmdk
 * (libvmdk), vhd and vhdx (libvhdi), vdi and android-sparse (bounded
 * readers of their own block maps, here).  Used in
 * the worker process only (formats/inside_container.c): a hostile container
 * costs one image.
 *
 * Every reader reads the one descriptor it is given and nothing else: the
 * libraries get a /proc/self/fd name for it (or, for libvmdk, which opens
 * its extent by the name in the descriptor, a link of that name in the
 * worker's private directory); a backing or parent file is named, never
 * opened.  Readers never print: what went wrong goes into the caller's
 * struct vdisk_error.
 */
#ifndef IMGSCAN_VDISK_H
#define IMGSCAN_VDISK_H

#include "../scanner/page_cache.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What went wrong, in the caller's hands for as long as the disk is open:
 * open fills it when it fails (and may leave a remark when it does not);
 * reads keep their first failure in it. */
struct vdisk_error {
	char why[160];      /* "vdi: block map entry 12 points past the end of the file" */
	bool truncated;     /* the container's data is cut short (a cut copy) */
	bool needs_parent;  /* a read needed the backing/parent file, never opened */
};

/* The container file: the image's descriptor, read cache-neutrally. */
struct vdisk_file {
	int fd;                       /* borrowed: the worker's image descriptor */
	uint64_t size;                /* the file's size in bytes (the scanner's) */
	struct page_cache_reader pc;  /* owned (vdisk_file_init/release) */
	/* One window of small metadata reads (headers, chunk headers, map
	 * entries), so a walk over them is not one O_DIRECT read each. */
	uint8_t *win;
	size_t win_len;
	uint64_t win_off;
	uint64_t bytes_read;           /* by vdisk_file_read and the window: a walk's I/O budget counts it */
};

/* Every reader's disk begins with this (the reader's own struct embeds it
 * first). */
struct vdisk {
	const struct vdisk_ops *ops;
	struct vdisk_error *err;      /* the caller's: outlives the disk */
};

struct vdisk_ops {
	const char *layer;            /* "qcow2", "vmdk", "vhd", "vhdx", "vdi", "android-sparse" */
	/* Open the container in f (borrowed; it outlives the disk).  0 with
	 * *out, or -errno with err->why saying what is wrong (and
	 * err->truncated when the container is cut short). */
	int (*open)(struct vdisk_file *f, struct vdisk_error *err, struct vdisk **out);
	/* Read len bytes of the virtual disk at off: the count (short only at
	 * its end), or -errno with the first failure kept in err. */
	long (*read)(struct vdisk *d, uint64_t off, void *buf, size_t len);
	uint64_t (*size)(const struct vdisk *d);      /* the virtual disk's size in bytes */
	const char *(*backing)(const struct vdisk *d); /* the parent it names, "" when none */
	void (*close)(struct vdisk *d);
};

/* The reader for a layer name, or NULL. */
const struct vdisk_ops *vdisk_ops_for(const char *layer);

extern const struct vdisk_ops vdisk_qcow_ops, vdisk_vmdk_ops, vdisk_vhd_ops, vdisk_vhdx_ops, vdisk_vdi_ops,
	vdisk_sparse_ops;

/*
 * The worker's private directory (mode 0700, open on dfd), where a reader
 * whose library opens a file by a particular name makes a symbolic link of
 * that name to /proc/self/fd/N (see scanner/tsk_worker.c link_container()).
 * Set by the worker for each request; -1: none (such containers fail, with
 * the reason).  One request at a time per worker process.
 */
void vdisk_set_name_dir(int dfd);
int vdisk_name_dir(void);

/* Cut copies the libraries do not call cut (vdisk_cut.c): their tables of
 * allocated blocks walked once against the file's size, within a budget;
 * a block past the end sets err->truncated and says where. */
void vdisk_vmdk_find_cut(struct vdisk_file *f, struct vdisk_error *err);
void vdisk_vhdx_find_cut(struct vdisk_file *f, struct vdisk_error *err);

/* ---- helpers shared by the readers (vdisk.c) ---- */

/* 0, or -ENOMEM. */
int vdisk_file_init(struct vdisk_file *f, int fd, uint64_t size);
void vdisk_file_release(struct vdisk_file *f);
/* Exactly len bytes at off through the window (len at most 4 KiB): 0,
 * -ENODATA when the file ends first, or the read's -errno. */
int vdisk_file_small(struct vdisk_file *f, uint64_t off, void *buf, size_t len);
/* Up to len bytes at off, cache-neutrally: the count (short only at the
 * end of the file) or -errno. */
long vdisk_file_read(struct vdisk_file *f, uint64_t off, void *buf, size_t len);

/* Keep the first failure as "layer: message" (a later one does not
 * replace it).  Returns -errnum, for "return vdisk_fail(...)". */
int vdisk_fail(struct vdisk_error *err, int errnum, const char *layer, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The root cause in a libyal backtrace (libqcow, libvmdk, libvhdi: one
 * line per function, innermost first): its message, without the function
 * name, into dst. */
void vdisk_lib_message(char *dst, size_t dstlen, const char *backtrace);

/* Whether a libyal backtrace is the library's refusal to read without the
 * parent (libqcow, libvhdi: "missing parent file"; libvmdk: "missing
 * parent handle"), which no other failure is taken for. */
bool vdisk_lib_missing_parent(const char *backtrace);

/* A library's failure said in err: "what: <the backtrace's root cause>".
 * Returns -errnum. */
int vdisk_say_trace(struct vdisk_error *err, const char *layer, const char *trace, int errnum, const char *what);

/* A virtual-disk read the library refused (libvmdk, libvhdi), its
 * backtrace in trace: a child whose parent is missing (child: the disk has
 * one; child_what: "delta disk") sets needs_parent and is -ENODATA; any
 * other failure is -EIO.  Both are said in err. */
long vdisk_lib_read_failed(struct vdisk_error *err, const char *layer, const char *trace, bool child,
			   const char *child_what, const char *parent, uint64_t off);

/* The /proc/self/fd name of fd, for a library that opens by name and needs
 * no particular one: 0, or -ENAMETOOLONG. */
int vdisk_fd_path(int fd, char *path, size_t len);

/* A file name from disk made printable: control bytes become '?', and it
 * ends at the first NUL or at n. */
void vdisk_copy_name(char *dst, size_t dstlen, const uint8_t *src, size_t n);

#endif
