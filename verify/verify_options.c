/*
 * verify_options.c - the command line of `imgscan verify`: the options it
 * shares with scan are read by scan's own code (config/options.c), so each
 * means the same in both.  The help text is the user's reference: keep it
 * in step with README.md ("Checking a report again: imgscan verify").
 */
#include "verify.h"
#include "verify_run.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char verify_usage[] =
	"Usage: imgscan verify [OPTIONS] REPORT [PATH...]\n"
	"\n"
	"Read again every image that REPORT (an earlier scan's report, JSON or JSON\n"
	"lines; '-' reads it from stdin) lists, through the same pipeline, recompute\n"
	"every digest the report holds (XXH128 and the sector list, and md5, sha1,\n"
	"sha256 where it has them) and say for each image:\n"
	"  unchanged      every digest and the size are as the report says\n"
	"  changed        a digest or the size differs (the result names which)\n"
	"  missing        it is no longer there\n"
	"  moved          missing, and found under a PATH at a path the report does\n"
	"                 not list, with the same XXH128 and size\n"
	"  new            (with PATHs) an image under a PATH that the report does not list\n"
	"  error          it could not be read completely (the errors say why)\n"
	"  unverifiable   the report holds no digest for it (its scan could not read it)\n"
	"A shard's report (scan --shard K/N) lists only its shard: a file under PATH\n"
	"that another shard takes is not new (by size, no file is new: merge the shards\n"
	"first).  Paths are compared as text, as the report holds them: give the PATHs\n"
	"the way the scan was given them.  The sector size and --all-files are the report's;\n"
	"The Sleuth Kit does not run (identification is not compared).\n"
	"\n"
	"Output:\n"
	"  -o, --output FILE        write the result to FILE (default: stdout; '-' = stdout), as\n"
	"                           scan writes its report: strftime fields expanded, a regular\n"
	"                           file atomically, a device, FIFO or /dev/fd/N directly\n"
	"      --format json|jsonl  one JSON document (default) or one object per line\n"
	"  -q, --quiet              no progress line and no summary on stderr\n"
	"\n"
	"What is read:\n"
	"      --follow-symlinks    follow symbolic links (default: as the report's scan did)\n"
	"      --config FILE        configuration: which extensions are images, for new ones\n"
	"                           (default: built-in)\n"
	"\n"
	"Pipeline:\n"
	"      --io auto|uring|pread  I/O engine (default auto: io_uring, pread if refused)\n"
	"      --read-mode auto|buffered|direct  where the bytes come from (default auto)\n"
	"      --direct             the same as --read-mode direct\n"
	"  -j, --jobs N             hashing threads (default: number of cores)\n"
	"      --queue-depth N      reads in flight = read buffers (default 32)\n"
	"      --images N           images streamed at once (default 4)\n"
	"      --read-timeout SEC   a read not done after SEC seconds fails that image (default\n"
	"                           300, limits.read_timeout_seconds; 0: wait for ever)\n"
	"\n"
	"Exit status:\n"
	"  0   every listed image is unchanged (and, with PATHs, nothing is new)\n"
	"  1   something differs: changed, missing, moved, new or unverifiable\n"
	"  2   an image could not be read, a directory could not be walked, or REPORT\n"
	"      cannot be read or is not a scan report (takes precedence over 1)\n"
	"  64  usage error (also: -o names a block device, a directory, a dangling link,\n"
	"      or REPORT itself)\n"
	"  130, 143  stopped by SIGINT, SIGTERM: the result is whole for what was done,\n"
	"      \"partial\": true\n";

static const struct option verify_longopts[] = {
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"quiet", no_argument, NULL, 'q'},
	{"follow-symlinks", no_argument, NULL, OPT_FOLLOW},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"io", required_argument, NULL, OPT_IO},
	{"read-mode", required_argument, NULL, OPT_READ_MODE},
	{"direct", no_argument, NULL, OPT_DIRECT},
	{"jobs", required_argument, NULL, 'j'},
	{"queue-depth", required_argument, NULL, OPT_QD},
	{"images", required_argument, NULL, OPT_IMAGES},
	{"read-timeout", required_argument, NULL, OPT_READ_TIMEOUT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int verify_options_parse(int argc, char **argv, struct verify_options *vo, int *exit_now)
{
	struct scan_options *opt = &vo->scan;
	int c, rc, stop = 0;

	memset(vo, 0, sizeof(*vo));
	options_defaults(opt, "verify", argc, argv);
	*exit_now = 1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "o:qj:h", verify_longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(verify_usage, stdout);
			return EXIT_CLEAN;
		}
		rc = options_apply(c, optarg, opt, &stop);
		if (rc || stop)
			return rc;
	}
	if (opt->format == FMT_CASE) /* scan's writer; a verify result has no CASE form */
		return options_usage_error(opt, "--format must be json or jsonl", "case");
	if (options_expand_output(opt))
		return EXIT_USAGE;
	if (optind >= argc)
		return options_usage_error(opt, "no REPORT given", NULL);
	vo->report = argv[optind];
	vo->paths = argv + optind + 1;
	vo->npaths = argc - optind - 1;
	if (!vo->report[0])
		return options_usage_error(opt, "REPORT is an empty name", NULL);
	for (int i = 0; i < vo->npaths; i++)
		if (!vo->paths[i][0])
			return options_usage_error(opt, "a PATH is an empty name", NULL);
	opt->no_tsk = true; /* identification is not compared: only the digests */
	opt->inside = INSIDE_NONE;
	*exit_now = 0;
	return 0;
}
