/*
 * rename_json.h - the byte strings of a report or journal read back: a
 * path-like field X is the bytes of X, or of X_b64 when X_lossy says X is
 * only a readable form (report/pathenc.h); and times as the report writes
 * them ("2024-05-01T10:00:00.123456789Z").
 */
#ifndef IMGSCAN_RENAME_JSON_H
#define IMGSCAN_RENAME_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The exact bytes of obj's field key, malloc'd and NUL-terminated (a byte
 * string with a NUL inside is refused); NULL when absent or malformed. */
char *json_bytes(const cJSON *obj, const char *key);
/* Element i of array key, or of key_b64 when that exists.  NULL as above. */
char *json_bytes_at(const cJSON *obj, const char *key, int i);
/* Field key as a non-negative integer; false when absent or not one. */
bool json_exact_u64(const cJSON *obj, const char *key, uint64_t *out);
/* Now, as the report writes times. */
void utc_now(char *out, size_t len);

#endif
