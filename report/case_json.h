/*
 * case_json.h - the report as CASE/UCO JSON-LD (--format case; the mapping
 * is report/CASE.md).  One JSON-LD document whose @graph is streamed: the
 * tool and its configuration (argv) first, then each image's nodes as it
 * finishes, then the run's InvestigativeAction.  Memory does not grow with
 * the number of images: nothing of an image is kept once it is written.
 */
#ifndef IMGSCAN_CASE_JSON_H
#define IMGSCAN_CASE_JSON_H

#include <cjson/cJSON.h>

struct outfile;
struct case_doc;

/* Write the @context, open the @graph and write the nodes known at the
 * start: the tool, the configured tool with argv and the effective
 * options, and one node per PATH.  tool and run: run_json.h's objects.
 * Returns NULL when memory ran out. */
struct case_doc *case_open(struct outfile *out, const cJSON *tool, const cJSON *run, int npaths, char **paths);
/* One image object (image_json.c): its nodes, at once.  Not thread-safe:
 * the report calls it under its lock. */
void case_write_image(struct case_doc *d, const cJSON *img);
/* The action (run: with "end"; summary: report.c's) and the end of the
 * document; frees d.  Errors are the outfile's, sticky, as for the other
 * formats. */
void case_close(struct case_doc *d, const cJSON *run, const cJSON *summary);

#endif
