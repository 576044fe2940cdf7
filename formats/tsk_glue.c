/*
 * tsk_glue.c - open an image with libtsk, list its volume system, open a file
 * system at offset 0 and in every allocated partition, pointing TSK at the
 * type our probes found where they found one (its auto-detection gives up on
 * hybrids with "multiple types").  Runs only in a worker process.
 */
#include "tsk_glue.h"

#include <tsk/libtsk.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A raw image served by our own pread, opened read-only with O_NOATIME. */
struct raw_img {
	TSK_IMG_INFO info; /* first: TSK casts to it */
	int fd;
};

static ssize_t raw_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
	struct raw_img *r = (struct raw_img *)img;
	ssize_t n;

	do
		n = pread(r->fd, buf, len, off);
	while (n < 0 && errno == EINTR);
	return n;
}

static void raw_close(TSK_IMG_INFO *img)
{
	struct raw_img *r = (struct raw_img *)img;

	close(r->fd);
	r->fd = -1;
}

static void raw_imgstat(TSK_IMG_INFO *img, FILE *f)
{
	(void)img;
	(void)f;
}

/* One image structure per worker, reused: it embeds TSK's 2 MiB read cache,
 * and zeroing that for every image was most of the cost of a small image.
 * Only the bookkeeping around the cache is cleared. */
static struct raw_img *reusable_raw(void)
{
	static struct raw_img *r;
	size_t head = offsetof(TSK_IMG_INFO, cache), tail = offsetof(TSK_IMG_INFO, cache_off);

	if (!r && !(r = calloc(1, sizeof(*r))))
		return NULL;
	memset(r, 0, head);
	memset((char *)r + tail, 0, sizeof(*r) - tail);
	r->fd = -1;
	return r;
}

static TSK_IMG_INFO *open_raw(const struct tsk_request *req)
{
	struct raw_img *r = reusable_raw();
	TSK_IMG_INFO *img;

	if (!r)
		return NULL;
	r->fd = open(req->path, O_RDONLY | O_CLOEXEC | O_NOATIME);
	if (r->fd < 0 && errno == EPERM)
		r->fd = open(req->path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		tsk_error_reset();
		tsk_error_set_errno(TSK_ERR_IMG_OPEN);
		tsk_error_set_errstr("%s", strerror(errno));
		return NULL;
	}
	img = tsk_img_open_external(r, (TSK_OFF_T)req->size, 512, raw_read, raw_close, raw_imgstat);
	if (!img)
		raw_close(&r->info);
	return img;
}

static void add_error(struct tsk_result *res, const char *context)
{
	const char *msg = tsk_error_get();

	if (res->nerrors >= TSK_MAX_ERRORS)
		return;
	snprintf(res->errors[res->nerrors++], sizeof(res->errors[0]), "%s: %s", context,
		 msg ? msg : "unknown error");
	/* A failed allocation is what an address-space limit looks like here. */
	if (msg && (strstr(msg, "alloc") || strstr(msg, "Cannot allocate memory")))
		res->status = TSK_OUT_OF_MEMORY;
}

static TSK_IMG_INFO *open_image(const struct tsk_request *req, struct tsk_result *res)
{
	TSK_IMG_TYPE_ENUM type = TSK_IMG_TYPE_DETECT;
	TSK_IMG_INFO *img;

	snprintf(res->img_type, sizeof(res->img_type), "%s", req->container);
	if (!strcmp(req->container, "raw"))
		img = open_raw(req);
	else {
		if (!strcmp(req->container, "ewf"))
			type = TSK_IMG_TYPE_EWF_EWF;
		else if (!strcmp(req->container, "vmdk"))
			type = TSK_IMG_TYPE_VMDK_VMDK;
		else if (!strcmp(req->container, "vhd"))
			type = TSK_IMG_TYPE_VHD_VHD;
		if (type != TSK_IMG_TYPE_DETECT && !(tsk_img_type_supported() & type)) {
			if (res->nerrors < TSK_MAX_ERRORS)
				snprintf(res->errors[res->nerrors++], sizeof(res->errors[0]),
					 "image: this libtsk was built without %s support", req->container);
			return NULL;
		}
		img = tsk_img_open_utf8_sing(req->path, type, 0);
	}
	if (!img)
		add_error(res, "image");
	else
		res->img_size = (uint64_t)img->size;
	return img;
}

static const char *hint_at(const struct tsk_request *req, uint64_t off)
{
	for (uint32_t i = 0; i < req->nhints && i < TSK_MAX_HINTS; i++)
		if (req->hints[i].offset == off)
			return req->hints[i].type;
	return NULL;
}

static bool fs_seen(const struct tsk_result *res, uint64_t off)
{
	for (uint32_t i = 0; i < res->nfs; i++)
		if (res->fs[i].offset == off)
			return true;
	return false;
}

/* Open a file system at off; record it, or the error when one was expected. */
static void try_fs(TSK_IMG_INFO *img, uint64_t off, const struct tsk_request *req, bool expected,
		   struct tsk_result *res)
{
	const char *hint = hint_at(req, off);
	TSK_FS_TYPE_ENUM type = hint ? tsk_fs_type_toid(hint) : TSK_FS_TYPE_DETECT;
	TSK_FS_INFO *fs;
	struct tsk_fs *out;
	char ctx[64];

	if (fs_seen(res, off) || res->nfs >= TSK_MAX_FS)
		return;
	if (type == TSK_FS_TYPE_UNSUPP)
		type = TSK_FS_TYPE_DETECT;
	tsk_error_reset();
	fs = tsk_fs_open_img(img, (TSK_OFF_T)off, type);
	if (!fs) {
		if (expected || hint) {
			snprintf(ctx, sizeof(ctx), "file system at %llu", (unsigned long long)off);
			add_error(res, ctx);
		}
		return;
	}
	out = &res->fs[res->nfs++];
	out->offset = off;
	snprintf(out->type, sizeof(out->type), "%s", tsk_fs_type_toname(fs->ftype));
	snprintf(out->how, sizeof(out->how), "%s", type == TSK_FS_TYPE_DETECT ? "detect" : "hint");
	out->block_size = fs->block_size;
	out->block_count = (uint64_t)fs->block_count;
	out->last_block = (uint64_t)fs->last_block;
	tsk_fs_close(fs);
}

static void list_volumes(TSK_IMG_INFO *img, const struct tsk_request *req, struct tsk_result *res)
{
	TSK_VS_INFO *vs;

	tsk_error_reset();
	vs = tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT);
	if (!vs) {
		if (req->has_ptable)
			add_error(res, "volume system");
		return;
	}
	snprintf(res->vs_type, sizeof(res->vs_type), "%s", tsk_vs_type_toname(vs->vstype));
	res->vs_block_size = vs->block_size;
	for (TSK_PNUM_T i = 0; i < vs->part_count && res->nparts < TSK_MAX_PARTS; i++) {
		const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
		struct tsk_part *out;

		if (!p)
			break;
		out = &res->parts[res->nparts++];
		out->addr = (uint32_t)p->addr;
		out->start = (uint64_t)p->start * vs->block_size;
		out->length = (uint64_t)p->len * vs->block_size;
		out->allocated = (p->flags & TSK_VS_PART_FLAG_ALLOC) != 0;
		snprintf(out->desc, sizeof(out->desc), "%s", p->desc ? p->desc : "");
	}
	tsk_vs_close(vs);
	for (uint32_t i = 0; i < res->nparts; i++)
		if (res->parts[i].allocated)
			try_fs(img, res->parts[i].start, req, true, res);
}

/* Test-only faults, so the fence around the worker can be tested. */
static void inject_fault(const char *fault)
{
	if (!strcmp(fault, "crash"))
		raise(SIGSEGV);
	if (!strcmp(fault, "hang"))
		for (;;)
			pause();
	if (!strcmp(fault, "alloc"))
		for (;;) {
			char *p = malloc(64u << 20);
			if (!p)
				return; /* the limit held: report like TSK would */
			memset(p, 1, 64u << 20);
		}
}

static void identify(const struct tsk_request *req, struct tsk_result *res)
{
	TSK_IMG_INFO *img;

	memset(res, 0, sizeof(*res));
	res->magic = TSK_RES_MAGIC;
	res->status = TSK_DONE;
	if (req->fault[0]) {
		inject_fault(req->fault);
		tsk_error_reset();
		tsk_error_set_errno(TSK_ERR_AUX_MALLOC);
		tsk_error_set_errstr("tsk_malloc: Cannot allocate memory (test fault)");
		add_error(res, "image");
		return;
	}
	img = open_image(req, res);
	if (!img)
		return;
	list_volumes(img, req, res);
	for (uint32_t i = 0; i < req->nhints && i < TSK_MAX_HINTS; i++)
		try_fs(img, req->hints[i].offset, req, true, res);
	try_fs(img, 0, req, false, res);
	tsk_img_close(img);
}

/* Move len bytes through a pipe, whatever the pipe's chunking: 0, or -1
 * when the other side is gone.  Both ends of the protocol use these. */
int tsk_pipe_transfer(int fd, void *buf, size_t len, bool writing)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tsk_worker_main(int in_fd, int out_fd)
{
	static struct tsk_request req;
	static struct tsk_result res;

	while (tsk_pipe_transfer(in_fd, &req, sizeof(req), false) == 0) {
		if (req.magic != TSK_REQ_MAGIC)
			return 2;
		req.path[sizeof(req.path) - 1] = '\0';
		identify(&req, &res);
		if (tsk_pipe_transfer(out_fd, &res, sizeof(res), true))
			return 2;
	}
	return 0;
}

void tsk_request_fill(struct tsk_request *req, const struct ident *id, const char *path, uint64_t size,
		      const char *container)
{
	memset(req, 0, sizeof(*req));
	req->magic = TSK_REQ_MAGIC;
	req->size = size;
	snprintf(req->container, sizeof(req->container), "%s", container);
	snprintf(req->path, sizeof(req->path), "%s", path);
	req->has_ptable = id->scheme != NULL;
	for (int i = 0; i < id->nhits && req->nhints < TSK_MAX_HINTS; i++) {
		const struct probe_hit *h = &id->hits[i];
		if (!h->tsk_hint || hint_at(req, h->offset))
			continue;
		req->hints[req->nhints].offset = h->offset;
		snprintf(req->hints[req->nhints].type, sizeof(req->hints[0].type), "%s", h->tsk_hint);
		req->nhints++;
	}
}
