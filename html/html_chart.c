/*
 * html_chart.c - horizontal bar charts as inline SVG (see html_chart.h).
 * Sizes are in SVG user units; the figure scales to its column by CSS.
 */
#include "html_chart.h"
#include "html_escape.h"

#include <stdio.h>
#include <string.h>

#define LABEL_W 210   /* the labels' column */
#define BAR_MAX 230   /* the longest bar */
#define ROW_H 22
#define CHART_W (LABEL_W + BAR_MAX + 90)

static void value_text(double v, bool bytes, char *buf, size_t len)
{
	if (bytes)
		human_bytes(v, buf, len);
	else
		snprintf(buf, len, "%.0f", v);
}

static void one_bar(struct outfile *o, const struct bar *b, size_t row, double max, bool bytes)
{
	double w = max > 0 ? b->value / max * BAR_MAX : 0;
	unsigned y = (unsigned)(row * ROW_H);
	char val[40];

	value_text(b->value, bytes, val, sizeof(val));
	if (b->note)
		snprintf(val + strlen(val), sizeof(val) - strlen(val), " %.20s", b->note);
	if (b->value > 0 && w < 1)
		w = 1; /* a count of one among millions still shows */
	out_raw(o, "<g><title>");
	out_text(o, b->label);
	out_printf(o, ": %s</title><text class=\"lbl\" x=\"%d\" y=\"%u\" text-anchor=\"end\">", val, LABEL_W - 8,
		   y + 15);
	out_text(o, b->label);
	out_printf(o, "</text><rect class=\"bar %s\" x=\"%d\" y=\"%u\" width=\"%.1f\" height=\"%d\" rx=\"2\"/>",
		   b->cls ? b->cls : "", LABEL_W, y + 4, w, ROW_H - 7);
	out_printf(o, "<text class=\"val\" x=\"%.1f\" y=\"%u\">%s</text></g>", LABEL_W + w + 6, y + 15, val);
}

void chart_bars(struct outfile *o, const char *title, const struct bar *bars, size_t n, bool bytes)
{
	double max = 0;

	out_raw(o, "<figure class=\"chart\"><figcaption>");
	out_text(o, title);
	out_raw(o, "</figcaption>");
	if (!n) {
		out_raw(o, "<p class=\"none\">None.</p></figure>\n");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (bars[i].value > max)
			max = bars[i].value;
	out_printf(o, "<svg role=\"img\" viewBox=\"0 0 %d %zu\" width=\"%d\" height=\"%zu\" aria-label=\"", CHART_W,
		   n * ROW_H + 4, CHART_W, n * ROW_H + 4);
	out_text(o, title);
	out_raw(o, "\">");
	for (size_t i = 0; i < n; i++)
		one_bar(o, &bars[i], i, max, bytes);
	out_raw(o, "</svg></figure>\n");
}
