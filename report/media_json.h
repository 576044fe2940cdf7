/*
 * media_json.h - the report's view of evidence media (its segments) and of
 * an EWF acquisition checked whole (report/SCHEMA.md, "media" and
 * "acquisition").
 */
#ifndef IMGSCAN_MEDIA_JSON_H
#define IMGSCAN_MEDIA_JSON_H

#include "../scanner/result.h"

#include <cjson/cJSON.h>

cJSON *media_to_json(const struct image_result *r);
cJSON *acquisition_to_json(const struct ewf_acquisition *q);

#endif
