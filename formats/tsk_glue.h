/*
 * tsk_glue.h - the Sleuth Kit step itself: open an image through libtsk,
 * list its volume system, open its file systems, fill a struct tsk_result.
 * Pure glue: it never opens a file by itself and never prints (TSK's errors
 * go into the result).  It runs inside a worker process; the worker and its
 * protocol are scanner/tsk_worker.c, the fence around them scanner/tsk_pool.c.
 */
#ifndef IMGSCAN_TSK_GLUE_H
#define IMGSCAN_TSK_GLUE_H

#include "ident.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSK_MAX_HINTS 16

struct tsk_hint {
	uint64_t offset;
	char type[16];           /* TSK file-system name: "fat", "ext", "iso9660" */
};

/* What to ask TSK about one image: plain data, sent to the worker as is. */
struct tsk_request {
	uint64_t size;
	/* "tsk": identify with The Sleuth Kit (container says how to open it);
	 * "inside": look inside (formats/inside.h; container names the layer:
	 * a compressed format, a virtual-disk container, or "magic" for
	 * libmagic's name of content none of our probes knows). */
	char op[8];
	char container[16];      /* "raw", "ewf", "vmdk", "vhd"; for "inside": "gzip", "zip", "qcow2"... */
	uint8_t run_tsk;         /* inside: also run TSK on a container's virtual disk */
	uint8_t inside_full;     /* inside: decompress the whole stream and hash it (--inside full) */
	uint32_t extra_seconds;  /* added to the pool's time limit for this request */
	uint8_t has_ptable;      /* our probes saw a partition table */
	/* Media of several files (a split raw or EWF set): how many; their
	 * descriptors follow the request (tsk_wire.h).  0 or 1: one file. */
	uint32_t nsegments;
	uint8_t ewf_check;       /* EWF: read the media whole through libewf, check its stored hashes */
	uint8_t want_sha256;     /* that check computes SHA-256 too (--hash sha256) */
	uint8_t ewf_only;        /* the check alone, no Sleuth Kit (--no-tsk, verify) */
	uint32_t nhints;
	struct tsk_hint hints[TSK_MAX_HINTS];
	char path[4096];         /* for messages (and the test hooks' match) only: TSK reads the
				  * descriptor the scanner opened, never this name */
};

/* Read len bytes at off: the count (short only at the end), or -errno. */
typedef long (*tsk_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

/* Bytes in memory, read as an image: tsk_read_buffer() with a struct
 * tsk_buffer as its ctx (a small image the pool shared, a decompressed
 * head). */
struct tsk_buffer {
	const uint8_t *bytes;
	uint64_t len;
};
long tsk_read_buffer(void *ctx, uint64_t off, void *buf, size_t len);

/* Where the glue gets the image's bytes. */
struct tsk_source {
	tsk_read_fn read;        /* raw images: every byte TSK reads comes through here */
	void *ctx;
	/* Containers (ewf, vmdk, vhd) are decoded by libewf/libvmdk/libvhdi, which
	 * open a file name themselves: a name the worker made for the same open
	 * file (see tsk_container_file_name()). */
	const char *container_path;
	/* An EWF set of several files: every segment's name, in order (the
	 * first is container_path). */
	const char *const *container_paths;
	int ncontainer_paths;
};

/* The file-system type our probes expect at offset off, or NULL
 * (tsk_request.c). */
const char *tsk_request_hint(const struct tsk_request *req, uint64_t off);

/* Fill the request's hints from what our probes found (tsk_request.c). */
void tsk_request_fill(struct tsk_request *req, const struct ident *id, const char *path, uint64_t size,
		      const char *container);

/* Identify the image: res is overwritten.  res->status is TSK_DONE, or
 * TSK_OUT_OF_MEMORY when an allocation failed on the way (TSK's allocator
 * said so by its error number, or a read of ours failed with ENOMEM). */
void tsk_glue_identify(const struct tsk_request *req, const struct tsk_source *src, struct tsk_result *res);

/* Record TSK's current error (this thread's) in res under context; an
 * allocation failure (TSK_ERR_AUX_MALLOC) marks res out of memory. */
void tsk_result_add_error(struct tsk_result *res, const char *context);

/*
 * The file name under which the container library must see the image:
 * libewf wants an EWF extension ("image.E01"); libvmdk opens the extent
 * named in the VMDK's embedded descriptor, next to the name it was given, so
 * that name is the extent's own (read through src->read; it must be a plain
 * file name).  Returns 0, -ENOTSUP when the container keeps its data in
 * other files (a VMDK descriptor file, split extents), -EINVAL for a damaged
 * descriptor, or the read's -errno.
 */
int tsk_container_file_name(const struct tsk_request *req, tsk_read_fn read, void *ctx, char *name,
			    size_t name_len);

#endif
