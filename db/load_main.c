/*
 * load_main.c - the program imgscan-load: `imgscan load ...` runs it (from
 * imgscan's own directory) with the same arguments.  See load.h.
 */
#include "load.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is an error, not a kill */
	if (argc < 2 || strcmp(argv[1], "load")) {
		fprintf(stderr, "imgscan-load: run it as 'imgscan load ...' (imgscan load --help)\n");
		return 64;
	}
	return load_main(argc, argv);
}
