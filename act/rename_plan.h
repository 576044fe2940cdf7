/*
 * rename_plan.h - what `imgscan rename` is asked to do, read from a scan
 * report: every image whose finding suggests a name (the findings --only
 * names, when given), with what the report says the file was (device,
 * inode, size, mtime, XXH128), and where the scan was allowed to look (the
 * run's cwd and roots) and whether it was of evidence.  Decided from the
 * report alone: nothing here touches the tree.
 */
#ifndef IMGSCAN_RENAME_PLAN_H
#define IMGSCAN_RENAME_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What a file was: the report's word, or a journal's. */
struct file_stamp {
	bool known;                /* device and inode recorded (reports of earlier versions lack them) */
	uint64_t dev, ino, size;
	struct timespec mtime;
};

struct plan_item {
	char *path;                /* the report's path, exact bytes */
	char *abs;                 /* path made absolute with run.cwd */
	char *new_name;            /* the suggested name (a file name, no directory) */
	char code[40];             /* the finding that suggests it */
	struct file_stamp stamp;
	char xxh128[33];           /* "" when the report has none */
	const char *refused;       /* why the report alone rules it out, NULL when it does not */
};

struct rename_plan {
	struct plan_item *items;
	size_t n, cap;
	char *cwd;                 /* run.cwd, NULL when absent */
	char **roots;              /* run.roots, exact bytes */
	size_t nroots;
	bool evidence;             /* run.options.evidence */
	size_t images;             /* images in the report */
};

/* The finding codes that carry a suggested name (what --only may name). */
extern const char *const rename_codes[];
bool rename_code_known(const char *code);

/* Read the report.  only: NULL, or the codes to act on.  Returns 0, or -1
 * with a message in err (the report could not be read, or is not one
 * rename can use: no cwd or roots). */
int plan_load(const char *report, char *const *only, size_t nonly, struct rename_plan *p, char *err,
	      size_t errlen);
void plan_free(struct rename_plan *p);

/* Is name a plain file name (not empty, ".", "..", no '/')? */
bool plain_file_name(const char *name);

#endif
