/*
 * case_node.h - the bricks of the CASE/UCO export (report/CASE.md): node
 * identifiers and the few JSON-LD value shapes the writer uses.
 *
 * Every node gets an IRI, never a blank node (UCO 1.x requires it of every
 * UcoThing), of the form kb:<Class>-<UUID>.  The UUID is a version-5 UUID
 * (RFC 4122: SHA-1 of a namespace UUID and a name) with the run's id as the
 * namespace and a name saying what the node is ("image/12/hash/md5"), so
 * the same run always names the same node the same way and two runs never
 * share a name.
 */
#ifndef IMGSCAN_CASE_NODE_H
#define IMGSCAN_CASE_NODE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define CASE_ID_MAX 96 /* "kb:" + the longest class name + "-" + a UUID */

struct case_ns {
	unsigned char b[16]; /* a namespace UUID's 16 bytes */
};

/* The namespace of a UUID in text form.  Returns 0, or -EINVAL when text
 * is not a UUID (ns is then all zero, still usable). */
int case_ns_parse(struct case_ns *ns, const char *text);
/* The namespace of names that are the same in every run (the tool). */
const struct case_ns *case_ns_fixed(void);
/* out = "kb:<cls>-<uuid5(ns, name)>". */
void case_id(char out[CASE_ID_MAX], const struct case_ns *ns, const char *cls, const char *name);

/* {"@id": id, "@type": type}; NULL only when memory ran out. */
cJSON *case_node(const char *id, const char *type);
/* Append {"@id": id} to the array under key (made when missing). */
void case_ref(cJSON *node, const char *key, const char *id);
/* Append a node to the array under key (made when missing); takes it. */
void case_add(cJSON *node, const char *key, cJSON *child);
/* key: {"@type": type, "@value": value}: a typed literal. */
void case_typed(cJSON *node, const char *key, const char *type, const char *value);
/* key: an integer written as JSON digits (xsd:integer in JSON-LD), exact
 * for every integer-valued double (cJSON would print 1e+15 for some,
 * which JSON-LD reads as xsd:double). */
void case_int(cJSON *node, const char *key, double v);
/* Append a string to the array under key (made when missing). */
void case_str(cJSON *node, const char *key, const char *text);
/* head followed by tail, malloc'd, of any length (paths in base64 do not
 * fit a fixed buffer); NULL when memory ran out. */
char *case_join(const char *head, const char *tail);
/* case_str of case_join(head, tail). */
void case_str2(cJSON *node, const char *key, const char *head, const char *tail);

/* A number field of an image object (image_json.c), 0 when absent; its
 * strings are tally.h's json_str(). */
double case_get_num(const cJSON *o, const char *key);

#endif
