/*
 * html_chart.h - the page's charts, drawn by imgscan itself as inline SVG
 * (no chart library, nothing fetched): horizontal bars, one per label,
 * scaled to the largest value, each with its value written beside it (a
 * printed page or a screen reader gets the number, not only a length).
 */
#ifndef IMGSCAN_HTML_CHART_H
#define IMGSCAN_HTML_CHART_H

#include "../report/outfile.h"

#include <stdbool.h>
#include <stddef.h>

struct bar {
	const char *label;         /* data: escaped when written */
	double value;
	const char *cls;           /* our own CSS class for its colour ("sev-high"), or NULL */
	const char *note;          /* our own words after the value ("medium"), or NULL */
};

/* A figure: title, then the bars (bytes: values shown as "1.4 GB").
 * No bars: a line saying so. */
void chart_bars(struct outfile *o, const char *title, const struct bar *bars, size_t n, bool bytes);

#endif
