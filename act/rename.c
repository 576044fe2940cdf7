/*
 * rename.c - `imgscan rename REPORT`: each image a finding suggests a name
 * for is checked (still under the scan's roots, still the file the report
 * describes, and with --verify still its bytes), then renamed in its own
 * directory without replacing anything, its checksum sidecars with it, and
 * the cue sheets beside it that name it rewritten (see rename.h).
 */
#include "rename.h"
#include "rename_check.h"
#include "sidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An image being worked on: its directory opened once, its stat as checked. */
struct job {
	const struct plan_item *it;
	struct step_place at;
	const char *name;          /* the current name, in at.dir */
	struct stat st;
	char target[NAME_MAX + 1]; /* the name chosen */
	char *shown_dir;           /* the report's directory part, for the lines shown */
};

/* The display form of a name beside the image, as the report wrote its path. */
static char *shown(const struct job *jb, const char *name)
{
	return shown_path(jb->shown_dir, name);
}

/* "disc.iso" and k >= 2: "disc (k).iso"; an appended extension keeps the
 * old one with it ("disc.img" -> "disc (2).img.gz"). */
static int candidate(const char *old, const char *want, unsigned k, char *out, size_t len)
{
	size_t olen = strlen(old);
	const char *dot;
	int n;

	if (k < 2)
		return snprintf(out, len, "%s", want) >= (int)len ? -1 : 0;
	if (!strncmp(want, old, olen) && want[olen] == '.' && strrchr(old, '.') && strrchr(old, '.') != old)
		dot = want + (strrchr(old, '.') - old);
	else
		dot = strrchr(want, '.');
	if (!dot || dot == want)
		dot = want + strlen(want);
	n = snprintf(out, len, "%.*s (%u)%s", (int)(dot - want), want, k, dot);
	return n < 0 || n >= (int)len ? -1 : 0;
}

static bool taken(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

/* Is name the image itself: its own name, a hard link of it, or its name
 * on a file system that folds case? */
static bool is_itself(const struct job *jb, const char *name)
{
	struct stat st;

	return !strcmp(name, jb->name) || (fstatat(jb->at.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					    st.st_dev == jb->st.st_dev && st.st_ino == jb->st.st_ino);
}

static void skip(struct rename_run *r, const struct job *jb, const char *why)
{
	char *a = shown_path(NULL, jb->it->path);
	char msg[600];

	snprintf(msg, sizeof(msg), "%.40s: %.550s", jb->it->code, why);
	say(r, "skipped", a, NULL, msg);
	free(a);
	r->skipped++;
}

/* Open the directory and check the file.  Returns 0 to go on, 1 skipped,
 * -1 an error (counted). */
static int check_job(struct rename_run *r, const struct rename_plan *p, struct job *jb, char **dir)
{
	char why[400];
	struct stat dst;
	int rc;

	if (split_path(jb->it->abs, dir, &jb->name))
		return skip(r, jb, "not a path to a file"), 1;
	jb->at.dir = *dir;
	jb->at.dirfd = open_dir_under_roots(*dir, jb->name, p->roots, p->nroots, why, sizeof(why));
	if (jb->at.dirfd < 0)
		return jb->at.dirfd == -2 ? (r->errors++, -1) : (skip(r, jb, why), 1);
	rc = check_stamp(jb->at.dirfd, jb->name, &jb->it->stamp, &jb->st, why, sizeof(why));
	if (rc < 0)
		snprintf(why, sizeof(why), "%s", rc == -ENOENT ? "it is gone" : strerror(-rc));
	if (rc == 0 && r->opt->verify && !jb->it->xxh128[0])
		rc = 1, snprintf(why, sizeof(why), "--verify: the report has no XXH128 for it");
	else if (rc == 0 && r->opt->verify)
		rc = check_digest(jb->at.dirfd, jb->name, &jb->it->stamp, jb->it->xxh128, why, sizeof(why));
	if (rc < 0 && rc != -ENOENT)
		snprintf(why, sizeof(why), "cannot re-read it: %s", strerror(-rc));
	if (rc == 0 && (fstat(jb->at.dirfd, &dst) || dst.st_dev != jb->st.st_dev))
		rc = 1, snprintf(why, sizeof(why), "it is not on its directory's file system (a mount on it?)");
	if (rc) {
		char msg[500];
		snprintf(msg, sizeof(msg), "changed since the scan: %s", why);
		skip(r, jb, rc < 0 && rc != -ENOENT ? why : msg);
		return 1;
	}
	return 0;
}

/* The first free name: the suggestion, or with --suffix "name (N).ext".
 * Returns 0, or 1 skipped. */
static int choose_target(struct rename_run *r, struct job *jb, unsigned *k)
{
	/* Not "name (2).ext" for a file that already has the name asked. */
	if (is_itself(jb, jb->it->new_name))
		return skip(r, jb, "it already has the suggested name (or is that file): nothing to do"), 1;
	for (; *k < 1000; (*k)++) {
		if (candidate(jb->name, jb->it->new_name, *k, jb->target, sizeof(jb->target)))
			return skip(r, jb, "the new name is too long"), 1;
		if (!taken(jb->at.dirfd, jb->target))
			return 0;
		if (!r->opt->suffix) {
			char *t = shown(jb, jb->target), msg[600];
			snprintf(msg, sizeof(msg), "%s exists: not replaced (--suffix picks a free name)", t);
			free(t);
			return skip(r, jb, msg), 1;
		}
	}
	return skip(r, jb, "no free name up to (999)"), 1;
}

/* The image itself: renamed, or, when a file took the name since it was
 * chosen, the next free name (--suffix) or skipped.  0, 1 skipped, -1. */
static int rename_image(struct rename_run *r, struct job *jb)
{
	unsigned k = 1;
	int rc;

	for (;;) {
		if (choose_target(r, jb, &k))
			return 1;
		if (!r->opt->apply)
			return 0;
		rc = step_rename(r, &jb->at, "rename", jb->name, jb->target, &jb->st, jb->it->code, jb->it->xxh128, 0);
		if (rc == STEP_SWAPPED)
			return skip(r, jb, "another file took its place just before the rename: put back, not renamed"), 1;
		if (rc != -EEXIST || r->j.err) /* the journal's EEXIST is not the target's */
			break;
		if (!r->opt->suffix)
			return skip(r, jb, "a file took the new name just before the rename: not replaced"), 1;
	}
	if (rc) {
		char msg[300];
		if (r->j.err)
			snprintf(msg, sizeof(msg), "not renamed: the journal could not be written");
		else
			snprintf(msg, sizeof(msg), "rename failed: %s", strerror(-rc));
		skip(r, jb, msg);
		r->skipped--, r->errors++;
		return -1;
	}
	return 0;
}

/* One sidecar: the name inside rewritten first (so that the rename's
 * journal record has the file as it then is, which an undo checks), then
 * renamed.  Returns the line's note, or NULL when it was kept (counted). */
static const char *move_sidecar(struct rename_run *r, struct job *jb, const char *old, const char *neu)
{
	char *text, *renamed = NULL, why[300];
	const char *note = NULL;
	struct stat st;
	size_t len, nlen;

	if (read_small_file(jb->at.dirfd, old, &text, &len, &st))
		return "";
	if (!memchr(text, '\0', len))
		renamed = sums_renamed(text, len, jb->name, jb->target, &nlen);
	if (taken(jb->at.dirfd, neu))
		note = NULL;
	else if (!r->opt->apply)
		note = renamed ? " (the name inside too)" : "";
	else if (renamed && step_rewrite(r, &jb->at, old, &st, text, renamed, NULL, 0, why, sizeof(why)))
		note = NULL;
	else if ((!renamed || !fstatat(jb->at.dirfd, old, &st, AT_SYMLINK_NOFOLLOW)) &&
		 !step_rename(r, &jb->at, "sidecar", old, neu, &st, NULL, NULL, 0))
		note = renamed ? " (the name inside too)" : "";
	free(text);
	free(renamed);
	if (!note)
		r->skipped++;
	return note;
}

/* Its checksum sidecars, moved with it. */
static void move_sidecars(struct rename_run *r, struct job *jb)
{
	char old[NAME_MAX + 16], neu[NAME_MAX + 16];
	struct stat st;

	for (int i = 0; sidecar_suffixes[i]; i++) {
		if (snprintf(old, sizeof(old), "%s%s", jb->name, sidecar_suffixes[i]) >= (int)sizeof(old) ||
		    snprintf(neu, sizeof(neu), "%s%s", jb->target, sidecar_suffixes[i]) >= (int)sizeof(neu) ||
		    fstatat(jb->at.dirfd, old, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		const char *note = move_sidecar(r, jb, old, neu);
		char *a = shown(jb, old), *b = shown(jb, neu);
		if (note)
			fprintf(r->out, "  and its sidecar: %s -> %s%s\n", a, b, note);
		else
			fprintf(r->out, "  sidecar kept: %s (%s exists, or it could not be moved)\n", a, b);
		free(a), free(b);
	}
}

/* The cue sheets beside it whose FILE line names it. */
static void rewrite_cues(struct rename_run *r, struct job *jb)
{
	struct rewrite *cues;
	int n = cue_sheets_naming(jb->at.dirfd, jb->name, jb->target, &cues);
	char why[300];

	for (int i = 0; i < n; i++) {
		char *a = shown(jb, cues[i].name);
		bool nul = memchr(cues[i].old_text, '\0', cues[i].old_len) != NULL;
		if (nul || (r->opt->apply && step_rewrite(r, &jb->at, cues[i].name, &cues[i].st, cues[i].old_text,
							  cues[i].new_text, NULL, 0, why, sizeof(why)))) {
			fprintf(r->out, "  cue sheet not rewritten: %s (%s)\n", a, nul ? "it holds NUL bytes" : why);
			r->skipped++;
		} else {
			fprintf(r->out, "  and its cue sheet: %s (FILE names the new name)\n", a);
		}
		free(a);
	}
	rewrites_free(cues, n > 0 ? n : 0);
}

static void do_item(struct rename_run *r, const struct rename_plan *p, const struct plan_item *it)
{
	struct job jb = {.it = it, .at = {.dirfd = -1}};
	char *dir = NULL, *a, *b;
	const char *slash = strrchr(it->path, '/');

	jb.shown_dir = slash ? strndup(it->path, (size_t)(slash - it->path)) : NULL;
	if (it->refused) {
		skip(r, &jb, it->refused);
	} else if (!check_job(r, p, &jb, &dir) && !rename_image(r, &jb)) {
		a = shown_path(NULL, it->path), b = shown(&jb, jb.target);
		say(r, r->opt->apply ? "renamed" : "would rename", a, b, it->code);
		free(a), free(b);
		r->done++;
		move_sidecars(r, &jb);
		rewrite_cues(r, &jb);
	}
	if (jb.at.dirfd >= 0)
		close(jb.at.dirfd);
	free(dir);
	free(jb.shown_dir);
}

int rename_finish(struct rename_run *r)
{
	if (r->j.fd >= 0) {
		char *j = shown_path(NULL, r->j.path);
		fprintf(stderr, "imgscan rename: journal %s\n", j);
		free(j);
		journal_close(&r->j);
	}
	if (r->j.err) { /* also when it could not even be created */
		fprintf(stderr, "imgscan rename: the journal could not be written (%s): stopped\n",
			strerror(r->j.err));
		r->errors += !r->errors; /* an error, counted once with the step it stopped */
	}
	fprintf(stderr, "imgscan rename: %u %s, %u skipped, %u errors%s\n", r->done,
		!strcmp(r->kind, "undo") ? (r->opt->apply ? "undone" : "to undo") : (r->opt->apply ? "renamed" : "to rename"),
		r->skipped, r->errors, r->opt->apply ? "" : " (a dry run: nothing was changed; --apply does it)");
	return r->errors ? 2 : r->skipped ? 1 : 0;
}

int rename_apply(const struct rename_plan *p, const struct rename_opts *opt)
{
	struct rename_run r = {.opt = opt, .kind = "rename", .j = {.fd = -1}, .out = stdout,
			       .roots = p->roots, .nroots = p->nroots};

	for (size_t i = 0; i < p->n && !r.j.err; i++)
		do_item(&r, p, &p->items[i]);
	return rename_finish(&r);
}
