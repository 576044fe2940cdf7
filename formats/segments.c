/*
 * segments.c - segment sets from file names (see segments.h).  Each name is
 * parsed into (scheme, base, width, number); names of one scheme, base and
 * width, sorted by number, are a set.  Quadratic work is avoided by sorting
 * the parsed names once.
 */
#include "segments.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEG_MAX_NUMBER 100000u /* beyond any real set: a name that says more is not one */

struct parsed {
	size_t name;
	enum seg_scheme scheme;
	size_t base_len;           /* bytes of the name before the segment suffix */
	unsigned width;            /* characters of the suffix */
	char ewf_kind[3];          /* "E", "Ex", "L", "Lx" (case as written) */
	unsigned number;
	bool widened;              /* split's wider suffix past .89 or .yz, taken into the set */
};

/* "001" "0042": 2 to 4 digits. */
static bool parse_numbered(const char *sfx, size_t len, unsigned *num)
{
	unsigned v = 0;

	if (len < 2 || len > 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)sfx[i]))
			return false;
		v = v * 10 + (unsigned)(sfx[i] - '0');
	}
	*num = v;
	return true;
}

/* "aa" "ab" ... "zz", "aaa" ...: base 26 ("zaaa".. too: split's widening). */
static bool parse_lettered(const char *sfx, size_t len, unsigned *num)
{
	unsigned v = 0;

	if (len < 2 || len > 4 || (len == 4 && sfx[0] != 'z'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (sfx[i] < 'a' || sfx[i] > 'z')
			return false;
		v = v * 26 + (unsigned)(sfx[i] - 'a');
	}
	*num = len == 4 ? v % (26 * 26 * 26) : v; /* "zaaa": counted on from .yz (take_widened()) */
	return true;
}

/* libewf's order after the kind letter(s): 01..99, then AA..ZZ (and the
 * kind letter itself steps E, F, G... past EZZ).  Returns the 1-based
 * segment number. */
static bool parse_ewf(const char *sfx, size_t len, struct parsed *p)
{
	size_t k = 1;
	char c0 = sfx[0], up = (char)toupper((unsigned char)c0);

	if (len >= 4 && (sfx[1] == 'x' || sfx[1] == 'X'))
		k = 2;
	if (len != k + 2 || (up != 'E' && up != 'L'))
		return false;
	memcpy(p->ewf_kind, sfx, k);
	p->ewf_kind[k] = '\0';
	if (isdigit((unsigned char)sfx[k]) && isdigit((unsigned char)sfx[k + 1])) {
		p->number = (unsigned)((sfx[k] - '0') * 10 + (sfx[k + 1] - '0'));
		return p->number >= 1;
	}
	if (isalpha((unsigned char)sfx[k]) && isalpha((unsigned char)sfx[k + 1])) {
		unsigned a = (unsigned)(toupper((unsigned char)sfx[k]) - 'A');
		unsigned b = (unsigned)(toupper((unsigned char)sfx[k + 1]) - 'A');

		p->number = 100 + a * 26 + b;
		return true;
	}
	return false;
}

static bool parse_name(const char *name, size_t idx, struct parsed *p)
{
	const char *dot = strrchr(name, '.');
	size_t len;

	if (!dot || dot == name || !dot[1])
		return false;
	len = strlen(dot + 1);
	memset(p, 0, sizeof(*p));
	p->name = idx;
	p->base_len = (size_t)(dot - name) + 1;
	p->width = (unsigned)len;
	if (parse_numbered(dot + 1, len, &p->number))
		p->scheme = SEG_SPLIT_NUMBERED;
	else if (parse_lettered(dot + 1, len, &p->number))
		p->scheme = SEG_SPLIT_LETTERED;
	else if (parse_ewf(dot + 1, len, p))
		p->scheme = SEG_EWF;
	else
		return false;
	return p->number < SEG_MAX_NUMBER;
}

static int cmp_key(const struct parsed *a, const struct parsed *b, const char *const *names)
{
	int c;

	if (a->scheme != b->scheme)
		return a->scheme < b->scheme ? -1 : 1;
	if (a->width != b->width)
		return a->width < b->width ? -1 : 1;
	if (a->base_len != b->base_len)
		return a->base_len < b->base_len ? -1 : 1;
	c = memcmp(names[a->name], names[b->name], a->base_len);
	if (c)
		return c;
	return strcmp(a->ewf_kind, b->ewf_kind);
}

static int cmp_parsed(const void *x, const void *y, void *names)
{
	const struct parsed *a = x, *b = y;
	int c = cmp_key(a, b, names);

	if (c)
		return c;
	return a->number < b->number ? -1 : a->number > b->number;
}

/* The run p[0..n) of one key as a set, if it is one: its first segment is
 * there, or it has two members or more.  Returns 1 (made), 0 (not a set)
 * or -1 (out of memory). */
static int make_set(const struct parsed *p, size_t n, struct seg_set *out)
{
	unsigned first = p[0].scheme == SEG_EWF ? 1 : p[0].scheme == SEG_SPLIT_LETTERED ? 0 : p[0].number == 0 ? 0 : 1;
	unsigned expect;

	if (n < 2 && p[0].number != first)
		return 0;
	/* Two-letter extensions are common ("a.gz", "a.xz"): split always
	 * starts at "aa", so a lettered set without it is not one. */
	if (p[0].scheme == SEG_SPLIT_LETTERED && (p[0].number != 0 || p[0].width == 4))
		return 0; /* .zaaa alone: only split's widening of a .aa set makes it one */
	memset(out, 0, sizeof(*out));
	if (!(out->members = malloc(n * sizeof(*out->members))))
		return -1;
	out->scheme = p[0].scheme;
	out->first_expected = first;
	expect = first;
	for (size_t i = 0; i < n; i++) {
		if (i && p[i].number == p[i - 1].number)
			continue; /* cannot happen for distinct names of one key; kept safe */
		if (p[i].number > expect) {
			if (!out->gaps)
				out->first_gap = expect;
			out->gaps += p[i].number - expect;
		}
		expect = p[i].number + 1;
		out->widened |= p[i].widened;
		out->members[out->n++] = (struct seg_member){p[i].name, p[i].number};
	}
	return 1;
}

static int cmp_base(const void *x, const void *y, void *names)
{
	const struct parsed *a = x, *b = y;
	const char *const *nm = names;
	int c;

	if (a->scheme != b->scheme)
		return a->scheme < b->scheme ? -1 : 1;
	if (a->base_len != b->base_len)
		return a->base_len < b->base_len ? -1 : 1;
	c = memcmp(nm[a->name], nm[b->name], a->base_len);
	return c ? c : a->width < b->width ? -1 : a->width > b->width;
}

/* GNU split without -a widens its suffixes when they run out: .00...89,
 * then .9000 .9001 ...; .aa ... .yz, then .zaaa ...  Where a base has
 * names of both widths, the wide ones continue the narrow set: 90 + NN,
 * 650 + the last three letters. */
static void take_widened(struct parsed *p, size_t np, const char *const *names)
{
	qsort_r(p, np, sizeof(*p), cmp_base, (void *)names);
	for (size_t i = 0, j; i < np; i = j) {
		bool narrow = false;

		for (j = i; j < np && p[j].scheme == p[i].scheme && p[j].base_len == p[i].base_len &&
			    !memcmp(names[p[j].name], names[p[i].name], p[i].base_len); j++)
			narrow |= p[j].width == 2 && p[j].scheme != SEG_EWF;
		for (size_t k = i; narrow && k < j; k++) {
			const char *sfx = names[p[k].name] + p[k].base_len;

			if (p[k].width != 4)
				continue;
			if (p[k].scheme == SEG_SPLIT_NUMBERED && sfx[0] == '9' && sfx[1] == '0')
				p[k].number = 90 + (unsigned)((sfx[2] - '0') * 10 + (sfx[3] - '0'));
			else if (p[k].scheme == SEG_SPLIT_LETTERED)
				p[k].number = 650 + p[k].number;
			else
				continue;
			p[k].width = 2;
			p[k].widened = true;
		}
	}
}

int segments_group(const char *const *names, size_t n, struct seg_set **sets)
{
	struct parsed *p = malloc((n ? n : 1) * sizeof(*p));
	struct seg_set *out = malloc((n ? n : 1) * sizeof(*out));
	size_t np = 0;
	int nsets = 0, rc;

	*sets = NULL;
	if (!p || !out)
		goto oom;
	for (size_t i = 0; i < n; i++)
		if (parse_name(names[i], i, &p[np]))
			np++;
	take_widened(p, np, names);
	qsort_r(p, np, sizeof(*p), cmp_parsed, (void *)names);
	for (size_t i = 0, j; i < np; i = j) {
		for (j = i + 1; j < np && !cmp_key(&p[i], &p[j], names); j++)
			;
		rc = make_set(&p[i], j - i, &out[nsets]);
		if (rc < 0)
			goto oom;
		nsets += rc;
	}
	free(p);
	*sets = out;
	return nsets;
oom:
	free(p);
	segments_free(out, nsets);
	return -1;
}

void segments_free(struct seg_set *sets, int nsets)
{
	for (int i = 0; sets && i < nsets; i++)
		free(sets[i].members);
	free(sets);
}

/* v in base 26 as width lowercase (or uppercase) letters. */
static void letters(unsigned v, unsigned width, bool upper, char *out)
{
	for (unsigned i = width; i-- > 0; v /= 26)
		out[i] = (char)((upper ? 'A' : 'a') + v % 26);
	out[width] = '\0';
}

int segments_name_of(const struct seg_set *set, const char *member_name, unsigned number, char *out, size_t len)
{
	const char *dot = strrchr(member_name, '.');
	char sfx[16];
	int base = dot ? (int)(dot - member_name) + 1 : 0;

	if (set->scheme == SEG_SPLIT_NUMBERED && set->widened && number >= 90) {
		snprintf(sfx, sizeof(sfx), "90%02u", (number - 90) % 100);
	} else if (set->scheme == SEG_SPLIT_NUMBERED) {
		snprintf(sfx, sizeof(sfx), "%0*u", set->widened ? 2 : (int)strlen(dot + 1), number);
	} else if (set->scheme == SEG_SPLIT_LETTERED && set->widened && number >= 650) {
		sfx[0] = 'z';
		letters(number - 650, 3, false, sfx + 1);
	} else if (set->scheme == SEG_SPLIT_LETTERED) {
		letters(number, set->widened ? 2 : (unsigned)strlen(dot + 1), false, sfx);
	} else {
		size_t k = strlen(dot + 1) - 2; /* "E" or "Ex" */
		bool upper = isupper((unsigned char)dot[1]);

		memcpy(sfx, dot + 1, k);
		if (number < 100)
			snprintf(sfx + k, sizeof(sfx) - k, "%02u", number);
		else
			letters(number - 100, 2, upper, sfx + k);
	}
	return (size_t)snprintf(out, len, "%.*s%s", base, member_name, sfx) < len ? 0 : -1;
}

bool segments_first_name(const char *name)
{
	struct parsed p;

	return parse_name(name, 0, &p);
}
