/*
 * html_read.h - the reports a page is made of, read one after the other
 * through the report reader (verify/report_read.h: JSON or JSON lines, one
 * image at a time) into the page's data.
 */
#ifndef IMGSCAN_HTML_READ_H
#define IMGSCAN_HTML_READ_H

#include "page_data.h"

#include <stddef.h>

/* Read every report of d into d.  Returns 0, or -1 with err naming the
 * report and what is wrong with it (the reader's message). */
int html_read_reports(struct page_data *d, char *err, size_t errlen);

#endif
