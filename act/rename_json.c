/*
 * rename_json.c - byte strings and times of reports and journals read back
 * (see rename_json.h).
 */
#include "rename_json.h"
#include "../report/image_json.h"
#include "../report/pathenc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *decode_b64(const char *text)
{
	size_t n;
	unsigned char *b = base64_decode(text, strlen(text), &n);

	if (b && memchr(b, '\0', n)) {
		free(b);
		return NULL;
	}
	return (char *)b;
}

char *json_bytes(const cJSON *obj, const char *key)
{
	char k[64];
	const char *s;

	snprintf(k, sizeof(k), "%s_lossy", key);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, k))) {
		snprintf(k, sizeof(k), "%s_b64", key);
		s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, k));
		return s ? decode_b64(s) : NULL;
	}
	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
	return s ? strdup(s) : NULL;
}

char *json_bytes_at(const cJSON *obj, const char *key, int i)
{
	char k[64];
	const char *s;
	const cJSON *b64;

	snprintf(k, sizeof(k), "%s_b64", key);
	b64 = cJSON_GetObjectItemCaseSensitive(obj, k);
	if (cJSON_IsArray(b64)) {
		s = cJSON_GetStringValue(cJSON_GetArrayItem(b64, i));
		return s ? decode_b64(s) : NULL;
	}
	s = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(obj, key), i));
	return s ? strdup(s) : NULL;
}

bool json_exact_u64(const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	/* Doubles: exact to 2^53, as every integer of the report. */
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return false;
	*out = (uint64_t)v->valuedouble;
	return true;
}

void utc_now(char *out, size_t len)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	format_utc(out, len, now.tv_sec, now.tv_nsec);
}
