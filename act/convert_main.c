/* convert_main.c - placeholder until `imgscan convert` is written. */
#include "act.h"

#include <stdio.h>

int convert_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "imgscan convert: not built yet\n");
	return 64;
}
