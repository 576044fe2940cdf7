/*
 * report_read.h - reads a scan report (report/SCHEMA.md) back: a JSON
 * document or JSON lines, told apart by their content, streamed one image
 * at a time so that memory holds one image object, not the report.  For
 * every command that takes a report (verify now; load, merge, rename later).
 *
 * A report is user input: anything that is not a report imgscan could have
 * written (cut short, not JSON, a field of the wrong type, a digest that is
 * not hex, a path_b64 that is not base64) is refused with a message naming
 * where ("images[12]: ..." or "line 14: ..."), never a crash.
 */
#ifndef IMGSCAN_REPORT_READ_H
#define IMGSCAN_REPORT_READ_H

#include "../config/options.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum report_format { REPORT_JSON, REPORT_JSONL };

/* The top-level parts of a report other than its images. */
struct report_head {
	enum report_format format;
	cJSON *tool;               /* owned; NULL when the report has none */
	cJSON *run;                /* owned; NULL when the report has none */
	cJSON *summary;            /* owned; NULL when the report has none */
};

/* Called for each image object, in report order; n counts from 0.  The
 * object is only valid during the call.  Return 0 to go on, or -1 to stop
 * reading with a message in err (the reader says where). */
typedef int (*report_image_fn)(void *ctx, const cJSON *img, size_t n, char *err, size_t errlen);

/* Read the report at path ("-": stdin), calling image for every image.
 * Returns 0 with head filled, or -1 with a message in err (head is then
 * empty). */
int report_read(const char *path, struct report_head *head, report_image_fn image, void *ctx, char *err,
		size_t errlen);
void report_head_free(struct report_head *head);

/* What a caller wants of a report: every image and, when skipped is not
 * NULL, every skipped entry (n counts them from 0), in report order.  For
 * JSON lines head->tool and head->run are filled before the first call
 * (the run line comes first); a JSON document has its run after its
 * images, so there they are known only when report_visit returns. */
struct report_visitor {
	report_image_fn image;
	report_image_fn skipped;
	void *ctx;
	/* summary.duplicates passed over, not kept (head->summary has none):
	 * for merge, which finds the groups again across shards.  A summary is
	 * then read member by member, so its groups may be of any size (kept
	 * whole, it is capped with every value at JS_MAX_VALUE); as JSON lines,
	 * every line is, and an image or skipped line that has a "duplicates"
	 * member (none may) is refused rather than handed on without it. */
	bool skip_duplicates;
};
int report_visit(const char *path, struct report_head *head, const struct report_visitor *v, char *err,
		 size_t errlen);
/* The report's stream: stdin itself for "-", else the file, refusing a
 * directory.  Returns it, or NULL with err set. */
FILE *report_open_stream(const char *path, char *err, size_t errlen);
/* The same over a stream the caller opened (and closes). */
int report_visit_stream(FILE *f, struct report_head *head, const struct report_visitor *v, char *err,
			size_t errlen);

/* One image as a command needs it to find and check the file again. */
struct listed_image {
	char *path;                /* the exact bytes (path, or path_b64 when path_lossy), NUL-terminated */
	uint64_t size;
	bool is_blockdev;          /* file_type "block-device" */
	bool is_media;             /* a segment set (it has "media"): path is its first segment */
	bool has_hashes;           /* hashes is an object (null: the scan could not read it whole) */
	char xxh128[33];           /* lowercase hex; "" when the report has none */
	char crypto[HASH_COUNT][HASH_HEX_MAX]; /* md5, sha1, sha256; "" when the report has none */
	uint32_t sector_size;      /* sectors.size, 0 when sectors is null */
	char sector_list_xxh128[33]; /* sectors.list_xxh128, "" when none */
};

/* Fill out from an image object.  Returns 0, or -1 with a message in err
 * naming the field that is wrong. */
int listed_from_json(const cJSON *img, struct listed_image *out, char *err, size_t errlen);
void listed_free(struct listed_image *li);

/* A whole report's images, as listed_image. */
struct listed_report {
	struct report_head head;
	struct listed_image *images;
	size_t n, cap;
};

/* report_read() into r.  Returns 0, or -1 with a message in err. */
int report_load(const char *path, struct listed_report *r, char *err, size_t errlen);
void listed_report_free(struct listed_report *r);

/* A message in err (printf), for the commands that check a report.
 * Returns -1. */
int report_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Helpers for reading the head: a member of obj by path of keys ("options",
 * "sector_size"), NULL when absent. */
const cJSON *json_at(const cJSON *obj, const char *key1, const char *key2);

#endif
