/*
 * options.c - command-line parsing for `imgscan scan` and the top level.
 * The help text here is the user's reference: keep it in step with README.md.
 */
#include "options.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const crypto_hash_names[HASH_COUNT] = {"md5", "sha1", "sha256"};
const char *const read_mode_names[3] = {"auto", "buffered", "direct"};
const char *const inside_mode_names[3] = {"head", "none", "full"};
const char *const format_names[3] = {"json", "jsonl", "case"};
const char *const shard_by_names[2] = {"path", "size"};

/* "sha256,md5" as a mask of 1 << enum crypto_hash; -1 for an unknown name. */
static int crypto_hash_parse(const char *list)
{
	char buf[64], *tok, *save;
	int mask = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int found = -1;
		for (int i = 0; i < HASH_COUNT; i++)
			if (!strcmp(tok, crypto_hash_names[i]))
				found = i;
		if (found < 0)
			return -1;
		mask |= 1 << found;
	}
	return mask;
}

/* --shard "K/N" with 0 <= K < N <= 65536.  Returns 0 or -1. */
static int shard_parse(const char *arg, unsigned *index, unsigned *count)
{
	char *end;
	unsigned long k, n;

	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	errno = 0;
	k = strtoul(arg, &end, 10);
	if (errno || *end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	n = strtoul(end + 1, &end, 10);
	if (errno || *end || n < 1 || n > 65536 || k >= n)
		return -1;
	*index = (unsigned)k;
	*count = (unsigned)n;
	return 0;
}

static const char top_usage[] =
	"Usage: imgscan scan [OPTIONS] PATH...\n"
	"       imgscan verify [OPTIONS] REPORT [PATH...]\n"
	"       imgscan load --db DB REPORT...\n"
	"       imgscan merge -o REPORT SHARD-REPORT...\n"
	"       imgscan rename [--apply] REPORT | rename --undo JOURNAL\n"
	"       imgscan convert IN.bin|IN.cue OUT.iso\n"
	"       imgscan html -o PAGE.html REPORT...\n"
	"       imgscan --help | --version\n"
	"           (--version: the library versions, the kernel, whether io_uring\n"
	"           can be used here)\n"
	"\n"
	"imgscan streams every disk image under PATH (directories are walked\n"
	"recursively), hashes it (XXH128 of the whole file, XXH3-64 of every sector),\n"
	"identifies partitions and file systems (The Sleuth Kit and its own probes),\n"
	"flags misnamed images and writes one JSON report.\n"
	"\n"
	"Commands:\n"
	"  scan     scan images and write a report\n"
	"  verify   read the images an earlier report lists again and say which are\n"
	"           unchanged, changed, missing, moved (and, under PATH, new)\n"
	"  load     load reports into an SQLite or PostgreSQL evidence database\n"
	"  merge    merge the reports of a sharded scan (scan --shard K/N) into one\n"
	"  rename   give misnamed images the names a report suggests (a dry run\n"
	"           unless --apply), with a journal that --undo reverses\n"
	"  convert  extract the ISO 9660 image of a raw 2352-byte-sector CD image\n"
	"  html     write a report (or several) as one self-contained web page\n"
	"\n"
	"Run `imgscan COMMAND --help` for a command's options.\n";

static const char scan_usage[] =
	"Usage: imgscan scan [OPTIONS] PATH...\n"
	"\n"
	"Scan each PATH (a directory, walked recursively, or a file; a block device\n"
	"named here is read like an image file) and write a JSON report.\n"
	"Segment sets (disk.001 disk.002.., disk.aa disk.ab.., case.E01 case.E02..)\n"
	"are one item of kind media, hashed as the whole media; an EWF image's\n"
	"acquisition hashes are checked through libewf.  A first segment named as a\n"
	"PATH stands for its set.\n"
	"\n"
	"Output:\n"
	"  -o, --output FILE        write the report to FILE (default: stdout; '-' = stdout); strftime\n"
	"                           fields are expanded (-o /var/lib/imgscan/%Y-%m-%d.json; %% for a\n"
	"                           literal %): a regular\n"
	"                           file atomically, a symlink's target atomically, a device, FIFO or\n"
	"                           /dev/fd/N directly; a block device or a directory is refused\n"
	"      --format json|jsonl|case  one JSON document (default), one object per line, or\n"
	"                           CASE/UCO JSON-LD (the evidence-interchange ontology:\n"
	"                           images as File observables, the run as an investigative\n"
	"                           action; report/CASE.md)\n"
	"  -q, --quiet              no progress line and no human summary on stderr\n"
	"      --hash LIST          also compute these whole-image digests: md5,sha1,sha256\n"
	"      --sector-hashes DIR  also write each image's sector-hash list to DIR/<xxh128>.xxh3s\n"
	"\n"
	"Nightly runs (incremental):\n"
	"      --state FILE         keep a catalog (SQLite) in FILE: a file whose device, inode,\n"
	"                           size, mtime and ctime are unchanged since it was measured with\n"
	"                           the same hashing options is not read again; its earlier result\n"
	"                           is reported with \"reused\": true (config key \"state\")\n"
	"      --rehash             with --state: read everything again and refresh the catalog\n"
	"      --wait               with --state: wait for another run holding the catalog's lock\n"
	"                           (default: exit 75 at once)\n"
	"\n"
	"Sharded scans (several machines, one archive; README \"Sharded scans\"):\n"
	"      --shard K/N          scan only shard K (0 to N-1) of the entries under the PATHs:\n"
	"                           by default those whose path relative to its PATH has an\n"
	"                           XXH3-64 that is K mod N; every machine still walks the\n"
	"                           whole tree.  `imgscan merge` joins the N reports into one\n"
	"      --shard-by path|size path (default): by name alone, stable as the archive grows;\n"
	"                           size: a first walk lists every size and the shards get\n"
	"                           equal bytes (every shard must then see the same tree)\n"
	"\n"
	"What is read:\n"
	"      --all-files          stream and hash every regular file, not only images\n"
	"      --follow-symlinks    follow symbolic links (default: list them, do not follow)\n"
	"      --config FILE        configuration (extensions, naming rules, limits; default: built-in)\n"
	"      --print-config       print the built-in configuration and exit\n"
	"      --evidence           the tree is evidence: recorded in the report\n"
	"                           (run.options.evidence), and `imgscan rename` refuses the\n"
	"                           report (config key \"evidence\": true)\n"
	"\n"
	"Pipeline:\n"
	"      --io auto|uring|pread  I/O engine (default auto: io_uring, pread if refused)\n"
	"      --read-mode auto|buffered|direct  where the bytes come from (default auto:\n"
	"                           blocks already cached are copied from the page cache,\n"
	"                           the rest read with O_DIRECT; the cache is left as it was)\n"
	"      --direct             the same as --read-mode direct: every read O_DIRECT\n"
	"      --no-fixed-buffers   do not register the read buffers with io_uring\n"
	"  -j, --jobs N             hashing threads (default: number of cores)\n"
	"      --queue-depth N      reads in flight, at most (default 32, and below that what the\n"
	"                           disk is measured to like; given, it is fixed; buffers: 1.5 x N)\n"
	"      --read-size BYTES    bytes per read, K/M suffix allowed (default 1M)\n"
	"      --images N           images streamed at once, at most (default 4, and below that\n"
	"                           what the disk is measured to like; given, it is fixed)\n"
	"      --sector-size N      sector size for sector hashes: 512, 2048, 4096... (default 4096)\n"
	"      --read-timeout SEC   a read of an image not done after SEC seconds fails that image\n"
	"                           (\"read timed out\"; the others go on); 0: wait for ever\n"
	"                           (default 300; config key limits.read_timeout_seconds)\n"
	"\n"
	"Identification:\n"
	"      --no-tsk             skip The Sleuth Kit (own probes only)\n"
	"      --tsk-timeout SEC    wall-clock limit per image for the Sleuth Kit step (default 20)\n"
	"      --tsk-memory MIB     address-space limit of a Sleuth Kit worker (default 1024)\n"
	"      --tsk-workers N      Sleuth Kit worker processes (default: -j)\n"
	"      --inside head|full|none  look inside compressed files and virtual disks (default\n"
	"                           head: probe the first 4 MiB decompressed, list zip/7z/tar\n"
	"                           members, read a container's virtual disk; full: also\n"
	"                           decompress the whole stream and report its XXH128)\n"
	"\n"
	"Exit status:\n"
	"  0   nothing to report\n"
	"  1   findings (for example a misnamed or truncated image)\n"
	"  2   some files could not be read or identified (takes precedence over 1)\n"
	"  2   also: the --state catalog could not be used (the report is written all the same)\n"
	"  2   also: the report could not be written (its disk full or read-only, a pipe closed\n"
	"      early): said on stderr; a previous report at that path is left as it was\n"
	"  64  usage error (also: -o names a block device, directory, socket or dangling link)\n"
	"  75  another run holds the --state catalog's lock (nothing was scanned or written)\n"
	"  130, 143  stopped by SIGINT, SIGTERM: the report is whole for what was done, \"partial\": true\n";

#define SCAN_SHORTOPTS "o:qj:h"

static const struct option scan_longopts[] = {
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"quiet", no_argument, NULL, 'q'},
	{"sector-hashes", required_argument, NULL, OPT_SECTOR_HASHES},
	{"all-files", no_argument, NULL, OPT_ALL_FILES},
	{"follow-symlinks", no_argument, NULL, OPT_FOLLOW},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
	{"io", required_argument, NULL, OPT_IO},
	{"direct", no_argument, NULL, OPT_DIRECT},
	{"read-mode", required_argument, NULL, OPT_READ_MODE},
	{"no-fixed-buffers", no_argument, NULL, OPT_NO_FIXED},
	{"jobs", required_argument, NULL, 'j'},
	{"queue-depth", required_argument, NULL, OPT_QD},
	{"read-size", required_argument, NULL, OPT_READ_SIZE},
	{"images", required_argument, NULL, OPT_IMAGES},
	{"sector-size", required_argument, NULL, OPT_SECTOR_SIZE},
	{"no-tsk", no_argument, NULL, OPT_NO_TSK},
	{"hash", required_argument, NULL, OPT_HASH},
	{"tsk-timeout", required_argument, NULL, OPT_TSK_TIMEOUT},
	{"read-timeout", required_argument, NULL, OPT_READ_TIMEOUT},
	{"tsk-memory", required_argument, NULL, OPT_TSK_MEMORY},
	{"tsk-workers", required_argument, NULL, OPT_TSK_WORKERS},
	{"state", required_argument, NULL, OPT_STATE},
	{"rehash", no_argument, NULL, OPT_REHASH},
	{"wait", no_argument, NULL, OPT_WAIT},
	{"evidence", no_argument, NULL, OPT_EVIDENCE},
	{"inside", required_argument, NULL, OPT_INSIDE},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"shard-by", required_argument, NULL, OPT_SHARD_BY},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

bool options_scan_takes_value(const char *arg)
{
	const char *s;

	if (arg[0] != '-' || !arg[1])
		return false;
	if (arg[1] != '-')
		return !arg[2] && arg[1] != ':' && (s = strchr(SCAN_SHORTOPTS, arg[1])) && s[1] == ':';
	for (const struct option *o = scan_longopts; o->name; o++)
		if (!strcmp(arg + 2, o->name))
			return o->has_arg == required_argument;
	return false;
}

/* Parse a size with an optional K/M/G suffix (powers of 1024); -1 if bad. */
static long long parse_size(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	return *end ? -1 : v;
}

int options_usage_error(const struct scan_options *opt, const char *msg, const char *arg)
{
	fprintf(stderr, "imgscan: %s%s%s\nTry 'imgscan %s --help'.\n", msg, arg ? ": " : "", arg ? arg : "",
		opt->command ? opt->command : "scan");
	return EXIT_USAGE;
}

static int parse_uint(const char *arg, unsigned lo, unsigned hi, unsigned *out, const char *what)
{
	long long v = parse_size(arg);

	if (v < lo || v > hi) {
		fprintf(stderr, "imgscan: %s must be between %u and %u: %s\n", what, lo, hi, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

void options_defaults(struct scan_options *opt, const char *command, int argc, char **argv)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(opt, 0, sizeof(*opt));
	opt->jobs = cores > 0 ? (unsigned)cores : 1;
	opt->queue_depth = 32;
	opt->read_size = 1u << 20;
	opt->sector_size = 4096;
	opt->max_images = 4;
	opt->argc = argc;
	opt->argv = argv;
	opt->command = command;
}

int options_apply(int c, const char *arg, struct scan_options *opt, int *stop)
{
	unsigned u;
	long long sz;

	switch (c) {
	case 'o': opt->output = arg; break;
	case 'q': opt->quiet = true; break;
	case OPT_FORMAT:
		for (u = 0; u < 3 && strcmp(arg, format_names[u]); u++)
			;
		if (u == 3)
			return options_usage_error(opt, "--format must be json, jsonl or case", arg);
		opt->format = (enum out_format)u;
		break;
	case OPT_SECTOR_HASHES: opt->sector_hash_dir = arg; break;
	case OPT_ALL_FILES: opt->all_files = true; break;
	case OPT_FOLLOW: opt->follow_symlinks = true; break;
	case OPT_CONFIG: opt->config_path = arg; break;
	case OPT_PRINT_CONFIG:
		fputs(imgscan_default_config_text(), stdout);
		*stop = 1;
		return 0;
	case OPT_IO:
		if (strcmp(arg, "auto") == 0) opt->io = IO_AUTO;
		else if (strcmp(arg, "uring") == 0) opt->io = IO_URING;
		else if (strcmp(arg, "pread") == 0) opt->io = IO_PREAD;
		else return options_usage_error(opt, "--io must be auto, uring or pread", arg);
		break;
	case OPT_DIRECT: opt->read_mode = READ_DIRECT; break;
	case OPT_READ_MODE:
		for (u = 0; u < 3 && strcmp(arg, read_mode_names[u]); u++)
			;
		if (u == 3)
			return options_usage_error(opt, "--read-mode must be auto, buffered or direct", arg);
		opt->read_mode = (enum read_mode)u;
		break;
	case OPT_NO_FIXED: opt->no_fixed_buffers = true; break;
	case 'j': if (parse_uint(arg, 1, 256, &opt->jobs, "-j")) return EXIT_USAGE; break;
	case OPT_QD: if (parse_uint(arg, 1, 4096, &opt->queue_depth, "--queue-depth")) return EXIT_USAGE;
		opt->queue_depth_set = true;
		break;
	case OPT_IMAGES: if (parse_uint(arg, 1, 256, &opt->max_images, "--images")) return EXIT_USAGE;
		opt->max_images_set = true;
		break;
	case OPT_READ_SIZE:
		sz = parse_size(arg);
		if (sz < 4096 || sz > (64ll << 20) || (sz & 4095))
			return options_usage_error(opt, "--read-size must be a multiple of 4096 between 4K and 64M", arg);
		opt->read_size = (size_t)sz;
		break;
	case OPT_SECTOR_SIZE:
		if (parse_uint(arg, 512, 1u << 20, &u, "--sector-size")) return EXIT_USAGE;
		if (u & (u - 1))
			return options_usage_error(opt, "--sector-size must be a power of two", arg);
		opt->sector_size = u;
		break;
	case OPT_NO_TSK: opt->no_tsk = true; break;
	case OPT_INSIDE:
		for (u = 0; u < 3 && strcmp(arg, inside_mode_names[u]); u++)
			;
		if (u == 3)
			return options_usage_error(opt, "--inside must be head, full or none", arg);
		opt->inside = (enum inside_mode)u;
		break;
	case OPT_HASH: {
		int mask = crypto_hash_parse(arg);
		if (mask <= 0)
			return options_usage_error(opt, "--hash takes a list of md5, sha1, sha256", arg);
		opt->crypto_mask = (unsigned)mask;
		break;
	}
	case OPT_TSK_TIMEOUT: if (parse_uint(arg, 1, 86400, &opt->tsk_timeout_s, "--tsk-timeout")) return EXIT_USAGE; break;
	case OPT_READ_TIMEOUT:
		if (parse_uint(arg, 0, 86400, &opt->read_timeout_s, "--read-timeout")) return EXIT_USAGE;
		opt->read_timeout_set = true;
		break;
	case OPT_TSK_MEMORY: if (parse_uint(arg, 64, 1u << 20, &opt->tsk_memory_mib, "--tsk-memory")) return EXIT_USAGE; break;
	case OPT_TSK_WORKERS: if (parse_uint(arg, 1, 64, &opt->tsk_workers, "--tsk-workers")) return EXIT_USAGE; break;
	case OPT_STATE:
		if (!arg[0])
			return options_usage_error(opt, "--state needs a file name", NULL);
		opt->state_path = arg;
		break;
	case OPT_SHARD:
		if (shard_parse(arg, &opt->shard_index, &opt->shard_count))
			return options_usage_error(opt, "--shard takes K/N, with 0 <= K < N <= 65536", arg);
		break;
	case OPT_SHARD_BY:
		if (!strcmp(arg, "path")) opt->shard_by = SHARD_BY_PATH;
		else if (!strcmp(arg, "size")) opt->shard_by = SHARD_BY_SIZE;
		else return options_usage_error(opt, "--shard-by must be path or size", arg);
		opt->shard_by_set = true;
		break;
	case OPT_REHASH: opt->rehash = true; break;
	case OPT_WAIT: opt->wait_lock = true; break;
	case OPT_EVIDENCE: opt->evidence = true; break;
	case 'h': fputs(scan_usage, stdout); *stop = 1; return 0;
	default: return options_usage_error(opt, "unknown option", NULL);
	}
	return 0;
}

/* -o /var/lib/imgscan/%Y-%m-%d.json: strftime fields, in local time, so
 * nightly reports do not overwrite each other.  0, or a usage error. */
int options_expand_output(struct scan_options *opt)
{
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	if (!opt->output || !strchr(opt->output, '%'))
		return 0;
	localtime_r(&now, &tm);
	n = strftime(opt->output_expanded, sizeof(opt->output_expanded), opt->output, &tm);
	if (n == 0)
		return options_usage_error(opt, "-o expands to nothing, or to a name too long", opt->output);
	opt->output = opt->output_expanded;
	return 0;
}

int options_parse(int argc, char **argv, struct scan_options *opt, int *exit_now)
{
	int c, rc, stop = 0;

	*exit_now = 0;
	options_defaults(opt, "scan", argc, argv);
	if (argc < 2)
		return fputs(top_usage, stderr), *exit_now = 1, EXIT_USAGE;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return fputs(top_usage, stdout), *exit_now = 1, EXIT_CLEAN;
	if (strcmp(argv[1], "scan") != 0)
		return *exit_now = 1, options_usage_error(opt, "unknown command", argv[1]);
	optind = 2;
	while ((c = getopt_long(argc, argv, SCAN_SHORTOPTS, scan_longopts, NULL)) != -1) {
		rc = options_apply(c, optarg, opt, &stop);
		if (rc || stop)
			return *exit_now = 1, rc;
	}
	if (opt->read_size % opt->sector_size)
		return *exit_now = 1, options_usage_error(opt, "--read-size must be a multiple of --sector-size", NULL);
	if (options_expand_output(opt))
		return *exit_now = 1, EXIT_USAGE;
	opt->paths = argv + optind;
	opt->npaths = argc - optind;
	if (opt->npaths == 0)
		return *exit_now = 1, options_usage_error(opt, "no PATH given", NULL);
	if (opt->shard_by_set && !opt->shard_count)
		return *exit_now = 1, options_usage_error(opt, "--shard-by needs --shard K/N", NULL);
	if (opt->shard_count && opt->format == FMT_CASE)
		return *exit_now = 1, options_usage_error(opt, "--shard writes a report for imgscan merge: "
							  "--format json or jsonl", NULL);
	return 0;
}
