/*
 * image_json.h - one image result, or one skipped entry, as a cJSON object.
 * The field list is documented in report/SCHEMA.md; keep the two in step.
 */
#ifndef IMGSCAN_IMAGE_JSON_H
#define IMGSCAN_IMAGE_JSON_H

#include "../scanner/result.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>

cJSON *image_to_json(const struct image_result *r);
/* Set the object's device, device_major_minor and inode from st (replacing
 * any): also for a result reused from the catalog, which a build that did
 * not record them may have stored. */
void image_json_set_identity(cJSON *o, const struct stat *st);
cJSON *skipped_to_json(const struct skipped_entry *s);
/* "errno": "EIO", the symbolic name; nothing when err is 0. */
void json_add_errno(cJSON *obj, int err);
/* Adds key (and key_b64, key_lossy when not UTF-8) to obj: a path, a label. */
void json_add_path(cJSON *obj, const char *key, const char *path);
/* A string from a disk or a file's header: valid UTF-8 as is, else lossy. */
void json_add_text(cJSON *obj, const char *key, const char *text);
/* UTC ISO 8601 with nanoseconds: 2026-11-23T21:34:26.123456789Z */
void format_utc(char *out, size_t len, time_t sec, long nsec);
/* That form read back (fewer digits of the fraction, or none, too), exact.
 * Returns 0, or -1 when text (may be NULL) is not one. */
int parse_utc(const char *text, struct timespec *out);
/* True when a finding of this severity should make the exit status 1. */
bool severity_counts(const char *severity);

#endif
