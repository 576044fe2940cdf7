/*
 * probe_iso9660.c - ISO 9660 (ECMA-119): the volume descriptor set from
 * sector 16, the primary volume descriptor, Joliet and Rock Ridge, and the
 * sessions of a multi-session disc.
 *
 * The walk over descriptors is capped (ISO_VD_MAX, as libblkid does).  The
 * primary label is the PVD's volume identifier (d-characters by the
 * standard, but mkisofs and genisoimage copy what they are given: UTF-8 is
 * kept where valid); Joliet's own identifier (UTF-16BE, 16 characters) is
 * the second label, "label_joliet".
 *
 * Sessions: each session of a multi-session disc is a whole volume
 * descriptor set at its start + 16 sectors, its directories addressed from
 * the start of the disc.  The volume at sector 16 is the one a system
 * mounts: the first session's when the sessions were appended (genisoimage
 * -C/-M, written after the first); a copy of the newest one's when xorriso
 * grew the image in a file or on overwritable media, which then starts its
 * first session at sector 32 to leave room for that copy.  Each session
 * records its own size, so the next one is found at the end of the last
 * (rounded up as the writers do, or after the lead-out and lead-in gap of a
 * CD): a bounded search, at most ISO_SESSION_MAX sessions.  The probe
 * follows the chain over the bytes in view; sessions beyond them (a first
 * session of a few MiB puts the second past the first MiB) are added by the
 * more_hits hook, which resumes the same walk through the read callback,
 * one window of scratch at a time, never past the image's end.
 */
#include "probe.h"

#include <stdio.h>

#define ISO_VD_OFF 32768u
#define ISO_VD_SIZE 2048u
#define ISO_VD_MAX 16
#define ISO_SESSION_MAX 16        /* sessions followed */
#define XORRISO_FIRST_SESSION 32  /* after the 64 KiB that hold the newest superblock */
#define ISO_WINDOW (ISO_VD_MAX * ISO_VD_SIZE) /* bytes per read: a whole descriptor set */

extern const struct probe_desc probe_iso9660; /* session hits name it */

static bool is_joliet(const uint8_t *svd)
{
	const uint8_t *esc = svd + 88;

	return esc[0] == '%' && esc[1] == '/' && (esc[2] == '@' || esc[2] == 'C' || esc[2] == 'E');
}

/* One volume descriptor set: where its primary and Joliet descriptors are
 * (byte offsets; 0 when none). */
struct iso_vds {
	uint64_t pvd, joliet;
};

/* Walk the descriptors of the set that starts at sector start + 16, up to
 * the terminator, at most ISO_VD_MAX. */
static void walk_vds(struct probe_src *s, uint64_t start, struct iso_vds *out)
{
	out->pvd = out->joliet = 0;
	for (int i = 0; i < ISO_VD_MAX; i++) {
		uint64_t off = start * ISO_VD_SIZE + ISO_VD_OFF + (uint64_t)i * ISO_VD_SIZE;
		const uint8_t *d = probe_src_get(s, off, ISO_VD_SIZE);
		if (!d || memcmp(d + 1, "CD001", 5) || d[0] == 255)
			break;
		if (d[0] == 1 && !out->pvd)
			out->pvd = off;
		if (d[0] == 2 && !out->joliet && is_joliet(d))
			out->joliet = off;
	}
}

/* Rock Ridge: the root directory's "." entry carries an "SP" system-use
 * entry (SUSP) with check bytes BE EF.  Only looked at when it can be read. */
static bool has_rock_ridge(struct probe_src *s, uint32_t root_lba, uint32_t block)
{
	const uint8_t *dot = probe_src_get(s, (uint64_t)root_lba * block, 34 + 7);

	if (!dot || dot[0] < 34 + 7 || dot[32] != 1)
		return false;
	return dot[34] == 'S' && dot[35] == 'P' && dot[38] == 0xBE && dot[39] == 0xEF;
}

/* libblkid's guard against a bare CD001 inside some other data: the root
 * directory's first record is "." and points at its own extent. */
static bool root_dot_ok(struct probe_src *s, uint32_t root_lba, uint32_t block)
{
	const uint8_t *dot = probe_src_get(s, (uint64_t)root_lba * block, 34);

	if (!dot)
		return true; /* beyond what we hold: cannot check, do not reject */
	return dot[0] >= 34 && dot[32] == 1 && dot[33] == 0 && le32(dot + 2) == root_lba;
}

int iso9660_parse_pvd(const uint8_t *pvd, struct probe_hit *hit)
{
	uint32_t blocks, block;
	const uint8_t *d;

	if (pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) || pvd[6] != 1)
		return 1;
	blocks = le32(pvd + 80);
	block = le16(pvd + 128);
	if (block < 512 || block > 8192 || (block & (block - 1)) || blocks == 0)
		return 1;
	probe_copy_label(hit->label, sizeof(hit->label), pvd + 40, 32);
	hit->block_size = block;
	hit->claimed_size = (uint64_t)blocks * block;
	d = pvd + 813; /* creation date: 16 digits and a time-zone byte */
	if (d[0] >= '0' && d[0] <= '9')
		snprintf(hit->detail, sizeof(hit->detail), "created %.4s-%.2s-%.2sT%.2s:%.2s:%.2s",
			 d, d + 4, d + 6, d + 8, d + 10, d + 12);
	return 0;
}

static void append_detail(struct probe_hit *hit, const char *what)
{
	size_t n = strlen(hit->detail);

	snprintf(hit->detail + n, sizeof(hit->detail) - n, "%s%s", n ? ", " : "", what);
}

/* The Joliet volume identifier (16 UTF-16BE characters) as the second label. */
static void joliet_label(const uint8_t *svd, struct probe_hit *hit)
{
	probe_copy_utf16(hit->label2, sizeof(hit->label2), svd + 40, 32, true);
	if (hit->label2[0])
		snprintf(hit->label2_key, sizeof(hit->label2_key), "label_joliet");
}

/* The volume whose descriptor set starts at sector start + 16: hit filled
 * from its PVD and Joliet descriptor, *root_out (when not NULL) set to its
 * root directory's sector.  0 when it is a sane volume; a later session's
 * root directory lies within that session.  Each descriptor is fetched
 * again where it is used: a read for the root directory may replace the
 * window that held it. */
static int parse_volume(struct probe_src *s, uint64_t start, struct probe_hit *hit, uint32_t *root_out)
{
	struct iso_vds vds;
	const uint8_t *d;
	uint32_t root_lba;
	bool rock;

	walk_vds(s, start, &vds);
	d = vds.pvd ? probe_src_get(s, vds.pvd, ISO_VD_SIZE) : NULL;
	if (!d || iso9660_parse_pvd(d, hit))
		return 1;
	root_lba = le32(d + 156 + 2);
	if (start && (root_lba <= start || hit->block_size != 2048))
		return 1;
	if (!root_dot_ok(s, root_lba, hit->block_size))
		return 1;
	rock = has_rock_ridge(s, root_lba, hit->block_size);
	if (vds.joliet && (d = probe_src_get(s, vds.joliet, ISO_VD_SIZE))) {
		joliet_label(d, hit);
		append_detail(hit, "Joliet");
	}
	if (rock)
		append_detail(hit, "Rock Ridge");
	if (root_out)
		*root_out = root_lba;
	return 0;
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return v % to ? v + (to - v % to) : v;
}

/* Where the session after the one at start (of size blocks, in its PVD)
 * begins, 0 when no session follows within reach.  The size counts from
 * the session's start as libisofs and genisoimage write it, or from sector
 * 0 as on some discs; the next session starts at that end, rounded up to 16
 * (DVD) or 32 sectors (xorriso), or after a CD's gap between sessions
 * (lead-out, lead-in and pregap: 11400 sectors after the first, 6900 after
 * later ones).  Every candidate lies after start: the chain cannot loop. */
static uint64_t next_session(struct probe_src *s, uint64_t start, uint64_t blocks, struct probe_hit *scratch,
			     uint32_t *root)
{
	const uint64_t ends[2] = {start + blocks, blocks};

	for (int e = 0; e < 2 && (!e || (start && blocks > start)); e++) { /* from 0: another end */
		const uint64_t at[5] = {ends[e], round_up(ends[e], 16), round_up(ends[e], 32), ends[e] + 6900,
					ends[e] + 11400};
		for (int i = 0; i < 5; i++) {
			if (at[i] <= start || (i && at[i] == at[i - 1]))
				continue;
			memset(scratch, 0, sizeof(*scratch));
			if (parse_volume(s, at[i], scratch, root) == 0)
				return at[i];
		}
	}
	return 0;
}

/* The sessions' first sectors, in order, at most ISO_SESSION_MAX, into
 * starts; returns how many, and the last one's root directory in
 * *last_root.  With n = 0 the walk begins at the first session: at sector
 * 32 when a volume is there (xorriso's layout), else at 0.  With n > 0,
 * starts[0, n) were found already (over the view) and the walk resumes
 * after starts[n - 1]; *last_root is left as it was when that session no
 * longer parses. */
static int walk_sessions(struct probe_src *s, uint64_t starts[ISO_SESSION_MAX], int n, uint32_t *last_root)
{
	struct probe_hit scratch;
	uint64_t at;

	memset(&scratch, 0, sizeof(scratch));
	if (n > 0) {
		at = starts[--n];
		if (parse_volume(s, at, &scratch, last_root))
			return n + 1;
	} else if (parse_volume(s, XORRISO_FIRST_SESSION, &scratch, last_root) == 0) {
		at = XORRISO_FIRST_SESSION;
	} else if (parse_volume(s, 0, &scratch, last_root) == 0) {
		at = 0;
	} else {
		return 0;
	}
	for (;;) {
		starts[n++] = at;
		if (n == ISO_SESSION_MAX)
			break; /* *last_root stays the last followed one's */
		/* scratch holds the session at `at`; its size in 2048-byte blocks */
		at = next_session(s, at, scratch.claimed_size / ISO_VD_SIZE, &scratch, last_root);
		if (!at)
			break;
	}
	return n;
}

/* "3" or "at least 17" (of), and what the volume at 0 says of them. */
static void count_sessions(int n, bool beyond, char *of, size_t oflen, char *what, size_t whatlen)
{
	snprintf(of, oflen, "%s%d", beyond ? "at least " : "", n + beyond);
	snprintf(what, whatlen, "%s sessions%s", of, beyond ? " (the newest not reached)" : "");
}

/* A session's hit: the volume at its start, its size from there (counted
 * from the session's start unless that would run past the image while the
 * size from sector 0 would not).  No TSK hint: its directories are
 * addressed from the start of the disc, not from the hit's offset. */
static void session_hit(struct probe_src *s, uint64_t start, int k, const char *of, struct probe_hit *hit)
{
	uint64_t off = start * ISO_VD_SIZE, size;
	char what[48];

	memset(hit, 0, sizeof(*hit));
	parse_volume(s, start, hit, NULL);
	size = hit->claimed_size;
	if (size_add(off, size) > s->v->size && size <= s->v->size && size > off)
		size -= off;
	hit->claimed_size = size;
	snprintf(what, sizeof(what), "session %d of %s", k + 1, of);
	append_detail(hit, what);
	snprintf(hit->name, sizeof(hit->name), "iso9660");
	hit->cls = HIT_OPTICAL;
	hit->offset = off;
	hit->desc = &probe_iso9660;
}

/* Add a hit for every session that does not start at 0, leaving room for
 * the probe's own hit.  Only on a view of the whole image: probe_run_all()
 * gives this probe no base offset, and it runs before the partition-table
 * probes, so partitions listed already mean the view is a partition's.
 * Sessions are followed as far as the captured bytes reach (iso_more_hits()
 * goes on from there); in xorriso's layout the volume at sector 16 is the
 * newest session's, so when the last session reached is another one, later
 * sessions lie beyond, and the count says "at least". */
static void add_sessions(const struct probe_view *v, struct probe_hit *hit, uint32_t root, struct ident *id)
{
	struct probe_src view = {.v = v};
	uint64_t starts[ISO_SESSION_MAX];
	uint32_t last_root = 0;
	bool beyond;
	int n;
	char of[24], what[96];

	if (hit->block_size != 2048 || id->nparts || !(n = walk_sessions(&view, starts, 0, &last_root)))
		return;
	beyond = starts[0] == XORRISO_FIRST_SESSION && last_root != root;
	if (n + beyond < 2)
		return;
	count_sessions(n, beyond, of, sizeof(of), what, sizeof(what));
	append_detail(hit, what);
	for (int k = 0; k < n; k++) {
		if (!starts[k])
			continue;
		if (id->nhits + 1 >= IDENT_MAX_HITS) {
			id->hits_truncated = true;
			return;
		}
		session_hit(&view, starts[k], k, of, &id->hits[id->nhits++]);
	}
}

/* The probe's session hit for the session at start: one of the hits it put
 * just before its own hit (at index own), or NULL. */
static struct probe_hit *probe_session_hit(struct ident *id, int own, uint64_t start)
{
	for (int j = own - 1; j >= 0 && id->hits[j].desc == &probe_iso9660 && id->hits[j].offset; j--)
		if (id->hits[j].offset == start * ISO_VD_SIZE)
			return &id->hits[j];
	return NULL;
}

/* The more_hits hook: the sessions beyond the captured bytes.  For the
 * volume at 0 (the whole image's; a partition's has another offset), the
 * walk the probe made over the view is made again, then resumed through
 * the read callback, one ISO_WINDOW of scratch per read, every offset
 * checked against the image's size, at most ISO_SESSION_MAX sessions in
 * all.  When it finds more, the volume's count and the probe's session hits
 * are rewritten ("3 sessions", "session 1 of 3": no "at least" once the
 * newest is reached) and the other sessions appended while the hit array
 * has room. */
static void iso_more_hits(const struct probe_view *whole, int own,
			  long (*read)(void *ctx, uint64_t off, void *buf, size_t len), void *ctx, uint8_t *scratch,
			  size_t scratch_len, struct ident *id)
{
	struct probe_src view = {.v = whole};
	struct probe_src disc = {.v = whole, .read = read, .ctx = ctx, .buf = scratch,
			       .buflen = scratch_len < ISO_WINDOW ? scratch_len : ISO_WINDOW,
			       .fill = ISO_WINDOW};
	struct probe_hit *h = &id->hits[own], vol;
	uint64_t starts[ISO_SESSION_MAX];
	uint32_t root, last_root = 0;
	int known, n;
	bool beyond;
	char of[24], what[96];

	if (h->offset || h->block_size != 2048 || !read || disc.buflen < ISO_VD_SIZE)
		return;
	memset(&vol, 0, sizeof(vol));
	if (parse_volume(&view, 0, &vol, &root))
		return;
	known = walk_sessions(&view, starts, 0, &last_root); /* as the probe saw them */
	if (!known || (n = walk_sessions(&disc, starts, known, &last_root)) == known)
		return;
	beyond = starts[0] == XORRISO_FIRST_SESSION && last_root != root;
	count_sessions(n, beyond, of, sizeof(of), what, sizeof(what));
	snprintf(h->detail, sizeof(h->detail), "%s", vol.detail);
	append_detail(h, what);
	for (int k = 0; k < n; k++) {
		struct probe_hit *at;
		if (!starts[k])
			continue;
		at = k < known ? probe_session_hit(id, own, starts[k]) : NULL;
		if (!at && id->nhits >= IDENT_MAX_HITS) {
			id->hits_truncated = true;
			return;
		}
		session_hit(k < known ? &view : &disc, starts[k], k, of, at ? at : &id->hits[id->nhits++]);
	}
}

static int probe_iso(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	struct probe_src view = {.v = v};
	uint32_t root;

	if (parse_volume(&view, 0, hit, &root))
		return 1;
	snprintf(hit->tsk_hint, sizeof(hit->tsk_hint), "iso9660");
	if (id)
		add_sessions(v, hit, root, id);
	return 0;
}

const struct probe_desc probe_iso9660 = {
	.name = "iso9660",
	.cls = HIT_OPTICAL,
	.magic = "CD001",
	.magic_len = 5,
	.magic_off = ISO_VD_OFF + 1,
	.probe = probe_iso,
	.more_hits = iso_more_hits,
};
