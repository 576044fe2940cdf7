/*
 * rename_main.c - `imgscan rename`: its options, then rename.c's plan or
 * rename_undo.c's undo.  The help text is the user's reference: keep it in
 * step with README.md ("Renaming misnamed images").
 */
#include "act.h"
#include "rename.h"
#include "rename_plan.h"
#include "../config/options.h"
#include "../report/pathenc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rename_usage[] =
	"Usage: imgscan rename [OPTIONS] REPORT\n"
	"       imgscan rename --undo [OPTIONS] JOURNAL\n"
	"\n"
	"Give each image of REPORT (JSON or JSON lines) whose finding suggests a name\n"
	"that name, in the same directory.  A dry run unless --apply: one line per\n"
	"image says what would be done and why (the finding's code).\n"
	"\n"
	"  --apply            do it: rename, move the checksum sidecars (NAME.md5, .sha1,\n"
	"                     .sha256, .sha512, .xxh128...; the name inside rewritten), and\n"
	"                     rewrite the .cue sheets beside it whose FILE line names it\n"
	"  --only CODE,...    only the images with these findings: ISO_MISNAMED,\n"
	"                     ISOHYBRID_MISNAMED, RAWCD_MISNAMED, RAWCD_NAMED_ISO,\n"
	"                     DISK_NAMED_OPTICAL, CONTAINER_MISNAMED, COMPRESSED_MISNAMED,\n"
	"                     ARCHIVE_MISNAMED, EXTENSION_MISMATCH, NOT_AN_IMAGE\n"
	"  --verify           also re-read each image: its XXH128 must be the report's\n"
	"  --suffix           a name already taken: the first free \"name (2).ext\",\n"
	"                     \"name (3).ext\"... (default: skip the image)\n"
	"  --journal FILE     the journal (a new file; default: beside REPORT, named\n"
	"                     REPORT.rename-journal-<UTC time>.jsonl; for --undo,\n"
	"                     JOURNAL.undo-journal-<UTC time>.jsonl)\n"
	"  --undo             reverse what JOURNAL says was done, last first, with the\n"
	"                     same checks; a dry run too unless --apply\n"
	"  -h, --help         this text\n"
	"\n"
	"Before touching a file: it must be under the scan's roots (run.roots; no\n"
	"symlink is followed), a regular file with the report's device, inode, size\n"
	"and mtime (and XXH128 with --verify).  Nothing is ever replaced: renames use\n"
	"renameat2(RENAME_NOREPLACE).  Every step is journaled and fsynced before it is\n"
	"taken.  Block devices, segment sets (kind media), images the scan had errors\n"
	"reading, and reports of a run marked --evidence are never renamed.\n"
	"\n"
	"Exit status: 0 everything asked was done (or would be, in a dry run); 1 something\n"
	"was skipped (changed since the scan, a name taken...); 2 errors (a report or\n"
	"journal that cannot be used, an evidence report, a rename that failed); 64 usage.\n";

enum { R_APPLY = 1, R_ONLY, R_VERIFY, R_SUFFIX, R_JOURNAL, R_UNDO };

static const struct option rename_longopts[] = {
	{"apply", no_argument, NULL, R_APPLY},     {"only", required_argument, NULL, R_ONLY},
	{"verify", no_argument, NULL, R_VERIFY},   {"suffix", no_argument, NULL, R_SUFFIX},
	{"journal", required_argument, NULL, R_JOURNAL}, {"undo", no_argument, NULL, R_UNDO},
	{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
};

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "imgscan: %s%s%s\nTry 'imgscan rename --help'.\n", msg, arg ? ": " : "", arg ? arg : "");
	return EXIT_USAGE;
}

/* --only's list, each a code rename knows.  0 or EXIT_USAGE. */
static int parse_only(char *arg, struct rename_opts *o)
{
	char *save = NULL;

	for (char *tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char **grown = realloc(o->only, (o->nonly + 1) * sizeof(*grown));
		if (!grown)
			return EXIT_ERRORS;
		o->only = grown;
		if (!rename_code_known(tok))
			return usage_error("--only: not a finding that suggests a name (see --help)", tok);
		o->only[o->nonly++] = tok;
	}
	return o->nonly ? 0 : usage_error("--only needs finding codes", NULL);
}

static int run_plan(const struct rename_opts *o)
{
	struct rename_plan p;
	char err[600];
	int rc;

	rc = plan_load(o->source, o->only, o->nonly, &p, err, sizeof(err));
	if (p.evidence) {
		char *shown = term_escaped(o->source);
		fprintf(stderr, "imgscan rename: %s is the report of a run marked as evidence (run.options.evidence): "
			"evidence is never altered; nothing was done\n", shown ? shown : "the report");
		free(shown);
		plan_free(&p);
		return EXIT_ERRORS;
	}
	if (rc) {
		term_say("imgscan rename: ", err, "\n");
		plan_free(&p);
		return EXIT_ERRORS;
	}
	rc = rename_apply(&p, o);
	plan_free(&p);
	return rc;
}

int rename_main(int argc, char **argv)
{
	struct rename_opts o = {0};
	bool undo = false;
	int c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "h", rename_longopts, NULL)) != -1) {
		switch (c) {
		case R_APPLY: o.apply = true; break;
		case R_ONLY: if ((rc = parse_only(optarg, &o))) return free(o.only), rc; break;
		case R_VERIFY: o.verify = true; break;
		case R_SUFFIX: o.suffix = true; break;
		case R_JOURNAL: o.journal = optarg; break;
		case R_UNDO: undo = true; break;
		case 'h': fputs(rename_usage, stdout); free(o.only); return EXIT_CLEAN;
		default: free(o.only); return usage_error("unknown option", NULL);
		}
	}
	if (argc - optind != 1)
		return free(o.only), usage_error(undo ? "--undo takes one JOURNAL" : "rename takes one REPORT", NULL);
	o.source = argv[optind];
	if (undo && (o.only || o.suffix))
		return free(o.only), usage_error("--undo reverses a journal: --only and --suffix do not apply", NULL);
	if (!strcmp(o.source, "-") && !o.journal && !undo)
		return free(o.only), usage_error("a report on stdin needs --journal FILE", NULL);
	rc = undo ? rename_undo(&o) : run_plan(&o);
	free(o.only);
	return rc;
}
