/*
 * tsk_request.c - the request for The Sleuth Kit's step, made by imgscan
 * from what our probes found (the worker program answers it: tsk_glue.c).
 */
#include "tsk_glue.h"
#include "inside.h"

#include <stdio.h>
#include <string.h>

const char *tsk_request_hint(const struct tsk_request *req, uint64_t off)
{
	for (uint32_t i = 0; i < req->nhints && i < TSK_MAX_HINTS; i++)
		if (req->hints[i].offset == off)
			return req->hints[i].type;
	return NULL;
}

void tsk_request_fill(struct tsk_request *req, const struct ident *id, const char *path, uint64_t size,
		      const char *container)
{
	memset(req, 0, sizeof(*req));
	req->size = size;
	snprintf(req->op, sizeof(req->op), "tsk");
	snprintf(req->container, sizeof(req->container), "%s", container);
	snprintf(req->path, sizeof(req->path), "%s", path);
	req->has_ptable = id->scheme[0] != '\0';
	for (int i = 0; i < id->nhits && req->nhints < TSK_MAX_HINTS; i++) {
		const struct probe_hit *h = &id->hits[i];
		if (!h->tsk_hint[0] || tsk_request_hint(req, h->offset))
			continue;
		req->hints[req->nhints].offset = h->offset;
		snprintf(req->hints[req->nhints].type, sizeof(req->hints[0].type), "%s", h->tsk_hint);
		req->nhints++;
	}
}

bool inside_is_container(const char *layer)
{
	static const char *const names[] = {"qcow2", "vmdk", "vhd", "vhdx", "vdi", "android-sparse"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(layer, names[i]))
			return true;
	return false;
}
