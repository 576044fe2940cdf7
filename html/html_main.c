/*
 * html_main.c - imgscan html REPORT... [-o PAGE.html]: the command and its
 * options.  The reports are read into the page's data (html_read.c), then
 * the page is written (html_page.c) through report/outfile.h, atomically
 * like every report.
 */
#include "html.h"
#include "html_page.h"
#include "html_read.h"
#include "page_data.h"
#include "../config/options.h"
#include "../report/outfile.h"
#include "../report/pathenc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char html_usage[] =
	"Usage: imgscan html [OPTIONS] REPORT... [-o PAGE.html]\n"
	"\n"
	"Write one self-contained HTML page for people from scan reports (JSON or JSON\n"
	"lines, told apart by their content; several reports make one page; \"-\" reads\n"
	"one from stdin).  The page holds its style, script and data and fetches\n"
	"nothing: it opens the same from a USB stick in ten years.  It shows what was\n"
	"scanned (roots, host, tool and library versions, start and end, options), the\n"
	"totals, charts (images and bytes by kind, findings by code and severity, image\n"
	"sizes), the findings (most severe first), the duplicates, the errors, and every\n"
	"image in a table that sorts and filters (kind, finding, extension, path), each\n"
	"image's detail one click away.  Paths, labels and every other string from the\n"
	"disks are shown as text; bytes that are not UTF-8 are marked, with their exact\n"
	"bytes in base64.  The reports are read one image at a time.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   write the page to FILE (default: stdout), as scan writes its\n"
	"                      report: strftime fields expanded, a regular file atomically\n"
	"                      (a temporary file beside it, fsync, rename), a symlink's\n"
	"                      target likewise, a FIFO or character device directly; a\n"
	"                      block device, directory, socket or dangling link refused\n"
	"  -q, --quiet         no summary line on stderr\n"
	"  -h, --help          this help\n"
	"\n"
	"Exit status:\n"
	"  0   the page was written\n"
	"  2   a report could not be read or is not a report imgscan writes (the message\n"
	"      names the report and where), or the page could not be written; no page\n"
	"      is left then (a previous file at that path is left as it was)\n"
	"  64  usage error (also: -o names a block device, directory, socket or dangling\n"
	"      link, or one of the reports)\n";

/* Options into opt; the reports are argv[optind...].  Returns 0 to run,
 * or an exit status with *exit_now set. */
static int parse(int argc, char **argv, struct scan_options *opt, int *exit_now)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c, rc, stop = 0;

	options_defaults(opt, "html", argc, argv);
	*exit_now = 1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		if (c == 'h')
			return fputs(html_usage, stdout), EXIT_CLEAN;
		if (c == '?')
			return options_usage_error(opt, "unknown option", NULL);
		if ((rc = options_apply(c, optarg, opt, &stop)) || stop)
			return rc;
	}
	if (options_expand_output(opt))
		return EXIT_USAGE;
	if (optind >= argc)
		return options_usage_error(opt, "no REPORT given", NULL);
	for (int i = optind; i < argc; i++)
		if (!argv[i][0])
			return options_usage_error(opt, "a REPORT is a file name, or - for stdin", "");
	*exit_now = 0;
	return 0;
}

/* -o opened before anything is read (a mistake is said at once), and never
 * one of the reports.  0, or an exit status. */
static int open_page(struct outfile *out, const char *path, char **files, size_t n)
{
	struct stat st_out, st_in;
	int rc = outfile_check_fd_path(path);

	if (!rc && path && strcmp(path, "-") && !stat(path, &st_out))
		for (size_t i = 0; i < n; i++)
			if (!stat(files[i], &st_in) && st_in.st_dev == st_out.st_dev && st_in.st_ino == st_out.st_ino)
				return fprintf(stderr, "imgscan html: -o %s is the report %s: write the page elsewhere\n",
					       path, files[i]), EXIT_USAGE;
	if (!rc)
		rc = outfile_open(out, path);
	if (rc) {
		fprintf(stderr, "imgscan html: -o %s: %s\n", path ? path : "-", outfile_strerror(-rc));
		return outfile_is_usage_error(-rc) ? EXIT_USAGE : EXIT_ERRORS;
	}
	return 0;
}

static int make_page(struct outfile *out, struct page_data *d, const char *path)
{
	char err[1200] = "";
	int rc;

	if (html_read_reports(d, err, sizeof(err))) {
		term_say("imgscan html: ", err, "; no page was written\n"); /* may quote the report's strings */
		outfile_abort(out);
		return EXIT_ERRORS;
	}
	if ((rc = page_write(out, d)) || out->err) {
		fprintf(stderr, "imgscan html: cannot write the page%s%s: %s\n", path ? " to " : "", path ? path : "",
			strerror(rc ? -rc : out->err));
		outfile_abort(out);
		return EXIT_ERRORS;
	}
	if ((rc = outfile_commit(out))) {
		fprintf(stderr, "imgscan html: cannot write the page%s%s: %s\n", path ? " to " : "", path ? path : "",
			outfile_strerror(-rc));
		return EXIT_ERRORS;
	}
	return EXIT_CLEAN;
}

int html_main(int argc, char **argv)
{
	static struct scan_options opt;
	struct outfile out;
	struct page_data d;
	int status, exit_now;
	char **files;
	size_t n;

	status = parse(argc, argv, &opt, &exit_now);
	if (exit_now)
		return status;
	files = argv + optind;
	n = (size_t)(argc - optind);
	if ((status = open_page(&out, opt.output, files, n)))
		return status;
	if (page_data_init(&d, files, n)) {
		fprintf(stderr, "imgscan html: cannot make a temporary file for the page's rows: %s\n", strerror(errno));
		outfile_abort(&out);
		page_data_free(&d);
		return EXIT_ERRORS;
	}
	status = make_page(&out, &d, opt.output);
	if (status == EXIT_CLEAN && !opt.quiet)
		fprintf(stderr, "imgscan html: %llu images, %llu findings, %llu errors from %zu report%s -> %s\n",
			(unsigned long long)d.images, (unsigned long long)d.findings,
			(unsigned long long)(d.images_with_errors + d.walk_errors), n, n == 1 ? "" : "s",
			opt.output && strcmp(opt.output, "-") ? opt.output : "stdout");
	page_data_free(&d);
	return status;
}
