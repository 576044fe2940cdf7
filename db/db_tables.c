/*
 * db_tables.c - the tables `imgscan load` fills and their columns, in the
 * order the row builder gives values (the SQL files create them: a column
 * named here and not there fails the first load, in the tests).
 */
#include "db.h"

#define COLUMNS(id, ...)                                                                                      \
	static const char *const id##_cols[] = {__VA_ARGS__, NULL};
#define COLS(id) id##_cols, sizeof(id##_cols) / sizeof(id##_cols[0]) - 1

COLUMNS(runs, "run_key", "run_id", "tool_name", "tool_version", "schema_version", "host", "started", "ended",
      "output", "argv", "options", "tool", "summary", "report_format", "images", "findings", "misnamed",
      "images_with_errors", "exit_status", "partial", "loaded_at", "loaded_from")
COLUMNS(images, "run_key", "idx", "path", "path_b64", "name", "extension", "file_type", "size", "mtime",
      "status", "kind", "kind_key", "detail", "misnamed", "suggested_name", "sector_size", "sector_count",
      "sector_zero", "sector_list_xxh128", "content_bytes", "read_bytes", "read_complete", "reused", "measured_at",
      "catalog_state", "inside_layer", "inside_status", "inside_content", "tsk_status", "object")
COLUMNS(digests, "run_key", "idx", "algorithm", "value")
COLUMNS(findings, "run_key", "idx", "seq", "code", "severity", "message", "suggested_name")
COLUMNS(partitions, "run_key", "idx", "seq", "source", "inner_disk", "scheme", "number", "start", "length",
      "type", "name", "bootable", "allocated")
COLUMNS(filesystems, "run_key", "idx", "seq", "source", "inner_disk", "type", "class", "byte_offset",
      "size", "block_size", "block_count", "label", "uuid", "detail", "opened_by")
COLUMNS(errors, "run_key", "idx", "seq", "stage", "errno", "byte_offset", "message")
COLUMNS(skipped, "run_key", "seq", "path", "path_b64", "reason", "file_type", "link_target", "errno", "error")

const struct db_table_def db_tables[TB_COUNT] = {
	[TB_RUNS] = {"runs", COLS(runs)},
	[TB_IMAGES] = {"images", COLS(images)},
	[TB_DIGESTS] = {"digests", COLS(digests)},
	[TB_FINDINGS] = {"findings", COLS(findings)},
	[TB_PARTITIONS] = {"partitions", COLS(partitions)},
	[TB_FILESYSTEMS] = {"filesystems", COLS(filesystems)},
	[TB_ERRORS] = {"errors", COLS(errors)},
	[TB_SKIPPED] = {"skipped", COLS(skipped)},
};
