/*
 * tsk_glue.c - open an image with libtsk, list its volume system, open a file
 * system at offset 0 and in every allocated partition, pointing TSK at the
 * type our probes found where they found one (its auto-detection gives up on
 * hybrids with "multiple types").  Raw images are read through the caller's
 * callback (tsk_img_open_external); containers by the libraries TSK links,
 * under a name the caller gives.  Runs only in a worker process.
 */
#include "tsk_glue.h"
#include "probe.h"

#include <tsk/libtsk.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A raw image served by the caller's read callback. */
struct raw_img {
	TSK_IMG_INFO info; /* first: TSK casts to it */
	const struct tsk_source *src;
	bool out_of_memory; /* a read failed with ENOMEM */
};

/* TSK's read callback: bytes, or -1 with TSK's error set.  TSK asks for
 * whole cache blocks and expects short counts only at the end. */
static ssize_t raw_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
	struct raw_img *r = (struct raw_img *)img;
	long n = off < 0 ? -EINVAL : r->src->read(r->src->ctx, (uint64_t)off, buf, len);

	if (n >= 0)
		return n;
	tsk_error_reset();
	if (n == -ENOMEM) {
		r->out_of_memory = true;
		tsk_error_set_errno(TSK_ERR_AUX_MALLOC);
	} else {
		tsk_error_set_errno(TSK_ERR_IMG_READ);
	}
	tsk_error_set_errstr("read at %lld: %s", (long long)off, strerror((int)-n));
	return -1;
}

/* The source belongs to the caller: nothing to close here. */
static void raw_close(TSK_IMG_INFO *img)
{
	((struct raw_img *)img)->src = NULL;
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

	if (!r && !(r = calloc(1, sizeof(*r)))) {
		tsk_error_reset();
		tsk_error_set_errno(TSK_ERR_AUX_MALLOC);
		tsk_error_set_errstr("image structure: %s", strerror(ENOMEM));
		return NULL;
	}
	memset(r, 0, head);
	memset((char *)r + tail, 0, sizeof(*r) - tail);
	return r;
}

static TSK_IMG_INFO *open_raw(const struct tsk_request *req, const struct tsk_source *src)
{
	struct raw_img *r = reusable_raw();

	if (!r)
		return NULL;
	r->src = src;
	return tsk_img_open_external(r, (TSK_OFF_T)req->size, 512, raw_read, raw_close, raw_imgstat);
}

void tsk_result_add_error(struct tsk_result *res, const char *context)
{
	const char *msg = tsk_error_get();

	/* Decided by TSK's error number, set by its allocator, never by the
	 * text: "first cluster of allocation bitmap not allocated" is damage. */
	if (tsk_error_get_errno() == TSK_ERR_AUX_MALLOC)
		res->status = TSK_OUT_OF_MEMORY;
	if (res->nerrors >= TSK_MAX_ERRORS)
		return;
	snprintf(res->errors[res->nerrors++], sizeof(res->errors[0]), "%s: %s", context,
		 msg ? msg : "unknown error");
}

static TSK_IMG_TYPE_ENUM container_type(const char *container)
{
	if (!strcmp(container, "ewf"))
		return TSK_IMG_TYPE_EWF_EWF;
	if (!strcmp(container, "vmdk"))
		return TSK_IMG_TYPE_VMDK_VMDK;
	if (!strcmp(container, "vhd"))
		return TSK_IMG_TYPE_VHD_VHD;
	return TSK_IMG_TYPE_UNSUPP;
}

static void add_message(struct tsk_result *res, const char *msg)
{
	if (res->nerrors < TSK_MAX_ERRORS)
		snprintf(res->errors[res->nerrors++], sizeof(res->errors[0]), "%s", msg);
}

static TSK_IMG_INFO *open_image(const struct tsk_request *req, const struct tsk_source *src,
				struct tsk_result *res)
{
	TSK_IMG_TYPE_ENUM type = container_type(req->container);
	TSK_IMG_INFO *img;
	char msg[200];

	snprintf(res->img_type, sizeof(res->img_type), "%s", req->container);
	tsk_error_reset();
	if (!strcmp(req->container, "raw")) {
		img = open_raw(req, src);
	} else if (type == TSK_IMG_TYPE_UNSUPP || !(tsk_img_type_supported() & type)) {
		snprintf(msg, sizeof(msg), "image: this libtsk was built without %s support", req->container);
		add_message(res, msg);
		return NULL;
	} else if (!src->container_path) {
		add_message(res, "image: no file name to open the container by");
		return NULL;
	} else if (src->ncontainer_paths > 1) { /* an EWF set: every segment, by name */
		img = tsk_img_open_utf8(src->ncontainer_paths, src->container_paths, type, 0);
	} else {
		img = tsk_img_open_utf8_sing(src->container_path, type, 0);
	}
	if (!img)
		tsk_result_add_error(res, "image");
	else
		res->img_size = (uint64_t)img->size;
	return img;
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
	const char *hint = tsk_request_hint(req, off);
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
			tsk_result_add_error(res, ctx);
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
			tsk_result_add_error(res, "volume system");
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
		/* From the disk: saturate like our probes, never wrap. */
		out->start = size_mul((uint64_t)p->start, vs->block_size);
		out->length = size_mul((uint64_t)p->len, vs->block_size);
		out->allocated = (p->flags & TSK_VS_PART_FLAG_ALLOC) != 0;
		snprintf(out->desc, sizeof(out->desc), "%s", p->desc ? p->desc : "");
	}
	tsk_vs_close(vs);
	for (uint32_t i = 0; i < res->nparts; i++)
		if (res->parts[i].allocated)
			try_fs(img, res->parts[i].start, req, true, res);
}

void tsk_glue_identify(const struct tsk_request *req, const struct tsk_source *src, struct tsk_result *res)
{
	TSK_IMG_INFO *img;

	memset(res, 0, sizeof(*res));
	res->status = TSK_DONE;
	img = open_image(req, src, res);
	if (!img)
		return;
	list_volumes(img, req, res);
	for (uint32_t i = 0; i < req->nhints && i < TSK_MAX_HINTS; i++)
		try_fs(img, req->hints[i].offset, req, true, res);
	try_fs(img, 0, req, false, res);
	/* A failed read may have been retried past, or its error wiped by
	 * TSK's auto-detection: the flag still says memory ran out. */
	if (!strcmp(req->container, "raw") && ((struct raw_img *)img)->out_of_memory)
		res->status = TSK_OUT_OF_MEMORY;
	tsk_img_close(img);
}

/* ---- container file names ---- */

#define VMDK_SECTOR 512u
#define VMDK_DESC_MAX_SECTORS 128u /* 64 KiB: qemu and VMware write 20 sectors or fewer */

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A plain file name: no directory part, nothing that walks up. */
static bool plain_name(const char *s, size_t n)
{
	if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	return !memchr(s, '/', n) && !memchr(s, '\0', n);
}

/* The line p of len bytes (not NUL-terminated) begins with word. */
static bool starts_with(const char *p, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && !memcmp(p, word, n);
}

/* The one extent line of a descriptor ("RW 32768 SPARSE \"disk.vmdk\""):
 * copies its file name; -ENOTSUP when there are several extents or none,
 * -EINVAL when the name is not a plain file name. */
static int vmdk_extent_name(const char *text, size_t len, char *name, size_t name_len)
{
	const char *p = text, *end = text + len, *found = NULL;
	size_t found_len = 0;
	int extents = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q1, *q2;

		if (!eol)
			eol = end;
		size_t line = (size_t)(eol - p);

		if ((starts_with(p, line, "RW ") || starts_with(p, line, "RDONLY ") ||
		     starts_with(p, line, "NOACCESS ")) &&
		    (q1 = memchr(p, '"', (size_t)(eol - p))) && (q2 = memchr(q1 + 1, '"', (size_t)(eol - q1 - 1)))) {
			extents++;
			found = q1 + 1;
			found_len = (size_t)(q2 - q1 - 1);
		}
		p = eol < end ? eol + 1 : end;
	}
	if (extents != 1)
		return -ENOTSUP;
	if (!plain_name(found, found_len) || found_len >= name_len)
		return -EINVAL;
	memcpy(name, found, found_len);
	name[found_len] = '\0';
	return 0;
}

/* A hosted sparse extent ("KDMV") with its descriptor embedded: the name of
 * its one extent, which is this file. */
static int vmdk_file_name(const struct tsk_request *req, tsk_read_fn read, void *ctx, char *name,
			  size_t name_len)
{
	uint8_t head[64];
	uint64_t desc_off, desc_sectors;
	char *text;
	long n;
	int rc;

	n = read(ctx, 0, head, sizeof(head));
	if (n < 0)
		return (int)n;
	if (n < (long)sizeof(head) || memcmp(head, "KDMV", 4))
		return -ENOTSUP; /* a descriptor file or an ESX extent: the data is elsewhere */
	desc_off = le64_at(head + 28);
	desc_sectors = le64_at(head + 36);
	if (!desc_off || !desc_sectors)
		return -ENOTSUP; /* no embedded descriptor: one extent of a split disk */
	if (desc_sectors > VMDK_DESC_MAX_SECTORS || desc_off > req->size / VMDK_SECTOR ||
	    desc_sectors > req->size / VMDK_SECTOR - desc_off)
		return -EINVAL;
	text = malloc(desc_sectors * VMDK_SECTOR);
	if (!text)
		return -ENOMEM;
	n = read(ctx, desc_off * VMDK_SECTOR, text, desc_sectors * VMDK_SECTOR);
	rc = n < 0 ? (int)n : vmdk_extent_name(text, (size_t)n, name, name_len);
	free(text);
	return rc;
}

int tsk_container_file_name(const struct tsk_request *req, tsk_read_fn read, void *ctx, char *name,
			    size_t name_len)
{
	const char *fixed = !strcmp(req->container, "ewf") ? "image.E01"
			    : !strcmp(req->container, "vhd") ? "image.vhd" : NULL;

	if (!strcmp(req->container, "vmdk"))
		return vmdk_file_name(req, read, ctx, name, name_len);
	if (!fixed)
		return -ENOTSUP;
	if (strlen(fixed) >= name_len)
		return -ENAMETOOLONG;
	memcpy(name, fixed, strlen(fixed) + 1);
	return 0;
}

long tsk_read_buffer(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct tsk_buffer *b = ctx;

	if (off >= b->len)
		return 0;
	if (len > b->len - off)
		len = (size_t)(b->len - off);
	memcpy(buf, b->bytes + off, len);
	return (long)len;
}
