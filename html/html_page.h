/*
 * html_page.h - the page itself: one HTML file holding its style, its
 * script and its data, fetching nothing (a Content-Security-Policy in the
 * page forbids any fetch).  The top (what was scanned, totals, charts) is
 * written here as HTML; the tables (findings, duplicates, errors, every
 * image) are drawn by the page's script from the JSON data block, page by
 * page, so that a report of 100,000 images opens in seconds.
 */
#ifndef IMGSCAN_HTML_PAGE_H
#define IMGSCAN_HTML_PAGE_H

#include "page_data.h"
#include "../report/outfile.h"

/* The whole page.  Returns 0, or -errno when the spooled rows cannot be
 * read back (a write error is left in o->err). */
int page_write(struct outfile *o, const struct page_data *d);
/* "What was scanned": one block per report (html_scanned.c). */
void page_scanned(struct outfile *o, const struct page_data *d);
/* The totals and the charts (html_totals.c). */
void page_totals(struct outfile *o, const struct page_data *d);

#endif
