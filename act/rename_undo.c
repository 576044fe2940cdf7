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
#include "sidecar.h"

#include <errno.h>
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

static void undo_rename(struct rename_run *r, const struct past_step *s)
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
	at.dirfd = open_dir_nofollow(p.dir);
	if (at.dirfd < 0) {
		snprintf(why, sizeof(why), "its directory cannot be opened without following a symlink: %s",
			 strerror(-at.dirfd));
		say_skip(r, p.dir, p.neu, why);
		goto out;
	}
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
		snprintf(why, sizeof(why), "%s", rc == -EEXIST ? "a file now has the old name: not replaced"
								 : strerror(-rc));
		say_skip(r, p.dir, p.neu, why);
		if (rc != -EEXIST)
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

static void undo_rewrite(struct rename_run *r, const struct past_step *s)
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
	a = shown_path(dir, name);
	if ((at.dirfd = open_dir_nofollow(dir)) < 0 || read_small_file(at.dirfd, name, &now, &len, &st)) {
		say_skip(r, dir, name, "cannot be read (or its directory opened without following a symlink)");
	} else if (len == strlen(new_text) && !memcmp(now, new_text, len)) {
		if (!r->opt->apply)
			say(r, "would restore", a, NULL, "its content before the rename"), r->done++;
		else if (step_rewrite(r, &at, name, &st, new_text, old_text, has_mtime ? &mtime : NULL, s->seq, why,
				      sizeof(why)))
			say_skip(r, dir, name, why);
		else
			say(r, "restored", a, NULL, "its content before the rename"), r->done++;
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

int rename_undo(const struct rename_opts *opt)
{
	struct rename_run r = {.opt = opt, .kind = "undo", .j = {.fd = -1}, .out = stdout};
	struct past_step *steps;
	char err[512];
	cJSON *recs;
	int n;

	if (journal_read(opt->source, &recs, err, sizeof(err))) {
		fprintf(stderr, "imgscan rename: %s\n", err);
		return 2;
	}
	if ((n = gather(recs, &steps, err, sizeof(err))) < 0) {
		fprintf(stderr, "imgscan rename: %s\n", err);
		cJSON_Delete(recs);
		return 2;
	}
	for (int i = n - 1; i >= 0 && !r.j.err; i--) {
		const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(steps[i].intent, "action"));
		if (steps[i].failed || !action)
			continue;
		if (!strcmp(action, "rewrite"))
			undo_rewrite(&r, &steps[i]);
		else if (!strcmp(action, "rename") || !strcmp(action, "sidecar"))
			undo_rename(&r, &steps[i]);
	}
	free(steps);
	cJSON_Delete(recs);
	return rename_finish(&r);
}
