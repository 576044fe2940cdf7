/*
 * identify.c - the probe pass over a whole image and inside its partitions,
 * then the probes' follow-ups through the read callback: refine hooks (facts
 * beyond the captured bytes) and more_hits hooks (hits beyond them).
 */
#include "identify.h"

#include <stdio.h>
#include <string.h>

#define EBR_MAX 128 /* logical partitions followed */

static bool is_extended(const char *type)
{
	return !strcmp(type, "0x05") || !strcmp(type, "0x0f") || !strcmp(type, "0x85");
}

static void probe_partition(const struct part_entry *p, uint64_t image_size, ident_read_fn read,
			    void *ctx, uint8_t *scratch, size_t scratch_len, struct ident *id)
{
	struct probe_view v = {0};
	uint64_t avail;
	long got;

	if (p->start == 0 || p->start >= image_size || !p->length || is_extended(p->type))
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

static void add_logical(struct ident *id, const uint8_t *e, uint64_t ebr, uint32_t number)
{
	struct part_entry *p = &id->parts[id->nparts++];

	memset(p, 0, sizeof(*p));
	p->number = number;
	p->start = ebr + (uint64_t)le32(e + 8) * 512;
	p->length = (uint64_t)le32(e + 12) * 512;
	p->bootable = e[0] == 0x80;
	snprintf(p->type, sizeof(p->type), "0x%02x", e[4]);
	snprintf(p->name, sizeof(p->name), "logical");
}

/* The chain of extended boot records: each holds one logical partition
 * (relative to itself) and a link to the next EBR (relative to the extended
 * partition).  Capped, and a link must move forward, so a crafted loop ends. */
static void walk_ebr_chain(const struct part_entry *ext, uint64_t image_size, ident_read_fn read, void *ctx,
			   struct ident *id)
{
	uint8_t ebr[512];
	uint64_t at = ext->start, end = ext->start + ext->length;
	uint32_t number = 5;

	for (int i = 0; i < EBR_MAX && at + 512 <= image_size && at < end; i++) {
		const uint8_t *e0 = ebr + 446, *e1 = ebr + 462;
		uint64_t next;

		if (read(ctx, at, ebr, sizeof(ebr)) != (long)sizeof(ebr) || ebr[510] != 0x55 || ebr[511] != 0xAA)
			return;
		if (e0[4] && le32(e0 + 12) && id->nparts < IDENT_MAX_PARTS)
			add_logical(id, e0, at, number++);
		if (!e1[4] || !le32(e1 + 8))
			return;
		next = ext->start + (uint64_t)le32(e1 + 8) * 512;
		if (next <= at)
			return;
		at = next;
	}
}

/* Let probes with a refine hook read what lies beyond the captured bytes:
 * the first sector of the structure is re-read into the scratch buffer's
 * head, the rest of the scratch is the hook's own. */
static void refine_hits(ident_read_fn read, void *ctx, uint8_t *scratch, size_t scratch_len, struct ident *id)
{
	const size_t first = 4096;

	if (scratch_len < 2 * first)
		return;
	for (int i = 0; i < id->nhits; i++) {
		const struct probe_desc *d = id->hits[i].desc;
		long got;
		if (!d || !d->refine || id->hits[i].label[0])
			continue;
		got = read(ctx, id->hits[i].offset, scratch, first);
		if (got > 0)
			d->refine(scratch, (size_t)got, id->hits[i].offset, read, ctx, scratch + first,
				  scratch_len - first, &id->hits[i]);
	}
}

/* Let probes with a more_hits hook add what their view could not reach (the
 * later sessions of a multi-session disc): once for each hit there before
 * the first hook ran, after refine_hits(), so a hook sees refined hits.  The
 * hooks append only, within IDENT_MAX_HITS, and read through the callback
 * into scratch (probe.h). */
static void more_hits(const struct probe_view *whole, ident_read_fn read, void *ctx, uint8_t *scratch,
		      size_t scratch_len, struct ident *id)
{
	const int n = id->nhits;

	if (!scratch || !scratch_len)
		return;
	for (int i = 0; i < n && i < IDENT_MAX_HITS; i++) {
		const struct probe_desc *d = id->hits[i].desc;
		if (d && d->more_hits)
			d->more_hits(whole, i, read, ctx, scratch, scratch_len, id);
	}
}

void identify_image(const struct probe_view *whole, ident_read_fn read, void *ctx, uint8_t *scratch,
		    size_t scratch_len, struct ident *id)
{
	int primaries;

	probe_run_all(whole, 0, false, id);
	primaries = id->nparts;
	for (int i = 0; !strcmp(id->scheme, "mbr") && i < primaries; i++)
		if (is_extended(id->parts[i].type)) {
			walk_ebr_chain(&id->parts[i], whole->size, read, ctx, id);
			break; /* one extended partition per MBR */
		}
	for (int i = 0; i < id->nparts; i++)
		probe_partition(&id->parts[i], whole->size, read, ctx, scratch, scratch_len, id);
	refine_hits(read, ctx, scratch, scratch_len, id);
	more_hits(whole, read, ctx, scratch, scratch_len, id);
	for (int i = 0; i < id->nhits; i++)
		probe_hit_tidy(&id->hits[i]); /* what the hooks wrote, too */
}
