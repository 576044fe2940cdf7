/*
 * rename.h - `imgscan rename`: the renames a report's findings suggest, each
 * step journaled before it is taken (rename.c), and their undoing from a
 * journal (rename_undo.c); the journaled steps themselves are
 * rename_steps.c's.
 */
#ifndef IMGSCAN_RENAME_H
#define IMGSCAN_RENAME_H

#include "journal.h"
#include "rename_plan.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

struct rename_opts {
	bool apply;                /* act; else a dry run that touches nothing */
	bool verify;               /* re-read each image: its XXH128 must be the report's */
	bool suffix;               /* a taken name: the first free "name (N).ext" */
	char **only;               /* --only: the finding codes to act on, NULL: all */
	size_t nonly;
	const char *journal;       /* --journal FILE; NULL: beside the report or journal read */
	const char *source;        /* the report (or journal, for --undo) */
};

/* One run's state: the journal (opened at its first step) and the tally. */
struct rename_run {
	const struct rename_opts *opt;
	const char *kind;          /* "rename" or "undo" */
	struct journal j;
	unsigned seq;              /* the last step's number */
	unsigned done, skipped, errors;
	FILE *out;                 /* the one line per image */
	char *const *roots;        /* where it may act: the scan's run.roots, */
	size_t nroots;             /* kept in the journal's header for an undo */
};

/* What a step acts on: a name in a directory opened once. */
struct step_place {
	int dirfd;
	const char *dir;           /* absolute, as opened */
};

/* Rename old to neu in place (RENAME_NOREPLACE), journaled: an intent
 * record fsynced before, done or failed after.  what: "rename" or
 * "sidecar"; code and xxh128 may be NULL; undo_of: the step undone, 0 for
 * none.  Returns 0, -EEXIST (neu is taken: nothing done), STEP_SWAPPED
 * (another entry had taken old's place at the last moment: it was put back)
 * or -errno. */
#define STEP_SWAPPED 1
int step_rename(struct rename_run *r, const struct step_place *at, const char *what, const char *old,
		const char *neu, const struct stat *st, const char *code, const char *xxh128, unsigned undo_of);
/* Replace name's content (seen: its stat as read) by new_text, old_text
 * kept in the journal; mtime: the new file's (NULL: now).  *now: the new
 * file's stat.  Returns 0, 1 (it changed meanwhile: why) or -errno. */
int step_rewrite(struct rename_run *r, const struct step_place *at, const char *name, const struct stat *seen,
		 const char *old_text, const char *new_text, const struct timespec *mtime, unsigned undo_of, char *why,
		 size_t whylen);

/* "dir/name" escaped for the terminal (malloc'd; never NULL). */
char *shown_path(const char *dir, const char *name);
/* One line on r->out: "<what>: <a>[ -> <b>][ (<why>)]". */
void say(struct rename_run *r, const char *what, const char *a, const char *b, const char *why);

/* Carry out (or, without --apply, show) the plan.  Returns the exit status. */
int rename_apply(const struct rename_plan *p, const struct rename_opts *opt);
/* Undo what the journal at opt->source says was done, last first. */
int rename_undo(const struct rename_opts *opt);
/* The exit status of a run's tally; closes its journal, says where it is. */
int rename_finish(struct rename_run *r);

#endif
