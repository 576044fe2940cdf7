/*
 * tally.c - the summary's image counts (see tally.h).
 */
#include "tally.h"
#include "image_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

uint64_t json_u64(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
		return 0;
	return v->valuedouble < 18446744073709551615.0 ? (uint64_t)v->valuedouble : UINT64_MAX;
}

/* kind comes from an image object, maybe one the catalog or a shard's
 * report kept: any text. */
static void count_kind(struct tally *t, const char *kind_text)
{
	char kind[sizeof(t->kinds[0].kind)];

	snprintf(kind, sizeof(kind), "%s", kind_text[0] ? kind_text : "unknown");
	for (size_t i = 0; i < TALLY_KINDS; i++) {
		if (!t->kinds[i].kind[0])
			memcpy(t->kinds[i].kind, kind, sizeof(kind));
		if (!strcmp(t->kinds[i].kind, kind)) {
			t->kinds[i].n++;
			return;
		}
	}
}

const cJSON *tally_image(struct tally *t, const cJSON *img)
{
	const cJSON *findings = cJSON_GetObjectItemCaseSensitive(img, "findings"), *f, *first = NULL;

	t->images++;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(img, "reused"))) {
		t->reused++;
		t->bytes_reused += json_u64(img, "size");
	} else {
		t->bytes += json_u64(cJSON_GetObjectItemCaseSensitive(img, "read"), "bytes");
	}
	t->image_errors += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(img, "errors")) > 0;
	count_kind(t, json_str(img, "kind"));
	cJSON_ArrayForEach(f, findings) {
		t->findings++;
		t->counted_findings += severity_counts(json_str(f, "severity"));
		if (!first && json_str(f, "suggested_name")[0])
			first = f;
	}
	t->misnamed += first != NULL;
	return first;
}

cJSON *tally_kinds_json(const struct tally *t)
{
	cJSON *kinds = cJSON_CreateObject();

	for (size_t i = 0; i < TALLY_KINDS && t->kinds[i].kind[0]; i++)
		cJSON_AddNumberToObject(kinds, t->kinds[i].kind, (double)t->kinds[i].n);
	return kinds;
}
