/* rename_main.c - placeholder until `imgscan rename` is written. */
#include "act.h"

#include <stdio.h>

int rename_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "imgscan rename: not built yet\n");
	return 64;
}
