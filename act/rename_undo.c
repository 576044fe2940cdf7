/*
 * rename_undo.c - `imgscan rename --undo JOURNAL`: the steps a journal says
 * were (or, cut by a crash between intent and done, may have been) taken
 * are reversed, last first, with the same checks as a rename: the file at
 * the new name must be the one renamed (device, inode, size, mtime; with
 * --verify its XXH128), it goes back without replacing anything, and a
 * rewritten cue sheet or sidecar is restored only while it still holds
 * what rename wrote.  The undo writes a journal of its own, of the same
 * form (its steps rename new to old), so an undo can be undone.
 */
#include "rename.h"
#include "rename_check.h"
#include "rename_json.h"
#include "../report/image_json.h"
#include "../report/pathenc.h"
#include "sidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One step of the journal read: its intent and how it ended. */
struct past_step {
	const cJSON *intent;
	bool done, failed;
	unsigned seq;
};

/* The fields of a rename or sidecar step. */
struct past_rename {
	char *dir, *old, *neu;
	struct file_stamp stamp;
	const char *xxh128;
};

/* A file this undo replaced (a rewrite restored: a new inode): an earlier
 * step of the journal that moved the file it replaced looks for this one.
 * (An undo's journal renames a sidecar back, then restores its content:
 * undoing that undo meets the restored file, not the one renamed.) */
struct successor {
	struct file_stamp was, now;
};

struct successors {
	struct successor *s;
	size_t n;
};

static bool same_file_stamp(const struct file_stamp *a, const struct file_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void add_successor(struct successors *sc, const struct file_stamp *was, const struct stat *now)
{
	struct successor *grown = realloc(sc->s, (sc->n + 1) * sizeof(*grown));

	if (!grown)
		return; /* then its rename is skipped as changed: safe */
	sc->s = grown;
	sc->s[sc->n].was = *was;
	stamp_of(now, &sc->s[sc->n++].now);
}

/* The file that now stands for stamp: its successor's, followed. */
static void latest_stamp(const struct successors *sc, struct file_stamp *stamp)
{
	for (size_t hops = 0; hops < sc->n; hops++) {
		size_t i = 0;
		while (i < sc->n && !same_file_stamp(&sc->s[i].was, stamp))
			i++;
		if (i == sc->n)
			return;
		*stamp = sc->s[i].now;
	}
}

static void say_skip(struct rename_run *r, const char *dir, const char *name, const char *why)
{
	char *a = shown_path(dir, name);

	say(r, "skipped", a, NULL, why);
	free(a);
	r->skipped++;
}

static int read_stamp(const cJSON *rec, struct file_stamp *s)
{
	s->known = json_exact_u64(rec, "device", &s->dev) && json_exact_u64(rec, "inode", &s->ino) &&
		   json_exact_u64(rec, "size", &s->size) &&
		   !parse_utc(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "mtime")), &s->mtime);
	return s->known ? 0 : -1;
}

/* Is the renamed file at neu (rc 0), or still at old, never renamed (rc 2)?
 * Else 1 with why. */
static int where_is(struct rename_run *r, const struct step_place *at, const struct past_rename *p, bool done,
		    struct stat *st, char *why, size_t len)
{
	char first[300];
	int rc = check_stamp(at->dirfd, p->neu, &p->stamp, st, first, sizeof(first));

	if (rc == 0 && r->opt->verify && p->xxh128)
		rc = check_digest(at->dirfd, p->neu, &p->stamp, p->xxh128, first, sizeof(first));
	if (rc == 0)
		return 0;
	if (!done && check_stamp(at->dirfd, p->old, &p->stamp, st, why, len) == 0)
		return 2;
	snprintf(why, len, "not the file renamed: %s", rc < 0 ? (rc == -ENOENT ? "gone" : strerror(-rc)) : first);
	return 1;
}

static void undo_rename(struct rename_run *r, const struct past_step *s, const struct successors *sc)
{
	struct past_rename p = {
		.dir = json_bytes(s->intent, "dir"), .old = json_bytes(s->intent, "old"),
		.neu = json_bytes(s->intent, "new"),
		.xxh128 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->intent, "xxh128")),
	};
	const char *what = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->intent, "action"));
	struct step_place at = {.dirfd = -1, .dir = p.dir};
	char why[400];
	struct stat st;
	int rc;

	if (!p.dir || !p.old || !p.neu || !plain_file_name(p.old) || !plain_file_name(p.neu) || read_stamp(s->intent, &p.stamp)) {
		say_skip(r, p.dir, p.neu ? p.neu : "?", "a journal record without its names or stamp");
		goto out;
	}
	if (!place_under_roots(p.dir, p.old, r->roots, r->nroots) &&
	    !place_under_roots(p.dir, p.neu, r->roots, r->nroots)) {
		say_skip(r, p.dir, p.neu, "not under the journal's roots (or not a plain absolute path): left alone");
		goto out;
	}
	at.dirfd = open_dir_nofollow(p.dir);
	if (at.dirfd < 0) {
		snprintf(why, sizeof(why), "its directory cannot be opened without following a symlink: %s",
			 strerror(-at.dirfd));
		say_skip(r, p.dir, p.neu, why);
		goto out;
	}
	latest_stamp(sc, &p.stamp);
	rc = where_is(r, &at, &p, s->done, &st, why, sizeof(why));
	char *a = shown_path(p.dir, p.neu), *b = shown_path(p.dir, p.old);
	if (rc == 2) {
		say(r, "not done", b, NULL, "the journal's last step: it never happened");
	} else if (rc == 1) {
		say_skip(r, p.dir, p.neu, why);
	} else if (!r->opt->apply) {
		say(r, "would undo", a, b, what);
		r->done++;
	} else if ((rc = step_rename(r, &at, what, p.neu, p.old, &st, NULL, p.xxh128, s->seq))) {
		snprintf(why, sizeof(why), "%s", r->j.err ? "not undone: the journal could not be written"
			 : rc == -EEXIST ? "a file now has the old name: not replaced"
			 : rc == STEP_SWAPPED ? "another file took its place just before the rename: put back"
			 : strerror(-rc));
		say_skip(r, p.dir, p.neu, why);
		if ((rc != -EEXIST && rc != STEP_SWAPPED) || r->j.err)
			r->skipped--, r->errors++;
	} else {
		say(r, "undone", a, b, what);
		r->done++;
	}
	free(a), free(b);
out:
	if (at.dirfd >= 0)
		close(at.dirfd);
	free(p.dir), free(p.old), free(p.neu);
}

static void undo_rewrite(struct rename_run *r, const struct past_step *s, struct successors *sc)
{
	char *dir = json_bytes(s->intent, "dir"), *name = json_bytes(s->intent, "name");
	char *old_text = json_bytes(s->intent, "content_old"), *new_text = json_bytes(s->intent, "content_new");
	struct step_place at = {.dirfd = -1, .dir = dir};
	char *now = NULL, *a = NULL, why[300];
	struct stat st;
	size_t len;
	struct timespec mtime; /* the file's before the rename, put back with its content */
	bool has_mtime = !parse_utc(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->intent, "mtime")), &mtime);

	if (!dir || !name || !old_text || !new_text || !plain_file_name(name)) {
		say_skip(r, dir, name ? name : "?", "a journal record without its names or contents");
		goto out;
	}
	/* Only what rename rewrites, where it may: a journal edited by hand
	 * must not make an undo write any file it names. */
	if (!rewritable_name(name) || !place_under_roots(dir, NULL, r->roots, r->nroots)) {
		say_skip(r, dir, name, "not a cue sheet or checksum sidecar under the journal's roots: left alone");
		goto out;
	}
	a = shown_path(dir, name);
	if ((at.dirfd = open_dir_nofollow(dir)) < 0 || read_small_file(at.dirfd, name, &now, &len, &st)) {
		say_skip(r, dir, name, "cannot be read (or its directory opened without following a symlink)");
	} else if (len == strlen(new_text) && !memcmp(now, new_text, len)) {
		struct file_stamp was;
		bool known = !read_stamp(s->intent, &was);
		if (!r->opt->apply) {
			say(r, "would restore", a, NULL, "its content before the rename"), r->done++;
			if (known) /* a dry run: the file as it is stands for the one restored */
				add_successor(sc, &was, &st);
		} else if (step_rewrite(r, &at, name, &st, new_text, old_text, has_mtime ? &mtime : NULL, s->seq, why,
					sizeof(why))) {
			say_skip(r, dir, name, why);
		} else {
			say(r, "restored", a, NULL, "its content before the rename"), r->done++;
			if (known && !fstatat(at.dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
				add_successor(sc, &was, &st);
		}
	} else if (!s->done && len == strlen(old_text) && !memcmp(now, old_text, len)) {
		say(r, "not done", a, NULL, "the journal's last step: it never happened");
	} else {
		say_skip(r, dir, name, "its content is no longer what rename wrote: left as it is");
	}
out:
	if (at.dirfd >= 0)
		close(at.dirfd);
	free(dir), free(name), free(old_text), free(new_text), free(now), free(a);
}

/* The steps of the journal, in order, each with how it ended.  Returns
 * their number (*out malloc'd) or -1 with a message. */
static int gather(const cJSON *recs, struct past_step **out, char *err, size_t errlen)
{
	const cJSON *rec;
	int n = 0;

	*out = calloc((size_t)cJSON_GetArraySize(recs) + 1, sizeof(**out));
	if (!*out)
		return snprintf(err, errlen, "out of memory"), -1;
	cJSON_ArrayForEach(rec, recs) {
		uint64_t seq;
		const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "state"));
		if (!json_exact_u64(rec, "seq", &seq) || !state)
			continue; /* the header */
		if (!strcmp(state, "intent")) {
			(*out)[n].intent = rec;
			(*out)[n++].seq = (unsigned)seq;
			continue;
		}
		for (int i = n - 1; i >= 0; i--)
			if ((*out)[i].seq == seq) {
				(*out)[i].done |= !strcmp(state, "done");
				(*out)[i].failed |= !strcmp(state, "failed");
				break;
			}
	}
	return n;
}

/* The roots in the journal's header (its first line): where the rename
 * could act, and so where its undo may.  Returns their number (*out
 * malloc'd, each entry too) or -1. */
static int header_roots(const cJSON *recs, char ***out)
{
	const cJSON *head = cJSON_GetArrayItem(recs, 0);
	const char *magic = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(head, "journal"));
	const cJSON *roots = cJSON_GetObjectItemCaseSensitive(head, "roots");
	int n = cJSON_GetArraySize(roots), got = 0;

	*out = NULL;
	if (!magic || strcmp(magic, "imgscan rename") || !cJSON_IsArray(roots) || n == 0 ||
	    !(*out = calloc((size_t)n, sizeof(**out))))
		return -1;
	while (got < n && ((*out)[got] = json_bytes_at(head, "roots", got)))
		got++;
	if (got == n)
		return n;
	while (got > 0)
		free((*out)[--got]);
	free(*out);
	*out = NULL;
	return -1;
}

int rename_undo(const struct rename_opts *opt)
{
	struct rename_run r = {.opt = opt, .kind = "undo", .j = {.fd = -1}, .out = stdout};
	struct past_step *steps;
	struct successors sc = {0};
	char err[512], **roots;
	cJSON *recs;
	int n, nroots;

	if (journal_read(opt->source, &recs, err, sizeof(err))) {
		term_say("imgscan rename: ", err, "\n");
		return 2;
	}
	if ((nroots = header_roots(recs, &roots)) < 0) {
		char *shown = shown_path(NULL, opt->source);
		fprintf(stderr, "imgscan rename: %s: no header line with the scan's roots (not a journal of this "
			"imgscan, or edited): undo cannot tell where it may act; nothing was done\n", shown);
		free(shown);
		cJSON_Delete(recs);
		return 2;
	}
	r.roots = roots;
	r.nroots = (size_t)nroots;
	if ((n = gather(recs, &steps, err, sizeof(err))) < 0) {
		term_say("imgscan rename: ", err, "\n");
		r.errors++;
	}
	for (int i = n - 1; i >= 0 && !r.j.err; i--) {
		const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(steps[i].intent, "action"));
		if (steps[i].failed || !action)
			continue;
		if (!strcmp(action, "rewrite"))
			undo_rewrite(&r, &steps[i], &sc);
		else if (!strcmp(action, "rename") || !strcmp(action, "sidecar"))
			undo_rename(&r, &steps[i], &sc);
	}
	free(sc.s);
	free(steps);
	cJSON_Delete(recs);
	n = rename_finish(&r);
	for (int i = 0; i < nroots; i++)
		free(roots[i]);
	free(roots);
	return n;
}
