/* html_main.c - placeholder until `imgscan html` is written. */
#include "html.h"

#include <stdio.h>

int html_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "imgscan html: not built yet\n");
	return 64;
}
