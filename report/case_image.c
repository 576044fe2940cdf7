/*
 * case_image.c - an image object as CASE/UCO nodes (see case_image.h; the
 * mapping table is report/CASE.md).  It reads only the image object, so a
 * result taken from the --state catalog maps the same way as a fresh one.
 */
#include "case_image.h"
#include "tally.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CASE_MAX_PARTS 128 /* as many as the report can list */
#define CASE_MAX_FS 32

/* One image's nodes in the making. */
struct image_ctx {
	const struct case_ns *ns;
	const cJSON *img;
	char prefix[48];            /* "image/<index>" */
	char file_id[CASE_ID_MAX];
	cJSON *nodes;
	/* partitions, for placing file systems inside them */
	int nparts;
	double part_start[CASE_MAX_PARTS], part_len[CASE_MAX_PARTS];
	char part_id[CASE_MAX_PARTS][CASE_ID_MAX];
};

static void sub_id(char out[CASE_ID_MAX], const struct image_ctx *c, const char *cls, const char *what)
{
	char name[128];

	snprintf(name, sizeof(name), "%s/%s", c->prefix, what);
	case_id(out, c->ns, cls, name);
}

/* A facet node with its own IRI, attached to node under uco-core:hasFacet. */
static cJSON *add_facet(const struct image_ctx *c, cJSON *node, const char *type, const char *what)
{
	char id[CASE_ID_MAX];
	cJSON *f;

	sub_id(id, c, type + strlen("uco-observable:"), what);
	f = case_node(id, type);
	case_add(node, "uco-core:hasFacet", f);
	return f;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Media (a segment set, kind "media") is one File at its first segment:
 * the FileFacet is that file's (its size), the ContentDataFacet the
 * media's (the image's size and digests).  NULL for an image of one file. */
static const cJSON *first_segment(const cJSON *img)
{
	const cJSON *media = cJSON_GetObjectItemCaseSensitive(img, "media");

	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(media, "segments"), 0);
}

static void file_facet(const struct image_ctx *c, cJSON *file)
{
	const char *path = json_str(c->img, "path"), *ext = json_str(c->img, "extension");
	const char *mtime = json_str(c->img, "mtime");
	const cJSON *first = first_segment(c->img);
	cJSON *f = add_facet(c, file, "uco-observable:FileFacet", "file-facet");

	cJSON_AddStringToObject(f, "uco-observable:fileName", basename_of(path));
	cJSON_AddStringToObject(f, "uco-observable:filePath", path);
	if (ext[0])
		cJSON_AddStringToObject(f, "uco-observable:extension", ext);
	case_int(f, "uco-observable:sizeInBytes", case_get_num(first ? first : c->img, "size"));
	if (mtime[0])
		case_typed(f, "uco-observable:modifiedTime", "xsd:dateTime", mtime);
}

/* CASE's names for the digests it knows (HashNameVocab); XXH128 is not
 * one of them, so it goes as a plain string, which UCO allows. */
static const struct {
	const char *key, *method;
	bool in_vocab;
} hash_methods[] = {
	{"md5", "MD5", true}, {"sha1", "SHA1", true}, {"sha256", "SHA256", true}, {"xxh128", "XXH128", false},
};

static void content_facet(const struct image_ctx *c, cJSON *file)
{
	const cJSON *hashes = cJSON_GetObjectItemCaseSensitive(c->img, "hashes");
	cJSON *f;

	if (!cJSON_IsObject(hashes))
		return; /* not read to the end: no digests */
	f = add_facet(c, file, "uco-observable:ContentDataFacet", "content-facet");
	case_int(f, "uco-observable:sizeInBytes", case_get_num(c->img, "size"));
	for (size_t i = 0; i < sizeof(hash_methods) / sizeof(hash_methods[0]); i++) {
		const char *value = json_str(hashes, hash_methods[i].key);
		char id[CASE_ID_MAX], what[32];
		cJSON *h;
		if (!value[0])
			continue;
		snprintf(what, sizeof(what), "hash/%s", hash_methods[i].key);
		sub_id(id, c, "Hash", what);
		h = case_node(id, "uco-types:Hash");
		if (hash_methods[i].in_vocab)
			case_typed(h, "uco-types:hashMethod", "uco-vocabulary:HashNameVocab", hash_methods[i].method);
		else
			cJSON_AddStringToObject(h, "uco-types:hashMethod", hash_methods[i].method);
		case_typed(h, "uco-types:hashValue", "xsd:hexBinary", value);
		case_add(f, "uco-observable:hash", h);
	}
}

/* Media: what the File stands for, and one description per segment (RDF
 * keeps no order: the number is in the text). */
static void media_descriptions(const struct image_ctx *c, cJSON *file)
{
	const cJSON *media = cJSON_GetObjectItemCaseSensitive(c->img, "media");
	const cJSON *segs = cJSON_GetObjectItemCaseSensitive(media, "segments"), *s;
	char text[200];
	int i = 0;

	if (!media)
		return;
	snprintf(text, sizeof(text),
		 "evidence media of %d segment files (%.20s), this File being the first: its ContentDataFacet holds the media's size and digests",
		 cJSON_GetArraySize(segs), json_str(media, "scheme"));
	case_str(file, "uco-core:description", text);
	cJSON_ArrayForEach(s, segs) {
		const char *xxh = json_str(s, "xxh128");
		snprintf(text, sizeof(text), "segment %d, %.0f bytes%s%s: ", ++i, case_get_num(s, "size"),
			 xxh[0] ? ", XXH128 " : "", xxh);
		case_str2(file, "uco-core:description", text, json_str(s, "path"));
	}
}

/* What the report says of the file that no facet holds. */
static void file_descriptions(const struct image_ctx *c, cJSON *file)
{
	const char *kind = json_str(c->img, "kind"), *detail = json_str(c->img, "detail");
	char text[1200];

	snprintf(text, sizeof(text), "imgscan: %s%s%s%s", kind, detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
	case_str(file, "uco-core:description", text);
	media_descriptions(c, file);
	if (!strcmp(json_str(c->img, "file_type"), "block-device"))
		case_str(file, "uco-core:description", "a block device named on the command line");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->img, "path_lossy")))
		case_str2(file, "uco-core:description", "the path is not valid UTF-8: fileName and filePath show each "
			  "invalid byte as U+FFFD; the exact bytes in base64: ", json_str(c->img, "path_b64"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->img, "reused"))) {
		snprintf(text, sizeof(text), "not read in this run: measured at %s by an earlier run (--state catalog)",
			 json_str(c->img, "measured_at"));
		case_str(file, "uco-core:description", text);
	}
	if (strcmp(json_str(c->img, "status"), "ok"))
		case_str(file, "uco-core:tag", "error");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->img, "misnamed")))
		case_str(file, "uco-core:tag", "misnamed");
}

static void add_file(struct image_ctx *c)
{
	cJSON *file = case_node(c->file_id, "uco-observable:File");

	file_descriptions(c, file);
	file_facet(c, file);
	content_facet(c, file);
	cJSON_AddItemToArray(c->nodes, file);
}

/* source Contained_Within target; with a DataRangeFacet when size > 0. */
static void contained_within(struct image_ctx *c, const char *what, const char *source, const char *target,
			     double offset, double size)
{
	char id[CASE_ID_MAX];
	cJSON *rel;

	sub_id(id, c, "ObservableRelationship", what);
	rel = case_node(id, "uco-observable:ObservableRelationship");
	case_ref(rel, "uco-core:source", source);
	case_ref(rel, "uco-core:target", target);
	case_typed(rel, "uco-core:kindOfRelationship", "uco-vocabulary:ObservableObjectRelationshipVocab",
		   "Contained_Within");
	cJSON_AddTrueToObject(rel, "uco-core:isDirectional");
	if (size > 0) {
		char range_what[64];
		snprintf(range_what, sizeof(range_what), "%s/range", what);
		cJSON *range = add_facet(c, rel, "uco-observable:DataRangeFacet", range_what);
		case_int(range, "uco-observable:rangeOffset", offset);
		case_int(range, "uco-observable:rangeSize", size);
	}
	cJSON_AddItemToArray(c->nodes, rel);
}

/* One partition: a DiskPartition observable in the image. */
static void add_partition(struct image_ctx *c, const char *number, double start, double length, const char *type,
			  const char *name, const char *description)
{
	char what[48], id[CASE_ID_MAX];
	cJSON *part, *f;

	if (c->nparts >= CASE_MAX_PARTS)
		return;
	snprintf(what, sizeof(what), "partition/%d", c->nparts);
	sub_id(id, c, "DiskPartition", what);
	part = case_node(id, "uco-observable:DiskPartition");
	if (name[0])
		cJSON_AddStringToObject(part, "uco-core:name", name);
	case_str(part, "uco-core:description", description);
	f = add_facet(c, part, "uco-observable:DiskPartitionFacet", strcat(what, "/facet"));
	cJSON_AddStringToObject(f, "uco-observable:partitionID", number);
	case_int(f, "uco-observable:partitionOffset", start);
	case_int(f, "uco-observable:partitionLength", length);
	if (type[0])
		cJSON_AddStringToObject(f, "uco-observable:diskPartitionType", type);
	cJSON_AddItemToArray(c->nodes, part);
	snprintf(what, sizeof(what), "partition/%d/in", c->nparts);
	contained_within(c, what, id, c->file_id, 0, 0);
	c->part_start[c->nparts] = start;
	c->part_len[c->nparts] = length;
	memcpy(c->part_id[c->nparts], id, CASE_ID_MAX);
	c->nparts++;
}

/* Our own partition table first; The Sleuth Kit's allocated partitions
 * only when our probes found no table (BSD labels, Mac, Sun). */
static void add_partitions(struct image_ctx *c, const cJSON *ident)
{
	const cJSON *pt = cJSON_GetObjectItemCaseSensitive(ident, "partition_table"), *p;
	const cJSON *tsk = cJSON_GetObjectItemCaseSensitive(ident, "tsk");
	const cJSON *vs = cJSON_GetObjectItemCaseSensitive(tsk, "volume_system");
	char number[24], text[160];

	if (cJSON_IsObject(pt)) {
		const char *scheme = json_str(pt, "scheme");
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(pt, "partitions")) {
			snprintf(number, sizeof(number), "%.0f", case_get_num(p, "number"));
			snprintf(text, sizeof(text), "%s partition %s%s (imgscan's partition-table probe)", scheme,
				 number, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "bootable")) ? ", bootable" : "");
			add_partition(c, number, case_get_num(p, "start"), case_get_num(p, "length"),
				      json_str(p, "type"), json_str(p, "name"), text);
		}
		return;
	}
	if (!cJSON_IsObject(vs))
		return;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(vs, "partitions")) {
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "allocated")))
			continue;
		snprintf(number, sizeof(number), "%.0f", case_get_num(p, "address"));
		snprintf(text, sizeof(text), "%s partition, slot %s (The Sleuth Kit)", json_str(vs, "type"), number);
		add_partition(c, number, case_get_num(p, "start"), case_get_num(p, "length"),
			      json_str(p, "description"), "", text);
	}
}

/* The partition holding a byte offset of the image, or -1. */
static int partition_at(const struct image_ctx *c, double offset)
{
	for (int i = 0; i < c->nparts; i++)
		if (offset >= c->part_start[i] && offset < c->part_start[i] + c->part_len[i])
			return i;
	return -1;
}

/* One file system: a FileSystem observable in its partition, or in the
 * image when no partition holds its offset. */
static void add_fs(struct image_ctx *c, int k, const cJSON *hit, const char *type, const char *source)
{
	double offset = case_get_num(hit, "offset"), size = case_get_num(hit, "size");
	double block = case_get_num(hit, "block_size");
	int part = partition_at(c, offset);
	const char *label = json_str(hit, "label"), *uuid = json_str(hit, "uuid");
	char what[48], id[CASE_ID_MAX], text[600];
	cJSON *fs, *f;

	snprintf(what, sizeof(what), "fs/%d", k);
	sub_id(id, c, "FileSystem", what);
	fs = case_node(id, "uco-observable:FileSystem");
	if (label[0])
		cJSON_AddStringToObject(fs, "uco-core:name", label);
	snprintf(text, sizeof(text), "%s at byte %.0f of the image (%s)%s%s", type, offset, source,
		 uuid[0] ? "; uuid " : "", uuid);
	case_str(fs, "uco-core:description", text);
	f = add_facet(c, fs, "uco-observable:FileSystemFacet", strcat(what, "/facet"));
	cJSON_AddStringToObject(f, "uco-observable:fileSystemType", type);
	if (block > 0)
		case_int(f, "uco-observable:clusterSize", block);
	cJSON_AddItemToArray(c->nodes, fs);
	snprintf(what, sizeof(what), "fs/%d/in", k);
	if (part >= 0)
		contained_within(c, what, id, c->part_id[part], offset - c->part_start[part], size);
	else
		contained_within(c, what, id, c->file_id, offset, size);
}

/* Probe names that are file systems: class "filesystem" but swap (no
 * files), and the optical ones but El Torito (a boot catalog). */
static bool is_fs_hit(const cJSON *hit)
{
	const char *cls = json_str(hit, "class"), *name = json_str(hit, "name");

	if (!strcmp(cls, "filesystem"))
		return strcmp(name, "swap") != 0;
	return !strcmp(cls, "optical") && strcmp(name, "el-torito") != 0;
}

static bool probe_fs_at(const cJSON *probes, double offset)
{
	const cJSON *hit;

	cJSON_ArrayForEach(hit, probes)
		if (is_fs_hit(hit) && case_get_num(hit, "offset") == offset)
			return true;
	return false;
}

/* Our probes' file systems, then those only The Sleuth Kit found (at an
 * offset where no probe of ours saw one). */
static void add_filesystems(struct image_ctx *c, const cJSON *ident)
{
	const cJSON *probes = cJSON_GetObjectItemCaseSensitive(ident, "probes"), *hit;
	const cJSON *tsk = cJSON_GetObjectItemCaseSensitive(ident, "tsk");
	int k = 0;

	cJSON_ArrayForEach(hit, probes)
		if (is_fs_hit(hit) && k < CASE_MAX_FS)
			add_fs(c, k++, hit, json_str(hit, "name"), "imgscan's probe");
	cJSON_ArrayForEach(hit, cJSON_GetObjectItemCaseSensitive(tsk, "filesystems"))
		if (!probe_fs_at(probes, case_get_num(hit, "offset")) && k < CASE_MAX_FS)
			add_fs(c, k++, hit, json_str(hit, "type"), "The Sleuth Kit");
}

/* A finding or an error: an Annotation on the File. */
static cJSON *annotation(struct image_ctx *c, const char *what, const char *statement)
{
	char id[CASE_ID_MAX];
	cJSON *a;

	sub_id(id, c, "Annotation", what);
	a = case_node(id, "uco-core:Annotation");
	case_ref(a, "uco-core:object", c->file_id);
	cJSON_AddStringToObject(a, "uco-core:statement", statement);
	cJSON_AddItemToArray(c->nodes, a);
	return a;
}

static void add_annotations(struct image_ctx *c)
{
	const cJSON *e;
	char what[32], text[1400];
	int k = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->img, "findings")) {
		const char *suggested = json_str(e, "suggested_name");
		snprintf(what, sizeof(what), "finding/%d", k++);
		cJSON *a = annotation(c, what, json_str(e, "message"));
		case_str(a, "uco-core:tag", json_str(e, "code"));
		snprintf(text, sizeof(text), "severity:%s", json_str(e, "severity"));
		case_str(a, "uco-core:tag", text);
		if (suggested[0])
			case_str2(a, "uco-core:description", "suggested name: ", suggested);
	}
	k = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->img, "errors")) {
		const char *err = json_str(e, "errno");
		snprintf(what, sizeof(what), "error/%d", k++);
		snprintf(text, sizeof(text), "%s error%s%s: %s", json_str(e, "stage"), err[0] ? " " : "", err,
			 json_str(e, "message"));
		cJSON *a = annotation(c, what, text);
		case_str(a, "uco-core:tag", "error");
	}
}

cJSON *case_image_nodes(const struct case_ns *ns, const char *action_id, const cJSON *img)
{
	const cJSON *ident = cJSON_GetObjectItemCaseSensitive(img, "identification");
	struct image_ctx *c = calloc(1, sizeof(*c)); /* 14 KiB of partition slots */
	cJSON *link, *nodes;

	if (!c || !(c->nodes = cJSON_CreateArray())) {
		free(c);
		return NULL;
	}
	c->ns = ns;
	c->img = img;
	snprintf(c->prefix, sizeof(c->prefix), "image/%.0f", case_get_num(img, "index"));
	case_id(c->file_id, ns, "File", c->prefix);
	add_file(c);
	add_partitions(c, ident);
	add_filesystems(c, ident);
	add_annotations(c);
	/* The action is written last; this node adds one result to it
	 * (JSON-LD merges nodes that share an @id), so the action never
	 * holds a list as long as the archive. */
	link = case_node(action_id, NULL);
	case_ref(link, "uco-action:result", c->file_id);
	cJSON_AddItemToArray(c->nodes, link);
	nodes = c->nodes;
	free(c);
	return nodes;
}
