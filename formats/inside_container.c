/*
 * inside_container.c - what a virtual-disk container holds (qcow2, vmdk,
 * vhd, vhdx, vdi, android-sparse), in the worker: the container's reader
 * (formats/vdisk.h) opens its virtual disk from the image's one
 * descriptor; our probes see the disk's first INSIDE_PEEK_BYTES and last
 * TAIL_BYTES (and partition heads, read through it); with req->run_tsk,
 * The Sleuth Kit opens the virtual disk too, and res's TSK fields become
 * the virtual disk's.  A backing or parent file is named, never opened.
 *
 * Bounded: 4 MiB of head, 64 KiB of tail, 1 MiB of scratch for partition
 * heads, the readers' own bounded maps, and libqcow's, libvmdk's and
 * libvhdi's caches (none has a size to set; libvmdk's pool of open files is
 * held to 4): the worker's address-space and time limits are the backstop.
 */
#include "identify.h"
#include "inside.h"
#include "tsk_glue.h"
#include "vdisk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAIL_BYTES (64u << 10)
#define SCRATCH_BYTES (1u << 20)
#define HEAD_PIECE (64u << 10) /* the head is read in pieces: a cluster that fails costs only its piece */

/* The bytes our probes see, borrowed from the virtual disk. */
struct peek {
	uint8_t *head, *tail, *scratch;   /* owned */
	size_t head_len, tail_len;
	uint64_t tail_off;
};

/* identify_image()'s and TSK's reads: into the virtual disk. */
static long disk_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct vdisk *d = ctx;

	return d->ops->read(d, off, buf, len);
}

/* As much of the disk's first INSIDE_PEEK_BYTES as reads, in pieces, up to
 * the first that fails. */
static void read_head(struct vdisk *d, uint64_t size, struct peek *pk)
{
	size_t want = size < INSIDE_PEEK_BYTES ? (size_t)size : INSIDE_PEEK_BYTES;

	while (pk->head_len < want) {
		size_t piece = want - pk->head_len < HEAD_PIECE ? want - pk->head_len : HEAD_PIECE;
		long n = disk_read(d, pk->head_len, pk->head + pk->head_len, piece);
		if (n <= 0)
			return;
		pk->head_len += (size_t)n;
	}
}

/* The disk's last TAIL_BYTES beyond the head (backup GPT, a fixed VHD's
 * footer...); none when they do not read. */
static void read_tail(struct vdisk *d, uint64_t size, struct peek *pk)
{
	long n;

	if (size <= pk->head_len)
		return;
	pk->tail_off = size - pk->head_len > TAIL_BYTES ? size - TAIL_BYTES : pk->head_len;
	n = disk_read(d, pk->tail_off, pk->tail, (size_t)(size - pk->tail_off));
	pk->tail_len = n > 0 ? (size_t)n : 0;
}

/* Our probes over the virtual disk, into in->id. */
static void probe_disk(struct vdisk *d, struct peek *pk, struct inside_result *in)
{
	uint64_t size = d->ops->size(d);
	struct probe_view v = {0};

	read_head(d, size, pk);
	if (!pk->head_len)
		return;
	read_tail(d, size, pk);
	v.head = pk->head;
	v.head_len = pk->head_len;
	v.tail = pk->tail_len ? pk->tail : NULL;
	v.tail_len = pk->tail_len;
	v.tail_off = pk->tail_off;
	v.size = size;
	memset(&in->id, 0, sizeof(in->id));
	identify_image(&v, disk_read, d, pk->scratch, SCRATCH_BYTES, &in->id);
	in->examined = pk->head_len + pk->tail_len;
}

/* The Sleuth Kit on the virtual disk, as on a raw image whose bytes come
 * from it, with hints from our probes' hits on it.  tsk_glue_identify()
 * overwrites the whole result: res->inside is kept aside meanwhile. */
static void run_tsk(const struct tsk_request *req, struct vdisk *d, struct tsk_result *res)
{
	struct inside_result *kept = malloc(sizeof(*kept));
	struct tsk_source src = {.read = disk_read, .ctx = d};
	struct tsk_request inner;

	if (!kept) {
		snprintf(res->errors[0], sizeof(res->errors[0]), "image: no memory to run on the %s virtual disk",
			 req->container);
		res->nerrors = 1;
		res->status = TSK_OUT_OF_MEMORY;
		return;
	}
	memcpy(kept, &res->inside, sizeof(*kept));
	tsk_request_fill(&inner, &kept->id, req->path, d->ops->size(d), "raw");
	tsk_glue_identify(&inner, &src, res);
	memcpy(&res->inside, kept, sizeof(*kept));
	free(kept);
	res->inside.tsk_ran = 1;
	snprintf(res->img_type, sizeof(res->img_type), "%s", req->container);
}

/* Look at an open disk: header facts, probes, TSK. */
static void look(const struct tsk_request *req, struct vdisk *d, const struct vdisk_error *err,
		 struct tsk_result *res)
{
	struct inside_result *in = &res->inside;
	struct peek pk = {0};

	in->inner_size = d->ops->size(d);
	in->inner_size_known = 1;
	snprintf(in->backing, sizeof(in->backing), "%s", d->ops->backing(d));
	pk.head = malloc(INSIDE_PEEK_BYTES);
	pk.tail = malloc(TAIL_BYTES);
	pk.scratch = malloc(SCRATCH_BYTES);
	if (pk.head && pk.tail && pk.scratch) {
		probe_disk(d, &pk, in);
		if (req->run_tsk && pk.head_len)
			run_tsk(req, d, res);
		/* Nothing read, and not because the parent holds it: no look. */
		if (!pk.head_len && !err->needs_parent)
			in->status = INSIDE_FAILED;
	} else {
		in->status = INSIDE_FAILED;
		snprintf(in->failure, sizeof(in->failure), "%s: no memory to look inside", req->container);
	}
	free(pk.head);
	free(pk.tail);
	free(pk.scratch);
}

void inside_container(const struct tsk_request *req, int fd, struct tsk_result *res)
{
	const struct vdisk_ops *ops = vdisk_ops_for(req->container);
	struct inside_result *in = &res->inside;
	struct vdisk_error err = {0};
	struct vdisk_file file;
	struct vdisk *d = NULL;

	if (!ops) {
		in->status = INSIDE_FAILED;
		snprintf(in->failure, sizeof(in->failure), "%s: not a container this worker reads", req->container);
		return;
	}
	if (vdisk_file_init(&file, fd, req->size)) {
		in->status = INSIDE_FAILED;
		snprintf(in->failure, sizeof(in->failure), "%s: no memory to read it", req->container);
	} else if (ops->open(&file, &err, &d)) {
		in->status = INSIDE_FAILED;
	} else {
		look(req, d, &err, res);
		ops->close(d);
	}
	vdisk_file_release(&file);
	in->truncated |= err.truncated;
	if (err.why[0] && !in->failure[0])
		snprintf(in->failure, sizeof(in->failure), "%s", err.why);
	if (in->status == INSIDE_FAILED && !in->failure[0])
		snprintf(in->failure, sizeof(in->failure), "%s: the virtual disk does not read", req->container);
}
