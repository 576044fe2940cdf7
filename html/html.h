/*
 * html.h - `imgscan html REPORT... -o PAGE.html`: one self-contained page
 * for people (README, "A page for people").
 */
#ifndef IMGSCAN_HTML_H
#define IMGSCAN_HTML_H

/* argv[1] is "html".  Returns the exit status. */
int html_main(int argc, char **argv);

#endif
