/*
 * case_image.h - one image object of the report (image_json.c) as the CASE
 * nodes that stand for it: the File observable with its facets, its
 * partitions and file systems, annotations for findings and errors, and
 * the link making it a result of the run's action (report/CASE.md).
 */
#ifndef IMGSCAN_CASE_IMAGE_H
#define IMGSCAN_CASE_IMAGE_H

#include "case_node.h"

#include <cjson/cJSON.h>

/* An array of nodes (the caller frees it); NULL when memory ran out.
 * ns: the run's namespace; action_id: the run's action. */
cJSON *case_image_nodes(const struct case_ns *ns, const char *action_id, const cJSON *img);

#endif
