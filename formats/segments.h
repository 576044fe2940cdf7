/*
 * segments.h - evidence media stored as many files (issue 13): which names
 * of one directory form a segment set, by the naming the acquisition tools
 * use.  Names only: the sizes and the segment headers are checked by the
 * caller, which has the files.
 *
 *   split raw, numbered: disk.001 disk.002 ... (dd, dcfldd, FTK Imager;
 *                        `split -d -a 3 disk disk.` gives disk.000 ...):
 *                        2 to 4 digits, one width per set, from 0 or 1
 *   split raw, lettered: disk.aa disk.ab ... (`split -b N disk disk.`):
 *                        2 or 3 lowercase letters, one width, from "aa"
 *   EWF:                 case.E01 ... E99, EAA ... EZZ, FAA ... (libewf's
 *                        own order; also e01, Ex01 and L01 for EWF2 and
 *                        logical evidence)
 *
 * A set needs its first segment (001 or 000, aa, E01) or two members; the
 * numbers missing between its first and last are its gaps.
 */
#ifndef IMGSCAN_SEGMENTS_H
#define IMGSCAN_SEGMENTS_H

#include <stdbool.h>
#include <stddef.h>

enum seg_scheme { SEG_SPLIT_NUMBERED, SEG_SPLIT_LETTERED, SEG_EWF };

struct seg_member {
	size_t name;               /* index into the caller's names */
	unsigned number;           /* as named: 1 for .001 and E01, 0 for .000 and aa, 100 for EAA */
};

struct seg_set {
	enum seg_scheme scheme;
	struct seg_member *members; /* ordered by number */
	size_t n;
	unsigned first_expected;   /* the first segment's number: 0 (.000, aa) or 1 (.001, E01) */
	unsigned gaps;             /* numbers missing from first_expected to the last member */
	unsigned first_gap;        /* the first missing number (valid when gaps) */
	bool widened;              /* named as GNU split widens past .89 (.9000) or .yz (.zaaa) */
};

/* Group names (file names, no directory) into segment sets.  Returns the
 * number of sets (*sets malloc'd, free with segments_free), or -1 (out of
 * memory).  A name belongs to one set at most; names in no set are left
 * alone. */
int segments_group(const char *const *names, size_t n, struct seg_set **sets);
void segments_free(struct seg_set *sets, int nsets);
/* The name segment number of a set would have, from one member's name
 * (for messages: "disk.003 is missing").  Returns 0, or -1 if it does not
 * fit in len. */
int segments_name_of(const struct seg_set *set, const char *member_name, unsigned number, char *out, size_t len);

/* Is name one a segment of some set could have (disk.001, disk.aa,
 * case.E01)?  A quick test before listing a directory for its set. */
bool segments_first_name(const char *name);

#endif
