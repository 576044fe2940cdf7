/*
 * verify.h - `imgscan verify REPORT [PATH...]`: read again the images an
 * earlier scan report lists and say for each whether it is unchanged,
 * changed, missing, moved (and, under the PATHs, which images are new).
 */
#ifndef IMGSCAN_VERIFY_H
#define IMGSCAN_VERIFY_H

struct verify_options;

/* The command, with main's argv (argv[1] is "verify").  Returns the exit
 * status: 0 all unchanged, 1 something differs, 2 errors, 64 usage,
 * 128 + the signal that stopped it. */
int verify_main(int argc, char **argv);

/* Parse verify's command line into vo.  Returns 0 to run (*exit_now
 * false), or the status to exit with at once (--help: 0; a usage error,
 * already explained on stderr: 64). */
int verify_options_parse(int argc, char **argv, struct verify_options *vo, int *exit_now);

#endif
