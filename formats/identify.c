/*
 * identify.c - the probe pass over a whole image and inside its partitions.
 */
#include "identify.h"

static void probe_partition(const struct part_entry *p, uint64_t image_size, ident_read_fn read,
			    void *ctx, uint8_t *scratch, size_t scratch_len, struct ident *id)
{
	struct probe_view v = {0};
	uint64_t avail;
	long got;

	if (p->start == 0 || p->start >= image_size || !p->length)
		return; /* start 0 is the whole image (isohybrid): already probed */
	avail = image_size - p->start;
	v.size = p->length < avail ? p->length : avail;
	got = read(ctx, p->start, scratch, v.size < scratch_len ? (size_t)v.size : scratch_len);
	if (got <= 0)
		return;
	v.head = scratch;
	v.head_len = (size_t)got;
	probe_run_all(&v, p->start, true, id);
}

void identify_image(const struct probe_view *whole, ident_read_fn read, void *ctx, uint8_t *scratch,
		    size_t scratch_len, struct ident *id)
{
	probe_run_all(whole, 0, false, id);
	for (int i = 0; i < id->nparts; i++)
		probe_partition(&id->parts[i], whole->size, read, ctx, scratch, scratch_len, id);
}
