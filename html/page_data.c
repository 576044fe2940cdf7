/*
 * page_data.c - counts and rows for the page (see page_data.h).  A row is
 * the image object as the report has it, less what a reader of the page
 * does not need (read timings, catalog bookkeeping), plus "r", the report
 * it came from when the page has several: the page shows every field
 * it keeps, and a field added to reports later reaches the page unchanged.
 */
#include "page_data.h"
#include "html_escape.h"
#include "../report/tally.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *const severity_names[SEVERITIES] = {"critical", "high", "medium", "low", "info"};
const char *const size_bucket_names[PAGE_SIZE_BUCKETS] = {
	"empty", "< 64 KiB", "64 KiB - 1 MiB", "1 - 16 MiB", "16 - 256 MiB", "256 MiB - 4 GiB",
	"4 - 64 GiB", "64 GiB - 1 TiB", ">= 1 TiB",
};

/* Fields of an image object the page leaves out. */
static const char *const dropped_fields[] = {"type", "read", "measured_at", "kind_key", "status", "misnamed"};

int severity_rank(const char *name)
{
	for (int i = 0; i < SEVERITIES; i++)
		if (!strcmp(name, severity_names[i]))
			return SEVERITIES - 1 - i;
	return -1;
}

int page_data_init(struct page_data *d, char **files, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->reports = calloc(n, sizeof(*d->reports));
	if (!d->reports)
		return -ENOMEM;
	d->nreports = n;
	for (size_t i = 0; i < n; i++)
		d->reports[i].file = files[i];
	d->rows = tmpfile();
	d->walk_rows = tmpfile();
	return d->rows && d->walk_rows ? 0 : -errno;
}

void page_data_free(struct page_data *d)
{
	for (size_t i = 0; d->reports && i < d->nreports; i++)
		report_head_free(&d->reports[i].head);
	free(d->reports);
	if (d->rows)
		fclose(d->rows);
	if (d->walk_rows)
		fclose(d->walk_rows);
	memset(d, 0, sizeof(*d));
}

static int size_bucket(uint64_t size)
{
	int b = 1;

	if (size == 0)
		return 0;
	for (uint64_t limit = 64 << 10; b < PAGE_SIZE_BUCKETS - 1 && size >= limit; limit <<= 4)
		b++;
	return b;
}

static void count_kind(struct page_data *d, const char *kind, uint64_t size)
{
	struct kind_tally *k = NULL;

	if (!kind[0]) /* an empty name would look like a free slot: the next kind would take its images */
		kind = "(none)";
	for (int i = 0; i < PAGE_KINDS && !k; i++)
		if (!d->kinds[i].name[0] || !strcmp(d->kinds[i].name, kind))
			k = &d->kinds[i];
	if (!k || strlen(kind) >= sizeof(k->name)) /* full, or no kind imgscan names: one bar for the rest */
		k = &d->kinds[PAGE_KINDS - 1], kind = "(other)";
	if (!k->name[0] || strcmp(k->name, kind))
		snprintf(k->name, sizeof(k->name), "%s", kind);
	k->images++;
	k->bytes += (double)size;
}

static void count_finding(struct page_data *d, const cJSON *f)
{
	const char *code = json_str(f, "code");
	int rank = severity_rank(json_str(f, "severity"));
	int sev = rank < 0 ? SEVERITIES : SEVERITIES - 1 - rank;
	struct code_tally *c = NULL;

	if (!code[0]) /* as in count_kind */
		code = "(none)";
	d->findings++;
	d->by_severity[sev]++;
	for (int i = 0; i < PAGE_CODES && !c; i++)
		if (!d->codes[i].code[0] || (!strcmp(d->codes[i].code, code) && d->codes[i].severity == sev))
			c = &d->codes[i];
	if (!c || strlen(code) >= sizeof(c->code))
		c = &d->codes[PAGE_CODES - 1], code = "(other)";
	if (!c->code[0] || strcmp(c->code, code))
		snprintf(c->code, sizeof(c->code), "%s", code), c->severity = sev;
	c->n++;
}

/* obj's member key when it is an array, else NULL. */
static const cJSON *list_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsArray(v) ? v : NULL;
}

/* The image's row: a copy less dropped_fields, "r" added. */
static int spool_row(struct page_data *d, const cJSON *img, FILE *to, uint64_t count)
{
	cJSON *row = cJSON_Duplicate(img, true);
	int rc;

	if (!row)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(dropped_fields) / sizeof(dropped_fields[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(row, dropped_fields[i]);
	if (d->nreports > 1)
		cJSON_AddNumberToObject(row, "r", (double)d->current);
	if (count)
		fputc(',', to);
	rc = json_for_script(to, row);
	cJSON_Delete(row);
	return rc ? rc : ferror(to) ? -EIO : 0;
}

int page_data_image(struct page_data *d, const cJSON *img, char *err, size_t errlen)
{
	const cJSON *f, *e;
	uint64_t size = json_u64(img, "size");
	bool has_errors = false;
	int rc;

	count_kind(d, json_str(img, "kind"), size);
	d->size_buckets[size_bucket(size)]++;
	d->bytes += size;
	/* the findings and errors the page's tables show: the objects of a
	 * list (a hand-edited report may hold anything there) */
	cJSON_ArrayForEach(f, list_of(img, "findings"))
		if (cJSON_IsObject(f))
			count_finding(d, f);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(img, "misnamed")))
		d->misnamed++;
	cJSON_ArrayForEach(e, list_of(img, "errors"))
		has_errors |= cJSON_IsObject(e);
	d->images_with_errors += has_errors;
	if ((rc = spool_row(d, img, d->rows, d->images)))
		return snprintf(err, errlen, "cannot keep the page's rows: %s", strerror(-rc)), -1;
	d->images++;
	d->reports[d->current].images++;
	return 0;
}

int page_data_skipped(struct page_data *d, const cJSON *entry, char *err, size_t errlen)
{
	int rc;

	if (strcmp(json_str(entry, "reason"), "error"))
		return 0;
	if ((rc = spool_row(d, entry, d->walk_rows, d->walk_errors)))
		return snprintf(err, errlen, "cannot keep the page's rows: %s", strerror(-rc)), -1;
	d->walk_errors++;
	d->reports[d->current].walk_errors++;
	return 0;
}
