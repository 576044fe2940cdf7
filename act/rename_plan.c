/*
 * rename_plan.c - the renames a report asks for (see rename_plan.h).
 */
#include "rename_plan.h"
#include "rename_json.h"
#include "../report/image_json.h"
#include "../verify/report_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const rename_codes[] = {
	"ISO_MISNAMED", "ISOHYBRID_MISNAMED", "RAWCD_MISNAMED", "RAWCD_NAMED_ISO", "DISK_NAMED_OPTICAL",
	"CONTAINER_MISNAMED", "COMPRESSED_MISNAMED", "ARCHIVE_MISNAMED", "EXTENSION_MISMATCH", "NOT_AN_IMAGE",
	NULL,
};

bool rename_code_known(const char *code)
{
	for (int i = 0; rename_codes[i]; i++)
		if (!strcmp(code, rename_codes[i]))
			return true;
	return false;
}

bool plain_file_name(const char *name)
{
	return name && name[0] && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/');
}

struct plan_ctx {
	struct rename_plan *p;
	char *const *only;
	size_t nonly;
};

static bool wanted(const struct plan_ctx *c, const char *code)
{
	if (!c->only)
		return true;
	for (size_t i = 0; i < c->nonly; i++)
		if (!strcmp(code, c->only[i]))
			return true;
	return false;
}

/* The first finding that suggests a name and that --only lets through. */
static const cJSON *suggesting_finding(const struct plan_ctx *c, const cJSON *img)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(img, "findings")) {
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "code"));
		if (code && cJSON_GetObjectItemCaseSensitive(f, "suggested_name") && wanted(c, code))
			return f;
	}
	return NULL;
}

/* What the report alone says against renaming it. */
static const char *refusal(const struct listed_image *li, const cJSON *img, const struct plan_item *it)
{
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(img, "status"));

	if (li->is_blockdev)
		return "a block device: never renamed";
	if (li->is_media)
		return "a segment set (kind media): its segments keep their acquisition tool's names";
	if (!status || strcmp(status, "ok"))
		return "the scan had errors reading it: its identification is not trusted for a rename";
	if (!plain_file_name(it->new_name))
		return "the suggested name is not a plain file name";
	if (!it->stamp.known)
		return "the report does not record its device and inode (made by an earlier imgscan): scan again";
	return NULL;
}

static char *absolute(const char *cwd, const char *path)
{
	char *out;

	if (path[0] == '/' || !cwd)
		return strdup(path);
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

static int add_item(void *ctx, const cJSON *img, size_t n, char *err, size_t errlen)
{
	struct plan_ctx *c = ctx;
	struct rename_plan *p = c->p;
	const cJSON *f = suggesting_finding(c, img);
	struct listed_image li;
	struct plan_item it = {0};

	(void)n;
	p->images++;
	if (!f)
		return 0;
	if (listed_from_json(img, &li, err, errlen))
		return -1;
	it.path = li.path;
	it.new_name = json_bytes(f, "suggested_name");
	snprintf(it.code, sizeof(it.code), "%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "code")));
	snprintf(it.xxh128, sizeof(it.xxh128), "%s", li.xxh128);
	it.stamp.size = li.size;
	it.stamp.known = json_exact_u64(img, "device", &it.stamp.dev) && json_exact_u64(img, "inode", &it.stamp.ino) &&
			 !parse_utc(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(img, "mtime")), &it.stamp.mtime);
	it.refused = refusal(&li, img, &it);
	li.path = NULL;
	listed_free(&li);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct plan_item *grown = realloc(p->items, cap * sizeof(*grown));
		if (!grown)
			return report_fail(err, errlen, "out of memory");
		p->items = grown;
		p->cap = cap;
	}
	p->items[p->n++] = it;
	return 0;
}

/* run.cwd, run.roots and run.options.evidence: known only once the report
 * is read (a JSON document has its run after its images). */
static int read_run(const cJSON *run, struct rename_plan *p, char *err, size_t errlen)
{
	const cJSON *roots = cJSON_GetObjectItemCaseSensitive(run, "roots");
	int n = cJSON_GetArraySize(roots);

	p->evidence = cJSON_IsTrue(json_at(run, "options", "evidence"));
	p->cwd = json_bytes(run, "cwd");
	if (!p->cwd || !cJSON_IsArray(roots) || n == 0)
		return report_fail(err, errlen, "the report does not record the scan's working directory and roots "
				   "(run.cwd, run.roots: made by an earlier imgscan, or merged from shards that "
				   "differ in them): rename cannot tell where it may act; scan again");
	p->roots = calloc((size_t)n, sizeof(*p->roots));
	for (int i = 0; p->roots && i < n; i++)
		if ((p->roots[p->nroots] = json_bytes_at(run, "roots", i)))
			p->nroots++;
	if (!p->roots || p->nroots != (size_t)n)
		return report_fail(err, errlen, "run.roots: not a list of paths");
	for (size_t i = 0; i < p->n; i++)
		if (!(p->items[i].abs = absolute(p->cwd, p->items[i].path)))
			return report_fail(err, errlen, "out of memory");
	return 0;
}

int plan_load(const char *report, char *const *only, size_t nonly, struct rename_plan *p, char *err,
	      size_t errlen)
{
	struct plan_ctx c = {.p = p, .only = only, .nonly = nonly};
	struct report_visitor v = {.image = add_item, .ctx = &c};
	struct report_head head = {0};
	int rc;

	memset(p, 0, sizeof(*p));
	if (report_visit(report, &head, &v, err, errlen))
		return -1;
	rc = read_run(head.run, p, err, errlen);
	report_head_free(&head);
	return rc;
}

void plan_free(struct rename_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].path);
		free(p->items[i].abs);
		free(p->items[i].new_name);
	}
	for (size_t i = 0; i < p->nroots; i++)
		free(p->roots[i]);
	free(p->roots);
	free(p->items);
	free(p->cwd);
	memset(p, 0, sizeof(*p));
}
