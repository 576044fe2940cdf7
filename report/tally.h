/*
 * tally.h - the summary's counts of images, taken from the image objects
 * themselves: an image read in this run, one taken from the catalog and one
 * read back from a shard's report (imgscan merge) count the same way.
 */
#ifndef IMGSCAN_TALLY_H
#define IMGSCAN_TALLY_H

#include <cjson/cJSON.h>
#include <stdint.h>

#define TALLY_KINDS 32 /* more than there are kinds (SCHEMA.md): an unknown text has room too */

struct kind_count { char kind[24]; uint64_t n; }; /* kind "": unused */

struct tally {
	uint64_t images, image_errors, findings, counted_findings, misnamed, bytes, reused, bytes_reused;
	struct kind_count kinds[TALLY_KINDS];
};

/* Count one image object.  Returns its first finding that suggests a name
 * (for the list of misnamed images), or NULL. */
const cJSON *tally_image(struct tally *t, const cJSON *img);
/* summary.by_kind. */
cJSON *tally_kinds_json(const struct tally *t);
/* The string member key of o, "" when it is absent or not a string. */
const char *json_str(const cJSON *o, const char *key);
/* The number member key of o as an unsigned integer (0 when absent or not
 * positive; UINT64_MAX past 2^64). */
uint64_t json_u64(const cJSON *o, const char *key);

#endif
