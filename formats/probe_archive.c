/*
 * probe_archive.c - archives of files that are often named .img: tar (POSIX
 * ustar, GNU, and the old v7 header when every field of it is plausible) and
 * cpio (newc, crc, odc, and binary in either byte order).  An initramfs is a
 * cpio archive, and the kernel takes several in a row: often a small
 * uncompressed one (CPU microcode) and then a compressed one, so the cpio
 * walk says what follows its trailer.
 *
 * Both walks stop at the end of the bytes in view (the scanner holds the
 * first MiB and the last 64 KiB): the member count and the archive's end are
 * known only when its end is in view.  A member whose data runs past the end
 * of the file gives claimed_size, so a cut copy is reported as truncated.
 */
#include "probe.h"

#include <stdio.h>

#define TAR_WALK_MAX 4096     /* headers followed (the head holds 2048) */
#define CPIO_WALK_MAX 16384   /* entries followed (a newc entry is >= 112 bytes) */
#define CPIO_NAME_MAX 4096    /* PATH_MAX: a longer name is no cpio's */
#define FOLLOW_SCAN (64u << 10) /* zero padding skipped after a cpio trailer */

/* ---- tar ------------------------------------------------------------- */

/* A tar number field: octal digits (leading spaces, then NUL or space to
 * the end), or GNU's base-256 form (first byte 0x80, big-endian).  False
 * when it is neither, or the value does not fit 64 bits. */
static bool tar_number(const uint8_t *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	bool digits = false;

	if (f[0] & 0x80) {
		if (f[0] != 0x80) /* negative, or a 95-bit value */
			return false;
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return false;
			v = v << 8 | f[i];
		}
		*out = v;
		return true;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 61)
			return false;
		v = v << 3 | (uint64_t)(f[i] - '0');
		digits = true;
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return false;
	*out = v;
	return digits;
}

/* The header checksum: the sum of its 512 bytes with the checksum field
 * read as spaces; old tars summed signed chars, so either sum is accepted. */
static bool tar_checksum_ok(const uint8_t *h)
{
	uint64_t want;
	uint32_t sum = 0;
	int32_t ssum = 0;

	if (!tar_number(h + 148, 8, &want))
		return false;
	for (int i = 0; i < 512; i++) {
		uint8_t c = i >= 148 && i < 156 ? ' ' : h[i];
		sum += c;
		ssum += (int8_t)c;
	}
	return want == sum || (ssum >= 0 && want == (uint64_t)ssum);
}

enum tar_kind { TAR_NONE, TAR_POSIX, TAR_GNU, TAR_V7 };

static bool printable_name(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && p[i]; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return i > 0;
}

/* What kind of tar header h (512 bytes) is, TAR_NONE when none.  A v7
 * header has no magic: its checksum, its number fields, its name and the
 * zeros where ustar's magic, version and owner names would be must all be
 * right (GNU tar --format=v7 still fills the device numbers at 329). */
static enum tar_kind tar_header_kind(const uint8_t *h)
{
	static const size_t fields[][2] = {{100, 8}, {108, 8}, {116, 8}, {124, 12}, {136, 12}};
	uint64_t n;

	if (!tar_checksum_ok(h))
		return TAR_NONE;
	if (!memcmp(h + 257, "ustar\0", 6))
		return TAR_POSIX;
	if (!memcmp(h + 257, "ustar  \0", 8))
		return TAR_GNU;
	if (h[156] == 'V' && printable_name(h, 100)) /* GNU's volume label: no magic, no numbers */
		return TAR_GNU;
	if (!printable_name(h, 100) || (h[156] && (h[156] < '0' || h[156] > '7')) || !probe_all_zero(h + 257, 72))
		return TAR_NONE;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!tar_number(h + fields[i][0], fields[i][1], &n))
			return TAR_NONE;
	return TAR_V7;
}

/* Bytes of data after the header at h: hard and symbolic links, devices,
 * directories and FIFOs carry none whatever their size field says. */
static bool tar_data_size(const uint8_t *h, uint64_t *size)
{
	if (h[156] == 'V' && probe_all_zero(h + 124, 12)) {
		*size = 0;
		return true;
	}
	if (!tar_number(h + 124, 12, size))
		return false;
	if (h[156] >= '1' && h[156] <= '6')
		*size = 0;
	return true;
}

/* A pax extended header, a GNU long name or a GNU volume label: no member
 * of its own. */
static bool tar_meta(const uint8_t *h)
{
	return h[156] == 'x' || h[156] == 'g' || h[156] == 'L' || h[156] == 'K' || h[156] == 'V';
}

struct walk {
	uint32_t members;     /* members, not counting pax, long-name and label headers */
	uint64_t first;       /* the first member's header (tar) */
	bool ended;           /* the end marker (tar) or trailer (cpio) was seen */
	bool past_eof;        /* a member runs past the end of the file */
	uint64_t end;         /* where the archive ends (ended or past_eof) */
};

/* Follow the headers from 0 while they are in view. */
static void tar_walk(const struct probe_view *v, struct walk *w)
{
	uint64_t off = 0, size, span;

	for (int i = 0; i < TAR_WALK_MAX; i++) {
		const uint8_t *h = pv_bytes(v, off, 512), *h2;
		if (!h)
			return;
		if (probe_all_zero(h, 512)) { /* the end: two zero blocks (one, at EOF) */
			h2 = pv_bytes(v, off + 512, 512);
			if ((h2 && probe_all_zero(h2, 512)) || off + 512 == v->size) {
				w->ended = true;
				w->end = h2 ? off + 1024 : off + 512;
			}
			return;
		}
		if (tar_header_kind(h) == TAR_NONE || !tar_data_size(h, &size))
			return;
		if (!tar_meta(h)) {
			if (!w->members)
				w->first = off;
			w->members++;
		}
		/* 512 + size rounded up to 512, without wrapping. */
		if (!checked_add(size, 511, &span) || !checked_add(span / 512 * 512, 512, &span) ||
		    !checked_add(off, span, &off)) {
			w->past_eof = true;
			w->end = SIZE_OVERFLOW;
			return;
		}
		if (off > v->size) {
			w->past_eof = true;
			w->end = off;
			return;
		}
	}
}

/* "prefix/name" of a ustar header, printable, cut to fit. */
static void tar_name(const uint8_t *h, enum tar_kind k, char *out, size_t cap)
{
	char name[101], prefix[156];

	probe_copy_text(name, sizeof(name), h, 100);
	prefix[0] = '\0';
	if (k == TAR_POSIX)
		probe_copy_text(prefix, sizeof(prefix), h + 345, 155);
	out[0] = '\0';
	probe_appendf(out, cap, "%s%s%s", prefix, prefix[0] ? "/" : "", name); /* cut to fit */
}

static void describe_walk(struct probe_hit *hit, const struct walk *w)
{
	char *d = hit->detail;

	if (w->ended)
		probe_appendf(d, sizeof(hit->detail), ", %u member%s", w->members, w->members == 1 ? "" : "s");
	else if (w->past_eof)
		probe_appendf(d, sizeof(hit->detail), ", member %u runs past the end of the file", w->members);
	else
		probe_appendf(d, sizeof(hit->detail), ", at least %u members", w->members);
	if (w->ended || w->past_eof)
		hit->claimed_size = w->end;
}

static int probe_tar_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	static const char *const kinds[] = {"", "POSIX ustar", "GNU tar", "v7 tar"};
	const uint8_t *h = pv_bytes(v, 0, 512), *m;
	struct walk w = {0};
	enum tar_kind k;
	bool pax;
	char name[80];

	(void)id;
	if (!h || (k = tar_header_kind(h)) == TAR_NONE)
		return 1;
	pax = h[156] == 'x' || h[156] == 'g';
	if (h[156] == 'V') /* tar --label */
		probe_copy_label(hit->label, sizeof(hit->label), h, 100);
	tar_walk(v, &w);
	if (w.members && w.first && (m = pv_bytes(v, w.first, 512))) {
		h = m; /* the first member, past pax, long-name and label headers */
		k = tar_header_kind(h);
	}
	tar_name(h, k, name, sizeof(name));
	snprintf(hit->detail, sizeof(hit->detail), "%s%s", kinds[k], pax ? " (pax)" : "");
	describe_walk(hit, &w);
	probe_appendf(hit->detail, sizeof(hit->detail), ", first \"%s\"", name);
	hit->block_size = 512;
	return 0;
}

/* ---- cpio ------------------------------------------------------------ */

enum cpio_kind { CPIO_NEWC, CPIO_CRC, CPIO_ODC, CPIO_BIN_LE, CPIO_BIN_BE, CPIO_NONE };

static const char *const cpio_names[] = {
	"newc (SVR4)", "crc (SVR4 with checksums)", "odc (POSIX.1 portable)", "binary, little-endian",
	"binary, big-endian",
};

struct cpio_entry {
	uint64_t namesize, filesize;
	uint32_t hdr;    /* header bytes before the name */
	uint32_t align;  /* header + name, and data, are padded to this */
	const uint8_t *name;
};

/* n digits of base 8 or 16 at p, all of them digits. */
static bool digits_field(const uint8_t *p, size_t n, unsigned base, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (base == 16 && (p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (unsigned)((p[i] | 0x20) - 'a' + 10);
		else
			return false;
		if (d >= base)
			return false;
		v = v * base + d; /* at most 11 octal or 8 hex digits: no overflow */
	}
	*out = v;
	return true;
}

static enum cpio_kind cpio_kind_at(const struct probe_view *v, uint64_t off)
{
	const uint8_t *m = pv_bytes(v, off, 6);

	if (!m)
		return CPIO_NONE;
	if (!memcmp(m, "070701", 6))
		return CPIO_NEWC;
	if (!memcmp(m, "070702", 6))
		return CPIO_CRC;
	if (!memcmp(m, "070707", 6))
		return CPIO_ODC;
	if (m[0] == 0xC7 && m[1] == 0x71)
		return CPIO_BIN_LE;
	if (m[0] == 0x71 && m[1] == 0xC7)
		return CPIO_BIN_BE;
	return CPIO_NONE;
}

/* The header of kind k at off into e; false when it is not a whole, sane
 * one (every field a number, a name that ends in its NUL). */
static bool cpio_header(const struct probe_view *v, uint64_t off, enum cpio_kind k, struct cpio_entry *e)
{
	const uint8_t *h;
	uint64_t f;

	if (cpio_kind_at(v, off) != k)
		return false;
	if (k == CPIO_NEWC || k == CPIO_CRC) {
		if (!(h = pv_bytes(v, off, 110)))
			return false;
		for (int i = 0; i < 13; i++)
			if (!digits_field(h + 6 + 8 * i, 8, 16, &f))
				return false;
		digits_field(h + 54, 8, 16, &e->filesize);
		digits_field(h + 94, 8, 16, &e->namesize);
		e->hdr = 110, e->align = 4;
	} else if (k == CPIO_ODC) {
		static const uint8_t widths[] = {6, 6, 6, 6, 6, 6, 6, 11, 6, 11};
		size_t at = 6;
		if (!(h = pv_bytes(v, off, 76)))
			return false;
		for (size_t i = 0; i < sizeof(widths); at += widths[i++])
			if (!digits_field(h + at, widths[i], 8, &f))
				return false;
		digits_field(h + 59, 6, 8, &e->namesize);
		digits_field(h + 65, 11, 8, &e->filesize);
		e->hdr = 76, e->align = 1;
	} else {
		uint16_t (*w)(const uint8_t *) = k == CPIO_BIN_LE ? le16 : be16;
		if (!(h = pv_bytes(v, off, 26)))
			return false;
		e->namesize = w(h + 20);
		e->filesize = (uint64_t)w(h + 22) << 16 | w(h + 24);
		e->hdr = 26, e->align = 2;
	}
	if (e->namesize < 1 || e->namesize > CPIO_NAME_MAX)
		return false;
	e->name = pv_bytes(v, off + e->hdr, (size_t)e->namesize);
	return e->name && e->name[e->namesize - 1] == '\0' && printable_name(e->name, (size_t)e->namesize);
}

static uint64_t align_up(uint64_t x, uint32_t a)
{
	uint64_t r = x % a;

	return r ? size_add(x, a - r) : x;
}

/* Follow the entries from 0 to the trailer while they are in view. */
static void cpio_walk(const struct probe_view *v, enum cpio_kind k, struct walk *w)
{
	struct cpio_entry e;
	uint64_t off = 0;

	for (int i = 0; i < CPIO_WALK_MAX && cpio_header(v, off, k, &e); i++) {
		bool trailer = e.namesize == 11 && !memcmp(e.name, "TRAILER!!!", 11);
		off = align_up(size_add(off, size_add(e.hdr, e.namesize)), e.align);
		off = align_up(size_add(off, e.filesize), e.align);
		if (trailer) {
			w->ended = true;
			w->end = off;
			return;
		}
		w->members++;
		if (off > v->size) {
			w->past_eof = true;
			w->end = off;
			return;
		}
	}
}

/* What follows an archive that ends at off: the kernel skips zeros between
 * the archives of an initramfs.  "" when nothing is in view. */
static const char *cpio_follower(const struct probe_view *v, uint64_t *off)
{
	static const struct { const char *magic; size_t len; const char *name; } known[] = {
		{"070701", 6, "another cpio archive"}, {"070702", 6, "another cpio archive"},
		{"\x1F\x8B", 2, "gzip data"}, {"\x28\xB5\x2F\xFD", 4, "zstd data"},
		{"\xFD" "7zXZ", 5, "xz data"}, {"BZh", 3, "bzip2 data"}, {"\x02\x21\x4C\x18", 4, "lz4 data"},
		{"\x04\x22\x4D\x18", 4, "lz4 data"}, {"\x5D\x00\x00", 3, "lzma data"},
		{"\x89LZO", 4, "lzop data"},
	};
	uint64_t at = *off;

	for (uint32_t n = 0; n < FOLLOW_SCAN; n++, at++) {
		const uint8_t *b = pv_bytes(v, at, 1);
		if (!b)
			return "";
		if (*b)
			break;
	}
	*off = at;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (pv_match(v, at, known[i].magic, known[i].len))
			return known[i].name;
	return "other data";
}

static int probe_cpio_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	enum cpio_kind k = cpio_kind_at(v, 0);
	struct cpio_entry first;
	struct walk w = {0};
	char name[72];

	(void)id;
	if (k == CPIO_NONE || !cpio_header(v, 0, k, &first))
		return 1;
	probe_copy_text(name, sizeof(name), first.name, (size_t)first.namesize);
	cpio_walk(v, k, &w);
	snprintf(hit->detail, sizeof(hit->detail), "%s", cpio_names[k]);
	describe_walk(hit, &w);
	probe_appendf(hit->detail, sizeof(hit->detail), ", first \"%s\"", name);
	if (w.ended && w.end < v->size) {
		uint64_t at = w.end;
		const char *next = cpio_follower(v, &at);
		if (next[0])
			probe_appendf(hit->detail, sizeof(hit->detail), ", then %s at %llu", next,
				      (unsigned long long)at);
	}
	return 0;
}

/* No magic for the driver to check: a v7 tar has none, and cpio has five. */
const struct probe_desc probe_tar = {
	.name = "tar", .cls = HIT_ARCHIVE, .probe = probe_tar_fn,
};
const struct probe_desc probe_cpio = {
	.name = "cpio", .cls = HIT_ARCHIVE, .probe = probe_cpio_fn,
};
