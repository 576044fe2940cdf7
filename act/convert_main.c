/*
 * convert_main.c - the command line of `imgscan convert IN OUT`.  The help
 * text is the user's reference: keep it in step with README.md ("Raw CD
 * images to ISO: imgscan convert").
 */
#include "act.h"
#include "convert.h"
#include "../config/options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char convert_usage[] =
	"Usage: imgscan convert [OPTIONS] IN OUT\n"
	"\n"
	"Extract the ISO 9660 image from a raw CD image: IN holds 2352-byte sectors,\n"
	"MODE1/2352 or MODE2/2352 Form 1 (a .bin/.img from a CD reader), or is the .cue\n"
	"sheet of one (its FILE is read from the sheet's own directory).  The 2048 bytes\n"
	"of user data of every sector go to OUT, in order.  Every sector is checked: the\n"
	"sync pattern, the mode byte (and the Mode 2 subheader), the header's M:S:F\n"
	"address (consecutive from sector 0's, which should be 00:02:00) and the EDC\n"
	"where it is set; with --ecc the P/Q parity too.  A bad sector is listed on\n"
	"stdout by number (LBA, 0 first) with what failed; its data is copied as read.\n"
	"Then OUT's volume is identified (label, size) and its XXH128 printed as the\n"
	"last line, in the form `xxhsum -H2` prints (check it later with `xxhsum -c`).\n"
	"\n"
	"Refused, nothing written: a size that is not a whole number of 2352-byte\n"
	"sectors; no sync pattern in sector 0 (an audio track, or not raw sectors);\n"
	"a Mode 2 Form 2 sector (XA, mixed data); a cue sheet with an AUDIO track,\n"
	"more than one track or FILE, or another mode.\n"
	"\n"
	"OUT is written beside itself under a temporary name, fsynced and renamed into\n"
	"place: it never appears half-written.  IN is only read (O_NOATIME: its access\n"
	"time stays), and nothing is created beside it.\n"
	"\n"
	"Options:\n"
	"  -f, --force          replace OUT when it is a regular file (never a symlink,\n"
	"                       device, FIFO or directory, nor IN itself)\n"
	"      --ecc            also check every sector's Reed-Solomon P/Q parity (where\n"
	"                       it is set; slower)\n"
	"      --max-listed N   list at most N bad sectors one per line (default 100;\n"
	"                       0: all); the count of all of them follows\n"
	"  -q, --quiet          no line per bad sector, only the count\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status:\n"
	"  0   converted; every sector good, OUT holds an ISO 9660 volume\n"
	"  1   converted, with findings: bad sectors, sector 0 not at 00:02:00, no ISO\n"
	"      9660 volume in OUT, or a volume larger than OUT (IN cut short)\n"
	"  2   not converted (OUT not written): IN cannot be read or is refused, OUT\n"
	"      cannot be written\n"
	"  64  usage error (also: OUT exists without --force, or is a symlink, a\n"
	"      directory, a device, a FIFO, or IN itself)\n";

static const struct option convert_longopts[] = {
	{"force", no_argument, NULL, 'f'},
	{"ecc", no_argument, NULL, 'e'},
	{"max-listed", required_argument, NULL, 'm'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int usage_error(const char *what)
{
	fprintf(stderr, "imgscan convert: %s\nTry 'imgscan convert --help'.\n", what);
	return EXIT_USAGE;
}

/* Fill o from argv.  Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct convert_options *o)
{
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->max_listed = 100;
	optind = 2;
	while ((c = getopt_long(argc, argv, "fqh", convert_longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->force = true; break;
		case 'e': o->ecc = true; break;
		case 'q': o->quiet = true; break;
		case 'm':
			o->max_listed = strtoull(optarg, &end, 10);
			if (!optarg[0] || *end || optarg[0] == '-')
				return usage_error("--max-listed needs a number");
			break;
		case 'h':
			fputs(convert_usage, stdout);
			return fflush(stdout) ? EXIT_ERRORS : EXIT_CLEAN;
		default:
			return usage_error("unknown option");
		}
	}
	if (argc - optind != 2)
		return usage_error(argc - optind < 2 ? "IN and OUT are needed" : "more than IN and OUT given");
	o->in = argv[optind];
	o->out = argv[optind + 1];
	if (!o->in[0] || !o->out[0])
		return usage_error("IN or OUT is an empty name");
	return -1;
}

int convert_main(int argc, char **argv)
{
	struct convert_options o;
	int rc = parse(argc, argv, &o);

	return rc >= 0 ? rc : convert_run(&o);
}
