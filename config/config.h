/*
 * config.h - the run configuration read from JSON at start.
 *
 * The defaults live in config/defaults.json, compiled into the binary so a
 * fresh build needs no install step; --config FILE replaces them.  The loader
 * turns JSON into plain structs: formats/ and scanner/ never see cJSON.
 */
#ifndef IMGSCAN_CONFIG_H
#define IMGSCAN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_EXTS 64
#define CFG_MAX_RULES 48
#define CFG_EXT_LEN 16
#define CFG_KEY_LEN 40

/* Naming rule for one kind key ("optical", "container:qcow2", ...). */
struct naming_rule {
	char key[CFG_KEY_LEN];
	char accept[CFG_MAX_EXTS / 4][CFG_EXT_LEN];
	size_t naccept;
	char suggest[CFG_EXT_LEN]; /* replace the extension with this, or "" */
	char append[CFG_EXT_LEN];  /* or append this extension (compressed) */
};

struct imgscan_config {
	char source[256]; /* "built-in defaults" or the file path */
	char text_xxh128[33]; /* XXH128 of its text, as xxhsum -H2 prints it: what the run was given */
	char image_exts[CFG_MAX_EXTS][CFG_EXT_LEN];
	size_t nimage_exts;
	/* Image extensions other files use too (firmware .bin): a file so
	 * named is probed first, like one of unknown extension, and is an
	 * image only if its first bytes say so. */
	char probe_first_exts[CFG_MAX_EXTS][CFG_EXT_LEN];
	size_t nprobe_first_exts;
	struct naming_rule rules[CFG_MAX_RULES];
	size_t nrules;
	unsigned tsk_timeout_s;
	unsigned read_timeout_s;     /* limits.read_timeout_seconds; 0: never */
	unsigned tsk_memory_mib;
	unsigned tsk_workers;        /* 0: same as -j */
	unsigned trailing_slack_pct; /* file longer than content by more than this... */
	uint64_t trailing_slack_min; /* ...and more than this many bytes is a finding */
	char state[4096];            /* "state": the catalog file (--state), "" for none */
	bool evidence;               /* "evidence": every scan is of evidence (--evidence) */
};

/* Load the built-in defaults (path NULL) or a file.  Returns 0 or -1 with a
 * message in err. */
int config_load(const char *path, struct imgscan_config *cfg, char *err, size_t errlen);

/* The rule for a kind key, or NULL. */
const struct naming_rule *config_rule(const struct imgscan_config *cfg, const char *key);

/* True when ext (no dot, any case) is in the image extension list. */
bool config_is_image_ext(const struct imgscan_config *cfg, const char *ext);
/* Is ext (no dot) one of "probe_first_extensions"? */
bool config_is_probe_first_ext(const struct imgscan_config *cfg, const char *ext);

/* True when ext is accepted by rule. */
bool naming_rule_accepts(const struct naming_rule *rule, const char *ext);

/* The text of the built-in defaults (for --print-config). */
extern const char imgscan_default_config[];

#endif
