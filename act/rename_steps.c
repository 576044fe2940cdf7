/*
 * rename_steps.c - the journaled steps of `imgscan rename` and its undo: a
 * record of what is about to be done goes to the journal and is fsynced
 * before the step, another after it, so a journal cut by a crash says
 * exactly which steps may have happened (see rename.h).
 */
#include "rename.h"
#include "rename_json.h"
#include "sidecar.h"
#include "../config/version.h"
#include "../report/image_json.h"
#include "../report/pathenc.h"
#include "../report/run_json.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *shown_path(const char *dir, const char *name)
{
	char *joined = NULL, *shown;

	if (asprintf(&joined, "%s%s%s", dir ? dir : "", dir && dir[0] && strcmp(dir, "/") ? "/" : "", name) < 0)
		return strdup("?");
	shown = term_escaped(joined);
	free(joined);
	return shown ? shown : strdup("?");
}

void say(struct rename_run *r, const char *what, const char *a, const char *b, const char *why)
{
	fprintf(r->out, "%s: %s%s%s%s%s%s\n", what, a, b ? " -> " : "", b ? b : "", why ? " (" : "", why ? why : "",
		why ? ")" : "");
}

/* The journal, created at the first step: beside the report (or journal)
 * read, or where --journal says. */
static int journal_ready(struct rename_run *r)
{
	cJSON *head;
	char when[48];
	int rc;

	if (r->j.err)
		return -r->j.err;
	if (r->j.fd >= 0)
		return 0;
	rc = r->opt->journal ? journal_create(&r->j, r->opt->journal)
			     : journal_create_beside(&r->j, r->opt->source,
						     !strcmp(r->kind, "undo") ? "undo-journal" : "rename-journal");
	if (rc) {
		/* Sticky, as a failed write: without a journal nothing may be
		 * done, and an EEXIST here is not a taken target. */
		char *shown = r->opt->journal ? shown_path(NULL, r->opt->journal) : NULL;
		fprintf(stderr, "imgscan rename: cannot create the journal%s%s: %s (nothing was done)\n",
			shown ? " " : "", shown ? shown : "", strerror(-rc));
		free(shown);
		r->j.err = -rc;
		return rc;
	}
	head = cJSON_CreateObject();
	cJSON_AddStringToObject(head, "journal", "imgscan rename");
	cJSON_AddNumberToObject(head, "version", 1);
	cJSON_AddStringToObject(head, "kind", r->kind);
	cJSON_AddStringToObject(head, "imgscan", IMGSCAN_VERSION);
	json_add_path(head, "source", r->opt->source);
	json_add_path_array(head, "roots", (int)r->nroots, (char **)r->roots);
	utc_now(when, sizeof(when));
	cJSON_AddStringToObject(head, "time", when);
	rc = journal_append(&r->j, head);
	cJSON_Delete(head);
	return rc;
}

static void add_joined(cJSON *rec, const char *key, const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) >= 0)
		json_add_path(rec, key, p);
	free(p);
}

static void add_stamp(cJSON *rec, const struct stat *st, const char *suffix)
{
	char when[48], key[32];

	snprintf(key, sizeof(key), "device%s", suffix);
	cJSON_AddNumberToObject(rec, key, (double)st->st_dev);
	snprintf(key, sizeof(key), "inode%s", suffix);
	cJSON_AddNumberToObject(rec, key, (double)st->st_ino);
	snprintf(key, sizeof(key), "size%s", suffix);
	cJSON_AddNumberToObject(rec, key, (double)st->st_size);
	format_utc(when, sizeof(when), st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	snprintf(key, sizeof(key), "mtime%s", suffix);
	cJSON_AddStringToObject(rec, key, when);
}

/* A step's intent record: what it is, where, on which file. */
static cJSON *intent(struct rename_run *r, const char *action, const struct step_place *at, unsigned undo_of)
{
	cJSON *rec = cJSON_CreateObject();
	char when[48];

	cJSON_AddNumberToObject(rec, "seq", ++r->seq);
	cJSON_AddStringToObject(rec, "state", "intent");
	cJSON_AddStringToObject(rec, "action", action);
	if (undo_of)
		cJSON_AddNumberToObject(rec, "undo_of", undo_of);
	utc_now(when, sizeof(when));
	cJSON_AddStringToObject(rec, "time", when);
	json_add_path(rec, "dir", at->dir);
	return rec;
}

/* The record after the step: done, or failed with errno (or, for err -1,
 * with the message text). */
static int outcome_said(struct rename_run *r, unsigned seq, int err, const char *text, const struct stat *now)
{
	cJSON *rec = cJSON_CreateObject();
	char when[48];
	int rc;

	cJSON_AddNumberToObject(rec, "seq", seq);
	cJSON_AddStringToObject(rec, "state", err ? "failed" : "done");
	if (err)
		cJSON_AddStringToObject(rec, "error", text ? text : strerror(err));
	if (!err && now)
		add_stamp(rec, now, "_new");
	utc_now(when, sizeof(when));
	cJSON_AddStringToObject(rec, "time", when);
	rc = journal_append(&r->j, rec);
	cJSON_Delete(rec);
	return rc;
}

static int outcome(struct rename_run *r, unsigned seq, int err, const struct stat *now)
{
	return outcome_said(r, seq, err, NULL, now);
}

#ifdef IMGSCAN_TEST_HOOKS
/* Test-only (imgscan-testhooks): IMGSCAN_TEST_SWAP_BEFORE_RENAME=NAME puts
 * the entry NAME of the same directory in the image's place between the
 * journal's intent and the rename, the image going to NAME.held: the race
 * renamed_the_checked() is for, which no test could time.  Not in the
 * shipped binary. */
static void swap_before_rename(int dirfd, const char *old)
{
	const char *other = getenv("IMGSCAN_TEST_SWAP_BEFORE_RENAME");
	char held[NAME_MAX + 1];

	if (!other || snprintf(held, sizeof(held), "%s.held", other) >= (int)sizeof(held))
		return;
	if (!renameat(dirfd, old, dirfd, held))
		renameat(dirfd, other, dirfd, old);
}
#else
static void swap_before_rename(int dirfd, const char *old)
{
	(void)dirfd;
	(void)old;
}
#endif

/* The checks ran on the entry at old; another may have taken its place
 * before the rename (a device node, say).  What now has the new name must
 * be the file checked, else it goes back where it was: 0 it is, 1 put
 * back, -errno when it could not be put back (it keeps the new name). */
static int renamed_the_checked(int dirfd, const char *old, const char *neu, const struct stat *st)
{
	struct stat now;

	if (fstatat(dirfd, neu, &now, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		return 0;
	if (renameat2(dirfd, neu, dirfd, old, RENAME_NOREPLACE))
		return -errno;
	fsync(dirfd);
	return 1;
}

int step_rename(struct rename_run *r, const struct step_place *at, const char *what, const char *old,
		const char *neu, const struct stat *st, const char *code, const char *xxh128, unsigned undo_of)
{
	cJSON *rec;
	int rc, err = 0, swapped;

	if ((rc = journal_ready(r)))
		return rc;
	rec = intent(r, what, at, undo_of);
	if (code)
		cJSON_AddStringToObject(rec, "code", code);
	json_add_path(rec, "old", old);
	json_add_path(rec, "new", neu);
	add_joined(rec, "old_path", at->dir, old);
	add_joined(rec, "new_path", at->dir, neu);
	add_stamp(rec, st, "");
	if (xxh128 && xxh128[0])
		cJSON_AddStringToObject(rec, "xxh128", xxh128);
	rc = journal_append(&r->j, rec);
	cJSON_Delete(rec);
	if (rc)
		return rc; /* not journaled: not done */
	if (!strcmp(what, "rename"))
		swap_before_rename(at->dirfd, old);
	if (renameat2(at->dirfd, old, at->dirfd, neu, RENAME_NOREPLACE))
		err = errno;
	else if ((swapped = renamed_the_checked(at->dirfd, old, neu, st)) == 1)
		return outcome_said(r, r->seq, -1, "another entry took the file's place before the rename: put back",
				    NULL) ? -EIO : STEP_SWAPPED;
	else if (swapped < 0)
		return outcome_said(r, r->seq, -1, "another entry took the file's place before the rename and could "
				    "not be put back: it has the new name", NULL), swapped;
	else if (fsync(at->dirfd))
		err = 0; /* renamed: a failed directory sync does not undo that */
	rc = outcome(r, r->seq, err, NULL);
	return err ? -err : rc;
}

int step_rewrite(struct rename_run *r, const struct step_place *at, const char *name, const struct stat *seen,
		 const char *old_text, const char *new_text, const struct timespec *mtime, unsigned undo_of, char *why,
		 size_t whylen)
{
	cJSON *rec;
	struct stat now;
	unsigned seq;
	int rc;

	if ((rc = journal_ready(r)))
		return rc;
	rec = intent(r, "rewrite", at, undo_of);
	json_add_path(rec, "name", name);
	add_joined(rec, "path", at->dir, name);
	add_stamp(rec, seen, "");
	cJSON_AddNumberToObject(rec, "mode", seen->st_mode & 07777);
	json_add_path(rec, "content_old", old_text);
	json_add_path(rec, "content_new", new_text);
	rc = journal_append(&r->j, rec);
	cJSON_Delete(rec);
	if (rc)
		return rc;
	seq = r->seq;
	rc = replace_content(at->dirfd, name, seen, new_text, strlen(new_text), mtime, &now, why, whylen);
	if (rc == 1) {
		outcome(r, seq, EAGAIN, NULL);
		return 1;
	}
	if (rc < 0) {
		outcome(r, seq, -rc, NULL);
		return rc;
	}
	return outcome(r, seq, 0, &now);
}
