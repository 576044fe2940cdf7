/*
 * unit_segments.c - segment sets found by name (formats/segments.c): split
 * raw numbered and lettered, EWF (E01.., Ex01, EAA after E99), gaps, a
 * lone first segment, names that only look like segments.
 */
#include "formats/segments.h"

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static const char *const names[] = {
	"disk.001", "disk.003", "disk.004",    /* 0-2: split, 002 missing */
	"img.000", "img.001",                  /* 3-4: split from 000 */
	"x.ab", "x.aa", "x.ac",                /* 5-7: lettered, out of order */
	"case.E01", "case.E03", "case.E02", "case.E05", /* 8-11: EWF, E04 missing */
	"one.E01",                             /* 12: a one-segment EWF set */
	"notes.ab", "photo.2023", "a.txt", "README", ".001", /* 13-17: no set */
	"big.E99", "big.EAA",                  /* 18-19: E99 then EAA */
	"n2.Ex01", "n2.Ex02",                  /* 20-21: EWF2 */
	"disk.0001",                           /* 22: another width: a set of its own, not disk.001's */
};
#define N (sizeof(names) / sizeof(names[0]))

static const struct seg_set *find(const struct seg_set *sets, int n, const char *member)
{
	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < sets[i].n; j++)
			if (!strcmp(names[sets[i].members[j].name], member))
				return &sets[i];
	return NULL;
}

/* GNU split without -a: .00 .. .89 then .9000 ..; .aa .. .yz then .zaaa:
 * one set each, in order, its gaps named the wide way.  A .zaaa alone is
 * no set. */
static void widened(void)
{
	static const char *const w[] = {"d.00", "d.01", "d.89", "d.9000", "d.9002", "l.aa", "l.yz", "l.zaaa",
					"l.zaab", "q.zaaa", "q.zaab"};
	struct seg_set *sets;
	int n = segments_group(w, sizeof(w) / sizeof(w[0]), &sets);
	char buf[64];

	CHECK(n == 2);
	for (int i = 0; i < n; i++) {
		const struct seg_set *s = &sets[i];
		if (s->scheme == SEG_SPLIT_NUMBERED) {
			CHECK(s->n == 5 && s->widened && !strcmp(w[s->members[3].name], "d.9000") &&
			      s->members[4].number == 92 && s->gaps == 87 + 1);
			CHECK(!segments_name_of(s, "d.00", 91, buf, sizeof(buf)) && !strcmp(buf, "d.9001"));
			CHECK(!segments_name_of(s, "d.00", 2, buf, sizeof(buf)) && !strcmp(buf, "d.02"));
		} else {
			CHECK(s->scheme == SEG_SPLIT_LETTERED && s->n == 4 && s->members[2].number == 650 &&
			      !strcmp(w[s->members[3].name], "l.zaab"));
			CHECK(!segments_name_of(s, "l.aa", 651, buf, sizeof(buf)) && !strcmp(buf, "l.zaab"));
		}
	}
	segments_free(sets, n);
}

int main(void)
{
	struct seg_set *sets;
	int n = segments_group(names, N, &sets);
	const struct seg_set *s;
	char buf[64];

	CHECK(n == 8);
	s = find(sets, n, "disk.001");
	CHECK(s && s->scheme == SEG_SPLIT_NUMBERED && s->n == 3 && s->gaps == 1 && s->first_gap == 2);
	CHECK(s && !segments_name_of(s, "disk.001", s->first_gap, buf, sizeof(buf)) && !strcmp(buf, "disk.002"));
	s = find(sets, n, "img.000");
	CHECK(s && s->n == 2 && s->first_expected == 0 && s->gaps == 0);
	s = find(sets, n, "x.aa");
	CHECK(s && s->scheme == SEG_SPLIT_LETTERED && s->n == 3 && !strcmp(names[s->members[0].name], "x.aa") &&
	      !strcmp(names[s->members[2].name], "x.ac") && s->gaps == 0);
	s = find(sets, n, "case.E01");
	CHECK(s && s->scheme == SEG_EWF && s->n == 4 && s->gaps == 1 && s->first_gap == 4);
	CHECK(s && !segments_name_of(s, "case.E01", 4, buf, sizeof(buf)) && !strcmp(buf, "case.E04"));
	CHECK(s && !segments_name_of(s, "case.E01", 100, buf, sizeof(buf)) && !strcmp(buf, "case.EAA"));
	s = find(sets, n, "one.E01");
	CHECK(s && s->n == 1 && s->gaps == 0);
	s = find(sets, n, "big.E99");
	CHECK(s && s->n == 2 && s->members[1].number == 100 && s->gaps == 98 && s->first_gap == 1);
	s = find(sets, n, "n2.Ex01");
	CHECK(s && s->n == 2 && s->gaps == 0);
	CHECK(s && !segments_name_of(s, "n2.Ex01", 3, buf, sizeof(buf)) && !strcmp(buf, "n2.Ex03"));
	for (const char *const *no = (const char *const[]){"notes.ab", "photo.2023", "a.txt", "README", ".001",
							 NULL}; *no; no++)
		CHECK(!find(sets, n, *no));
	s = find(sets, n, "disk.0001");
	CHECK(s && s->n == 1 && s != find(sets, n, "disk.001"));
	segments_free(sets, n);
	widened();
	CHECK(segments_group(names, 0, &sets) == 0);
	segments_free(sets, 0);
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures != 0;
}
