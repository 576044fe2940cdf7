/*
 * page_data.h - what the page needs of the reports, gathered as they are
 * streamed: each report's head (tool, run, summary), the counts the charts
 * and totals draw on, and one compact JSON row per image (and per walk
 * error) spooled to an unnamed temporary file, so that memory holds the
 * counts and one image, whatever the number of images.
 */
#ifndef IMGSCAN_PAGE_DATA_H
#define IMGSCAN_PAGE_DATA_H

#include "../verify/report_read.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#define PAGE_KINDS 32      /* more than there are kinds; the rest count as "(other)" */
#define PAGE_CODES 64      /* (finding code, severity) pairs; likewise */
#define PAGE_SIZE_BUCKETS 9
#define SEVERITIES 5       /* critical, high, medium, low, info; then "(other)" */

extern const char *const severity_names[SEVERITIES];
extern const char *const size_bucket_names[PAGE_SIZE_BUCKETS];

struct kind_tally { char name[32]; uint64_t images; double bytes; };
struct code_tally { char code[40]; int severity; uint64_t n; }; /* severity: index in severity_names, SEVERITIES: unknown */

struct page_report {
	const char *file;          /* as given on the command line */
	struct report_head head;   /* tool, run, summary (owned) */
	uint64_t images, walk_errors;
};

struct page_data {
	struct page_report *reports;
	size_t nreports;
	uint64_t images, bytes, findings, misnamed, images_with_errors, walk_errors;
	uint64_t by_severity[SEVERITIES + 1];
	struct kind_tally kinds[PAGE_KINDS];
	struct code_tally codes[PAGE_CODES];
	uint64_t size_buckets[PAGE_SIZE_BUCKETS];
	FILE *rows;                /* the image rows, comma-separated JSON, script-safe */
	FILE *walk_rows;           /* the walk errors (skipped entries of reason "error"), likewise */
	size_t current;            /* the report being read */
};

/* Set up for n reports (files[i] as given).  Returns 0 or -errno. */
int page_data_init(struct page_data *d, char **files, size_t n);
void page_data_free(struct page_data *d);
/* Count an image of report d->current and spool its row.  Returns 0, or
 * -1 with err set. */
int page_data_image(struct page_data *d, const cJSON *img, char *err, size_t errlen);
/* A skipped entry: walk errors are counted and spooled. */
int page_data_skipped(struct page_data *d, const cJSON *entry, char *err, size_t errlen);
/* The sort rank of a severity name: 4 critical ... 0 info, -1 unknown. */
int severity_rank(const char *name);

#endif
