/*
 * media_json.c - media and acquisition objects of an image entry (see
 * media_json.h).  Everything an E01 header says is data from the evidence:
 * written as valid UTF-8 whatever its bytes.
 */
#include "media_json.h"
#include "image_json.h"
#include "../formats/segments.h"

#include <stdbool.h>
#include <stddef.h>

static cJSON *segment_json(const struct walk_segment *s, const char *xxh128)
{
	cJSON *o = cJSON_CreateObject();

	json_add_path(o, "path", s->path);
	cJSON_AddNumberToObject(o, "size", (double)s->st.st_size);
	if (xxh128 && xxh128[0])
		cJSON_AddStringToObject(o, "xxh128", xxh128);
	else
		cJSON_AddNullToObject(o, "xxh128");
	return o;
}

cJSON *media_to_json(const struct image_result *r)
{
	const struct walk_media *m = r->media;
	cJSON *o = cJSON_CreateObject(), *segs;

	cJSON_AddStringToObject(o, "scheme", m->scheme == SEG_EWF ? "ewf" : "split-raw");
	cJSON_AddStringToObject(o, "content_kind", image_kind_name(r->verdict.content_kind));
	cJSON_AddNumberToObject(o, "missing_segments", m->gaps);
	if (m->gaps)
		json_add_path(o, "first_missing", m->first_gap);
	else
		cJSON_AddNullToObject(o, "first_missing");
	segs = cJSON_AddArrayToObject(o, "segments");
	for (size_t i = 0; i < m->n; i++)
		cJSON_AddItemToArray(segs, segment_json(&m->segs[i], r->seg_xxh128 ? r->seg_xxh128[i] : NULL));
	return o;
}

static const char *status_name(const struct ewf_acquisition *q)
{
	if (q->status == EWF_ACQ_OPEN_FAILED)
		return "unopened";
	if (q->status == EWF_ACQ_READ_FAILED)
		return "unreadable";
	if (q->md5_match == EWF_HASH_MISMATCH || q->sha1_match == EWF_HASH_MISMATCH)
		return "mismatch";
	if (q->md5_match == EWF_HASH_MATCH || q->sha1_match == EWF_HASH_MATCH)
		return "verified";
	return "no-stored-hash";
}

static const char *match_name(int m)
{
	return m == EWF_HASH_MATCH ? "match" : m == EWF_HASH_MISMATCH ? "mismatch"
		: m == EWF_HASH_NOT_COMPUTED ? "not-computed" : "not-stored";
}

static void add_hex_or_null(cJSON *o, const char *key, const char *hex)
{
	if (hex[0])
		cJSON_AddStringToObject(o, key, hex);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_header_values(cJSON *o, const struct ewf_acquisition *q)
{
	static const struct { const char *key; size_t off; } fields[] = {
#define F(name) {#name, offsetof(struct ewf_acquisition, name)}
		F(case_number), F(evidence_number), F(examiner), F(description), F(notes), F(acquiry_date),
		F(system_date), F(acquiry_os), F(acquiry_software), F(acquiry_software_version), F(model),
		F(serial_number),
#undef F
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_add_text(o, fields[i].key, (const char *)q + fields[i].off);
}

static cJSON *digests_json(const struct ewf_acquisition *q, bool stored)
{
	cJSON *o = cJSON_CreateObject();

	add_hex_or_null(o, "md5", stored ? q->stored_md5 : q->md5);
	add_hex_or_null(o, "sha1", stored ? q->stored_sha1 : q->sha1);
	if (!stored) {
		if (q->sha256[0])
			cJSON_AddStringToObject(o, "sha256", q->sha256);
		add_hex_or_null(o, "xxh128", q->xxh128);
	}
	return o;
}

static cJSON *bad_chunks_json(const struct ewf_acquisition *q)
{
	cJSON *arr = cJSON_CreateArray();

	for (uint32_t i = 0; i < q->checksum_errors && i < EWF_ACQ_MAX_BAD; i++) {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddNumberToObject(b, "first_sector", (double)q->bad[i].first_sector);
		cJSON_AddNumberToObject(b, "sectors", (double)q->bad[i].sectors);
		cJSON_AddItemToArray(arr, b);
	}
	return arr;
}

cJSON *acquisition_to_json(const struct ewf_acquisition *q)
{
	cJSON *o = cJSON_CreateObject();
	bool opened = q->status != EWF_ACQ_OPEN_FAILED;

	cJSON_AddStringToObject(o, "status", status_name(q));
	if (q->error[0])
		json_add_text(o, "error", q->error);
	else
		cJSON_AddNullToObject(o, "error");
	cJSON_AddNumberToObject(o, "media_size", (double)q->media_size);
	cJSON_AddNumberToObject(o, "bytes_per_sector", q->bytes_per_sector);
	cJSON_AddNumberToObject(o, "sectors", (double)q->sectors);
	cJSON_AddNumberToObject(o, "bytes_read", (double)q->bytes_read);
	json_add_text(o, "format", q->format);
	json_add_text(o, "compression", q->compression);
	add_header_values(o, q);
	cJSON_AddItemToObject(o, "stored", digests_json(q, true));
	cJSON_AddItemToObject(o, "computed", digests_json(q, false));
	/* Unopened: nothing is known of what the files store either. */
	cJSON_AddStringToObject(o, "md5_match", match_name(opened ? q->md5_match : EWF_HASH_NOT_COMPUTED));
	cJSON_AddStringToObject(o, "sha1_match", match_name(opened ? q->sha1_match : EWF_HASH_NOT_COMPUTED));
	cJSON_AddNumberToObject(o, "checksum_errors", q->checksum_errors);
	cJSON_AddItemToObject(o, "bad_chunks", bad_chunks_json(q));
	return o;
}
