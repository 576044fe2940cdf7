/*
 * load_rows.h - one report's objects turned into rows of the evidence
 * database (db/SCHEMA.md), each field checked as it is taken: a report is
 * user input, and a field of the wrong type is refused with its name, so
 * that the load stops there and its transaction is rolled back.
 */
#ifndef IMGSCAN_LOAD_ROWS_H
#define IMGSCAN_LOAD_ROWS_H

#include "db.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct load_run {
	struct db *db;
	int64_t run_key;
	const char *source;        /* the report as given ("-": stdin) */
	uint64_t rows;             /* rows written so far */
};

/* The rows of one image (images, digests, findings, partitions,
 * filesystems, errors).  Returns 0, or -1 with err naming the field. */
int load_image(struct load_run *lr, const cJSON *img, char *err, size_t errlen);
/* The row of one skipped entry; seq counts them from 0. */
int load_skipped(struct load_run *lr, const cJSON *s, size_t seq, char *err, size_t errlen);
/* Check the report's tool and run objects (either may be NULL while a
 * JSON document is still being read: then nothing is checked of it).
 * Returns 0, or -1 with err saying what is wrong; *run_id points into run. */
int load_check_head(const cJSON *tool, const cJSON *run, const char **run_id, char *err, size_t errlen);
/* The runs row, once the whole report is read. */
int load_run_row(struct load_run *lr, const char *format, const cJSON *tool, const cJSON *run, const cJSON *summary,
		 char *err, size_t errlen);

#endif
