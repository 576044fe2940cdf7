/*
 * verdict.h - from identification to a kind and findings: what the image
 * really is and what is wrong with its name or its size.  The extension rules
 * come from the configuration, not from code.
 */
#ifndef IMGSCAN_VERDICT_H
#define IMGSCAN_VERDICT_H

#include "ident.h"

#include <stdint.h>

struct imgscan_config;

#define VERDICT_MAX_FINDINGS 8

struct finding {
	const char *code;       /* static: "ISO_NAMED_IMG", "TRUNCATED", ... */
	const char *severity;   /* "info", "low", "medium", "high" */
	char message[320];
	char suggested_name[512]; /* "" when no rename is suggested */
};

struct verdict {
	const char *kind;       /* optical, raw-cd, disk, container, compressed, empty, zero, unrecognised */
	char kind_key[40];      /* naming-rule key: "optical", "container:qcow2" */
	char detail[160];       /* "ISO 9660 + UDF bridge", "MBR disk, FAT32" */
	uint64_t content_bytes; /* what the structures found account for; 0 unknown */
	struct finding findings[VERDICT_MAX_FINDINGS];
	int nfindings;
};

/* What verdict_decide() needs besides identification. */
struct verdict_input {
	const char *basename;   /* the file name, bytes */
	const char *ext;        /* extension without the dot, "" when none */
	uint64_t size;
	bool all_zero;          /* every byte read was zero */
	bool size_known;        /* the whole file was read */
	bool is_device;         /* a block device: its name says nothing of its content */
};

void verdict_decide(const struct ident *id, const struct tsk_result *tsk,
		    const struct verdict_input *in, const struct imgscan_config *cfg,
		    struct verdict *out);

#endif
