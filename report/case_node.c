/*
 * case_node.c - identifiers and value shapes of the CASE export (see
 * case_node.h).
 */
#include "case_node.h"
#include "tally.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int case_ns_parse(struct case_ns *ns, const char *text)
{
	int n = 0;

	memset(ns, 0, sizeof(*ns));
	for (const char *p = text; *p && n < 32; p++) {
		if (*p == '-')
			continue;
		if (hexval(*p) < 0)
			break;
		ns->b[n / 2] |= (unsigned char)(hexval(*p) << (n % 2 ? 0 : 4));
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

const struct case_ns *case_ns_fixed(void)
{
	/* A random UUID chosen once for imgscan: the namespace of the tool's
	 * node, which is the same node in every run of one version. */
	static const struct case_ns fixed = {{0x6b, 0x1d, 0x2f, 0x0e, 0x9c, 0x4a, 0x4f, 0x51,
					      0x8a, 0x3e, 0x52, 0x7c, 0x0d, 0x91, 0x66, 0x2b}};
	return &fixed;
}

/* RFC 4122 section 4.3: SHA-1 over the namespace bytes and the name, the
 * first 16 bytes, version 5, variant 10.  SHA-1's weakness does not
 * matter here: these are names, not proofs. */
static void uuid5(char out[37], const struct case_ns *ns, const char *name)
{
	unsigned char buf[16 + 256], md[EVP_MAX_MD_SIZE];
	size_t n = strlen(name);
	unsigned mdlen = 0;

	if (n > sizeof(buf) - 16)
		n = sizeof(buf) - 16; /* our names are short: never cut */
	memcpy(buf, ns->b, 16);
	memcpy(buf + 16, name, n);
	if (!EVP_Digest(buf, 16 + n, md, &mdlen, EVP_sha1(), NULL) || mdlen < 16)
		memset(md, 0, 16);
	md[6] = (md[6] & 0x0F) | 0x50;
	md[8] = (md[8] & 0x3F) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0], md[1],
		 md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13], md[14], md[15]);
}

void case_id(char out[CASE_ID_MAX], const struct case_ns *ns, const char *cls, const char *name)
{
	char u[37];

	uuid5(u, ns, name);
	snprintf(out, CASE_ID_MAX, "kb:%s-%s", cls, u);
}

cJSON *case_node(const char *id, const char *type)
{
	cJSON *n = cJSON_CreateObject();

	cJSON_AddStringToObject(n, "@id", id);
	if (type)
		cJSON_AddStringToObject(n, "@type", type);
	return n;
}

static cJSON *array_of(cJSON *node, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(node, key);

	return cJSON_IsArray(a) ? a : cJSON_AddArrayToObject(node, key);
}

void case_add(cJSON *node, const char *key, cJSON *child)
{
	cJSON *a = array_of(node, key);

	if (!a || !cJSON_AddItemToArray(a, child))
		cJSON_Delete(child);
}

void case_ref(cJSON *node, const char *key, const char *id)
{
	case_add(node, key, case_node(id, NULL));
}

void case_str(cJSON *node, const char *key, const char *text)
{
	case_add(node, key, cJSON_CreateString(text));
}

char *case_join(const char *head, const char *tail)
{
	size_t a = strlen(head), b = strlen(tail);
	char *text = malloc(a + b + 1);

	if (text) {
		memcpy(text, head, a);
		memcpy(text + a, tail, b + 1);
	}
	return text;
}

void case_str2(cJSON *node, const char *key, const char *head, const char *tail)
{
	char *text = case_join(head, tail);

	if (text)
		case_str(node, key, text);
	free(text);
}

void case_typed(cJSON *node, const char *key, const char *type, const char *value)
{
	cJSON *v = cJSON_AddObjectToObject(node, key);

	cJSON_AddStringToObject(v, "@type", type);
	cJSON_AddStringToObject(v, "@value", value);
}

void case_int(cJSON *node, const char *key, double v)
{
	char digits[32];

	snprintf(digits, sizeof(digits), "%.0f", v >= 0 ? v : 0);
	cJSON_AddRawToObject(node, key, digits);
}

double case_get_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}
