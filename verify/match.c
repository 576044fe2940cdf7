/*
 * match.c - verify's side of the pipeline: what to walk, which walked files
 * to read (admit hook), and what each result or skipped entry means for
 * the report's images (sink).  A listed path is read as an image whatever
 * its extension; a file under a PATH that the report does not list is read
 * as scan would (probed when its extension is unknown) and is new if it is
 * an image; anything else the walk meets is not read.  Paths are compared
 * as text, exactly as the report holds them.
 */
#include "verify_run.h"
#include "../report/image_json.h"
#include "../report/tally.h"
#include "../scanner/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The length of p without trailing slashes ("/" stays "/"). */
static size_t trimmed_len(const char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	return n;
}

static bool within(const char *path, const char *dir)
{
	return walk_path_within(path, strlen(path), dir);
}

static bool under_paths(const struct verify_run *vr, const char *path)
{
	for (int i = 0; i < vr->nunder; i++)
		if (within(path, vr->under[i]))
			return true;
	return false;
}

/* PATH i is walked by another PATH already: inside it, or the same PATH
 * given earlier. */
static bool covered(const struct verify_run *vr, char **trimmed, int i)
{
	for (int j = 0; j < vr->vo->npaths; j++) {
		if (j == i || !within(trimmed[i], trimmed[j]))
			continue;
		if (strcmp(trimmed[i], trimmed[j]) || j < i)
			return true;
	}
	return false;
}

/* path is one of the PATHs itself (so the walk meets it as a root). */
static bool is_a_path(const struct verify_run *vr, const char *path)
{
	size_t n = trimmed_len(path);

	for (int i = 0; i < vr->nunder; i++)
		if (strlen(vr->under[i]) == n && !strncmp(vr->under[i], path, n))
			return true;
	return false;
}

static void add_root(struct verify_run *vr, char *path)
{
	vr->roots[vr->nroots++] = path;
}

/* The report is a shard's: note which. */
static void note_shard(struct verify_run *vr)
{
	const cJSON *shard = json_at(vr->report.head.run, "shard", NULL);
	const cJSON *roots = json_at(shard, "roots", NULL);

	if (!cJSON_IsArray(roots) || json_at(shard, "roots_b64", NULL)) /* roots not UTF-8: not matched */
		return;
	vr->shard_roots = roots;
	vr->shard_index = (unsigned)json_u64(shard, "index");
	vr->shard_count = (unsigned)json_u64(shard, "count");
	vr->shard_by_size = !strcmp(json_str(shard, "by"), "size");
	if (!vr->shard_count || vr->shard_index >= vr->shard_count)
		vr->shard_roots = NULL;
}

/* A shard's report does not list what other shards take. */
static bool other_shards(const struct verify_run *vr, const char *path)
{
	const cJSON *root;

	if (!vr->shard_roots)
		return false;
	if (vr->shard_by_size)
		return true;
	cJSON_ArrayForEach(root, vr->shard_roots)
		if (cJSON_IsString(root) && within(path, root->valuestring))
			return shard_by_path(shard_relpath(path, root->valuestring), vr->shard_count) != vr->shard_index;
	return false;
}

int match_prepare(struct verify_run *vr)
{
	const struct verify_options *vo = vr->vo;
	size_t nlisted = vr->items.nlisted;

	note_shard(vr);
	vr->under = calloc((size_t)vo->npaths + 1, sizeof(char *));
	vr->roots = calloc((size_t)vo->npaths + nlisted + 1, sizeof(char *));
	if (!vr->under || !vr->roots)
		return -ENOMEM;
	for (int i = 0; i < vo->npaths; i++)
		if (!(vr->under[i] = strndup(vo->paths[i], trimmed_len(vo->paths[i]))))
			return -ENOMEM;
	vr->nunder = vo->npaths;
	for (int i = 0; i < vo->npaths; i++)
		if (!covered(vr, vr->under, i))
			add_root(vr, vo->paths[i]);
	for (size_t i = 0; i < nlisted; i++) {
		const struct listed_image *li = vr->items.v[i].listed;
		/* Once per path (duplicates chain behind the first); a block
		 * device inside a PATH is met there as a special file, never
		 * opened: it is given as a root of its own. */
		if (items_find(&vr->items, li->path) != &vr->items.v[i])
			continue;
		if (!under_paths(vr, li->path) || (li->is_blockdev && !is_a_path(vr, li->path)))
			add_root(vr, li->path);
	}
	return 0;
}

void match_free(struct verify_run *vr)
{
	for (int i = 0; vr->under && i < vr->nunder; i++)
		free(vr->under[i]);
	free(vr->under);
	free(vr->roots);
	for (size_t i = 0; i < vr->nfailures; i++)
		free(vr->failures[i].path);
	free(vr->failures);
	cJSON_Delete(vr->walk_errors);
	vr->under = vr->roots = NULL;
	vr->nunder = vr->nroots = 0;
	vr->failures = NULL;
	vr->walk_errors = NULL;
}

/* ---- the admit hook: from the reader thread, once per walked file ---- */

/* Every listed item with it's path (the chain from first). */
#define for_each_listed(vr, first, it) \
	for (struct item *it = (first); it; it = it->next == NO_ITEM ? NULL : &(vr)->items.v[it->next])

/* A listed path given to the walk as a root is stat'ed through a symlink,
 * as any command-line argument is; chain of custody needs the very file the
 * report describes: not a link put in its place (unless the scan followed
 * links), and a file or a block device as it was.  NULL when it is. */
static const char *not_the_listed_kind(const struct verify_run *vr, const struct item *first, const struct walk_entry *e)
{
	struct stat lst;

	if (e->followed && !vr->vo->scan.follow_symlinks && lstat(e->path, &lst) == 0 && S_ISLNK(lst.st_mode))
		return "a symbolic link now (--follow-symlinks follows it)";
	if (first->listed->is_blockdev != (e->type == WALK_BLOCKDEV))
		return first->listed->is_blockdev ? "not a block device now" : "a block device now";
	return NULL;
}

static enum admit_verdict decide(void *ctx, const struct walk_entry *e, uint64_t index, bool would_probe)
{
	struct verify_run *vr = ctx;
	enum admit_verdict v;
	struct item *first;
	const char *why;

	(void)index;
	(void)would_probe;
	pthread_mutex_lock(&vr->lock);
	first = items_find(&vr->items, e->path);
	if (first && first->seen) {
		v = ADMIT_DONE_OTHER; /* met already: no second entry */
	} else if (first && (why = not_the_listed_kind(vr, first, e))) {
		for_each_listed(vr, first, it) {
			item_fail(it, "walk", 0, "%s: not read", why);
			it->seen = true;
		}
		v = ADMIT_DONE_OTHER;
	} else if (first) {
		for_each_listed(vr, first, it)
			it->seen = true;
		v = ADMIT_READ_AS_IMAGE; /* listed: an image, whatever its extension */
	} else {
		v = under_paths(vr, e->path) && !other_shards(vr, e->path) ? ADMIT_READ : ADMIT_DONE_OTHER;
	}
	pthread_mutex_unlock(&vr->lock);
	return v;
}

struct admit_hook match_admit_hook(struct verify_run *vr)
{
	return (struct admit_hook){vr, decide};
}

/* ---- the sink: results from any thread, skipped entries from the reader ---- */

static void on_image(void *ctx, const struct image_result *r)
{
	struct verify_run *vr = ctx;
	struct item *first, *it;
	const struct scan_error *e0 = r->nerrors ? &r->errors[0] : NULL;

	pthread_mutex_lock(&vr->lock);
	first = items_find(&vr->items, r->path);
	if (first && first->status == ITEM_PENDING) {
		for_each_listed(vr, first, each)
			item_record(each, r);
		vr->listed_done++;
	} else if (!first && under_paths(vr, r->path)) {
		/* A new file that vanished before it was opened is not there. */
		bool vanished = e0 && !strcmp(e0->stage, "open") && (e0->err == ENOENT || e0->err == ENOTDIR);
		if (!vanished && (it = items_add_new(&vr->items, r->path, r->index)))
			item_record(it, r);
		else if (!vanished)
			vr->out_of_memory = true;
	}
	pthread_mutex_unlock(&vr->lock);
}

static const char *special_name(mode_t m)
{
	return S_ISFIFO(m) ? "FIFO" : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "character device"
		: S_ISBLK(m) ? "block device" : "special file";
}

/* A walk error about no listed path: kept, for the output and for the
 * listed images below it that the walk could not reach. */
static void keep_walk_error_locked(struct verify_run *vr, const struct skipped_entry *s)
{
	struct walk_failure *grown;

	vr->nwalk_errors++;
	if (cJSON_GetArraySize(vr->walk_errors) < VERIFY_MAX_WALK_ERRORS_KEPT)
		cJSON_AddItemToArray(vr->walk_errors, skipped_to_json(s));
	if (vr->nfailures == vr->failures_cap) {
		size_t want = vr->failures_cap ? 2 * vr->failures_cap : 16;
		if (!(grown = realloc(vr->failures, want * sizeof(*grown)))) {
			vr->out_of_memory = true;
			return;
		}
		vr->failures = grown;
		vr->failures_cap = want;
	}
	vr->failures[vr->nfailures] = (struct walk_failure){strdup(s->path), s->err, s->message ? s->message : "walk"};
	if (!vr->failures[vr->nfailures].path) {
		vr->out_of_memory = true;
		return;
	}
	vr->nfailures++;
}

/* A listed path the walk met as something it does not read. */
static void listed_skipped_locked(struct verify_run *vr, struct item *first, const struct skipped_entry *s)
{
	const char *what = s->message ? s->message : "walk";

	if (s->reason == SKIP_SPECIAL && first->listed->is_blockdev)
		return; /* a root of its own: read when the walk gets there */
	for_each_listed(vr, first, it) {
		if (s->reason == SKIP_WALK_ERROR && !strcmp(what, "stat") && (s->err == ENOENT || s->err == ENOTDIR)) {
			it->status = ITEM_MISSING;
			it->seen = true;
		} else if (s->reason == SKIP_WALK_ERROR) {
			item_fail(it, "walk", s->err, "%s: %s", what, strerror(s->err));
		} else if (s->reason == SKIP_SYMLINK) {
			item_fail(it, "walk", 0, "a symbolic link now: not followed (--follow-symlinks follows it)");
		} else {
			item_fail(it, "walk", 0, "a %s now: not opened", special_name(s->mode));
		}
	}
}

static void on_skipped(void *ctx, const struct skipped_entry *s)
{
	struct verify_run *vr = ctx;
	struct item *first;

	pthread_mutex_lock(&vr->lock);
	first = items_find(&vr->items, s->path);
	if (first && !first->seen)
		listed_skipped_locked(vr, first, s);
	else if (!first && s->reason == SKIP_WALK_ERROR)
		keep_walk_error_locked(vr, s);
	pthread_mutex_unlock(&vr->lock);
}

/* "imgscan verify: 12 of 40 listed images read, 3.20 GB hashed", about 6
 * times a second, when stderr is a terminal. */
static void on_progress(void *ctx, uint64_t bytes)
{
	struct verify_run *vr = ctx;
	uint64_t done;

	if (!vr->progress_shown && (vr->vo->scan.quiet || !isatty(STDERR_FILENO)))
		return;
	pthread_mutex_lock(&vr->lock);
	done = vr->listed_done;
	pthread_mutex_unlock(&vr->lock);
	vr->progress_shown = true;
	fprintf(stderr, "\rimgscan verify: %llu of %zu listed images read, %.2f GB hashed   ",
		(unsigned long long)done, vr->items.nlisted, (double)bytes / 1e9);
}

struct result_sink match_sink(struct verify_run *vr)
{
	return (struct result_sink){vr, on_image, on_skipped, on_progress, NULL};
}
