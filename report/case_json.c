/*
 * case_json.c - streams the CASE/UCO JSON-LD document (see case_json.h;
 * the nodes of one image are case_image.c's).
 */
#include "case_json.h"
#include "case_image.h"
#include "case_node.h"
#include "tally.h"
#include "image_json.h"
#include "outfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The prefixes of CASE 1.x / UCO 1.x; kb: is CASE's examples' base for
 * the nodes of one knowledge base.  Keep in step with report/CASE.md. */
static const char context[] =
	"{\"@context\":{"
	"\"kb\":\"http://example.org/kb/\","
	"\"case-investigation\":\"https://ontology.caseontology.org/case/investigation/\","
	"\"uco-action\":\"https://ontology.unifiedcyberontology.org/uco/action/\","
	"\"uco-configuration\":\"https://ontology.unifiedcyberontology.org/uco/configuration/\","
	"\"uco-core\":\"https://ontology.unifiedcyberontology.org/uco/core/\","
	"\"uco-observable\":\"https://ontology.unifiedcyberontology.org/uco/observable/\","
	"\"uco-tool\":\"https://ontology.unifiedcyberontology.org/uco/tool/\","
	"\"uco-types\":\"https://ontology.unifiedcyberontology.org/uco/types/\","
	"\"uco-vocabulary\":\"https://ontology.unifiedcyberontology.org/uco/vocabulary/\","
	"\"xsd\":\"http://www.w3.org/2001/XMLSchema#\"},\n"
	"\"@graph\":[\n";

struct case_doc {
	struct outfile *out;
	struct case_ns ns;                 /* the run's id */
	char action_id[CASE_ID_MAX];
	char configured_id[CASE_ID_MAX];
	int npaths;
	bool first;                        /* no node written yet */
};

/* Write one node of the @graph and free it. */
static void write_node(struct case_doc *d, cJSON *node)
{
	char *text = node ? cJSON_PrintUnformatted(node) : NULL;

	cJSON_Delete(node);
	if (!text) {
		d->out->err = d->out->err ? d->out->err : ENOMEM;
		return;
	}
	if (!d->first)
		outfile_write(d->out, ",\n", 2);
	outfile_write(d->out, text, strlen(text));
	d->first = false;
	free(text);
}

static void path_id(char out[CASE_ID_MAX], const struct case_doc *d, int i)
{
	char name[32];

	snprintf(name, sizeof(name), "path/%d", i);
	case_id(out, &d->ns, "FileSystemObject", name);
}

/* The name, version and kind of the program: the same node in every run
 * of one version. */
static void tool_fields(cJSON *node, const cJSON *tool)
{
	cJSON_AddStringToObject(node, "uco-core:name", json_str(tool, "name"));
	cJSON_AddStringToObject(node, "uco-tool:version", json_str(tool, "version"));
	cJSON_AddStringToObject(node, "uco-tool:toolType", "Scanner");
}

static void write_tools(struct case_doc *d, const cJSON *tool)
{
	char tool_id[CASE_ID_MAX], config_id[CASE_ID_MAX], name[64];
	cJSON *t, *ct;

	snprintf(name, sizeof(name), "imgscan/%s", json_str(tool, "version"));
	case_id(tool_id, case_ns_fixed(), "Tool", name);
	case_id(config_id, &d->ns, "Configuration", "configuration");
	t = case_node(tool_id, "uco-tool:Tool");
	tool_fields(t, tool);
	case_str(t, "uco-core:description", "imgscan: batch disk-image scanner (hashes, partitions, file systems, "
		 "misnamed images)");
	write_node(d, t);
	ct = case_node(d->configured_id, "uco-tool:ConfiguredTool");
	tool_fields(ct, tool);
	case_ref(ct, "uco-configuration:isConfigurationOf", tool_id);
	case_ref(ct, "uco-configuration:usesConfiguration", config_id);
	write_node(d, ct);
}

/* b64: the exact bytes in base64 of a value that is not UTF-8, or NULL. */
static void add_entry(struct case_doc *d, cJSON *config, const char *item, const char *value, const char *b64)
{
	char id[CASE_ID_MAX], name[96];
	cJSON *e;

	snprintf(name, sizeof(name), "configuration/%s", item);
	case_id(id, &d->ns, "ConfigurationEntry", name);
	e = case_node(id, "uco-configuration:ConfigurationEntry");
	cJSON_AddStringToObject(e, "uco-configuration:itemName", item);
	cJSON_AddStringToObject(e, "uco-configuration:itemValue", value);
	if (b64) {
		char *about = case_join("not valid UTF-8 (shown with U+FFFD); the exact bytes in base64: ", b64);
		cJSON_AddStringToObject(e, "uco-configuration:itemDescription", about ? about : "");
		free(about);
	}
	case_add(config, "uco-configuration:configurationEntry", e);
}

/* An option's value as text: "32", "true", "xxh128,md5"; NULL for null
 * and objects. */
static char *option_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	if (cJSON_IsBool(v))
		return strdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v) || cJSON_IsArray(v)) {
		char *text = cJSON_PrintUnformatted(v), *out = text, *p;
		if (text && cJSON_IsArray(v)) { /* ["xxh128","md5"] -> xxh128,md5 */
			for (p = text; *p; p++)
				if (*p != '[' && *p != ']' && *p != '"')
					*out++ = *p;
			*out = '\0';
		}
		return text;
	}
	return NULL;
}

/* Provenance (SCHEMA.md, "tool" and "run"): "library:<name>" =
 * "<version> (<from>)" for each of tool.libraries, "kernel" = tool.kernel,
 * "io_uring" = "true"/"false" from run.io_uring.  A field that is absent,
 * or not of its type, gives no entry. */
static void add_provenance(struct case_doc *d, cJSON *config, const cJSON *tool, const cJSON *run)
{
	const cJSON *lib, *kernel = cJSON_GetObjectItemCaseSensitive(tool, "kernel"),
		*uring = cJSON_GetObjectItemCaseSensitive(run, "io_uring");
	char item[64], value[160];

	cJSON_ArrayForEach(lib, cJSON_GetObjectItemCaseSensitive(tool, "libraries")) {
		const char *version = json_str(lib, "version"), *from = json_str(lib, "from");
		if (!lib->string || !version[0])
			continue;
		snprintf(item, sizeof(item), "library:%s", lib->string);
		if (from[0])
			snprintf(value, sizeof(value), "%s (%s)", version, from);
		else
			snprintf(value, sizeof(value), "%s", version);
		add_entry(d, config, item, value, NULL);
	}
	if (cJSON_IsString(kernel))
		add_entry(d, config, "kernel", kernel->valuestring, NULL);
	if (cJSON_IsBool(uring))
		add_entry(d, config, "io_uring", cJSON_IsTrue(uring) ? "true" : "false", NULL);
}

/* argv, one entry per argument in order ("argv[0]", ...), the effective
 * options ("option:jobs", ...), then the provenance (add_provenance). */
static void write_configuration(struct case_doc *d, const cJSON *tool, const cJSON *run)
{
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(run, "argv"), *b64 = cJSON_GetObjectItemCaseSensitive(run,
		"argv_b64"), *v;
	char id[CASE_ID_MAX], item[64];
	cJSON *config;
	int i = 0;

	case_id(id, &d->ns, "Configuration", "configuration");
	config = case_node(id, "uco-configuration:Configuration");
	cJSON_ArrayForEach(v, argv) {
		const cJSON *exact = cJSON_GetArrayItem(b64, i);
		snprintf(item, sizeof(item), "argv[%d]", i++);
		/* argv_b64 holds every argument once one is not UTF-8: the
		 * repaired ones (with U+FFFD) get their exact bytes */
		bool repaired = cJSON_IsString(v) && strstr(v->valuestring, "\xEF\xBF\xBD");
		add_entry(d, config, item, cJSON_IsString(v) ? v->valuestring : "",
			  repaired && cJSON_IsString(exact) ? exact->valuestring : NULL);
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(run, "options")) {
		char *text = option_text(v);
		if (!text)
			continue;
		snprintf(item, sizeof(item), "option:%s", v->string);
		add_entry(d, config, item, text, NULL);
		free(text);
	}
	add_provenance(d, config, tool, run);
	write_node(d, config);
}

/* Each PATH of the command line: what the action examined. */
static void write_paths(struct case_doc *d, int npaths, char **paths)
{
	for (int i = 0; i < npaths; i++) {
		char id[CASE_ID_MAX], facet_id[CASE_ID_MAX], what[32];
		cJSON *tmp = cJSON_CreateObject(), *node, *f;
		path_id(id, d, i);
		snprintf(what, sizeof(what), "path/%d/facet", i);
		case_id(facet_id, &d->ns, "FileFacet", what);
		node = case_node(id, "uco-observable:FileSystemObject");
		case_str(node, "uco-core:description", "a PATH given to imgscan scan (a directory walked, or a file)");
		json_add_path(tmp, "path", paths[i]); /* valid UTF-8, and the exact bytes when not */
		if (json_str(tmp, "path_b64")[0])
			case_str2(node, "uco-core:description", "the path is not valid UTF-8: filePath shows each "
				  "invalid byte as U+FFFD; the exact bytes in base64: ", json_str(tmp, "path_b64"));
		f = case_node(facet_id, "uco-observable:FileFacet");
		cJSON_AddStringToObject(f, "uco-observable:filePath", json_str(tmp, "path"));
		case_add(node, "uco-core:hasFacet", f);
		cJSON_Delete(tmp);
		write_node(d, node);
	}
}

struct case_doc *case_open(struct outfile *out, const cJSON *tool, const cJSON *run, int npaths, char **paths)
{
	struct case_doc *d = calloc(1, sizeof(*d));
	const char *run_id = json_str(run, "id");

	if (!d)
		return NULL;
	d->out = out;
	d->first = true;
	d->npaths = npaths;
	case_ns_parse(&d->ns, run_id); /* the run's id is ours: always a UUID */
	snprintf(d->action_id, sizeof(d->action_id), "kb:InvestigativeAction-%s", run_id);
	case_id(d->configured_id, &d->ns, "ConfiguredTool", "configured-tool");
	outfile_write(out, context, strlen(context));
	write_tools(d, tool);
	write_configuration(d, tool, run);
	write_paths(d, npaths, paths);
	return d;
}

void case_write_image(struct case_doc *d, const cJSON *img)
{
	cJSON *nodes = case_image_nodes(&d->ns, d->action_id, img), *n;

	if (!nodes) {
		d->out->err = d->out->err ? d->out->err : ENOMEM;
		return;
	}
	while ((n = cJSON_DetachItemFromArray(nodes, 0)))
		write_node(d, n);
	cJSON_Delete(nodes);
}

/* "7 images, 2 misnamed, 1 with errors, 123 bytes hashed; exit status 2". */
static void summary_text(char *out, size_t len, const cJSON *s)
{
	const char *stopped = json_str(s, "stopped_by");

	snprintf(out, len, "%.0f images, %.0f misnamed, %.0f with errors, %.0f findings, %.0f bytes hashed; "
		 "exit status %.0f%s%s", case_get_num(s, "images"), case_get_num(s, "misnamed"),
		 case_get_num(s, "images_with_errors"), case_get_num(s, "findings"), case_get_num(s, "bytes_hashed"),
		 case_get_num(s, "exit_status"), stopped[0] ? "; stopped early: " : "", stopped);
}

void case_close(struct case_doc *d, const cJSON *run, const cJSON *summary)
{
	cJSON *a = case_node(d->action_id, "case-investigation:InvestigativeAction");
	bool partial = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(summary, "partial"));
	char text[600], id[CASE_ID_MAX];

	cJSON_AddStringToObject(a, "uco-core:name", "imgscan scan");
	snprintf(text, sizeof(text), "imgscan run %s on host %s", json_str(run, "id"), json_str(run, "host"));
	case_str(a, "uco-core:description", text);
	summary_text(text, sizeof(text), summary);
	case_str(a, "uco-core:description", text);
	case_typed(a, "uco-action:startTime", "xsd:dateTime", json_str(run, "start"));
	case_typed(a, "uco-action:endTime", "xsd:dateTime", json_str(run, "end"));
	case_typed(a, "uco-action:actionStatus", "uco-vocabulary:ActionStatusTypeVocab",
		   partial ? "Error" : "Complete/Finish");
	case_ref(a, "uco-action:instrument", d->configured_id);
	for (int i = 0; i < d->npaths; i++) {
		path_id(id, d, i);
		case_ref(a, "uco-action:object", id);
	}
	write_node(d, a);
	outfile_write(d->out, "\n]}\n", 4);
	free(d);
}
