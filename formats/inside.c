/*
 * inside.c - the worker's "inside" request: which part looks inside the
 * image, by the layer the scanner's probes named.
 */
#include "inside.h"
#include "tsk_glue.h"

#include <stdio.h>
#include <string.h>

void inside_look(const struct tsk_request *req, int fd, struct tsk_result *res)
{
	struct inside_result *in = &res->inside;

	memset(in, 0, sizeof(*in));
	snprintf(in->layer, sizeof(in->layer), "%s", req->container);
	if (!strcmp(req->container, "magic"))
		inside_magic(fd, req->size, in);
	else if (inside_is_container(req->container))
		inside_container(req, fd, res);
	else
		inside_compressed(req, fd, in);
	if (!in->status)
		in->status = INSIDE_DONE;
}

void inside_hex128(XXH128_hash_t v, char out[33])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, v);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", c.digest[i]);
}
