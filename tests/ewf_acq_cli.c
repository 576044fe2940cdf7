/*
 * ewf_acq_cli.c - test-only driver for formats/ewf_acq.c:
 *     ewf-acq-cli [--no-sha256] SEGMENT...
 * checks the EWF segment set given (in order, by name) and prints struct
 * ewf_acquisition as one JSON object on stdout.  Exit 0 whatever the
 * check found (the object says it); 2 on a usage or setup failure.
 */
#include "formats/ewf_acq.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *status_name(int32_t s)
{
	static const char *const names[] = { "none", "done", "open_failed", "read_failed" };
	return s >= 0 && s < 4 ? names[s] : "?";
}

static const char *match_name(int32_t m)
{
	static const char *const names[] = { "not_stored", "match", "mismatch", "not_computed" };
	return m >= 0 && m < 4 ? names[m] : "?";
}

/* Numbers as doubles: exact up to 2^53, enough for the test's images. */
static cJSON *to_json(const struct ewf_acquisition *a)
{
	cJSON *o = cJSON_CreateObject(), *bad = cJSON_CreateArray();

	if (!o || !bad) {
		cJSON_Delete(o);
		cJSON_Delete(bad);
		return NULL;
	}
	cJSON_AddStringToObject(o, "status", status_name(a->status));
	cJSON_AddStringToObject(o, "error", a->error);
	cJSON_AddNumberToObject(o, "media_size", (double)a->media_size);
	cJSON_AddNumberToObject(o, "bytes_per_sector", a->bytes_per_sector);
	cJSON_AddNumberToObject(o, "sectors", (double)a->sectors);
	cJSON_AddNumberToObject(o, "bytes_read", (double)a->bytes_read);
	cJSON_AddStringToObject(o, "format", a->format);
	cJSON_AddStringToObject(o, "compression", a->compression);
	cJSON_AddNumberToObject(o, "segments_opened", a->segments_opened);
	cJSON_AddStringToObject(o, "case_number", a->case_number);
	cJSON_AddStringToObject(o, "evidence_number", a->evidence_number);
	cJSON_AddStringToObject(o, "examiner", a->examiner);
	cJSON_AddStringToObject(o, "description", a->description);
	cJSON_AddStringToObject(o, "notes", a->notes);
	cJSON_AddStringToObject(o, "acquiry_date", a->acquiry_date);
	cJSON_AddStringToObject(o, "system_date", a->system_date);
	cJSON_AddStringToObject(o, "acquiry_os", a->acquiry_os);
	cJSON_AddStringToObject(o, "acquiry_software", a->acquiry_software);
	cJSON_AddStringToObject(o, "acquiry_software_version", a->acquiry_software_version);
	cJSON_AddStringToObject(o, "model", a->model);
	cJSON_AddStringToObject(o, "serial_number", a->serial_number);
	cJSON_AddStringToObject(o, "stored_md5", a->stored_md5);
	cJSON_AddStringToObject(o, "stored_sha1", a->stored_sha1);
	cJSON_AddStringToObject(o, "md5", a->md5);
	cJSON_AddStringToObject(o, "sha1", a->sha1);
	cJSON_AddStringToObject(o, "sha256", a->sha256);
	cJSON_AddStringToObject(o, "xxh128", a->xxh128);
	cJSON_AddStringToObject(o, "md5_match", match_name(a->md5_match));
	cJSON_AddStringToObject(o, "sha1_match", match_name(a->sha1_match));
	cJSON_AddNumberToObject(o, "checksum_errors", a->checksum_errors);
	for (uint32_t i = 0; i < a->checksum_errors && i < EWF_ACQ_MAX_BAD; i++) {
		cJSON *r = cJSON_CreateObject();
		if (!r)
			break;
		cJSON_AddNumberToObject(r, "first_sector", (double)a->bad[i].first_sector);
		cJSON_AddNumberToObject(r, "sectors", (double)a->bad[i].sectors);
		cJSON_AddItemToArray(bad, r);
	}
	cJSON_AddItemToObject(o, "bad", bad); /* o owns it now */
	return o;
}

int main(int argc, char **argv)
{
	int first = 1, sha256 = 1;
	struct ewf_acquisition *a;
	cJSON *o;
	char *text;

	if (argc > 1 && !strcmp(argv[1], "--no-sha256")) {
		sha256 = 0;
		first = 2;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: %s [--no-sha256] SEGMENT...\n", argv[0]);
		return 2;
	}
	a = malloc(sizeof(*a));
	if (!a || ewf_acq_check((const char *const *)argv + first, argc - first, sha256, a) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(ENOMEM));
		free(a);
		return 2;
	}
	o = to_json(a);
	text = o ? cJSON_PrintUnformatted(o) : NULL;
	if (text)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
	free(a);
	return text ? 0 : 2;
}
