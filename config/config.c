/*
 * config.c - parse the JSON configuration (built-in or --config FILE) into
 * struct imgscan_config.  Unknown keys are ignored so a newer file still loads;
 * wrong types are errors, so a typo in a list does not silently vanish.
 */
#include "config.h"
#include "version.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <xxhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int copy_ext(char *dst, const cJSON *item, char *err, size_t errlen)
{
	if (!cJSON_IsString(item) || strlen(item->valuestring) >= CFG_EXT_LEN) {
		snprintf(err, errlen, "extension must be a string under %d bytes", CFG_EXT_LEN);
		return -1;
	}
	snprintf(dst, CFG_EXT_LEN, "%s", item->valuestring);
	return 0;
}

static int load_ext_list(const cJSON *arr, char (*dst)[CFG_EXT_LEN], size_t cap, size_t *n,
			 char *err, size_t errlen)
{
	const cJSON *it;

	if (!cJSON_IsArray(arr)) {
		snprintf(err, errlen, "expected an array of extensions");
		return -1;
	}
	*n = 0;
	cJSON_ArrayForEach(it, arr) {
		if (*n >= cap) {
			snprintf(err, errlen, "too many extensions (max %zu)", cap);
			return -1;
		}
		if (copy_ext(dst[*n], it, err, errlen))
			return -1;
		(*n)++;
	}
	return 0;
}

static int load_rule(const cJSON *obj, struct naming_rule *r, char *err, size_t errlen)
{
	const cJSON *s;

	if (!cJSON_IsObject(obj) || strlen(obj->string) >= CFG_KEY_LEN) {
		snprintf(err, errlen, "naming.%s: expected an object", obj->string);
		return -1;
	}
	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", obj->string);
	if (load_ext_list(cJSON_GetObjectItemCaseSensitive(obj, "accept"), r->accept,
			  sizeof(r->accept) / sizeof(r->accept[0]), &r->naccept, err, errlen))
		return -1;
	s = cJSON_GetObjectItemCaseSensitive(obj, "suggest");
	if (s && copy_ext(r->suggest, s, err, errlen))
		return -1;
	s = cJSON_GetObjectItemCaseSensitive(obj, "append");
	if (s && copy_ext(r->append, s, err, errlen))
		return -1;
	if (!r->suggest[0] && !r->append[0]) {
		snprintf(err, errlen, "naming.%s: needs \"suggest\" or \"append\"", r->key);
		return -1;
	}
	return 0;
}

static unsigned get_uint(const cJSON *limits, const char *name, unsigned dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(limits, name);

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 4e9)
		return (unsigned)v->valuedouble;
	return dflt;
}

static int parse_config(const char *text, struct imgscan_config *cfg, char *err, size_t errlen)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *naming, *rule, *limits, *state, *evidence;
	int rc = -1;

	if (!root) {
		snprintf(err, errlen, "not valid JSON near: %.40s", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "?");
		return -1;
	}
	if (load_ext_list(cJSON_GetObjectItemCaseSensitive(root, "image_extensions"), cfg->image_exts,
			  CFG_MAX_EXTS, &cfg->nimage_exts, err, errlen))
		goto out;
	cfg->nprobe_first_exts = 0;
	if (cJSON_GetObjectItemCaseSensitive(root, "probe_first_extensions") &&
	    load_ext_list(cJSON_GetObjectItemCaseSensitive(root, "probe_first_extensions"), cfg->probe_first_exts,
			  CFG_MAX_EXTS, &cfg->nprobe_first_exts, err, errlen))
		goto out;
	naming = cJSON_GetObjectItemCaseSensitive(root, "naming");
	if (!cJSON_IsObject(naming)) {
		snprintf(err, errlen, "\"naming\" must be an object");
		goto out;
	}
	cfg->nrules = 0;
	cJSON_ArrayForEach(rule, naming) {
		if (cfg->nrules >= CFG_MAX_RULES) {
			snprintf(err, errlen, "too many naming rules (max %d)", CFG_MAX_RULES);
			goto out;
		}
		if (load_rule(rule, &cfg->rules[cfg->nrules], err, errlen))
			goto out;
		cfg->nrules++;
	}
	state = cJSON_GetObjectItemCaseSensitive(root, "state");
	if (state && !cJSON_IsNull(state) && (!cJSON_IsString(state) || !state->valuestring[0] ||
			       strlen(state->valuestring) >= sizeof(cfg->state))) {
		snprintf(err, errlen, "\"state\" must be null or the catalog file's path");
		goto out;
	}
	snprintf(cfg->state, sizeof(cfg->state), "%s", cJSON_IsString(state) ? state->valuestring : "");
	evidence = cJSON_GetObjectItemCaseSensitive(root, "evidence");
	if (evidence && !cJSON_IsBool(evidence)) {
		snprintf(err, errlen, "\"evidence\" must be true or false");
		goto out;
	}
	cfg->evidence = cJSON_IsTrue(evidence);
	limits = cJSON_GetObjectItemCaseSensitive(root, "limits");
	cfg->tsk_timeout_s = get_uint(limits, "tsk_timeout_seconds", 20);
	cfg->tsk_memory_mib = get_uint(limits, "tsk_memory_mib", 1024);
	cfg->read_timeout_s = get_uint(limits, "read_timeout_seconds", 300);
	cfg->tsk_workers = get_uint(limits, "tsk_workers", 0);
	cfg->trailing_slack_pct = get_uint(limits, "trailing_slack_percent", 10);
	cfg->trailing_slack_min = get_uint(limits, "trailing_slack_min_bytes", 2u << 20);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static char *read_small_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, (1 << 20) - 1, f);
	if (ferror(f) || !feof(f)) {
		snprintf(err, errlen, "%s: unreadable or larger than 1 MiB", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Two machines given --config FILE may hold two different FILEs: the
 * report records which text was read, not only its name. */
static void digest_text(const char *text, struct imgscan_config *cfg)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(text, strlen(text)));
	for (size_t i = 0; i < sizeof(c.digest); i++)
		snprintf(cfg->text_xxh128 + 2 * i, 3, "%02x", c.digest[i]);
}

int config_load(const char *path, struct imgscan_config *cfg, char *err, size_t errlen)
{
	char *text;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!path) {
		snprintf(cfg->source, sizeof(cfg->source), "built-in defaults");
		digest_text(imgscan_default_config, cfg);
		return parse_config(imgscan_default_config, cfg, err, errlen);
	}
	text = read_small_file(path, err, errlen);
	if (!text)
		return -1;
	snprintf(cfg->source, sizeof(cfg->source), "%s", path);
	digest_text(text, cfg);
	rc = parse_config(text, cfg, err, errlen);
	free(text);
	return rc;
}

const struct naming_rule *config_rule(const struct imgscan_config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->nrules; i++)
		if (strcmp(cfg->rules[i].key, key) == 0)
			return &cfg->rules[i];
	return NULL;
}

bool config_is_probe_first_ext(const struct imgscan_config *cfg, const char *ext)
{
	for (size_t i = 0; i < cfg->nprobe_first_exts; i++)
		if (strcasecmp(cfg->probe_first_exts[i], ext) == 0)
			return true;
	return false;
}

bool config_is_image_ext(const struct imgscan_config *cfg, const char *ext)
{
	for (size_t i = 0; i < cfg->nimage_exts; i++)
		if (strcasecmp(cfg->image_exts[i], ext) == 0)
			return true;
	return false;
}

bool naming_rule_accepts(const struct naming_rule *rule, const char *ext)
{
	for (size_t i = 0; i < rule->naccept; i++)
		if (strcasecmp(rule->accept[i], ext) == 0)
			return true;
	return false;
}

const char *imgscan_default_config_text(void)
{
	return imgscan_default_config;
}
